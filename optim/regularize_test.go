package optim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

func TestL1Penalty(t *testing.T) {
	p := nn.NewParam("w", 3)
	copy(p.Value.Data, []float32{2, 0, -3})
	p.Grad.Fill(1)
	if got := L1Penalty([]*nn.Param{p}, 0.5); got != 2.5 {
		t.Errorf("value: got %v, want 2.5", got)
	}
	if want := []float32{1.5, 1, 0.5}; !slices.Equal(p.Grad.Data, want) {
		t.Errorf("grad: got %v, want %v", p.Grad.Data, want)
	}
}

// TestActivationRegFiniteDifferences checks AR+TAR's gradient, with a
// padded sequence, against central differences.
func TestActivationRegFiniteDifferences(t *testing.T) {
	const T, B, F = 4, 2, 3
	rng := tensor.NewRNG(7)
	h := nn.NewVar(tensor.New(T, B, F))
	rng.FillNormal(h.Value, 0, 1)
	lengths := []int{4, 2}
	eval := func() float64 { v := nn.NewVar(h.Value); return ActivationReg(v, lengths, 0.3, 0.7) }
	ActivationReg(h, lengths, 0.3, 0.7)
	x := h.Value.Data
	for i := range x {
		old := x[i]
		x[i] = old + 1e-2
		up := eval()
		x[i] = old - 1e-2
		down := eval()
		x[i] = old
		num := (up - down) / 2e-2
		if d := math.Abs(num - float64(h.Grad.Data[i])); d > 1e-4 {
			t.Errorf("grad[%d]: got %v, finite difference %v", i, h.Grad.Data[i], num)
		}
	}
	// Step t=3 of sequence 1 is padding: no gradient.
	for f := 0; f < F; f++ {
		if g := h.Grad.Data[(3*B+1)*F+f]; g != 0 {
			t.Errorf("padded step grad: got %v, want 0", g)
		}
	}
}

func TestGradNoiseSeededAndAnnealed(t *testing.T) {
	mk := func() []*nn.Param { return []*nn.Param{nn.NewParam("w", 20000)} }
	a, b := mk(), mk()
	na, _ := NewGradNoise(1, 0.55, 3)
	nb, _ := NewGradNoise(1, 0.55, 3)
	na.Add(a, 9)
	nb.Add(b, 9)
	if !slices.Equal(a[0].Grad.Data, b[0].Grad.Data) {
		t.Errorf("same seed gave different noise")
	}
	var ss float64
	for _, v := range a[0].Grad.Data {
		ss += float64(v) * float64(v)
	}
	want := 1 / math.Pow(10, 0.55)
	if got := ss / 20000; math.Abs(got-want) > 0.05*want {
		t.Errorf("noise variance at t=9: got %v, want %v", got, want)
	}
	if _, err := NewGradNoise(-1, 0.55, 1); err == nil || !strings.Contains(err.Error(), "eta = -1") {
		t.Errorf("NewGradNoise(eta -1): got %v", err)
	}
}

func TestNTASGDSwitchesAndAverages(t *testing.T) {
	p := nn.NewParam("w", 2)
	p.Grad.Fill(1)
	opt, err := NewNTASGD([]*nn.Param{p}, Config{LR: 0.1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Improving, then stalled: the check with 3.5 is worse than the best
	// of all but the last 2 checks (3), so averaging starts there.
	for i, m := range []float64{5, 4, 3, 3.2, 3.1} {
		if opt.Observe(m) {
			t.Errorf("switched at check %d (metric %v), too early", i, m)
		}
	}
	if !opt.Observe(3.5) || !opt.Averaging() {
		t.Fatalf("did not switch at the stalled check")
	}
	// Values after the switch: 0 (at switch), then −0.1, −0.2, −0.3.
	for k := 0; k < 3; k++ {
		opt.Step()
	}
	opt.SwapAverage()
	if got := p.Value.Data[0]; math.Abs(float64(got)+0.15) > 1e-6 {
		t.Errorf("averaged weight: got %v, want -0.15", got)
	}
	st := opt.State()
	opt.SwapAverage()
	if got := p.Value.Data[0]; math.Abs(float64(got)+0.3) > 1e-6 {
		t.Errorf("swapped back: got %v, want -0.3", got)
	}
	q := nn.NewParam("w", 2)
	opt2, _ := NewNTASGD([]*nn.Param{q}, Config{LR: 0.1}, 2)
	if err := opt2.LoadState(st); err != nil || !opt2.Averaging() {
		t.Fatalf("LoadState: %v (averaging %v)", err, opt2.Averaging())
	}
	opt2.SetHistory(opt.History())
	if h := opt2.History(); len(h) != 6 || h[5] != 3.5 {
		t.Errorf("History after SetHistory: got %v", h)
	}
	if _, err := NewNTASGD([]*nn.Param{q}, Config{}, 0); err == nil {
		t.Errorf("patience 0: got nil error")
	}
}

func TestGradNormAndChecks(t *testing.T) {
	a, b := nn.NewParam("a", 2), nn.NewParam("b", 1)
	copy(a.Grad.Data, []float32{3, -4})
	b.Grad.Data[0] = 2
	ps := []*nn.Param{a, b}
	for _, tc := range []struct{ p, want float64 }{{1, 9}, {2, math.Sqrt(29)}, {3, math.Cbrt(27 + 64 + 8)}, {math.Inf(1), 4}} {
		if got := GradNorm(ps, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("GradNorm(p=%v): got %v, want %v", tc.p, got, tc.want)
		}
	}
	b.Frozen = true
	if got := GradNorm(ps, 2); got != 5 {
		t.Errorf("GradNorm skipping frozen: got %v, want 5", got)
	}
	if err := CheckFinite(ps); err != nil {
		t.Errorf("CheckFinite(finite): %v", err)
	}
	a.Grad.Data[1] = float32(math.NaN())
	if err := CheckFinite(ps); err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), "element 1") {
		t.Errorf("CheckFinite(NaN): got %v, want the parameter and element named", err)
	}
	if got := ClipGradNorm(ps, 1, 2); !math.IsNaN(got) || !math.IsNaN(float64(a.Grad.Data[1])) || a.Grad.Data[0] != 3 {
		t.Errorf("ClipGradNorm(NaN): got %v and grads %v, want NaN and no change", got, a.Grad.Data)
	}
	if _, err := ParseNormType("two"); err == nil || !strings.Contains(err.Error(), `"two"`) {
		t.Errorf("ParseNormType(two): got %v", err)
	}
}
