package model

import (
	"context"
	"math"
	"slices"
	"testing"
)

// TestPredictIDs: a text's row is the same bits in any batch of two or
// more, alone included, and within 1e-6 of Predict's batch of one.
func TestPredictIDs(t *testing.T) {
	for _, pool := range []string{"", "mean", "attention"} {
		cl, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 8, Pool: pool, Bidirectional: true}, Fit: fit(2)})
		if err != nil {
			t.Fatal(err)
		}
		l := sentiment(60, 1)
		if _, err := cl.Fit(context.Background(), l, nil); err != nil {
			t.Fatal(err)
		}
		texts := l.Texts[:6]
		seqs := make([][]int, len(texts))
		for i, tx := range texts {
			seqs[i], _, _ = cl.EncodeText(tx)
		}
		all := cl.PredictIDs(seqs)
		want, err := cl.Predict(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range seqs {
			alone := cl.PredictIDs(seqs[i : i+1])[0]
			pair := cl.PredictIDs([][]int{seqs[(i+1)%len(seqs)], seqs[i]})[1]
			for _, got := range []Prediction{alone, pair} {
				if !slices.Equal(got.Probabilities, all[i].Probabilities) || got.Label != all[i].Label {
					t.Errorf("pool %q text %d: %v in one batch, %v in another", pool, i, got.Probabilities, all[i].Probabilities)
				}
			}
			for k, p := range all[i].Probabilities {
				if d := math.Abs(float64(p - want[i].Probabilities[k])); d > 1e-6 {
					t.Errorf("pool %q text %d class %d: batched %g, Predict %g", pool, i, k, p, want[i].Probabilities[k])
				}
			}
		}
	}
}
