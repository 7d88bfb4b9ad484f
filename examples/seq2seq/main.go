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
	"github.com/recur-ml/recur/nn"
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
	ps := pairs(300, 1)
	var src, tgt []string
	for _, p := range ps {
		src, tgt = append(src, p.Src), append(tgt, p.Tgt)
	}
	se, err := text.NewEncoder(src, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		return err
	}
	te, err := text.NewEncoder(tgt, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		return err
	}
	m, err := model.Build(model.Spec{Task: model.Seq2Seq, Vocab: se.Vocab.Len(), TgtVocab: te.Vocab.Len(), Hidden: 24, Attention: "general"}, 1)
	if err != nil {
		return err
	}
	prep := &model.Seq2SeqPrep{Src: se, Tgt: te}
	if err := m.SetSeq2SeqPrep(prep); err != nil {
		return err
	}
	task := &model.Seq2SeqTask{M: m}
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 0.01})
	if err != nil {
		return err
	}
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Shuffle: true, Seed: 1, ClipNorm: 1})
	if err != nil {
		return err
	}
	if _, err := tr.Fit(context.Background(), prep.NewPairData(ps, 16), nil); err != nil {
		return err
	}
	met, err := task.Evaluate(prep.NewPairData(pairs(100, 2), 50))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "held-out token accuracy %.3f\n", met["token_accuracy"])
	in := "four two six"
	out, weights, err := m.Translate(in, 0, nn.SampleConfig{}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s -> %s\nattention (rows: output words, columns: %s):\n", in, out, in)
	for _, row := range weights {
		for _, v := range row {
			fmt.Fprintf(w, " %.2f", v)
		}
		fmt.Fprintln(w)
	}
	return nil
}
