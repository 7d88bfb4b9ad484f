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
	trainSet := &text.Labelled{Texts: texts, Labels: labels, Classes: []string{"negative", "positive"}}
	c, err := model.NewClassifier(model.ClassifyConfig{
		Spec: model.Spec{Embed: 16, Hidden: 16, Bidirectional: true, Pool: "max"},
		Text: model.TextConfig{Clean: text.Cleaner{FoldSpace: true}},
		Fit:  model.FitConfig{Seed: 1, BatchSize: 16, Train: train.Config{Epochs: epochs}},
	})
	if err != nil {
		return err
	}
	if _, err := c.Fit(context.Background(), trainSet, nil); err != nil {
		return err
	}
	tt, tl := reviews(200, 2)
	met, err := c.Evaluate(&text.Labelled{Texts: tt, Labels: tl, Classes: trainSet.Classes})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "held-out accuracy %.3f, macro F1 %.3f\n", met.Accuracy, met.MacroF1)
	preds, err := c.Predict(context.Background(), []string{"the acting was superb", "a dull story"})
	if err != nil {
		return err
	}
	for _, p := range preds {
		fmt.Fprintf(w, "%-9s P(positive) = %.2f\n", p.Label, p.Probabilities[1])
	}
	return nil
}
