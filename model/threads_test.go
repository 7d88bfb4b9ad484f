package model

import (
	"context"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/train"
)

// TestLMSameOnAnyThreads trains a two-layer language model with
// validation on one thread and on two: every epoch's training loss and
// validation loss must agree bit for bit, as the kernels promise. The
// validation stream is a batch of one through two layers, which on two
// threads runs as a pipeline of the layers; it once kept a packed copy
// of the upper layer's weights from the first validation to the next.
func TestLMSameOnAnyThreads(t *testing.T) {
	t.Cleanup(kernel.AllowThreads(2))
	corpus := strings.Repeat("the cat sat on the mat. a dog ran far. ", 20)
	valid := strings.Repeat("a cat ran on the mat. the dog sat. ", 4)
	history := func(threads int) []train.Row {
		kernel.SetThreads(threads)
		m, err := NewLanguageModel(LMConfig{Spec: Spec{Hidden: 24, Layers: 2}, SeqLen: 12,
			Fit: FitConfig{Seed: 3, BatchSize: 4, Optim: optim.Config{LR: 0.02}, Train: train.Config{Epochs: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := m.Fit(context.Background(), corpus, valid)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Result.History
	}
	one, two := history(1), history(2)
	if len(one) != 3 || len(two) != 3 {
		t.Fatalf("%d and %d epochs, want 3", len(one), len(two))
	}
	for e := range one {
		for _, k := range []string{"train_loss", "val_loss"} {
			if one[e][k] != two[e][k] {
				t.Errorf("epoch %d %s: one thread %v, two threads %v", e+1, k, one[e][k], two[e][k])
			}
		}
	}
}
