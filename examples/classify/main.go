// Classify trains a bidirectional LSTM sentiment classifier on a small
// generated set of reviews and classifies new sentences.
//
//	go run ./examples/classify
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
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

func main() {
	if err := run(os.Stdout, 10); err != nil {
		log.Fatal(err)
	}
}

// reviews makes n short reviews whose label is carried by one word.
func reviews(n int, seed uint64) ([]string, []int) {
	good := []string{"wonderful", "great", "moving", "superb"}
	bad := []string{"dull", "awful", "boring", "weak"}
	filler := []string{"the", "film", "was", "story", "really", "acting", "quite"}
	rng := tensor.NewRNG(seed)
	var texts []string
	var labels []int
	for range n {
		y := rng.IntN(2)
		words := make([]string, 3+rng.IntN(6))
		for i := range words {
			words[i] = filler[rng.IntN(len(filler))]
		}
		pick := bad
		if y == 1 {
			pick = good
		}
		words[rng.IntN(len(words))] = pick[rng.IntN(len(pick))]
		texts = append(texts, strings.Join(words, " "))
		labels = append(labels, y)
	}
	return texts, labels
}

func run(w io.Writer, epochs int) error {
	texts, labels := reviews(400, 1)
	enc, err := text.NewEncoder(texts, text.Cleaner{FoldSpace: true}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		return err
	}
	m, err := model.Build(model.Spec{Task: model.Classify, Vocab: enc.Vocab.Len(), Embed: 16, Hidden: 16,
		Bidirectional: true, Classes: 2, Pool: "max"}, 1)
	if err != nil {
		return err
	}
	if err := m.SetTextPrep(&model.TextPrep{Encoder: enc, Classes: []string{"negative", "positive"}}); err != nil {
		return err
	}
	v := enc.Vocab
	trainData := model.NewTextData(enc.EncodeAll(texts), labels, 16, v.Pad, v.Unk, 0, true)
	task := &model.ClassifyTask{M: m}
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 0.01})
	if err != nil {
		return err
	}
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Shuffle: true, Seed: 1})
	if err != nil {
		return err
	}
	if _, err := tr.Fit(context.Background(), trainData, nil); err != nil {
		return err
	}
	tt, tl := reviews(200, 2)
	met, err := task.Evaluate(model.NewTextData(enc.EncodeAll(tt), tl, 64, v.Pad, v.Unk, 0, false))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "held-out accuracy %.3f\n", met["accuracy"])
	for _, s := range []string{"the acting was superb", "a dull story"} {
		b := model.NewTextData(enc.EncodeAll([]string{s}), nil, 1, v.Pad, v.Unk, 0, false).Batches[0]
		p := task.Probabilities(b)
		fmt.Fprintf(w, "%-24q P(positive) = %.2f\n", s, p.Data[1])
	}
	return nil
}
