package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// exact is the tolerance of compareImplsTol that asks for the same bits
// (NaN payloads aside): every twin rounds each operation as its assembly
// does (the twins convert products explicitly, so no compiler may fuse
// them into an FMA, whatever GOAMD64 says, and take FMAs from fma32).
const exact = 0

func TestAxpyScalMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range vecLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			x, y := randGuarded(rng, n, off, -3, 3), randGuarded(rng, n, (off+1)%4, -3, 3)
			c := gateCase{in: []*guarded{x}, out: []*guarded{y}}
			c.compareImplsTol(t, "Axpy "+name, exact, func(o, in [][]float32) { Axpy(-1.7, in[0], o[0]) })
			c = gateCase{out: []*guarded{y}}
			c.compareImplsTol(t, "Scal "+name, exact, func(o, in [][]float32) { Scal(0.3, o[0]) })
		}
	}
}

// compareImplsTol is compareImpls with the given tolerance (exact: the
// same bits). The twin runs at each width too: its reductions group their
// partial sums as the kernels of that width do.
func (c gateCase) compareImplsTol(t *testing.T, name string, tol float64, f func(out, in [][]float32)) {
	t.Helper()
	eachWidth(func(width string) {
		var want [][]float32
		asTwin(func() { want = c.run(t, name+" twin "+width, f) })
		got := c.run(t, name+" "+width, f)
		for i := range want {
			oname := fmt.Sprintf("%s %s output %d", name, width, i)
			if tol == exact {
				sameFloats(t, oname, got[i], want[i])
			} else {
				compareSlices(t, oname, got[i], want[i], tol)
			}
		}
	})
}

// sameFloats fails unless got and want hold the same float32 bit patterns
// (or NaN both: the payload of a NaN may differ).
func sameFloats(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s[%d]: asm %.9g (%#08x), twin %.9g (%#08x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

func TestDotSumSq(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	vecImpls(t, func(t *testing.T, impl string) {
		for _, n := range vecLens {
			for _, off := range vecOffsets {
				x, y := randGuarded(rng, n, off, -2, 2), randGuarded(rng, n, (off+3)%4, -2, 2)
				var dot, abs, sq float64
				for i, v := range x.s() {
					w := float64(y.s()[i])
					dot += float64(v) * w
					abs += math.Abs(float64(v) * w)
					sq += float64(v) * float64(v)
				}
				if got := Dot(x.s(), y.s()); math.Abs(float64(got)-dot) > 1e-7*abs+1e-30 {
					t.Errorf("Dot n%d off%d: got %.9g, want %.9g", n, off, got, dot)
				}
				if got := SumSq(x.s()); math.Abs(got-sq) > 1e-13*sq {
					t.Errorf("SumSq n%d off%d: got %.17g, want %.17g", n, off, got, sq)
				}
			}
		}
	})
}

// softmaxInputs returns rows×cols values with special rows: a constant
// row, a row with -Inf entries, a row of large values and, when withNaN,
// a row holding a NaN.
func softmaxInputs(rng *rand.Rand, rows, cols, off int, withNaN bool) *guarded {
	x := randGuarded(rng, rows*cols, off, -20, 20)
	s := x.s()
	for r := 0; r < rows && cols > 0; r++ {
		row := s[r*cols : r*cols+cols]
		switch r % 4 {
		case 1:
			for j := range row {
				row[j] = 0.25
			}
		case 2:
			row[0] = float32(math.Inf(-1))
			row[len(row)-1] = float32(math.Inf(-1))
		case 3:
			for j := range row {
				row[j] += 3e4
			}
			if withNaN {
				row[len(row)/2] = float32(math.NaN())
			}
		}
	}
	return x
}

func TestSoftmaxRowsMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for _, cols := range vecLens {
		for _, rows := range []int{1, 5} {
			for _, off := range vecOffsets {
				name := fmt.Sprintf("rows%d/cols%d/off%d", rows, cols, off)
				c := gateCase{in: []*guarded{softmaxInputs(rng, rows, cols, off, true)}, out: []*guarded{newGuarded(rows*cols, 2)}}
				c.compareImplsTol(t, "SoftmaxRows "+name, exact, func(o, in [][]float32) { SoftmaxRows(o[0], in[0], rows, cols) })
				c.compareImplsTol(t, "LogSoftmaxRows "+name, exact, func(o, in [][]float32) { LogSoftmaxRows(o[0], in[0], rows, cols) })
			}
		}
	}
}

func TestSoftmaxRowsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	vecImpls(t, func(t *testing.T, impl string) {
		for _, cols := range []int{1, 7, 9, 33, 1023} {
			rows := 3 // not the +3e4 row, whose inputs carry only ~3 decimals
			x := softmaxInputs(rng, rows, cols, 1, false).s()
			sm := make([]float32, rows*cols)
			ls := append([]float32(nil), x...)
			SoftmaxRows(sm, x, rows, cols)
			LogSoftmaxRows(ls, ls, rows, cols) // in place
			for r := 0; r < rows; r++ {
				var sum float64
				for j := 0; j < cols; j++ {
					k := r*cols + j
					sum += float64(sm[k])
					if want := math.Exp(float64(ls[k])); math.Abs(float64(sm[k])-want) > 1e-6 {
						t.Fatalf("cols%d row %d: softmax %g, exp(log-softmax) %g", cols, r, sm[k], want)
					}
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Fatalf("cols%d row %d: softmax sums to %.9g, want 1", cols, r, sum)
				}
			}
		}
	})
}

func TestAdamMatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(19, 20))
	for _, n := range vecLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			c := gateCase{
				in:  []*guarded{randGuarded(rng, n, off, -1, 1)},
				out: []*guarded{randGuarded(rng, n, 1, -2, 2), randGuarded(rng, n, 2, -0.1, 0.1), randGuarded(rng, n, 3, 0, 0.01)},
			}
			c.compareImplsTol(t, "Adam "+name, exact, func(o, in [][]float32) {
				Adam(o[0], in[0], o[1], o[2], 0.9, 0.999, 1e-3/(1-0.9*0.9), float32(math.Sqrt(1-0.999*0.999)), 1e-8)
			})
			c.compareImplsTol(t, "AdamW "+name, exact, func(o, in [][]float32) {
				AdamW(o[0], in[0], o[1], o[2], 0.9, 0.999, 1e-3, float32(math.Sqrt(1-0.999)), 1e-8, 1-1e-3*0.01)
			})
		}
	}
}

func TestAdamFirstStep(t *testing.T) {
	// At step 1 with zero state, m̂ = g and v̂ = g², so each parameter moves
	// by lr·g/(|g|+eps) ≈ lr·sign(g); AdamW first scales p by keep.
	vecImpls(t, func(t *testing.T, impl string) {
		const lr, beta1, beta2, eps, keep = 0.01, 0.9, 0.999, 1e-8, 0.5
		g := []float32{0.5, -2, 1e-3, 0, 3, -0.25, 7, -7, 1}
		for _, w := range []bool{false, true} {
			p := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
			m, v := make([]float32, len(p)), make([]float32, len(p))
			step, bc2 := float32(lr/(1-beta1)), float32(math.Sqrt(1-beta2))
			k := 1.0
			if w {
				AdamW(p, g, m, v, beta1, beta2, step, bc2, eps, keep)
				k = keep
			} else {
				Adam(p, g, m, v, beta1, beta2, step, bc2, eps)
			}
			for i, gi := range g {
				want := k - lr*float64(gi)/(math.Abs(float64(gi))+eps)
				if math.Abs(float64(p[i])-want) > 1e-5 {
					t.Errorf("AdamW=%v p[%d] with g=%g: got %.7g, want %.7g", w, i, gi, p[i], want)
				}
				if want := (1 - beta1) * float64(gi); math.Abs(float64(m[i])-want) > 1e-6*math.Abs(want) {
					t.Errorf("m[%d] = %g, want %g", i, m[i], want)
				}
			}
		}
	})
}

func TestVectorKernelsPanicOnShortSlices(t *testing.T) {
	a, b := make([]float32, 9), make([]float32, 8)
	tests := []struct {
		name string
		f    func()
	}{
		{"Sigmoid", func() { Sigmoid(b, a) }},
		{"Tanh", func() { Tanh(b, a) }},
		{"Exp", func() { Exp(b, a) }},
		{"Axpy", func() { Axpy(1, a, b) }},
		{"Dot", func() { Dot(a, b) }},
		{"SoftmaxRows", func() { SoftmaxRows(b, a, 3, 3) }},
		{"LogSoftmaxRows", func() { LogSoftmaxRows(a, b, 3, 3) }},
		{"Adam", func() { Adam(a, a, a, b, 0.9, 0.999, 1, 1, 1e-8) }},
		{"AdamW", func() { AdamW(a, b, a, a, 0.9, 0.999, 1, 1, 1e-8, 1) }},
		{"ExpShift", func() { ExpShift(b, a, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Fatalf("%s with a short slice: got no panic, want a kernel: panic", tt.name)
				}
			}()
			tt.f()
		})
	}
}

func TestExtraKernelsMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range vecLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			x := randGuarded(rng, n, off, -3, 3)
			if n > 2 {
				x.s()[1] = float32(math.NaN())
				x.s()[2] = float32(math.Copysign(0, -1))
			}
			c := gateCase{in: []*guarded{x}, out: []*guarded{newGuarded(n, 1)}}
			c.compareImplsTol(t, "ReLU "+name, exact, func(o, in [][]float32) { ReLU(o[0], in[0]) })
			dy, y := randGuarded(rng, n, off, -2, 2), randGuarded(rng, n, (off+1)%4, 0, 1)
			c = gateCase{in: []*guarded{dy, y}, out: []*guarded{randGuarded(rng, n, 2, -1, 1)}}
			c.compareImplsTol(t, "TanhBackward "+name, exact, func(o, in [][]float32) { TanhBackward(o[0], in[0], in[1]) })
			c.compareImplsTol(t, "SigmoidBackward "+name, exact, func(o, in [][]float32) { SigmoidBackward(o[0], in[0], in[1]) })
			c = gateCase{in: []*guarded{dy, x}, out: []*guarded{randGuarded(rng, n, 3, -1, 1)}}
			c.compareImplsTol(t, "ReLUBackward "+name, exact, func(o, in [][]float32) { ReLUBackward(o[0], in[0], in[1]) })
			c.compareImplsTol(t, "AddTo "+name, exact, func(o, in [][]float32) { AddTo(o[0], in[0], in[1]) })
			c.compareImplsTol(t, "MulTo "+name, exact, func(o, in [][]float32) { MulTo(o[0], in[0], in[1]) })
			c = gateCase{in: []*guarded{dy}, out: []*guarded{x.clone()}}
			c.compareImplsTol(t, "MulTo in place "+name, exact, func(o, in [][]float32) { MulTo(o[0], o[0], in[0]) })
		}
	}
	for _, cols := range vecLens {
		for _, rows := range []int{1, 5} {
			name := fmt.Sprintf("rows%d/cols%d", rows, cols)
			x := softmaxInputs(rng, rows, cols, 1, true)
			c := gateCase{in: []*guarded{x}, out: []*guarded{newGuarded(rows, 3)}}
			c.compareImplsTol(t, "LogSumExpRows "+name, exact, func(o, in [][]float32) { LogSumExpRows(o[0], in[0], rows, cols) })
			p := newGuarded(rows*cols, 2)
			asTwin(func() { SoftmaxRows(p.s(), softmaxInputs(rng, rows, cols, 0, false).s(), rows, cols) })
			c = gateCase{in: []*guarded{randGuarded(rng, rows*cols, 0, -1, 1), p}, out: []*guarded{randGuarded(rng, rows*cols, 3, -1, 1)}}
			c.compareImplsTol(t, "SoftmaxRowsBackward "+name, exact, func(o, in [][]float32) { SoftmaxRowsBackward(o[0], in[0], in[1], rows, cols) })
		}
	}
}

func TestAddMulReLUBackward(t *testing.T) {
	vecImpls(t, func(t *testing.T, impl string) {
		a := []float32{1, -2, 3, 0, float32(math.NaN()), float32(math.Copysign(0, -1)), 5, -6, 7}
		b := []float32{0.5, 0.5, -1, 2, 1, 1, 2, 2, 2}
		sum, prod := make([]float32, len(a)), make([]float32, len(a))
		AddTo(sum, a, b)
		MulTo(prod, a, b)
		compareSlices(t, "AddTo", sum, []float32{1.5, -1.5, 2, 2, float32(math.NaN()), 1, 7, -4, 9}, 0)
		compareSlices(t, "MulTo", prod, []float32{0.5, -1, -3, 0, float32(math.NaN()), 0, 10, -12, 14}, 0)
		dx := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
		ReLUBackward(dx, b, a)
		compareSlices(t, "ReLUBackward", dx, []float32{1.5, 1, 0, 1, 1, 1, 3, 1, 3}, 0)
	})
}

func TestReLUSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	x := []float32{-inf, -3, float32(math.Copysign(0, -1)), 0, 2.5, inf, float32(math.NaN()), -1e-40}
	vecImpls(t, func(t *testing.T, impl string) {
		got := make([]float32, len(x))
		ReLU(got, x)
		want := []float32{0, 0, 0, 0, 2.5, inf, float32(math.NaN()), 0}
		compareSlices(t, "ReLU", got, want, 0)
	})
}

func TestLogSumExpRows(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		row  []float32
		want float64
	}{
		{"empty", nil, math.Inf(-1)},
		{"single", []float32{3}, 3},
		{"equal", []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1 + math.Log(9)},
		{"large", []float32{1000, 1000}, 1000 + math.Ln2},
		{"all -Inf", []float32{-inf, -inf, -inf}, math.Inf(-1)},
		{"with -Inf", []float32{-inf, 0, -inf}, 0},
		{"with +Inf", []float32{1, inf}, math.Inf(1)},
		{"with NaN", []float32{1, float32(math.NaN()), 2}, math.NaN()},
	}
	vecImpls(t, func(t *testing.T, impl string) {
		for _, tt := range tests {
			dst := []float32{-5}
			LogSumExpRows(dst, tt.row, 1, len(tt.row))
			if !closeTo(dst[0], float32(tt.want), 1e-6) {
				t.Errorf("%s: LogSumExpRows(%v) = %g, want %g", tt.name, tt.row, dst[0], tt.want)
			}
		}
	})
}

func TestAdam64MatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(23, 24))
	hypers := []struct {
		name string
		h    AdamHyper
		ams  bool
	}{
		{"Adam+L2", AdamHyper{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / (1 - 0.9*0.9*0.9), BC2Sqrt: math.Sqrt(1 - 0.999*0.999*0.999), Eps: 1e-8, WeightDecay: 0.01, Shrink: 1}, false},
		{"AdamW", AdamHyper{Beta1: 0.8, Beta2: 0.99, StepSize: 3e-3, BC2Sqrt: 0.3, Eps: 1e-6, Shrink: 1 - 3e-3*0.1}, false},
		{"AMSGrad", AdamHyper{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-2, BC2Sqrt: 0.05, Eps: 1e-8, Shrink: 1}, true},
	}
	for _, hp := range hypers {
		for _, n := range vecLens {
			for _, off := range vecOffsets {
				name := fmt.Sprintf("%s/n%d/off%d", hp.name, n, off)
				out := []*guarded{randGuarded(rng, n, 1, -2, 2), randGuarded(rng, n, 2, -0.1, 0.1), randGuarded(rng, n, 3, 0, 0.01)}
				if hp.ams {
					out = append(out, randGuarded(rng, n, 0, 0, 0.01))
				}
				c := gateCase{in: []*guarded{randGuarded(rng, n, off, -1, 1)}, out: out}
				// Two steps from the same state, compared bit for bit.
				c.compareImplsTol(t, name, exact, func(o, in [][]float32) {
					var vmax []float32
					if hp.ams {
						vmax = o[3]
					}
					Adam64(o[0], in[0], o[1], o[2], vmax, hp.h)
					Adam64(o[0], in[0], o[1], o[2], vmax, hp.h)
				})
			}
		}
	}
}

func TestAdam64FirstStep(t *testing.T) {
	// Step 1 from zero state: p moves by lr·g/(|g|+eps) ≈ lr·sign(g); with
	// AMSGrad vmax becomes v.
	vecImpls(t, func(t *testing.T, impl string) {
		const lr, b1, b2 = 0.01, 0.9, 0.999
		g := []float32{0.5, -2, 1e-3, 0, 3, -0.25, 7, -7, 1}
		p := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
		m, v, vmax := make([]float32, len(p)), make([]float32, len(p)), make([]float32, len(p))
		Adam64(p, g, m, v, vmax, AdamHyper{Beta1: b1, Beta2: b2, StepSize: lr / (1 - b1), BC2Sqrt: math.Sqrt(1 - b2), Eps: 1e-8, Shrink: 1})
		for i, gi := range g {
			want := 1 - lr*float64(gi)/(math.Abs(float64(gi))+1e-8)
			if math.Abs(float64(p[i])-want) > 1e-7 {
				t.Errorf("p[%d] with g=%g: got %.8g, want %.8g", i, gi, p[i], want)
			}
			if wantV := float32((1 - b2) * float64(gi) * float64(gi)); v[i] != wantV || vmax[i] != wantV {
				t.Errorf("v[%d], vmax[%d] = %g, %g, want %g", i, i, v[i], vmax[i], wantV)
			}
		}
	})
}

// TestMaxExpShiftMatchTwin checks Max and ExpShift against their twins bit
// for bit at each width (the twins follow the partial maxima and sums of
// the kernels of that width), with special values and signed zeros in the
// input, and the twin Max against its definition.
func TestMaxExpShiftMatchTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, n := range vecLens {
		for _, off := range vecOffsets {
			name := fmt.Sprintf("n%d/off%d", n, off)
			x := randGuarded(rng, n, off, -30, 30)
			if n > 4 {
				x.s()[n/2], x.s()[n-1] = float32(math.NaN()), float32(math.Copysign(0, -1))
			}
			eachWidth(func(width string) {
				name := name + "/" + width
				var wantMax float32
				var wantSum float64
				want := make([]float32, n)
				asTwin(func() {
					wantMax = Max(x.s())
					wantSum = ExpShift(want, x.s(), wantMax)
				})
				if n == 0 && !math.IsInf(float64(wantMax), -1) {
					t.Fatalf("%s: twin Max = %g, want -Inf", name, wantMax)
				}
				for _, v := range x.s() {
					if v > wantMax {
						t.Fatalf("%s: twin Max = %g below element %g", name, wantMax, v)
					}
				}
				if !HasAsm() {
					return
				}
				if got := Max(x.s()); math.Float32bits(got) != math.Float32bits(wantMax) {
					t.Fatalf("%s: Max = %g, twin %g", name, got, wantMax)
				}
				c := gateCase{in: []*guarded{x}, out: []*guarded{newGuarded(n, 2)}}
				var sum float64
				got := c.run(t, name, func(o, in [][]float32) { sum = ExpShift(o[0], in[0], wantMax) })
				sameFloats(t, name+" ExpShift", got[0], want)
				if math.Float64bits(sum) != math.Float64bits(wantSum) && !(sum != sum && wantSum != wantSum) {
					t.Fatalf("%s: ExpShift sum = %.17g, twin %.17g", name, sum, wantSum)
				}
			})
		}
	}
	// NaN is skipped by Max; a row of NaN gives -Inf.
	nan := float32(math.NaN())
	for _, tc := range []struct {
		x    []float32
		want float32
	}{{[]float32{nan, 2, nan, -1}, 2}, {[]float32{nan, nan}, float32(math.Inf(-1))}} {
		vecImpls(t, func(t *testing.T, impl string) {
			if got := Max(tc.x); got != tc.want {
				t.Fatalf("Max(%v) = %g, want %g", tc.x, got, tc.want)
			}
		})
	}
}

// TestSqDiff checks the squared-error kernel against its twin at odd
// lengths and offsets: the gradient and the sum bit for bit (the twin sums
// over the kernel's partial sums), the sum without a gradient equal to the
// sum with one, and no write outside grad.
func TestSqDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1023} {
		for _, off := range []int{0, 1, 3} {
			name := fmt.Sprintf("n%d/off%d", n, off)
			p, q := randGuarded(rng, n, off, -3, 3), randGuarded(rng, n, (off+1)%4, -3, 3)
			g := newGuarded(n, (off+2)%4)
			const scale = 2.0 / 1000
			got := SqDiff(g.s(), p.s(), q.s(), scale)
			g.check(t, "SqDiff grad "+name)
			want := make([]float32, n)
			ws := sqDiffGeneric(want, p.s(), q.s(), scale)
			compareSlices(t, "SqDiff grad "+name, g.s(), want, 0)
			if got != ws {
				t.Errorf("%s: sum %.17g, twin %.17g", name, got, ws)
			}
			if only := SqDiff(nil, p.s(), q.s(), scale); only != got {
				t.Errorf("%s: sum without grad %.17g, with grad %.17g", name, only, got)
			}
		}
	}
}

// awaitTeam wakes the worker team and waits until it runs (the split
// kernels split only then), failing after a second; with one thread it
// does nothing.
func awaitTeam(t *testing.T, threads int) {
	t.Helper()
	if threads < 2 || Threads() < 2 {
		return
	}
	// Again and again: a worker seen running by one Wake may be parking
	// just after it.
	for start := time.Now(); !teamAwake(); {
		if time.Since(start) > 5*time.Second {
			t.Fatal("worker team not awake after 5 s")
		}
		Wake()
		runtime.Gosched()
	}
}

// TestSqDiffSplitExact checks SqDiff beyond one chunk (sqDiffChunk), where
// the chunks run on the worker team when it is awake: the sum and the
// gradient bit for bit equal on one and two threads and to the twins', and
// the sum without a gradient the same; also past sqDiffMaxChunks chunks,
// where the chunks grow.
func TestSqDiffSplitExact(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(63, 64))
	for _, n := range []int{sqDiffChunk + 1, 3*sqDiffChunk + 37, sqDiffMaxChunks*sqDiffChunk + 1000} {
		p, q := make([]float32, n), make([]float32, n)
		for i := range p {
			p[i], q[i] = rng.Float32()*6-3, rng.Float32()*6-3
		}
		const scale = 2.0 / 1000
		run := func(threads int) (float64, float64, []float32) {
			SetThreads(threads)
			g := make([]float32, n)
			awaitTeam(t, threads) // as after a forward pass
			s := SqDiff(g, p, q, scale)
			awaitTeam(t, threads)
			return s, SqDiff(nil, p, q, scale), g
		}
		s1, o1, g1 := run(1)
		s2, o2, g2 := run(2)
		if s1 != s2 || o1 != o2 || o1 != s1 {
			t.Errorf("n=%d: sums %.17g (one thread), %.17g (two), without grad %.17g / %.17g", n, s1, s2, o1, o2)
		}
		sameBits(t, fmt.Sprintf("n=%d grad", n), g2, g1)
		want := make([]float32, n)
		var ws float64
		asTwin(func() { ws = SqDiff(want, p, q, scale) })
		sameFloats(t, fmt.Sprintf("n=%d grad vs twin", n), g1, want)
		if s1 != ws {
			t.Errorf("n=%d: sum %.17g, twin %.17g", n, s1, ws)
		}
	}
}

// TestAdamSplitExact runs Adam, AdamW, Adam64 and AMSGrad on a parameter
// count that splits over the worker team (with the team awake) and checks
// the state bit for bit against one thread.
func TestAdamSplitExact(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(71, 72))
	n := adamSplitMin*3 + 37
	fill := func() []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	p0, g0, m0 := fill(), fill(), fill()
	v0 := fill()
	for i := range v0 {
		v0[i] *= v0[i]
	}
	h := AdamHyper{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / 0.1, BC2Sqrt: math.Sqrt(0.001), Eps: 1e-8, WeightDecay: 0.01, Shrink: 1}
	steps := map[string]func(p, g, m, v, vmax []float32){
		"Adam":    func(p, g, m, v, _ []float32) { Adam(p, g, m, v, 0.9, 0.999, 0.01, 0.03, 1e-8) },
		"AdamW":   func(p, g, m, v, _ []float32) { AdamW(p, g, m, v, 0.9, 0.999, 0.01, 0.03, 1e-8, 0.999) },
		"Adam64":  func(p, g, m, v, _ []float32) { Adam64(p, g, m, v, nil, h) },
		"AMSGrad": func(p, g, m, v, vmax []float32) { Adam64(p, g, m, v, vmax, h) },
	}
	for name, step := range steps {
		run := func(threads int) [][]float32 {
			SetThreads(threads)
			st := [][]float32{append([]float32(nil), p0...), g0, append([]float32(nil), m0...), append([]float32(nil), v0...), append([]float32(nil), v0...)}
			for k := 0; k < 3; k++ {
				parallel(2, func(int) {}) // the team awake, as after a backward pass
				step(st[0], st[1], st[2], st[3], st[4])
			}
			return st
		}
		one, two := run(1), run(2)
		for k, what := range []string{"p", "g", "m", "v", "vmax"} {
			sameBits(t, name+" "+what, two[k], one[k])
		}
	}
}
