package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/tensor"
)

// TestTagger labels each step of a sequence with whether the running sum
// of its inputs is positive, and regresses that sum.
// runningSums returns n random sequences of lengths in [minLen,
// minLen+spread) twice: labelled 1 where the running sum is positive, and
// with the running sum as the regression target.
func runningSums(rng *tensor.RNG, n, minLen, spread int) (lab, reg *TagSet) {
	lab, reg = &TagSet{}, &TagSet{}
	for range n {
		L := minLen + rng.IntN(spread)
		x, y, l := make([]float32, L), make([]float32, L), make([]int, L)
		var s float32
		for i := range x {
			x[i] = rng.Float32()*2 - 1
			s += x[i]
			y[i] = s
			if s > 0 {
				l[i] = 1
			}
		}
		lab.X, lab.Labels = append(lab.X, x), append(lab.Labels, l)
		reg.X, reg.Y = append(reg.X, x), append(reg.Y, y)
	}
	return lab, reg
}

func TestTagger(t *testing.T) {
	rng := tensor.NewRNG(1)
	make := func(n int) (*TagSet, *TagSet) { return runningSums(rng, n, 3, 6) }
	lab, reg := make(300)
	labTest, regTest := make(60)
	tg, err := NewTagger(TagConfig{Spec: Spec{Hidden: 16, Inputs: 1, Classes: 2}, Fit: fit(20)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Fit(context.Background(), lab, nil); err != nil {
		t.Fatal(err)
	}
	if m, err := tg.Evaluate(labTest); err != nil || m["accuracy"] < 0.9 {
		t.Errorf("labelling accuracy %v, %v; want ≥ 0.9", m, err)
	}
	rg, err := NewTagger(TagConfig{Spec: Spec{Hidden: 16, Inputs: 1, Targets: 1}, Fit: fit(20)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rg.Fit(context.Background(), reg, regTest); err != nil {
		t.Fatal(err)
	}
	if m, err := rg.Evaluate(regTest); err != nil || m["loss"] > 0.05 {
		t.Errorf("regression MSE %v, %v; want ≤ 0.05", m, err)
	}
	out, err := rg.Predict([][]float32{{0.5, 0.25}})
	if err != nil || len(out[0]) != 2 {
		t.Fatalf("Predict: %v %v", out, err)
	}
	if d := out[0][1] - 0.75; d > 0.3 || d < -0.3 {
		t.Errorf("running sum of 0.5, 0.25 predicted %v", out[0])
	}
	if _, err := rg.Evaluate(lab); err == nil {
		t.Error("a regression tagger evaluated labels")
	}
}

// TestTaggerMultiLabel learns several 0/1 labels per step with the binary
// cross-entropy: label k at step t is whether input k was on at step
// t-1, as a piano roll's next step repeats held notes.
func TestTaggerMultiLabel(t *testing.T) {
	const K = 4
	rng := tensor.NewRNG(2)
	set := func(n int) *TagSet {
		d := &TagSet{}
		for range n {
			L := 4 + rng.IntN(5)
			x, y := make([]float32, L*K), make([]float32, L*K)
			for i := range x {
				if rng.Float64() < 0.3 {
					x[i] = 1
				}
				if i >= K {
					y[i] = x[i-K]
				}
			}
			d.X, d.Y = append(d.X, x), append(d.Y, y)
		}
		return d
	}
	fc := fit(30)
	fc.Loss.Name = "bce"
	tg, err := NewTagger(TagConfig{Spec: Spec{Hidden: 16, Inputs: K, Targets: K}, Fit: fc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Fit(context.Background(), set(300), nil); err != nil {
		t.Fatal(err)
	}
	test := set(60)
	m, err := tg.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", m)
	if m["frame_accuracy"] < 0.9 || m["f1"] < 0.9 || math.Abs(m["nll_per_step"]-K*m["loss"]) > 1e-9 {
		t.Errorf("metrics %v: want frame accuracy and F1 ≥ 0.9, nll per step = %d × loss", m, K)
	}
	out, err := tg.Predict([][]float32{{1, 0, 0, 1, 0, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if p := out[0]; p[K] < 0.5 || p[K+1] > 0.5 || p[K+3] < 0.5 {
		t.Errorf("probabilities after keys 0 and 3: %v", p[K:])
	}
	m2, err := reload[*Tagger](t, tg).Evaluate(test)
	if err != nil || m2["nll_per_step"] != m["nll_per_step"] {
		t.Errorf("reloaded: %v, %v; want %v", m2, err, m)
	}
	if _, err := NewTagger(TagConfig{Spec: Spec{Inputs: K, Classes: 3}, Fit: fc}); err == nil || !strings.Contains(err.Error(), "bce") {
		t.Errorf("bce with classes: %v", err)
	}
	if _, err := NewForecaster(ForecastConfig{Fit: fc}); err == nil || !strings.Contains(err.Error(), "bce") {
		t.Errorf("bce for a forecaster: %v", err)
	}
}

func TestLabelCounts(t *testing.T) {
	// Two steps of three labels; the second step is masked out.
	logits := []float32{2, -1, 0.5, 3, 3, 3}
	targets := []float32{1, 1, 0, 0, 0, 0}
	tp, fp, fn := labelCounts(logits, targets, []bool{true, false}, 3)
	if tp != 1 || fp != 1 || fn != 1 {
		t.Errorf("got tp %v fp %v fn %v, want 1 1 1", tp, fp, fn)
	}
}

// TestTaggerLastStep trains a many-to-one tagger on the adding problem:
// only the last step has a target.
func TestTaggerLastStep(t *testing.T) {
	set := func(n int, seed uint64) *TagSet {
		x, y, err := dataset.AddingProblem(8, n, seed)
		if err != nil {
			t.Fatal(err)
		}
		d := &TagSet{X: x}
		for _, v := range y {
			d.Y = append(d.Y, []float32{v})
		}
		return d
	}
	fc := fit(30)
	fc.Optim.LR = 0.01
	tg, err := NewTagger(TagConfig{Spec: Spec{Hidden: 16, Inputs: 2, Targets: 1}, LastStep: true, Fit: fc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Fit(context.Background(), set(1000, 1), nil); err != nil {
		t.Fatal(err)
	}
	test := set(200, 2)
	m, err := tg.Evaluate(test)
	if err != nil || m["loss"] > 0.03 {
		t.Errorf("adding problem, T=8: test MSE %v, %v; want < 0.03 (always 1: 0.167)", m, err)
	}
	out, err := tg.Predict(test.X[:1])
	if err != nil || len(out[0]) != 1 || math.Abs(float64(out[0][0]-test.Y[0][0])) > 0.5 {
		t.Errorf("Predict: %v, %v; want one value near %v", out, err, test.Y[0])
	}
	g := reload[*Tagger](t, tg)
	if m2, err := g.Evaluate(test); err != nil || m2["loss"] != m["loss"] {
		t.Errorf("reloaded: %v, %v; want %v", m2, err, m)
	}
	bad := &TagSet{X: test.X[:1], Y: [][]float32{make([]float32, 8)}}
	if _, err := tg.Evaluate(bad); err == nil || !strings.Contains(err.Error(), "want 1") {
		t.Errorf("per-step targets for a many-to-one tagger: %v", err)
	}
}
