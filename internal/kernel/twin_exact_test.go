package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The tests in this file check that every kernel's pure-Go twin gives the
// assembly's bits, at each vector width this CPU has (the twins' float64
// reductions follow useAVX512 as the kernels do): the SGEMM through every
// driver path, the GEMV kernels, the reductions and row functions, and
// the fused gates on inputs with special values. (The elementwise kernels
// are checked in vec_test.go, vec_gates_test.go and vec_ops_test.go.)

// matchTwin runs f with the twins and then with the assembly at each width
// and requires the same bits from every output f returns.
func matchTwin(t *testing.T, name string, f func() [][]float32) {
	t.Helper()
	eachWidth(func(width string) {
		var want [][]float32
		asTwin(func() { want = f() })
		got := f()
		for i := range want {
			sameFloats(t, fmt.Sprintf("%s %s output %d", name, width, i), got[i], want[i])
		}
	})
}

// f64s holds float64 results as pairs of float32 bit patterns, so that
// matchTwin compares them bit for bit too.
func f64s(v ...float64) []float32 {
	out := make([]float32, 0, 2*len(v))
	for _, x := range v {
		if x != x {
			x = math.NaN() // one NaN: payloads may differ
		}
		b := math.Float64bits(x)
		out = append(out, math.Float32frombits(uint32(b)), math.Float32frombits(uint32(b>>32)))
	}
	return out
}

// twinLens are the vector lengths of the exactness tests: around the 8-
// and 16-lane vectors and the 64-element blocks of the AVX-512 row
// reductions (four vectors per iteration).
var twinLens = []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 47, 63, 64, 65, 79, 127, 128, 129, 200, 1029}

func TestReductionsMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(91, 92))
	for _, n := range twinLens {
		for _, special := range []bool{false, true} {
			name := fmt.Sprintf("n%d/special=%v", n, special)
			gen := randGuarded
			if special {
				gen = specialGuarded
			}
			x, y := gen(rng, n, 1, -3, 3), gen(rng, n, 2, -3, 3)
			matchTwin(t, "Dot/SumSq "+name, func() [][]float32 {
				return [][]float32{f64s(float64(Dot(x.s(), y.s())), SumSq(x.s()))}
			})
			matchTwin(t, "SqDiff "+name, func() [][]float32 {
				g := make([]float32, n)
				s := SqDiff(g, x.s(), y.s(), 0.375)
				return [][]float32{g, f64s(s, SqDiff(nil, x.s(), y.s(), 0.375))}
			})
			matchTwin(t, "Max/ExpShift "+name, func() [][]float32 {
				m := Max(x.s())
				e := make([]float32, n)
				s := ExpShift(e, x.s(), m)
				return [][]float32{{m}, e, f64s(s)}
			})
		}
	}
}

// TestMaxSignedZeroMatchesTwin checks Max on rows of zeros of mixed signs,
// where only the order in which the partial maxima meet decides the sign
// of the result.
func TestMaxSignedZeroMatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(93, 94))
	negZero := float32(math.Copysign(0, -1))
	for _, n := range twinLens {
		for range 20 {
			x := make([]float32, n)
			for i := range x {
				switch rng.IntN(4) {
				case 0:
					x[i] = negZero
				case 1:
					x[i] = -1
				case 2:
					x[i] = float32(math.NaN())
				}
			}
			matchTwin(t, fmt.Sprintf("Max n%d %v", n, x[:min(n, 8)]), func() [][]float32 { return [][]float32{{Max(x)}} })
		}
	}
}

func TestRowFunctionsMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(95, 96))
	for _, cols := range twinLens {
		for _, rows := range []int{1, 4} {
			name := fmt.Sprintf("rows%d/cols%d", rows, cols)
			x := softmaxInputs(rng, rows, cols, 1, true)
			dp, p := specialGuarded(rng, rows*cols, 2, -1, 1), randGuarded(rng, rows*cols, 3, 0, 1)
			dx := randGuarded(rng, rows*cols, 0, -1, 1)
			matchTwin(t, "row functions "+name, func() [][]float32 {
				sm, ls, lse := make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows)
				SoftmaxRows(sm, x.s(), rows, cols)
				LogSoftmaxRows(ls, x.s(), rows, cols)
				LogSumExpRows(lse, x.s(), rows, cols)
				d := append([]float32(nil), dx.s()...)
				SoftmaxRowsBackward(d, dp.s(), p.s(), rows, cols)
				return [][]float32{sm, ls, lse, d}
			})
		}
	}
}

func TestGatesMatchTwinSpecial(t *testing.T) {
	asmOnly(t)
	eachSpecialGateCall(rand.New(rand.NewPCG(97, 98)), twinLens, func(g gateCall) { g.c.compareImpls(t, g.name, g.f) })
}

// randFloats returns n values uniform in [-1, 1), about one in eight
// replaced by zero (exact sums take fma32's careful path).
func randFloats(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		if rng.IntN(8) != 0 {
			s[i] = rng.Float32()*2 - 1
		}
	}
	return s
}

// TestGemvKernelsMatchTwin checks the GEMV kernels (the wrappers gemvN,
// gemvT and gemvPanels, which finish some columns in Go with the
// assembly) against their twins: columns around the 8-wide vectors, the
// 16-element steps of gemvT and its scalar tail, the groups of 4 and 8
// panels, both store modes.
func TestGemvKernelsMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(99, 100))
	for _, k := range []int{1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 64, 100, 257} {
		for _, n := range []int{1, 3, 7, 8, 9, 16, 17, 63, 64, 65, 130} {
			for _, accum := range []bool{false, true} {
				name := fmt.Sprintf("k%d/n%d/accum=%v", k, n, accum)
				ldb := n + 3
				x, bn, bt := randFloats(rng, k), randFloats(rng, k*ldb), randFloats(rng, n*(k+2))
				np := (n + 15) / 16
				panels := randFloats(rng, np*k*16)
				y0 := randFloats(rng, np*16)
				matchTwin(t, "gemv "+name, func() [][]float32 {
					yn, yt, yp := append([]float32(nil), y0[:n]...), append([]float32(nil), y0[:n]...), append([]float32(nil), y0...)
					gemvN(k, x, bn, ldb, n, yn, -0.75, accum)
					gemvT(k, x, bt, k+2, n, yt, 1.25, accum)
					gemvPanels(k, x, panels, np, yp, 0.5, accum)
					return [][]float32{yn, yt, yp}
				})
			}
		}
	}
}

// TestSgemmMatchesTwin runs Sgemm, SgemmPacked and the packed GEMV and
// GEMM (both directions) with the assembly and with the twins, on one and
// two threads, and requires the same bits: every m, n and k from 1 to 70
// in some combination, k over several k-blocks (kcBlock), each layout,
// alpha and beta (0 and 1 included).
func TestSgemmMatchesTwin(t *testing.T) {
	asmOnly(t)
	defer SetThreads(Threads())
	rng := rand.New(rand.NewPCG(101, 102))
	ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 0.25}, {2, 0}, {0.75, 1}}
	var shapes [][3]int
	for i := 0; i < 70; i++ {
		shapes = append(shapes, [3]int{1 + i, 1 + (i*37)%70, 1 + (i*23)%70})
	}
	shapes = append(shapes, [3]int{7, 33, 257}, [3]int{20, 100, 300}, [3]int{1, 70, 513}, [3]int{70, 1, 600},
		[3]int{150, 40, 520}, [3]int{300, 50, 90}, [3]int{13, 1030, 70})
	for i, s := range shapes {
		lay := i % 4
		tA, tB := lay&1 != 0, lay&2 != 0
		alpha, beta := ab[i%len(ab)][0], ab[i%len(ab)][1]
		g := newGemmCase(rng, tA, tB, s[0], s[1], s[2], i%3, 1+i%2, alpha, beta)
		p := NewPackedB(tB, g.k, g.n, g.b[g.off:], g.ldb)
		matchTwin(t, g.name(), func() [][]float32 {
			var out [][]float32
			for _, threads := range []int{1, 2} {
				SetThreads(threads)
				c1, c2 := append([]float32(nil), g.c...), append([]float32(nil), g.c...)
				Sgemm(tA, tB, g.m, g.n, g.k, alpha, g.a[g.off:], g.lda, g.b[g.off:], g.ldb, beta, c1[g.off:], g.ldc)
				SgemmPacked(tA, g.m, alpha, g.a[g.off:], g.lda, p, beta, c2[g.off:], g.ldc)
				out = append(out, c1, c2)
			}
			if !tA {
				for _, rev := range []bool{false, true} {
					c3 := append([]float32(nil), g.c...)
					p.Gemm(g.m, g.a[g.off:], g.lda, beta, c3[g.off:], g.ldc, rev)
					y := append([]float32(nil), g.c[g.off:g.off+g.n]...)
					p.Gemv(g.a[g.off:g.off+g.k], beta, y, rev)
					out = append(out, c3, y)
				}
			}
			return out
		})
	}
}
