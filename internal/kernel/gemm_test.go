package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// gemmCase is one Sgemm call laid out in guarded buffers: every operand
// starts at an odd offset inside a larger slice, rows are padded past the
// leading dimension, and all padding holds a NaN sentinel that must come
// back untouched.
type gemmCase struct {
	tA, tB        bool
	m, n, k       int
	alpha, beta   float32
	lda, ldb, ldc int
	a, b, c       []float32 // the full buffers
	off           int       // offset of every operand inside its buffer
	wantC, bound  []float64 // cached by want
}

var sentinel = math.Float32frombits(0x7fc0dead)

func newGemmCase(rng *rand.Rand, tA, tB bool, m, n, k, pad, off int, alpha, beta float32) *gemmCase {
	g := &gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, off: off}
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	g.lda, g.ldb, g.ldc = max(1, ac+pad), max(1, bc+(pad+1)%4), max(1, n+pad)
	fill := func(rows, cols, ld int, nanBody bool) []float32 {
		s := make([]float32, off+rows*ld+off+3)
		for i := range s {
			s[i] = sentinel
		}
		for r := 0; r < rows; r++ {
			for j := 0; j < cols; j++ {
				v := float32(rng.Float64()*2 - 1)
				if nanBody {
					v = float32(math.NaN())
				}
				s[off+r*ld+j] = v
			}
		}
		return s
	}
	g.a = fill(ar, ac, g.lda, false)
	g.b = fill(br, bc, g.ldb, false)
	g.c = fill(m, n, g.ldc, beta == 0)
	return g
}

func (g *gemmCase) name() string {
	return fmt.Sprintf("%s/m%dn%dk%d/lda%d/alpha%g/beta%g", layout(g.tA, g.tB), g.m, g.n, g.k, g.lda, g.alpha, g.beta)
}

func layout(tA, tB bool) string {
	s := []byte("NN")
	if tA {
		s[0] = 'T'
	}
	if tB {
		s[1] = 'T'
	}
	return string(s)
}

// want returns the float64 reference of C and, per element, the error
// bound for a float32 evaluation.
func (g *gemmCase) want() (want, bound []float64) {
	if g.wantC != nil {
		return g.wantC, g.bound
	}
	A := func(i, l int) float64 {
		if g.tA {
			return float64(g.a[g.off+l*g.lda+i])
		}
		return float64(g.a[g.off+i*g.lda+l])
	}
	B := func(l, j int) float64 {
		if g.tB {
			return float64(g.b[g.off+j*g.ldb+l])
		}
		return float64(g.b[g.off+l*g.ldb+j])
	}
	want = make([]float64, g.m*g.n)
	bound = make([]float64, g.m*g.n)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, abs float64
			for l := 0; l < g.k; l++ {
				p := A(i, l) * B(l, j)
				s += p
				abs += math.Abs(p)
			}
			c0 := 0.0
			if g.beta != 0 {
				c0 = float64(g.beta) * float64(g.c[g.off+i*g.ldc+j])
			}
			want[i*g.n+j] = float64(g.alpha)*s + c0
			bound[i*g.n+j] = float64(g.k+4)*1.2e-7*(math.Abs(float64(g.alpha))*abs+math.Abs(c0)) + 1e-30
		}
	}
	g.wantC, g.bound = want, bound
	return want, bound
}

// call runs f on a copy of the case's C and checks the result and guards.
func (g *gemmCase) check(t *testing.T, what string, f func(a, b, c []float32)) []float32 {
	t.Helper()
	want, bound := g.want()
	c := append([]float32(nil), g.c...)
	f(g.a[g.off:], g.b[g.off:], c[g.off:])
	bad := 0
	for idx, v := range c {
		i, j := -1, -1
		if r := idx - g.off; r >= 0 && r/g.ldc < g.m && r%g.ldc < g.n {
			i, j = r/g.ldc, r%g.ldc
		}
		if i < 0 {
			if math.Float32bits(v) != math.Float32bits(g.c[idx]) {
				t.Errorf("%s %s: guard c[%d] = %v, want untouched %v", what, g.name(), idx, v, g.c[idx])
				bad++
			}
		} else if w := want[i*g.n+j]; !(math.Abs(float64(v)-w) <= bound[i*g.n+j]) {
			t.Errorf("%s %s: C[%d,%d] got %v want %v (bound %g)", what, g.name(), i, j, v, w, bound[i*g.n+j])
			bad++
		}
		if bad > 5 {
			t.FailNow()
		}
	}
	return c
}

// gemmPaths are the implementations every case runs through: the exported
// dispatch, the reference twin, and the kernel driver with the pure-Go
// micro-kernels (it is what noasm builds run for SgemmPacked).
func gemmPaths(t *testing.T, g *gemmCase) {
	t.Helper()
	g.check(t, "Sgemm", func(a, b, c []float32) {
		Sgemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
	})
	if g.m > 0 && g.n > 0 && g.k > 0 {
		g.check(t, "generic", func(a, b, c []float32) {
			sgemmGeneric(g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
		})
		g.check(t, "twin-driver", func(a, b, c []float32) {
			defer setAVX2(setAVX2(false))
			sgemmFast(g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
		})
	}
	p := NewPackedB(g.tB, g.k, g.n, g.b[g.off:], g.ldb)
	g.check(t, "SgemmPacked", func(a, b, c []float32) {
		SgemmPacked(g.tA, g.m, g.alpha, a, g.lda, p, g.beta, c, g.ldc)
	})
}

// setAVX2 sets the dispatch flag and returns its previous value.
func setAVX2(on bool) bool {
	old := useAVX2
	useAVX2 = on
	return old
}

func TestSgemmShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 33, 63, 64, 65}
	ks := []int{1, 3, 8, 16, 17, 64, 65}
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for mi, m := range sizes {
				for ni, n := range sizes {
					k := ks[(mi+ni)%len(ks)]
					if mi%5 == 0 {
						k = 0
					}
					pad, off := (mi+2*ni)%4, 1+2*(ni%2)
					g := newGemmCase(rng, tA, tB, m, n, k, pad, off, 1, 0)
					gemmPaths(t, g)
				}
			}
		}
	}
}

func TestSgemmLargeShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{{257, 33, 70}, {17, 257, 300}, {65, 63, 257}, {150, 40, 520}, {7, 100, 600}, {300, 20, 5}, {1, 1030, 520}}
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for i, s := range shapes {
				g := newGemmCase(rng, tA, tB, s[0], s[1], s[2], i%3, 1+i%2, 1, 0)
				gemmPaths(t, g)
			}
		}
	}
}

func TestSgemmAlphaBeta(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ab := range [][2]float32{{1, 1}, {-0.5, 0}, {2, 1}, {1, 0.5}, {0.25, -2}, {0, 0}, {0, 3}} {
		for _, s := range [][3]int{{1, 37, 19}, {37, 1, 19}, {1, 1, 5}, {13, 29, 300}, {6, 16, 4}} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					g := newGemmCase(rng, tA, tB, s[0], s[1], s[2], 2, 3, ab[0], ab[1])
					gemmPaths(t, g)
				}
			}
		}
	}
}

// TestSgemmPackedMatchesSgemm checks that the packed path gives the same
// bits as Sgemm's kernel path (they share the driver) for m > 1, and that repacking a
// PackedB into smaller shapes reuses it correctly.
func TestSgemmPackedMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var p PackedB
	for _, s := range [][3]int{{64, 300, 200}, {2, 17, 3}, {33, 64, 513}, {128, 96, 64}} {
		m, n, k := s[0], s[1], s[2]
		for _, tB := range []bool{false, true} {
			g := newGemmCase(rng, false, tB, m, n, k, 1, 1, 1, 1)
			c1 := append([]float32(nil), g.c...)
			c2 := append([]float32(nil), g.c...)
			sgemmFast(false, tB, m, n, k, 1, g.a[1:], g.lda, g.b[1:], g.ldb, 1, c1[1:], g.ldc)
			p.Pack(tB, k, n, g.b[1:], g.ldb)
			SgemmPacked(false, m, 1, g.a[1:], g.lda, &p, 1, c2[1:], g.ldc)
			for i := range c1 {
				if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("%s: c[%d] packed %v, Sgemm %v", g.name(), i, c2[i], c1[i])
				}
			}
		}
	}
}

// TestPackSplitExact packs operands large enough to split over the worker
// team (packSplitMin), with the team awake, and checks the panels bit for
// bit against one thread and against each panel packed alone, for both
// layouts, a partial last panel and several k-blocks.
func TestPackSplitExact(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][2]int{{256, 1024}, {1024, 256}, {300, 1000}, {513, 259}} {
		k, n := s[0], s[1]
		if k*n < packSplitMin {
			t.Fatalf("k=%d n=%d: below packSplitMin", k, n)
		}
		b := make([]float32, k*n)
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		for _, tB := range []bool{false, true} {
			ldb := n
			if tB {
				ldb = k
			}
			run := func(threads int) []float32 {
				SetThreads(threads)
				var p PackedB
				awaitTeam(t, threads) // as after a GEMM
				p.Pack(tB, k, n, b, ldb)
				return p.data
			}
			one, two := run(1), run(2)
			name := fmt.Sprintf("k=%d n=%d tB=%v", k, n, tB)
			sameBits(t, name+" two threads", two, one)
			want := make([]float32, packedLen(k, n))
			for q := 0; q < (n+15)/16; q++ {
				packPanels(want, tB, k, n, b, ldb, q, q+1)
			}
			sameBits(t, name+" panel by panel", one, want)
		}
	}
}

// TestSgemmThreadsIdentical checks that 1 and 2 threads give the same bits
// on shapes that split by columns and by rows.
func TestSgemmThreadsIdentical(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{64, 520, 200}, {400, 70, 300}, {128, 2048, 64}, {33, 1000, 129}, {1, 1030, 520}, {600, 1, 130}, {1, 520, 128}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				g := newGemmCase(rng, tA, tB, s[0], s[1], s[2], 1, 1, 1, 0.5)
				p := NewPackedB(tB, g.k, g.n, g.b[1:], g.ldb)
				run := func(threads int) ([]float32, []float32) {
					SetThreads(threads)
					c1 := append([]float32(nil), g.c...)
					c2 := append([]float32(nil), g.c...)
					Sgemm(tA, tB, g.m, g.n, g.k, 1, g.a[1:], g.lda, g.b[1:], g.ldb, 0.5, c1[1:], g.ldc)
					SgemmPacked(tA, g.m, 1, g.a[1:], g.lda, p, 0.5, c2[1:], g.ldc)
					return c1, c2
				}
				a1, p1 := run(1)
				a2, p2 := run(2)
				for i := range a1 {
					if math.Float32bits(a1[i]) != math.Float32bits(a2[i]) || math.Float32bits(p1[i]) != math.Float32bits(p2[i]) {
						t.Fatalf("%s: c[%d] 1 thread %v/%v, 2 threads %v/%v", g.name(), i, a1[i], p1[i], a2[i], p2[i])
					}
				}
			}
		}
	}
}

func TestSgemv(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][2]int{{1, 1}, {5, 7}, {17, 64}, {64, 17}, {129, 300}, {3, 1000}, {600, 130}, {130, 600}, {13, 64}, {512, 128}, {23, 8}} {
		for _, tA := range []bool{false, true} {
			for _, beta := range []float32{0, 1, -0.5} {
				m, n := s[0], s[1]
				lda := n + 3
				a := make([]float32, m*lda)
				for i := range a {
					a[i] = float32(rng.Float64()*2 - 1)
				}
				nx, ny := n, m
				if tA {
					nx, ny = m, n
				}
				x := make([]float32, nx)
				for i := range x {
					x[i] = float32(rng.Float64()*2 - 1)
				}
				y := make([]float32, ny+2)
				for i := range y {
					y[i] = float32(rng.Float64())
				}
				if beta == 0 {
					y[0] = float32(math.NaN())
				}
				y[ny], y[ny+1] = sentinel, sentinel
				got := append([]float32(nil), y...)
				Sgemv(tA, m, n, 0.75, a, lda, x, beta, got[:ny])
				for i := 0; i < ny; i++ {
					var s, abs float64
					for l := 0; l < nx; l++ {
						var av float32
						if tA {
							av = a[l*lda+i]
						} else {
							av = a[i*lda+l]
						}
						s += float64(av) * float64(x[l])
						abs += math.Abs(float64(av) * float64(x[l]))
					}
					w := 0.75 * s
					if beta != 0 {
						w += float64(beta) * float64(y[i])
					}
					if math.Abs(float64(got[i])-w) > float64(nx+4)*1.2e-7*(abs+1) {
						t.Fatalf("tA=%v m%d n%d beta %g: y[%d] got %v want %v", tA, m, n, beta, i, got[i], w)
					}
				}
				if math.Float32bits(got[ny]) != math.Float32bits(sentinel) || math.Float32bits(got[ny+1]) != math.Float32bits(sentinel) {
					t.Fatalf("tA=%v m%d n%d: guard overwritten", tA, m, n)
				}
			}
		}
	}
}

// TestMicroKernelTwin compares each assembly micro-kernel with its Go twin
// bit for bit: the twin runs the same FMA chains (fma32).
func TestMicroKernelTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for mr := 1; mr <= 6; mr++ {
		for _, kc := range []int{1, 2, 3, 4, 5, 8, 9, 31, 256} {
			for _, accum := range []bool{false, true} {
				rsa, csa := kc+1, 1
				if kc%2 == 1 {
					rsa, csa = 1, mr+2
				}
				a := make([]float32, (mr-1)*rsa+(kc-1)*csa+1)
				b := make([]float32, kc*16)
				for i := range a {
					a[i] = float32(rng.Float64()*2 - 1)
				}
				for i := range b {
					b[i] = float32(rng.Float64()*2 - 1)
				}
				ldc := 19
				c0 := make([]float32, (mr-1)*ldc+16+3)
				for i := range c0 {
					c0[i] = float32(rng.Float64())
				}
				for i := 0; i < mr; i++ {
					c0[i*ldc+16] = sentinel
				}
				got := append([]float32(nil), c0...)
				want := append([]float32(nil), c0...)
				microKernel(mr, kc, a, rsa, csa, b, got, ldc, 1.5, accum)
				microKernelGo(mr, kc, a, rsa, csa, b, want, ldc, 1.5, accum)
				sameFloats(t, fmt.Sprintf("mr%d kc%d accum %v: c", mr, kc, accum), got, want)
			}
		}
	}
}

// TestPackPanels checks the panel layout element by element, with the
// AVX2 packers and (where the CPU has it) the AVX-512 ones.
func TestPackPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	hasZ := useAVX512
	defer setAVX512(hasZ)
	for _, s := range [][2]int{{1, 1}, {7, 16}, {8, 17}, {300, 33}, {513, 50}, {16, 5}, {24, 32}, {47, 48}, {64, 20}} {
		k, n := s[0], s[1]
		for _, c := range [4]int{0, 1, 2, 3} {
			tB, zmm := c&1 != 0, c&2 != 0
			if zmm && !hasZ {
				continue
			}
			setAVX512(zmm)
			ldb := n + 2
			rows := k
			if tB {
				ldb, rows = k+3, n
			}
			b := make([]float32, rows*ldb)
			for i := range b {
				b[i] = float32(rng.Float64())
			}
			got := make([]float32, packedLen(k, n))
			for i := range got {
				got[i] = sentinel
			}
			packPanels(got, tB, k, n, b, ldb, 0, (n+15)/16)
			kc := kcBlock(k)
			np := (n + 15) / 16
			for l := 0; l < k; l++ {
				l0 := l / kc * kc
				kcp := min(kc, k-l0)
				for j := 0; j < np*16; j++ {
					var want float32
					if j < n {
						if tB {
							want = b[j*ldb+l]
						} else {
							want = b[l*ldb+j]
						}
					}
					q := j / 16
					idx := l0*np*16 + q*kcp*16 + (l-l0)*16 + j%16
					if math.Float32bits(got[idx]) != math.Float32bits(want) {
						t.Fatalf("k%d n%d tB %v zmm %v: B(%d,%d) packed %v want %v", k, n, tB, zmm, l, j, got[idx], want)
					}
				}
			}
		}
	}
}

func TestKcBlock(t *testing.T) {
	for _, c := range [][2]int{{1, 1}, {256, 256}, {257, 129}, {512, 256}, {1600, 229}} {
		if got := kcBlock(c[0]); got != c[1] {
			t.Errorf("kcBlock(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"negative", func() { Sgemm(false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) }},
		{"short c", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}},
		{"short a", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"small lda", func() {
			Sgemm(true, false, 3, 2, 2, 1, make([]float32, 9), 2, make([]float32, 4), 2, 0, make([]float32, 6), 2)
		}},
		{"packed short c", func() {
			SgemmPacked(false, 2, 1, make([]float32, 4), 2, NewPackedB(false, 2, 2, make([]float32, 4), 2), 0, make([]float32, 3), 2)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint8(5), uint8(17), uint8(9), uint8(0), uint64(1))
	f.Add(uint8(1), uint8(64), uint8(33), uint8(3), uint64(2))
	f.Add(uint8(13), uint8(1), uint8(200), uint8(6), uint64(3))
	f.Fuzz(func(t *testing.T, m, n, k, flags uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 99))
		mm, nn, kk := int(m)%70, int(n)%70, int(k)
		betas := []float32{0, 1, 0.5}
		g := newGemmCase(rng, flags&1 != 0, flags&2 != 0, mm, nn, kk, int(flags>>2)%3, 1+int(flags>>4)%2, 1, betas[int(flags>>5)%3])
		gemmPaths(t, g)
	})
}

func TestStripHeight(t *testing.T) {
	for m := 1; m <= 40; m++ {
		var hs []int
		for left := m; left > 0; {
			h := stripHeight(left)
			hs = append(hs, h)
			left -= h
		}
		for i, h := range hs {
			if h < 1 || h > 6 || (m >= 4 && h < 3) || (i < len(hs)-2 && h != 6) {
				t.Errorf("m=%d: strips %v", m, hs)
				break
			}
		}
	}
}

// TestMicroKernel2Twin compares the two-panel micro-kernels with two calls
// of the one-panel twin: they must agree bit for bit (same FMA chains).
func TestMicroKernel2Twin(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, mr := range []int{2, 3} {
		for _, kc := range []int{1, 3, 4, 7, 64} {
			for _, accum := range []bool{false, true} {
				rsa, csa := kc+2, 1
				a := make([]float32, (mr-1)*rsa+(kc-1)*csa+1)
				pstride := kc*16 + 5
				b := make([]float32, pstride+kc*16)
				for i := range a {
					a[i] = float32(rng.Float64()*2 - 1)
				}
				for i := range b {
					b[i] = float32(rng.Float64()*2 - 1)
				}
				ldc := 37
				c0 := make([]float32, (mr-1)*ldc+32+2)
				for i := range c0 {
					c0[i] = float32(rng.Float64())
				}
				got := append([]float32(nil), c0...)
				want := append([]float32(nil), c0...)
				microKernel2(mr, kc, a, rsa, csa, b, pstride, got, ldc, 0.5, accum)
				microKernel(mr, kc, a, rsa, csa, b, want, ldc, 0.5, accum)
				microKernel(mr, kc, a, rsa, csa, b[pstride:], want[16:], ldc, 0.5, accum)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("mr%d kc%d accum %v: c[%d] two-panel %v, one-panel %v", mr, kc, accum, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestAsmClearsUpperState checks that every return in the generated
// assembly follows a VZEROUPPER: leaving dirty upper YMM state made later
// SSE code 75x slower on this machine.
func TestAsmClearsUpperState(t *testing.T) {
	src, err := os.ReadFile("gemm_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	prev, rets := "", 0
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == "RET" {
			rets++
			if prev != "VZEROUPPER" {
				t.Errorf("RET after %q, want VZEROUPPER", prev)
			}
		}
		prev = line
	}
	if rets == 0 {
		t.Fatal("no RET found in gemm_amd64.s")
	}
}

// TestKernelsAllocateNothing checks that steady-state calls (scratch
// cached, team warm) allocate nothing, on every path that uses scratch or
// the team: GEMV (split and not), just-in-time and fully packed GEMM, a
// transposed A in strips, and SgemmPacked.
func TestKernelsAllocateNothing(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewPCG(21, 22))
	runs := 20
	if !HasAsm() {
		runs = 2 // the twins take 10-100x as long; one allocation per call still shows
	}
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		for _, s := range [][3]int{{1, 512, 128}, {512, 1, 128}, {1, 1030, 520}, {20, 800, 200}, {700, 256, 128}, {200, 800, 700}} {
			for _, tA := range []bool{false, true} {
				g := newGemmCase(rng, tA, true, s[0], s[1], s[2], 1, 1, 1, 1)
				p := NewPackedB(true, g.k, g.n, g.b[1:], g.ldb)
				call := func() {
					Sgemm(tA, true, g.m, g.n, g.k, 1, g.a[1:], g.lda, g.b[1:], g.ldb, 1, g.c[1:], g.ldc)
					SgemmPacked(tA, g.m, 1, g.a[1:], g.lda, p, 1, g.c[1:], g.ldc)
				}
				call()
				if got := testing.AllocsPerRun(runs, call); got != 0 {
					t.Errorf("threads %d, %s: %v allocations per call, want 0", threads, g.name(), got)
				}
			}
		}
	}
}
