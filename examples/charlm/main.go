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

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
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
	enc, err := text.NewEncoder([]string{corpus}, text.Cleaner{}, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		return err
	}
	// Embedding 32 = hidden 32, so the output layer can share the
	// embedding matrix (weight tying).
	m, err := model.Build(model.Spec{Task: model.LM, Vocab: enc.Vocab.Len(), Hidden: 32, Tie: true}, 1)
	if err != nil {
		return err
	}
	// 8 parallel streams, chunks of 25 characters; the state carries over
	// from one chunk to the next, so no shuffling.
	data, err := model.NewLMData(enc.Encode(corpus), 8, 25)
	if err != nil {
		return err
	}
	task := &model.LMTask{M: m}
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 0.01})
	if err != nil {
		return err
	}
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Seed: 1, ClipNorm: 1})
	if err != nil {
		return err
	}
	if _, err := tr.Fit(context.Background(), data, nil); err != nil {
		return err
	}
	met, err := task.Evaluate(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%.3f bits per character (perplexity %.2f)\n", met["bits"], met["ppl"])
	out, err := m.Generate(enc.Encode("the sea"), 60, nn.SampleConfig{Temperature: 0.5, TopK: 5}, tensor.NewRNG(7))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "the sea%s\n", enc.Decode(out))
	return nil
}
