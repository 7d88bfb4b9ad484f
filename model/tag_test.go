package model

import (
	"context"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestTagger labels each step of a sequence with whether the running sum
// of its inputs is positive, and regresses that sum.
func TestTagger(t *testing.T) {
	rng := tensor.NewRNG(1)
	make := func(n int) (*TagSet, *TagSet) {
		lab, reg := &TagSet{}, &TagSet{}
		for range n {
			L := 3 + rng.IntN(6)
			x := make([]float32, L)
			y := make([]float32, L)
			l := make([]int, L)
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
