package kernel

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// bf16Paths are the GEMV's kernels on this CPU, each with the flags that
// select it: VDPBF16PS (AVX512_BF16 hosts), its AVX2 emulation (what a
// Zen 3 runs) and the twin.
func bf16Paths() []struct {
	name      string
	bf16, avx bool
} {
	paths := []struct {
		name      string
		bf16, avx bool
	}{{"twin", false, false}}
	if useAVX2 {
		paths = append(paths, struct {
			name      string
			bf16, avx bool
		}{"avx2", false, true})
	}
	if bf16Hardware() {
		paths = append(paths, struct {
			name      string
			bf16, avx bool
		}{"avx512bf16", true, true})
	}
	return paths
}

// withPath runs f with useBF16 and useAVX2 set as given, restoring both.
func withPath(bf16, avx bool, f func()) {
	wb, wa := useBF16, useAVX2
	useBF16, useAVX2 = bf16, avx
	defer func() { useBF16, useAVX2 = wb, wa }()
	f()
}

func bitsOrNaN(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y)
}

// TestBF16GemvKernelsMatchTwin calls the GEMV kernels directly on pairs
// from a wide spread of exponents and special values (sums that overflow,
// turn denormal and are flushed, signed zeros, NaNs), with odd panel
// counts (groups of eight and the single-panel tail), both accum modes,
// and wants the twin's bits from each, and y untouched past 16·np.
func TestBF16GemvKernelsMatchTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	val := func(wide bool) uint32 {
		if !wide {
			return uint32(BF16(float32(rng.NormFloat64()))) | uint32(BF16(float32(rng.NormFloat64())))<<16
		}
		return uint32(BF16(randBits(rng))) | uint32(BF16(randBits(rng)))<<16
	}
	for _, wide := range []bool{false, true} {
		for _, np := range []int{1, 2, 3, 7, 8, 9, 17, 24} {
			kc := 1 + rng.IntN(70)
			pstride := kc*16 + 16*rng.IntN(3)
			x, b := make([]uint32, kc), make([]uint32, (np-1)*pstride+kc*16)
			for i := range x {
				x[i] = val(wide)
			}
			for i := range b {
				b[i] = val(wide)
			}
			y0 := make([]float32, 16*np+8)
			for i := range y0 {
				y0[i] = float32(rng.NormFloat64())
			}
			for _, accum := range []bool{false, true} {
				want := append([]float32(nil), y0...)
				bf16GemvGo(&bf16Gemv{kc: kc, x: x, b: b, pstride: pstride, np: np, y: want, accum: accum})
				for _, p := range bf16Paths() {
					got := append([]float32(nil), y0...)
					g := bf16Gemv{kc: kc, x: x, b: b, pstride: pstride, np: np, y: got[:16*np], accum: accum}
					withPath(p.bf16, p.avx, g.run)
					for i := range got {
						if !bitsOrNaN(got[i], want[i]) {
							t.Fatalf("%s np=%d kc=%d wide=%v accum=%v: y[%d] = %g (%#08x), twin %g (%#08x)",
								p.name, np, kc, wide, accum, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
						}
					}
				}
			}
		}
	}
}

// bf16Reference returns y = x·Wᵀ (M × N, rows ldy apart, added to y0
// when accum) from the definition: each row of x rounded to bfloat16,
// each element one dotBF16 chain per k-block of 2·bf16KC (as even as
// bf16Block makes them), the blocks' sums added to y in order.
func bf16Reference(w []uint16, N, K int, x []float32, M int, y0 []float32, ldy int, accum bool) []float32 {
	y := append([]float32(nil), y0...)
	kp := (K + 1) / 2
	kc := bf16Block(kp)
	pair := func(s []uint16, k int) uint32 { // the pair at k, k+1 of s (zero past K)
		v := uint32(s[k])
		if k+1 < K {
			v |= uint32(s[k+1]) << 16
		}
		return v
	}
	xb := make([]uint16, K)
	for i := 0; i < M; i++ {
		for k := range xb {
			xb[k] = BF16(x[i*K+k])
		}
		for n := 0; n < N; n++ {
			for l0 := 0; l0 < kp; l0 += kc {
				var s float32
				for l := l0; l < min(kp, l0+kc); l++ {
					s = dotBF16(s, pair(xb, 2*l), pair(w[n*K:(n+1)*K], 2*l))
				}
				if accum || l0 > 0 {
					s += y[i*ldy+n]
				}
				y[i*ldy+n] = s
			}
		}
	}
	return y
}

// TestBF16MatrixMatchesReference runs MulRows and MulAddRows on every path
// (one to nine rows: the GEMV, on hardware the GEMM, on the AVX2
// emulation its four-row kernel; partial panels; odd K; several
// k-blocks) against bf16Reference bit for bit, checks that rows' padding
// (ldy > N) is left alone, and that the result is within the rounding
// bound of the float32 product: |y − x·Wᵀ| ≤ 2⁻⁶·Σ_k |x||w|. A second
// pass scales the weights and inputs by 2⁻⁶⁴, so that products and sums
// are denormal and the emulation's flushing must run.
func TestBF16MatrixMatchesReference(t *testing.T) {
	for _, scale := range []float32{1, 0x1p-64} {
		testBF16Matrix(t, scale)
	}
}

func testBF16Matrix(t *testing.T, scale float32) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, sh := range []struct{ N, K int }{{1, 1}, {16, 2}, {17, 3}, {40, 24}, {129, 64}, {512, 128}, {70, 1100}} {
		wf := make([]float32, sh.N*sh.K)
		for i := range wf {
			wf[i] = float32(rng.NormFloat64()) * scale
		}
		w := make([]uint16, len(wf))
		if err := RoundBF16(w, wf); err != nil {
			t.Fatal(err)
		}
		m := NewBF16Matrix(w, sh.N, sh.K)
		for _, M := range []int{1, 2, 3, 4, 9} {
			x := make([]float32, M*sh.K)
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * scale
			}
			ldy := sh.N + 3
			y0 := make([]float32, M*ldy)
			for i := range y0 {
				y0[i] = float32(rng.NormFloat64()) * scale * scale
			}
			for _, accum := range []bool{false, true} {
				want := bf16Reference(w, sh.N, sh.K, x, M, y0, ldy, accum)
				for _, p := range bf16Paths() {
					got := append([]float32(nil), y0...)
					withPath(p.bf16, p.avx, func() {
						if accum {
							m.MulAddRows(got, x, ldy, sh.K, M)
						} else {
							m.MulRows(got, x, ldy, sh.K, M)
						}
					})
					if i := firstDiff(got, want); i >= 0 {
						t.Fatalf("%s scale %g N=%d K=%d M=%d accum=%v: y[%d] = %g, reference %g", p.name, scale, sh.N, sh.K, M, accum, i, got[i], want[i])
					}
				}
				if scale == 1 {
					checkBF16Bound(t, wf, x, y0, want, sh.N, sh.K, M, ldy, accum)
				}
			}
		}
	}
}

// checkBF16Bound checks y against the float64 product of the unrounded
// operands: relative to Σ|x||w| the two roundings to bfloat16 (at most
// 2⁻⁸ each, so 2⁻⁷ for a product) and the float32 sums stay below 2⁻⁶.
func checkBF16Bound(t *testing.T, w, x, y0, y []float32, N, K, M, ldy int, accum bool) {
	t.Helper()
	for i := 0; i < M; i++ {
		for n := 0; n < N; n++ {
			var exact, mag float64
			for k := 0; k < K; k++ {
				p := float64(x[i*K+k]) * float64(w[n*K+k])
				exact += p
				mag += math.Abs(p)
			}
			if accum {
				exact += float64(y0[i*ldy+n])
				mag += math.Abs(float64(y0[i*ldy+n]))
			}
			if d := math.Abs(float64(y[i*ldy+n]) - exact); d > mag/64 {
				t.Fatalf("N=%d K=%d: y[%d][%d] = %g, float64 product %g: off by %g, more than 2^-6 of %g", N, K, i, n, y[i*ldy+n], exact, d, mag)
			}
		}
	}
}

func TestRoundBF16RefusesNonFinite(t *testing.T) {
	dst := make([]uint16, 3)
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		err := RoundBF16(dst, []float32{1, bad, 2})
		if err == nil || !strings.Contains(err.Error(), "weight 1") {
			t.Errorf("RoundBF16 with %v: error %v, want one naming weight 1", bad, err)
		}
	}
	if err := RoundBF16(dst, []float32{1, -2.5, 3e-39}); err != nil || dst[0] != 0x3f80 || dst[1] != 0xc020 || dst[2] != 0 {
		t.Errorf("RoundBF16(1, -2.5, denormal) = %#04x, %v; want 0x3f80 0xc020 0", dst, err)
	}
}
