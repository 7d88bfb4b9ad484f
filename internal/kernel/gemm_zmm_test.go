package kernel

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// setAVX512 sets the AVX-512 dispatch flag and returns its previous value.
func setAVX512(on bool) bool {
	old := useAVX512
	useAVX512 = on
	return old
}

// needAVX512 skips tests that compare the AVX-512 kernels with the AVX2
// ones on a CPU (or build) that has no AVX-512 to compare.
func needAVX512(t *testing.T) {
	t.Helper()
	if !useAVX2 || !useAVX512 {
		t.Skip("no AVX-512 kernels on this CPU or build")
	}
}

// TestMicroKernelZTwin compares each AVX-512 micro-kernel with np calls of
// the AVX2 one-panel kernel: they must agree bit for bit (same FMA chains
// per lane), and leave everything past the tile untouched.
func TestMicroKernelZTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, np := range []int{2, 4} {
		for mr := 1; mr <= 6; mr++ {
			for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 64, 65} {
				for _, accum := range []bool{false, true} {
					rsa, csa := kc+3, 1
					if kc%2 == 1 {
						rsa, csa = 1, mr+1
					}
					a := make([]float32, (mr-1)*rsa+(kc-1)*csa+1)
					pstride := kc*16 + 3
					b := make([]float32, (np-1)*pstride+kc*16)
					for i := range a {
						a[i] = float32(rng.Float64()*2 - 1)
					}
					for i := range b {
						b[i] = float32(rng.Float64()*2 - 1)
					}
					ldc := 16*np + 5
					c0 := make([]float32, (mr-1)*ldc+16*np+5)
					for i := range c0 {
						c0[i] = float32(rng.Float64())
					}
					for i := 0; i < mr; i++ {
						c0[i*ldc+16*np] = sentinel
					}
					got := append([]float32(nil), c0...)
					want := append([]float32(nil), c0...)
					microKernelZ(np, mr, kc, a, rsa, csa, b, pstride, got, ldc, 0.75, accum)
					for p := 0; p < np; p++ {
						if useAVX512 {
							microKernel(mr, kc, a, rsa, csa, b[p*pstride:], want[16*p:], ldc, 0.75, accum)
						} else {
							microKernelGo(mr, kc, a, rsa, csa, b[p*pstride:], want[16*p:], ldc, 0.75, accum)
						}
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("np%d mr%d kc%d accum %v: c[%d] zmm %v, ymm %v", np, mr, kc, accum, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// zmmCompare runs a case through Sgemm and SgemmPacked with the AVX-512
// kernels on and off, at 1 and 2 threads, and fails unless all four
// results per path have the same bits.
func zmmCompare(t *testing.T, g *gemmCase) {
	t.Helper()
	p := NewPackedB(g.tB, g.k, g.n, g.b[g.off:], g.ldb)
	run := func(zmm bool, threads int) (c1, c2 []float32) {
		defer setAVX512(setAVX512(zmm))
		SetThreads(threads)
		c1 = append([]float32(nil), g.c...)
		c2 = append([]float32(nil), g.c...)
		Sgemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.a[g.off:], g.lda, g.b[g.off:], g.ldb, g.beta, c1[g.off:], g.ldc)
		SgemmPacked(g.tA, g.m, g.alpha, g.a[g.off:], g.lda, p, g.beta, c2[g.off:], g.ldc)
		return c1, c2
	}
	y1, yp := run(false, 1)
	for _, threads := range []int{1, 2} {
		z1, zp := run(true, threads)
		for i := range y1 {
			if math.Float32bits(y1[i]) != math.Float32bits(z1[i]) && !(math.IsNaN(float64(y1[i])) && math.IsNaN(float64(z1[i]))) {
				t.Fatalf("Sgemm %s threads %d: c[%d] zmm %v, ymm %v", g.name(), threads, i, z1[i], y1[i])
			}
			if math.Float32bits(yp[i]) != math.Float32bits(zp[i]) && !(math.IsNaN(float64(yp[i])) && math.IsNaN(float64(zp[i]))) {
				t.Fatalf("SgemmPacked %s threads %d: c[%d] zmm %v, ymm %v", g.name(), threads, i, zp[i], yp[i])
			}
		}
	}
}

// TestSgemmZmmIdentical checks that the AVX-512 kernels give exactly the
// AVX2 kernels' bits across shapes (every m, n and k from 1 to 70 appears,
// with odd leading dimensions and offsets), layouts, alpha and beta
// (0 and 1 included), the packed path and 1 or 2 threads.
func TestSgemmZmmIdentical(t *testing.T) {
	needAVX512(t)
	defer SetThreads(Threads())
	rng := rand.New(rand.NewPCG(33, 34))
	ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 0.25}, {2, 0}, {0.75, 1}}
	for i := 0; i < 70; i++ {
		m, n, k := 1+i, 1+(i*37)%70, 1+(i*23)%70
		for lay := 0; lay < 4; lay++ {
			s := ab[(i+lay)%len(ab)]
			g := newGemmCase(rng, lay&1 != 0, lay&2 != 0, m, n, k, (i+lay)%4, 1+(i+lay)%3, s[0], s[1])
			zmmCompare(t, g)
			// The same with m and n swapped, so every n also meets a small m.
			g = newGemmCase(rng, lay&1 != 0, lay&2 != 0, n, m, k, (i+lay+1)%4, 1+lay%2, s[0], s[1])
			zmmCompare(t, g)
		}
	}
	// Larger shapes: several k-blocks, row blocks, just-in-time and full
	// packing, 4-panel groups followed by a pair, an odd and a partial panel.
	large := [][3]int{{300, 101, 300}, {37, 112, 520}, {13, 1030, 70}, {290, 200, 257}, {64, 2050, 129}, {600, 96, 40}, {7, 80, 600}}
	for i, s := range large {
		for lay := 0; lay < 4; lay++ {
			ab := ab[(i+lay)%len(ab)]
			g := newGemmCase(rng, lay&1 != 0, lay&2 != 0, s[0], s[1], s[2], 1+i%3, 1+lay%2, ab[0], ab[1])
			zmmCompare(t, g)
		}
	}
}

// TestAsmZmmKernelsPresent checks that the generated assembly holds every
// AVX-512 kernel the dispatch calls, each ending in VZEROUPPER (checked for
// every RET by TestAsmClearsUpperState): dirty upper zmm state slows later
// SSE code as dirty ymm state does.
func TestAsmZmmKernelsPresent(t *testing.T) {
	src, err := os.ReadFile("gemm_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, name := range []string{"sgemmKernelZ1x32", "sgemmKernelZ3x32", "sgemmKernelZ6x32", "sgemmKernelZ1x64", "sgemmKernelZ6x64", "sgemmPackBTZ", "fmaPeakZ"} {
		i := strings.Index(text, "TEXT ·"+name+"(SB)")
		if i < 0 {
			t.Errorf("%s missing from gemm_amd64.s", name)
			continue
		}
		body := text[i:]
		if j := strings.Index(body[1:], "TEXT ·"); j >= 0 {
			body = body[:j+1]
		}
		if !strings.Contains(body, "VZEROUPPER\n\tRET") {
			t.Errorf("%s: no VZEROUPPER before RET", name)
		}
		if !strings.Contains(body, "Z0") {
			t.Errorf("%s: uses no zmm register", name)
		}
	}
}

// TestFMAProbeZmm checks that the FMA probe returns the sum of its
// accumulators, 12 per iteration (each lane gains 1·0 per FMA: zero), so
// the loop ran without faulting on either vector width.
func TestFMAProbeZmm(t *testing.T) {
	needAVX512(t)
	for _, zmm := range []bool{false, true} {
		old := setAVX512(zmm)
		got := fmaProbe(64)
		setAVX512(old)
		if got != 0 {
			t.Errorf("zmm %v: fmaProbe = %v, want 0", zmm, got)
		}
	}
}

// TestGemvPanelsZTwin compares the GEMV over packed panels with the
// AVX-512 eight-panel kernel against the AVX2 kernel alone, bit for bit
// (same FMA chains per lane), for panel counts around the groups of eight,
// short and long k, both store modes, and checks nothing past y is written.
func TestGemvPanelsZTwin(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(33, 34))
	for _, np := range []int{1, 7, 8, 9, 15, 16, 17, 24, 33} {
		for _, kc := range []int{1, 3, 4, 5, 64, 129} {
			for _, accum := range []bool{false, true} {
				x := make([]float32, kc)
				b := make([]float32, np*kc*16)
				y0 := make([]float32, np*16+5)
				for i := range x {
					x[i] = float32(rng.Float64()*2 - 1)
				}
				for i := range b {
					b[i] = float32(rng.Float64()*2 - 1)
				}
				for i := range y0 {
					y0[i] = float32(rng.Float64()*2 - 1)
				}
				run := func(zmm bool) []float32 {
					defer setAVX512(setAVX512(zmm))
					y := append([]float32(nil), y0...)
					gemvPanels(kc, x, b, np, y, 0.75, accum)
					return y
				}
				z, ymm := run(true), run(false)
				for i := range z {
					if math.Float32bits(z[i]) != math.Float32bits(ymm[i]) {
						t.Fatalf("np=%d kc=%d accum=%v: y[%d] zmm %v, ymm %v", np, kc, accum, i, z[i], ymm[i])
					}
				}
				for i := np * 16; i < len(z); i++ {
					if z[i] != y0[i] {
						t.Fatalf("np=%d kc=%d: wrote y[%d] past the panels", np, kc, i)
					}
				}
			}
		}
	}
}
