package kernel

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageEnd returns n float32s that end exactly where an inaccessible page
// begins, filled from rng, so that a kernel reading or writing even one
// element past its slice faults. The mapping is released when t ends.
func pageEnd(t *testing.T, rng *rand.Rand, n int) []float32 {
	t.Helper()
	page := unix.Getpagesize()
	size := page * (2 + 4*n/page)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = unix.Munmap(mem) })
	if err := unix.Mprotect(mem[size-page:], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	f := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), (size-page)/4)
	s := f[len(f)-n:]
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// TestKernelsAtPageEnd runs every vector kernel, at both widths, on
// slices that end at an inaccessible page: the masked tails (VMASKMOVPS
// for AVX2, opmask loads and stores for AVX-512) must not touch the
// elements beyond len, or the test dies with a fault.
func TestKernelsAtPageEnd(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(61, 62))
	for n := 1; n <= 33; n++ {
		eachWidth(func(string) {
			x, y := pageEnd(t, rng, n), pageEnd(t, rng, n)
			Exp(y, x)
			Sigmoid(y, x)
			Tanh(y, x)
			ReLU(y, x)
			Axpy(0.5, x, y)
			Scal(0.5, y)
			_ = Dot(x, y)
			_ = SumSq(x)
			ExpShift(y, x, Max(x))
			SoftmaxRows(y, x, 1, n)
			LogSoftmaxRows(y, x, 1, n)
			LogSumExpRows(pageEnd(t, rng, 1), x, 1, n)
			AddTo(y, x, x)
			MulTo(y, x, x)
			TanhBackward(y, x, x)
			SigmoidBackward(y, x, x)
			ReLUBackward(y, x, x)
			SoftmaxRowsBackward(y, x, x, 1, n)
			p, g, m, v, vmax := pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n)
			for i := range v {
				v[i], vmax[i] = v[i]*v[i], v[i]*v[i]
			}
			Adam(p, g, m, v, 0.9, 0.999, 1e-3, 0.03, 1e-8)
			AdamW(p, g, m, v, 0.9, 0.999, 1e-3, 0.03, 1e-8, 0.99)
			h := AdamHyper{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3, BC2Sqrt: 0.03, Eps: 1e-8, Shrink: 1}
			Adam64(p, g, m, v, nil, h)
			Adam64(p, g, m, v, vmax, h)
			// Gates with B = 1, H = n: every H-slice and the last gate block
			// of the 3H/4H slices end at the page.
			pre, act4, dpre := pageEnd(t, rng, 4*n), pageEnd(t, rng, 4*n), pageEnd(t, rng, 4*n)
			c, hh, cPrev, dh, dc, dcPrev := pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n), pageEnd(t, rng, n)
			LSTMForward(act4, c, hh, pre, cPrev, 1, n)
			LSTMBackward(dpre, dcPrev, act4, c, cPrev, dh, dc, 1, n)
			LSTMBackward(dpre, dcPrev, act4, c, cPrev, dh, nil, 1, n)
			xg, hg, act3, dxg, dhg := pageEnd(t, rng, 3*n), pageEnd(t, rng, 3*n), pageEnd(t, rng, 3*n), pageEnd(t, rng, 3*n), pageEnd(t, rng, 3*n)
			GRUForward(act3, hh, xg, hg, cPrev, 1, n)
			GRUBackward(dxg, dhg, dcPrev, act3, hg, cPrev, dh, 1, n)
		})
	}
}
