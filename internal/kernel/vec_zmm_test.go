package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The AVX-512 kernels perform per lane exactly the operations of their
// AVX2 versions, so every elementwise output must be bit-identical between
// the two widths. These tests run each kernel with useAVX512 on and off on
// the same inputs (random values sprinkled with NaN, ±Inf, ±0 and huge or
// tiny magnitudes) and compare the float32 bit patterns, at lengths around
// the 8- and 16-lane widths, off alignment, with guard bands around every
// output.

// zmmLens are the vector lengths (or gate widths H) checked bit for bit.
var zmmLens = []int{0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 257, 1029}

// zmmOnly skips unless this build and CPU run the AVX-512 kernels.
func zmmOnly(t *testing.T) {
	t.Helper()
	if !useAVX2 || !useAVX512 {
		t.Skip("no AVX-512 kernels in this build or on this CPU")
	}
}

// specialVals are sprinkled into the inputs of the exactness tests.
var specialVals = []float32{
	float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
	1e30, -1e30, 88.5, -88.5, 89.5, -104.9, 120, -120, 1e-40, -1e-40, 1e-7, -1e-7,
}

// specialGuarded is randGuarded with about one element in six replaced by
// a special value.
func specialGuarded(rng *rand.Rand, n, off int, lo, hi float32) *guarded {
	g := randGuarded(rng, n, off, lo, hi)
	s := g.s()
	for i := range s {
		if rng.IntN(6) == 0 {
			s[i] = specialVals[rng.IntN(len(specialVals))]
		}
	}
	return g
}

// sameBits fails unless got and want hold the same float32 bit patterns.
func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d]: zmm %.9g (%#08x), ymm %.9g (%#08x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// compareWidths runs f with the ZMM and with the YMM kernels on copies of
// c's outputs (checking guard bands and that inputs are unchanged) and
// requires bit-identical outputs.
func (c gateCase) compareWidths(t *testing.T, name string, f func(out, in [][]float32)) {
	t.Helper()
	c.compareWidthsTol(t, name, -1, f)
}

// compareWidthsTol is compareWidths for kernels with a reduction: outputs
// agree within tol·max(1, |ymm|); a negative tol asks for the same bits.
func (c gateCase) compareWidthsTol(t *testing.T, name string, tol float64, f func(out, in [][]float32)) {
	t.Helper()
	got := c.run(t, name+" zmm", f)
	saved := useAVX512
	useAVX512 = false
	want := c.run(t, name+" ymm", f)
	useAVX512 = saved
	for i := range want {
		oname := fmt.Sprintf("%s output %d", name, i)
		if tol < 0 {
			sameBits(t, oname, got[i], want[i])
		} else {
			compareSlices(t, oname, got[i], want[i], tol)
		}
	}
}

func TestZMMActivationsExact(t *testing.T) {
	zmmOnly(t)
	rng := rand.New(rand.NewPCG(41, 42))
	for _, a := range activations {
		for _, n := range zmmLens {
			for _, off := range vecOffsets {
				name := fmt.Sprintf("%s/n%d/off%d", a.name, n, off)
				c := gateCase{in: []*guarded{specialGuarded(rng, n, off, -30, 30)}, out: []*guarded{newGuarded(n, (off+2)%4)}}
				c.compareWidths(t, name, func(o, in [][]float32) { a.f(o[0], in[0]) })
				// In place.
				c = gateCase{out: []*guarded{c.in[0]}}
				c.compareWidths(t, name+" in place", func(o, in [][]float32) { a.f(o[0], o[0]) })
			}
		}
	}
}

func TestZMMGatesExact(t *testing.T) {
	zmmOnly(t)
	eachSpecialGateCall(rand.New(rand.NewPCG(43, 44)), zmmLens, func(g gateCall) { g.c.compareWidths(t, g.name, g.f) })
}

// eachSpecialGateCall calls f with the specialGateCalls of every width H
// in lens, at batch sizes 1 and 3.
func eachSpecialGateCall(rng *rand.Rand, lens []int, f func(gateCall)) {
	for _, H := range lens {
		for _, B := range []int{1, 3} {
			for _, g := range specialGateCalls(rng, B, H) {
				f(g)
			}
		}
	}
}

// gateCall is one fused gate kernel call on guarded operands.
type gateCall struct {
	name string
	c    gateCase
	f    func(out, in [][]float32)
}

// specialGateCalls returns calls of the LSTM and GRU gate kernels, forward
// and backward (with and without dc), at batch B and width H, on inputs
// sprinkled with special values.
func specialGateCalls(rng *rand.Rand, B, H int) []gateCall {
	name := fmt.Sprintf("B%dH%d", B, H)
	lf := gateCase{
		in:  []*guarded{specialGuarded(rng, B*4*H, 1, -8, 8), specialGuarded(rng, B*H, 2, -3, 3)},
		out: []*guarded{newGuarded(B*4*H, 3), newGuarded(B*H, 0), newGuarded(B*H, 1)},
	}
	act, c, cPrev := specialGuarded(rng, B*4*H, 1, 0, 1), specialGuarded(rng, B*H, 2, -3, 3), specialGuarded(rng, B*H, 0, -3, 3)
	dh, dc := specialGuarded(rng, B*H, 3, -2, 2), specialGuarded(rng, B*H, 1, -2, 2)
	lb := gateCase{in: []*guarded{act, c, cPrev, dh, dc}, out: []*guarded{newGuarded(B*4*H, 2), newGuarded(B*H, 1)}}
	gf := gateCase{
		in:  []*guarded{specialGuarded(rng, B*3*H, 1, -6, 6), specialGuarded(rng, B*3*H, 2, -6, 6), specialGuarded(rng, B*H, 3, -1, 1)},
		out: []*guarded{newGuarded(B*3*H, 0), newGuarded(B*H, 1)},
	}
	gb := gateCase{
		in:  []*guarded{specialGuarded(rng, B*3*H, 1, 0, 1), specialGuarded(rng, B*3*H, 2, -4, 4), specialGuarded(rng, B*H, 3, -1, 1), specialGuarded(rng, B*H, 0, -2, 2)},
		out: []*guarded{newGuarded(B*3*H, 0), newGuarded(B*3*H, 1), newGuarded(B*H, 2)},
	}
	return []gateCall{
		{"LSTMForward " + name, lf, func(o, in [][]float32) { LSTMForward(o[0], o[1], o[2], in[0], in[1], B, H) }},
		{"LSTMBackward " + name, lb, func(o, in [][]float32) { LSTMBackward(o[0], o[1], in[0], in[1], in[2], in[3], in[4], B, H) }},
		{"LSTMBackward/nodc " + name, lb, func(o, in [][]float32) { LSTMBackward(o[0], o[1], in[0], in[1], in[2], in[3], nil, B, H) }},
		{"GRUForward " + name, gf, func(o, in [][]float32) { GRUForward(o[0], o[1], in[0], in[1], in[2], B, H) }},
		{"GRUBackward " + name, gb, func(o, in [][]float32) { GRUBackward(o[0], o[1], o[2], in[0], in[1], in[2], in[3], B, H) }},
	}
}

// TestZMMRowKernelsExact checks the elementwise pieces of the softmax
// family directly: max (order-independent), exp(x-m) and x+s are exact;
// the float64 sums of expShift and sumExpShift only change summation order
// and must agree to 1e-15 relative.
func TestZMMRowKernelsExact(t *testing.T) {
	zmmOnly(t)
	rng := rand.New(rand.NewPCG(45, 46))
	for _, n := range zmmLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			x := specialGuarded(rng, n, off, -50, 50)
			xs := x.s()
			if gz, gy := maxAVX512(xs), maxAVX2(xs); math.Float32bits(gz) != math.Float32bits(gy) {
				t.Fatalf("max %s: zmm %g, ymm %g", name, gz, gy)
			}
			finite := randGuarded(rng, n, off, -50, 50)
			m := maxAVX2(finite.s())
			var sz, sy float64
			c := gateCase{in: []*guarded{finite}, out: []*guarded{newGuarded(n, 1)}}
			c.compareWidths(t, "expShift "+name, func(o, in [][]float32) {
				s := pick(expShiftAVX2, expShiftAVX512)(o[0], in[0], m)
				if useAVX512 {
					sz = s
				} else {
					sy = s
				}
			})
			if math.Abs(sz-sy) > 1e-15*math.Abs(sy) {
				t.Fatalf("expShift %s: sum zmm %.17g, ymm %.17g", name, sz, sy)
			}
			if sz, sy := sumExpShiftAVX512(finite.s(), m), sumExpShiftAVX2(finite.s(), m); math.Abs(sz-sy) > 1e-15*math.Abs(sy) {
				t.Fatalf("sumExpShift %s: zmm %.17g, ymm %.17g", name, sz, sy)
			}
			c = gateCase{in: []*guarded{x}, out: []*guarded{newGuarded(n, 2)}}
			c.compareWidths(t, "addConst "+name, func(o, in [][]float32) { pick(addConstAVX2, addConstAVX512)(o[0], in[0], -3.25) })
			c = gateCase{out: []*guarded{x.clone()}}
			c.compareWidths(t, "scal "+name, func(o, in [][]float32) { pick(scalAVX2, scalAVX512)(0.37, o[0]) })
		}
	}
	// An empty or all-NaN row gives -Inf at both widths.
	nan := []float32{float32(math.NaN()), float32(math.NaN())}
	for _, x := range [][]float32{nil, nan} {
		if gz, gy := maxAVX512(x), maxAVX2(x); !math.IsInf(float64(gz), -1) || !math.IsInf(float64(gy), -1) {
			t.Fatalf("max(%v): zmm %g, ymm %g, want -Inf", x, gz, gy)
		}
	}
}

// TestZMMSoftmaxRowsClose checks the row functions end to end: they differ
// between widths only through the order of the float64 row sum.
func TestZMMSoftmaxRowsClose(t *testing.T) {
	zmmOnly(t)
	rng := rand.New(rand.NewPCG(47, 48))
	for _, cols := range zmmLens {
		for _, rows := range []int{1, 4} {
			name := fmt.Sprintf("rows%d/cols%d", rows, cols)
			c := gateCase{in: []*guarded{softmaxInputs(rng, rows, cols, 1, true)}, out: []*guarded{newGuarded(rows*cols, 2)}}
			for _, k := range []struct {
				name string
				f    func(dst, x []float32, rows, cols int)
			}{{"SoftmaxRows", SoftmaxRows}, {"LogSoftmaxRows", LogSoftmaxRows}} {
				c.compareWidthsTol(t, k.name+" "+name, 2e-7, func(o, in [][]float32) { k.f(o[0], in[0], rows, cols) })
			}
			lse := gateCase{in: c.in, out: []*guarded{newGuarded(rows, 0)}}
			lse.compareWidthsTol(t, "LogSumExpRows "+name, 2e-7, func(o, in [][]float32) { LogSumExpRows(o[0], in[0], rows, cols) })
		}
	}
}

func TestZMMAdamExact(t *testing.T) {
	zmmOnly(t)
	rng := rand.New(rand.NewPCG(49, 50))
	h := AdamHyper{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3, BC2Sqrt: 0.03, Eps: 1e-8, WeightDecay: 0.01, Shrink: 1 - 1e-5}
	for _, n := range zmmLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			c := gateCase{
				in:  []*guarded{specialGuarded(rng, n, off, -1, 1)},
				out: []*guarded{randGuarded(rng, n, 1, -2, 2), randGuarded(rng, n, 2, -0.1, 0.1), randGuarded(rng, n, 3, 0, 0.01), randGuarded(rng, n, 0, 0, 0.01)},
			}
			c.compareWidths(t, "Adam "+name, func(o, in [][]float32) {
				Adam(o[0], in[0], o[1], o[2], 0.9, 0.999, 1e-3, 0.03, 1e-8)
				Adam(o[0], in[0], o[1], o[2], 0.9, 0.999, 1e-3, 0.03, 1e-8)
			})
			c.compareWidths(t, "AdamW "+name, func(o, in [][]float32) {
				AdamW(o[0], in[0], o[1], o[2], 0.9, 0.999, 1e-3, 0.03, 1e-8, 1-1e-5)
			})
			c.compareWidths(t, "Adam64 "+name, func(o, in [][]float32) {
				Adam64(o[0], in[0], o[1], o[2], nil, h)
				Adam64(o[0], in[0], o[1], o[2], nil, h)
			})
			c.compareWidths(t, "Adam64/AMSGrad "+name, func(o, in [][]float32) {
				Adam64(o[0], in[0], o[1], o[2], o[3], h)
			})
		}
	}
}

// TestZMMBlas1 checks Axpy and Scal bit for bit, and the float64 sums of
// Dot and SumSq (which only change summation order) to 1e-15 relative of
// the sum of magnitudes.
func TestZMMBlas1(t *testing.T) {
	zmmOnly(t)
	rng := rand.New(rand.NewPCG(51, 52))
	for _, n := range zmmLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			x, y := specialGuarded(rng, n, off, -2, 2), randGuarded(rng, n, (off+1)%4, -2, 2)
			c := gateCase{in: []*guarded{x}, out: []*guarded{y}}
			c.compareWidths(t, "Axpy "+name, func(o, in [][]float32) { Axpy(-0.75, in[0], o[0]) })
			c.compareWidths(t, "Scal "+name, func(o, in [][]float32) { Scal(1.5, o[0]) })
			a, b := randGuarded(rng, n, off, -2, 2), randGuarded(rng, n, (off+3)%4, -2, 2)
			var abs, sq float64
			for i, v := range a.s() {
				abs += math.Abs(float64(v) * float64(b.s()[i]))
				sq += float64(v) * float64(v)
			}
			if dz, dy := dotAVX512(a.s(), b.s()), dotAVX2(a.s(), b.s()); math.Abs(float64(dz)-float64(dy)) > 1e-7*abs {
				t.Fatalf("Dot %s: zmm %.9g, ymm %.9g", name, dz, dy)
			}
			if sz, sy := sumSqAVX512(a.s()), sumSqAVX2(a.s()); math.Abs(sz-sy) > 1e-15*sq {
				t.Fatalf("SumSq %s: zmm %.17g, ymm %.17g", name, sz, sy)
			}
			gz, gy := make([]float32, n), make([]float32, n)
			if sz, sy := sqDiffAVX512(gz, a.s(), b.s(), 0.25), sqDiffAVX2(gy, a.s(), b.s(), 0.25); math.Abs(sz-sy) > 1e-14*math.Max(1, sy) {
				t.Fatalf("SqDiff %s: zmm %.17g, ymm %.17g", name, sz, sy)
			}
			sameBits(t, "SqDiff grad "+name, gz, gy)
			for _, g := range []*guarded{a, b} {
				g.check(t, "Dot/SumSq "+name)
			}
		}
	}
}
