// Charlm trains a character-level LSTM language model with truncated
// backpropagation through time, reports bits per character and generates
// text from a prompt.
//
//	go run ./examples/charlm
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// corpus is a small made-up text with enough regularity to learn quickly.
var corpus = strings.Repeat(`the river runs to the sea, the sea runs to the sky.
the sky rains on the hill, the hill feeds the river.
`, 40)

func main() {
	if err := run(os.Stdout, 15); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, epochs int) error {
	// Embedding 32 = hidden 32, so the output layer can share the
	// embedding matrix (weight tying). 8 parallel streams, chunks of 25
	// characters; the state carries over from one chunk to the next.
	m, err := model.NewLanguageModel(model.LMConfig{
		Spec:   model.Spec{Hidden: 32, Tie: true},
		SeqLen: 25,
		Fit:    model.FitConfig{Seed: 1, BatchSize: 8, Optim: optim.Config{LR: 0.01}, Train: train.Config{Epochs: epochs, ClipNorm: 1}},
	})
	if err != nil {
		return err
	}
	if _, err := m.Fit(context.Background(), corpus, ""); err != nil {
		return err
	}
	met, err := m.Evaluate(corpus)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%.3f bits per character (perplexity %.2f)\n", met["bits"], met["ppl"])
	g, err := m.Generate(context.Background(), "the sea", 60, model.SampleConfig{Temperature: 0.5, TopK: 5}, tensor.NewRNG(7))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, g.Text)
	return nil
}
