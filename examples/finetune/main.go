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

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim"
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

func fit(task train.Task, opt optim.Optimizer, d train.Data, epochs int, cbs ...train.Callback) error {
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Shuffle: true, Seed: 1, ClipNorm: 1, Callbacks: cbs})
	if err != nil {
		return err
	}
	_, err = tr.Fit(context.Background(), d, nil)
	return err
}

func run(w io.Writer, lmEpochs, clsEpochs int) error {
	unlabelled, _ := reviews(600, 1)
	corpus := strings.Join(unlabelled, "\n")
	enc, err := text.NewEncoder([]string{corpus}, text.Cleaner{}, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		return err
	}
	V := enc.Vocab.Len()

	// 1. Pretrain a character language model on the unlabelled text.
	lm, err := model.Build(model.Spec{Task: model.LM, Vocab: V, Hidden: 32}, 1)
	if err != nil {
		return err
	}
	data, err := model.NewLMData(enc.Encode(corpus), 8, 30)
	if err != nil {
		return err
	}
	lmTask := &model.LMTask{M: lm}
	opt, err := optim.New("adam", lm.Params(), optim.Config{LR: 0.01})
	if err != nil {
		return err
	}
	if err := fit(lmTask, opt, data, lmEpochs); err != nil {
		return err
	}
	met, err := lmTask.Evaluate(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "pretrained language model: %.3f bits per character\n", met["bits"])
	pre := checkpoint.New()
	if err := lm.AddTo(pre); err != nil {
		return err
	}

	// 2. Fine-tune and train from scratch on 12 labelled reviews.
	texts, labels := reviews(12, 2)
	v := enc.Vocab
	small := model.NewTextData(enc.EncodeAll(texts), labels, 8, v.Pad, v.Unk, 0, true)
	tt, tl := reviews(300, 3)
	test := model.NewTextData(enc.EncodeAll(tt), tl, 64, v.Pad, v.Unk, 0, false)
	spec := model.Spec{Task: model.Classify, Vocab: V, Hidden: 32, Classes: 2, Pool: "max"}
	for _, transfer := range []bool{false, true} {
		m, err := model.Build(spec, 2)
		if err != nil {
			return err
		}
		var cbs []train.Callback
		lrBackbone := 0.0
		name := "from scratch"
		if transfer {
			name = "fine-tuned"
			tr, err := m.InitFrom(pre)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "init from the language model: %v\n", tr)
			if _, err := m.Freeze(true, "embedding"); err != nil {
				return err
			}
			cbs = append(cbs, train.CallbackFunc(func(ev *train.Event) error {
				if ev.Kind == train.EpochEnd && ev.Epoch == clsEpochs/2 {
					_, err := m.Freeze(false, "embedding")
					return err
				}
				return nil
			}))
			lrBackbone = 0.003
		}
		opt, err := m.NewOptimizer("adam", optim.Config{LR: 0.01}, lrBackbone)
		if err != nil {
			return err
		}
		task := &model.ClassifyTask{M: m}
		if err := fit(task, opt, small, clsEpochs, cbs...); err != nil {
			return err
		}
		met, err := task.Evaluate(test)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-12s test accuracy %.3f\n", name, met["accuracy"])
	}
	return nil
}
