// Tag flags the anomalous steps of a sensor signal: a Tagger labels every
// step of numeric sequences (here: "spike" where the reading jumps far
// from its recent level, "ok" elsewhere).
//
//	go run ./examples/tag
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"os"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

func main() {
	if err := run(os.Stdout, 20); err != nil {
		log.Fatal(err)
	}
}

// signals makes n readings of 30 steps: a slow sine with noise and a
// few spikes, labelled 1 at a spike.
func signals(n int, seed uint64) *model.TagSet {
	rng := tensor.NewRNG(seed)
	d := &model.TagSet{}
	for range n {
		x := make([]float32, 30)
		l := make([]int, 30)
		phase := rng.Float64() * 6
		for t := range x {
			x[t] = float32(math.Sin(phase+float64(t)/4) + 0.1*(rng.Float64()-0.5))
			if rng.Float64() < 0.08 {
				x[t] += 3
				l[t] = 1
			}
		}
		d.X, d.Labels = append(d.X, x), append(d.Labels, l)
	}
	return d
}

func run(w io.Writer, epochs int) error {
	t, err := model.NewTagger(model.TagConfig{
		Spec:       model.Spec{Inputs: 1, Hidden: 16, Classes: 2, Bidirectional: true},
		ClassNames: []string{"ok", "spike"},
		Fit:        model.FitConfig{Seed: 1, BatchSize: 16, Loss: model.LossConfig{AutoClassWeights: true}, Train: train.Config{Epochs: epochs}},
	})
	if err != nil {
		return err
	}
	if _, err := t.Fit(context.Background(), signals(300, 1), nil); err != nil {
		return err
	}
	m, err := t.Evaluate(signals(100, 2))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "held-out accuracy per step %.3f\n", m["accuracy"])
	probs, err := t.Predict([][]float32{{0, 0.1, 0.2, 3.3, 0.4, 0.5}})
	if err != nil {
		return err
	}
	for step := range 6 {
		fmt.Fprintf(w, "step %d: P(spike) = %.2f\n", step, probs[0][2*step+1])
	}
	return nil
}
