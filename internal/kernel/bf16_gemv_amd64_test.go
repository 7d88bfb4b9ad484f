//go:build amd64 && !noasm

package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestBF16GemvFastReportsTiny checks what the AVX2 emulation's fast
// kernel reports: nothing for sums of ordinary weights (so that the
// flushing kernel does not run for them), and a possible denormal sum
// for products below 2^-126 (inexact: the UE flag), an exact denormal sum
// (2^-127), and a denormal operand, each then recomputed by the flushing
// kernel to the twin's bits; and that MXCSR's flags it clears are its
// own business (the next call starts clean).
func TestBF16GemvFastReportsTiny(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	pair := func(lo, hi float32) uint32 { return uint32(BF16(lo)) | uint32(BF16(hi))<<16 }
	rng := rand.New(rand.NewPCG(3, 4))
	kc, np := 9, 3
	for _, c := range []struct {
		name string
		x, w func(i int) uint32
		tiny bool
	}{
		{"ordinary", func(int) uint32 { return pair(float32(rng.NormFloat64()), float32(rng.NormFloat64())) },
			func(int) uint32 { return pair(float32(rng.NormFloat64()), float32(rng.NormFloat64())) }, false},
		{"inexact denormal products", func(int) uint32 { return pair(0x1.3p-70, 0x1.7p-70) },
			func(int) uint32 { return pair(0x1.5p-70, -0x1.1p-71) }, true},
		{"exact denormal sum", func(i int) uint32 { return pair(0, float32(b2i(i == 0))*0x1p-63) },
			func(int) uint32 { return pair(1, 0x1p-64) }, true},
	} {
		x, b := make([]uint32, kc), make([]uint32, np*kc*16)
		for i := range x {
			x[i] = c.x(i)
		}
		for i := range b {
			b[i] = c.w(i)
		}
		for _, accum := range []bool{false, true} {
			want := make([]float32, 16*np)
			for i := range want {
				want[i] = float32(i)
			}
			got := append([]float32(nil), want...)
			bf16GemvGo(&bf16Gemv{kc: kc, x: x, b: b, pstride: kc * 16, np: np, y: want, accum: accum})
			fast := append([]float32(nil), got...)
			tiny := bf16GemvYFast(kc, &x[0], &b[0], kc*16, np, &fast[0], b2i(accum))
			if (tiny != 0) != c.tiny {
				t.Errorf("%s accum=%v: bf16GemvYFast reports %#x, want a report %v", c.name, accum, tiny, c.tiny)
			}
			withPath(false, true, func() {
				(&bf16Gemv{kc: kc, x: x, b: b, pstride: kc * 16, np: np, y: got, accum: accum}).run()
			})
			if i := firstDiff(got, want); i >= 0 {
				t.Errorf("%s accum=%v: y[%d] = %g, twin %g", c.name, accum, i, got[i], want[i])
			}
		}
	}
}
