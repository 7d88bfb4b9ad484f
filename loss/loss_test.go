package loss

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// fdCheck compares f's analytic gradient with central differences.
func fdCheck(t *testing.T, name string, x []float32, f Func) {
	t.Helper()
	grad := make([]float32, len(x))
	f(grad)
	const h = 1e-2
	for i := range x {
		old := x[i]
		x[i] = old + h
		up := f(nil)
		x[i] = old - h
		down := f(nil)
		x[i] = old
		num := (up - down) / (2 * h)
		if d := math.Abs(num - float64(grad[i])); d > 2e-3*(1+math.Abs(num)) {
			t.Errorf("%s: grad[%d] = %.6g, finite difference %.6g", name, i, grad[i], num)
		}
	}
}

func testData(n int, seed uint64) []float32 {
	rng := tensor.NewRNG(seed)
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.Normal(0, 1.5))
	}
	return x
}

func TestGradientsFiniteDifferences(t *testing.T) {
	const N, C = 4, 3
	x, y := testData(N*C, 1), testData(N*C, 2)
	probs := make([]float32, N*C)
	for i := range probs {
		probs[i] = float32(i%C+1) / 6
	}
	mask := []bool{true, false, true, true}
	cls := []int{2, 0, -100, 1}
	w := []float32{0.5, 2, 1}
	for _, red := range []Reduction{Mean, Sum} {
		o := Options{Reduction: red, Mask: mask}
		co := ClassOptions{Reduction: red, Weight: w, LabelSmoothing: 0.2, Mask: []bool{true, true, true, false}}
		cases := map[string]Func{
			"MSE":      func(g []float32) float64 { return MSE(g, x, y, o) },
			"L1":       func(g []float32) float64 { return L1(g, x, y, o) },
			"Huber":    func(g []float32) float64 { return Huber(g, x, y, 0.7, o) },
			"SmoothL1": func(g []float32) float64 { return SmoothL1(g, x, y, 0.7, o) },
			"CE":       func(g []float32) float64 { return CrossEntropy(g, x, cls, C, co) },
			"CEProbs":  func(g []float32) float64 { return CrossEntropyProbs(g, x, probs, C, co) },
			"NLL": func(g []float32) float64 {
				return NLL(g, x, cls, C, ClassOptions{Reduction: red, Weight: w})
			},
			"BCE": func(g []float32) float64 {
				return BCEWithLogits(g, x, probs, BCEOptions{Reduction: red, PosWeight: w, Weight: y[:C], Mask: mask})
			},
		}
		for name, f := range cases {
			fdCheck(t, fmt.Sprintf("%s/%v", name, red), x, f)
		}
	}
}

// TestMaskExcludesFromMean checks that masked steps leave both the sum and
// the denominator: the masked loss equals the loss over the kept rows.
func TestMaskExcludesFromMean(t *testing.T) {
	const T, B, F = 3, 2, 2
	x, y := testData(T*B*F, 3), testData(T*B*F, 4)
	mask := LengthMask(T, []int{3, 1}) // steps (t,b): b=1 stops after t=0
	var kx, ky []float32
	for s, on := range mask {
		if on {
			kx = append(kx, x[s*F:(s+1)*F]...)
			ky = append(ky, y[s*F:(s+1)*F]...)
		}
	}
	grad := make([]float32, len(x))
	got := MSE(grad, x, y, Options{Mask: mask})
	want := MSE(nil, kx, ky, Options{})
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("masked MSE: got %v, want %v (kept rows only)", got, want)
	}
	for s, on := range mask {
		for f := 0; f < F; f++ {
			if !on && grad[s*F+f] != 0 {
				t.Errorf("grad at masked step %d = %v, want 0", s, grad[s*F+f])
			}
		}
	}
	if got := MSE(grad, x, y, Options{Mask: make([]bool, T*B)}); got != 0 {
		t.Errorf("fully masked mean: got %v, want 0", got)
	}
}

func TestExtremeLogitsFinite(t *testing.T) {
	x := []float32{800, -800, 50, -50, 0}
	y := []float32{0.3, 0.3, 1, 0, 0.5}
	g := make([]float32, len(x))
	v := BCEWithLogits(g, x, y, BCEOptions{Reduction: Sum})
	// softplus(800)·0.7 + softplus(800)·0.3 + tiny terms.
	if want := 800.0 + 50*0 + math.Log(2); math.Abs(v-want) > 1e-9 {
		t.Errorf("BCE sum: got %v, want %v", v, want)
	}
	ce := CrossEntropy(g[:4], []float32{800, -800, 0, 1}, []int{1, 0}, 2, ClassOptions{})
	if math.IsInf(ce, 0) || math.IsNaN(ce) || math.Abs(ce-(1600+math.Log1p(math.E))/2) > 1e-6*800 {
		t.Errorf("CE at ±800: got %v", ce)
	}
}

func TestRecordOnTape(t *testing.T) {
	pred := nn.NewVar(tensor.FromSlice([]float32{1, 2, 3}, 3))
	target := []float32{0, 2, 5}
	var tp nn.Tape
	L, v := Record(&tp, pred, func(g []float32) float64 { return MSE(g, pred.Value.Data, target, Options{}) })
	if want := (1.0 + 0 + 4) / 3; math.Abs(v-want) > 1e-12 || L.Value.Data[0] != float32(want) {
		t.Errorf("Record value: got %v (%v), want %v", v, L.Value.Data[0], want)
	}
	tp.Backward(L, nil)
	want := []float32{2.0 / 3, 0, -4.0 / 3}
	for i, g := range pred.Grad.Data {
		if math.Abs(float64(g-want[i])) > 1e-6 {
			t.Errorf("pred.Grad[%d]: got %v, want %v", i, g, want[i])
		}
	}
	if L2, v2 := Record(nil, pred, func(g []float32) float64 { return MSE(g, pred.Value.Data, target, Options{}) }); v2 != v || L2.Grad != nil {
		t.Errorf("Record without tape: got %v, want %v and no gradient", v2, v)
	}
}

func TestBadInputPanics(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	for name, f := range map[string]func(){
		"length":      func() { MSE(nil, x, x[:3], Options{}) },
		"empty":       func() { L1(nil, nil, nil, Options{}) },
		"grad length": func() { MSE(make([]float32, 2), x, x, Options{}) },
		"mask":        func() { MSE(nil, x, x, Options{Mask: []bool{true, true, true}}) },
		"delta":       func() { Huber(nil, x, x, 0, Options{}) },
		"class range": func() { CrossEntropy(nil, x, []int{0, 2}, 2, ClassOptions{}) },
		"rows":        func() { CrossEntropy(nil, x, []int{0}, 2, ClassOptions{}) },
		"weights":     func() { NLL(nil, x, []int{0, 1}, 2, ClassOptions{Weight: []float32{1}}) },
		"smoothing":   func() { CrossEntropy(nil, x, []int{0, 1}, 2, ClassOptions{LabelSmoothing: 1.5}) },
		"pos_weight":  func() { BCEWithLogits(nil, x, x, BCEOptions{PosWeight: []float32{1, 2, 3}}) },
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "loss: ") {
					t.Errorf("%s: got panic %v, want a \"loss: \" message", name, r)
				}
			}()
			f()
		}()
	}
	if _, err := ParseReduction("avg"); err == nil || !strings.Contains(err.Error(), `"avg"`) {
		t.Errorf("ParseReduction(avg): got %v, want an error naming the value", err)
	}
}

// BenchmarkCrossEntropy is a language model's output: T·B = 700 rows over
// a 10k vocabulary.
func BenchmarkCrossEntropy(b *testing.B) {
	const N, C = 700, 10000
	x := testData(N*C, 5)
	y := make([]int, N)
	for i := range y {
		y[i] = i * 13 % C
	}
	g := make([]float32, N*C)
	b.SetBytes(N * C * 4)
	for b.Loop() {
		CrossEntropy(g, x, y, C, ClassOptions{})
	}
}

// TestCrossEntropySmallLossRelativePrecision: a confident, correct
// prediction has a tiny loss, which must keep its relative precision.
func TestCrossEntropySmallLossRelativePrecision(t *testing.T) {
	for _, top := range []float32{5, 12, 20} {
		x := []float32{top, 0, 0, 0.5}
		want := math.Log1p(2*math.Exp(-float64(top)) + math.Exp(0.5-float64(top)))
		got := CrossEntropy(nil, x, []int{0}, 4, ClassOptions{})
		if math.Abs(got-want) > 1e-5*want {
			t.Errorf("logit %v: got %.9g, want %.9g", top, got, want)
		}
	}
}

// TestMSEFastPath checks MSE against its definition (float32 differences,
// gradient 2/n·d in float32, squares summed in float64): the gradient bit
// for bit, the loss to float64 rounding (the kernel sums in another
// order), both reductions, with and without a gradient, and the masked
// path with every entry kept.
func TestMSEFastPath(t *testing.T) {
	pred := make([]float32, 1001)
	target := make([]float32, len(pred))
	for i := range pred {
		pred[i] = float32(math.Sin(float64(i))) * 3
		target[i] = float32(math.Cos(float64(i*7))) / 2
	}
	all := make([]bool, 77) // 13 elements per entry
	for i := range all {
		all[i] = true
	}
	for _, red := range []Reduction{Mean, Sum} {
		scale := 1.0
		if red == Mean {
			scale = 1 / float64(len(pred))
		}
		want := 0.0
		wg := make([]float32, len(pred))
		for i := range pred {
			d := pred[i] - target[i]
			want += float64(d) * float64(d)
			wg[i] = float32(2*scale) * d
		}
		want *= scale
		for _, mask := range [][]bool{nil, all} {
			o := Options{Reduction: red, Mask: mask}
			g := make([]float32, len(pred))
			got := MSE(g, pred, target, o)
			for _, v := range []float64{got, MSE(nil, pred, target, o)} {
				if math.Abs(v-want) > 1e-13*want {
					t.Errorf("reduction %v, mask %v: loss %.17g, want %.17g", red, mask != nil, v, want)
				}
			}
			for i := range g {
				if g[i] != wg[i] {
					t.Fatalf("reduction %v, mask %v: grad[%d] = %v, want %v", red, mask != nil, i, g[i], wg[i])
				}
			}
		}
	}
}

// TestPinball: hand-computed values, the gradient by central differences,
// and the minimizer being the quantile.
func TestPinball(t *testing.T) {
	target := []float32{1, 3}
	pred := []float32{0, 2, 4, 1} // levels 0.1 and 0.9 for each target
	levels := []float64{0.1, 0.9}
	// d = y−p: 1 (0.1→0.1), −1 (0.9→0.1), −1 (0.1→0.9), 2 (0.9→1.8)
	want := (0.1 + 0.1 + 0.9 + 1.8) / 4
	grad := make([]float32, 4)
	if got := Pinball(grad, pred, target, levels, Options{}); math.Abs(got-want) > 1e-9 {
		t.Errorf("pinball %v, want %v", got, want)
	}
	wantGrad := []float32{-0.1 / 4, 0.1 / 4, 0.9 / 4, -0.9 / 4}
	for i := range grad {
		if math.Abs(float64(grad[i]-wantGrad[i])) > 1e-7 {
			t.Errorf("grad %v, want %v", grad, wantGrad)
			break
		}
	}
	// Over the values 0..9 the 0.8-quantile minimizes the loss.
	ys := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	best, bestP := math.Inf(1), float32(0)
	for p := float32(0); p <= 9; p += 0.25 {
		ps := make([]float32, len(ys))
		for i := range ps {
			ps[i] = p
		}
		if l := Pinball(nil, ps, ys, []float64{0.8}, Options{}); l < best {
			best, bestP = l, p
		}
	}
	if bestP < 7 || bestP > 8 {
		t.Errorf("pinball minimized at %v, want the 0.8 quantile in [7, 8]", bestP)
	}
}
