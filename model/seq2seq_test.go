package model

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// numberPairs translates short sequences of English number words to
// French ones.
func numberPairs(n int, seed uint64) []text.Pair {
	en := []string{"one", "two", "three", "four", "five"}
	fr := []string{"un", "deux", "trois", "quatre", "cinq"}
	rng := tensor.NewRNG(seed)
	var ps []text.Pair
	for range n {
		var s, t []string
		for range 1 + rng.IntN(3) {
			k := rng.IntN(5)
			s, t = append(s, en[k]), append(t, fr[k])
		}
		ps = append(ps, text.Pair{Src: strings.Join(s, " "), Tgt: strings.Join(t, " ")})
	}
	return ps
}

func TestSeq2Seq(t *testing.T) {
	pairs := numberPairs(200, 1)
	var srcs, tgts []string
	for _, p := range pairs {
		srcs, tgts = append(srcs, p.Src), append(tgts, p.Tgt)
	}
	se, err := text.NewEncoder(srcs, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	te, err := text.NewEncoder(tgts, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(Spec{Task: Seq2Seq, Vocab: se.Vocab.Len(), TgtVocab: te.Vocab.Len(), Hidden: 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	prep := &Seq2SeqPrep{Src: se, Tgt: te}
	if err := m.SetSeq2SeqPrep(prep); err != nil {
		t.Fatal(err)
	}
	task := &Seq2SeqTask{M: m}
	fitTask(t, task, m.Params(), prep.NewPairData(pairs, 16), 25, true)
	met, err := task.Evaluate(prep.NewPairData(numberPairs(50, 2), 25))
	if err != nil {
		t.Fatal(err)
	}
	if met["token_accuracy"] < 0.95 {
		t.Errorf("held-out token accuracy %v, want ≥ 0.95", met["token_accuracy"])
	}
	path := filepath.Join(t.TempDir(), "s.safetensors")
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out, w, err := m2.Translate("three one five", 0, nn.SampleConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out != "trois un cinq" || len(w) != 3 || len(w[0]) != 3 {
		t.Errorf("Translate = %q with %d×%d attention weights, want %q, 3×3", out, len(w), len(w[0]), "trois un cinq")
	}
}
