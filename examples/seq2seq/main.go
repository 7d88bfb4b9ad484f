// Seq2seq trains an attention encoder-decoder to translate English number
// words into French and prints a translation with its attention weights.
//
//	go run ./examples/seq2seq
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
	if err := run(os.Stdout, 30); err != nil {
		log.Fatal(err)
	}
}

func pairs(n int, seed uint64) []text.Pair {
	en := []string{"one", "two", "three", "four", "five", "six"}
	fr := []string{"un", "deux", "trois", "quatre", "cinq", "six"}
	rng := tensor.NewRNG(seed)
	var ps []text.Pair
	for range n {
		var s, t []string
		for range 1 + rng.IntN(4) {
			k := rng.IntN(len(en))
			s, t = append(s, en[k]), append(t, fr[k])
		}
		ps = append(ps, text.Pair{Src: strings.Join(s, " "), Tgt: strings.Join(t, " ")})
	}
	return ps
}

func run(w io.Writer, epochs int) error {
	m, err := model.NewTranslator(model.TranslateConfig{
		Spec: model.Spec{Hidden: 24, Attention: "general"},
		Fit:  model.FitConfig{Seed: 1, BatchSize: 16, Optim: optim.Config{LR: 0.01}, Train: train.Config{Epochs: epochs, ClipNorm: 1}},
	})
	if err != nil {
		return err
	}
	if _, err := m.Fit(context.Background(), pairs(300, 1), nil); err != nil {
		return err
	}
	met, err := m.Evaluate(pairs(100, 2))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "held-out token accuracy %.3f\n", met["token_accuracy"])
	in := "four two six"
	tr, err := m.Translate(context.Background(), in, model.TranslateOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s -> %s\nattention (rows: output words, columns: %s):\n", in, tr.Output, in)
	for _, row := range tr.Attention {
		for _, v := range row {
			fmt.Fprintf(w, " %.2f", v)
		}
		fmt.Fprintln(w)
	}
	return nil
}
