// Finetune shows transfer learning: a character language model is trained
// on unlabelled text, then its embedding and LSTM initialise a classifier
// that is fine-tuned on a few labelled examples (embedding frozen for the
// first epochs, a smaller learning rate for the backbone). A classifier
// trained from scratch on the same examples is the comparison.
//
//	go run ./examples/finetune
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
	if err := run(os.Stdout, 8, 10); err != nil {
		log.Fatal(err)
	}
}

// reviews makes n reviews whose label is carried by one word.
func reviews(n int, seed uint64) ([]string, []int) {
	good := []string{"wonderful", "great", "moving", "superb"}
	bad := []string{"dull", "awful", "boring", "weak"}
	filler := []string{"the", "film", "was", "story", "really", "acting", "quite"}
	rng := tensor.NewRNG(seed)
	var texts []string
	var labels []int
	for range n {
		y := rng.IntN(2)
		words := make([]string, 3+rng.IntN(5))
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

func run(w io.Writer, lmEpochs, clsEpochs int) error {
	unlabelled, _ := reviews(600, 1)
	corpus := strings.Join(unlabelled, "\n")

	// 1. Pretrain a character language model on the unlabelled text.
	lm, err := model.NewLanguageModel(model.LMConfig{Spec: model.Spec{Hidden: 32}, SeqLen: 30,
		Fit: model.FitConfig{Seed: 1, BatchSize: 8, Train: train.Config{Epochs: lmEpochs, ClipNorm: 1}}})
	if err != nil {
		return err
	}
	if _, err := lm.Fit(context.Background(), corpus, ""); err != nil {
		return err
	}
	met, err := lm.Evaluate(corpus)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "pretrained language model: %.3f bits per character\n", met["bits"])
	pre, err := lm.File()
	if err != nil {
		return err
	}

	// 2. Fine-tune and train from scratch on 12 labelled reviews, with the
	// language model's vocabulary so that its embedding rows keep their
	// meaning.
	texts, labels := reviews(12, 2)
	small := &text.Labelled{Texts: texts, Labels: labels, Classes: []string{"negative", "positive"}}
	tt, tl := reviews(300, 3)
	test := &text.Labelled{Texts: tt, Labels: tl, Classes: small.Classes}
	for _, transfer := range []bool{false, true} {
		cfg := model.ClassifyConfig{
			Spec: model.Spec{Hidden: 32, Pool: "max"},
			Text: model.TextConfig{Encoder: lm.Encoder()},
			Fit:  model.FitConfig{Seed: 2, BatchSize: 8, Train: train.Config{Epochs: clsEpochs, ClipNorm: 1}},
		}
		name := "from scratch"
		if transfer {
			// The embedding stays frozen for the first half, and the
			// backbone learns at a third of the head's rate.
			name = "fine-tuned"
			cfg.Fit.InitFrom, cfg.Fit.LRBackbone = pre, 0.003
			cfg.Fit.Train.Freeze, cfg.Fit.Train.UnfreezeAfter = []string{"embedding"}, max(clsEpochs/2, 1)
		}
		c, err := model.NewClassifier(cfg)
		if err != nil {
			return err
		}
		rep, err := c.Fit(context.Background(), small, nil)
		if err != nil {
			return err
		}
		if rep.Transfer != nil {
			fmt.Fprintf(w, "init from the language model: %v\n", rep.Transfer)
		}
		met, err := c.Evaluate(test)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-12s test accuracy %.3f\n", name, met.Accuracy)
	}
	return nil
}
