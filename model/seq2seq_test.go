package model

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/text"
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
	m, err := NewTranslator(TranslateConfig{Spec: Spec{Hidden: 16}, Fit: fit(25)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), numberPairs(200, 1), nil); err != nil {
		t.Fatal(err)
	}
	met, err := m.Evaluate(numberPairs(50, 2))
	if err != nil {
		t.Fatal(err)
	}
	// BLEU is 0 here, as sacreBLEU gives for a corpus of one- to
	// three-word sentences: there is no 4-gram to match.
	if _, ok := met["bleu"]; met["token_accuracy"] < 0.95 || met["exact_match"] < 0.8 || !ok {
		t.Errorf("held-out token accuracy %v, exact match %v, BLEU %v; want ≥ 0.95, 0.8 and a BLEU", met["token_accuracy"], met["exact_match"], met["bleu"])
	}
	path := filepath.Join(t.TempDir(), "s.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadTranslator(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []TranslateOptions{{}, {Beam: 3, LengthPenalty: 1}} {
		tr, err := m2.Translate(context.Background(), "three one five", o)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Output != "trois un cinq" || len(tr.Tokens) != 3 || o.Beam == 0 && (len(tr.Attention) != 3 || len(tr.Attention[0]) != 3) {
			t.Errorf("Translate(%+v) = %+v, want %q with 3×3 attention weights for greedy decoding", o, tr, "trois un cinq")
		}
	}
}
