package model

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// seqs makes n sequences of 2 inputs and 4 to 9 steps whose class says
// whether the first input sums above zero.
func seqs(n int, seed uint64) *SeqSet {
	rng := tensor.NewRNG(seed)
	d := &SeqSet{Inputs: 2, Classes: []string{"low", "high"}}
	for range n {
		L := 4 + rng.IntN(6)
		x := make([]float32, 2*L)
		var s float32
		for t := range L {
			x[2*t], x[2*t+1] = rng.Float32()*2-1, rng.Float32()
			s += x[2*t]
		}
		l := 0
		if s > 0 {
			l = 1
		}
		d.X, d.Labels = append(d.X, x), append(d.Labels, l)
	}
	return d
}

func TestClassifySequences(t *testing.T) {
	c, err := NewClassifier(ClassifyConfig{Spec: Spec{Hidden: 16}, Fit: fit(15)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FitSequences(context.Background(), seqs(400, 1), seqs(50, 3)); err != nil {
		t.Fatal(err)
	}
	e, err := c.EvaluateSequences(seqs(200, 2))
	if err != nil {
		t.Fatal(err)
	}
	if e.Accuracy < 0.85 {
		t.Errorf("held-out accuracy %v, want ≥ 0.85", e.Accuracy)
	}
	path := filepath.Join(t.TempDir(), "s.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	c2, err := LoadClassifier(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c2.PredictSequences(context.Background(), [][]float32{{1, 0, 1, 0, 1, 0, 1, 0}, {-1, 0, -1, 0, -1, 0, -1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if p[0].Label != "high" || p[1].Label != "low" || p[0].Tokens != 4 {
		t.Errorf("predictions %+v", p)
	}
	if _, err := c2.Predict(context.Background(), []string{"text"}); err == nil {
		t.Error("a numeric classifier classified text")
	}
	if _, err := c2.PredictSequences(context.Background(), [][]float32{{1, 2, 3}}); err == nil {
		t.Error("a sequence of 3 values for 2 inputs accepted")
	}
}
