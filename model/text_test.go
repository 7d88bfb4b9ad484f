package model

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// sentiment makes n short texts: positive ones use words from pos.
func sentiment(n int, seed uint64) *text.Labelled {
	pos := []string{"good", "great", "nice", "fine"}
	neg := []string{"bad", "awful", "poor", "sad"}
	filler := []string{"the", "a", "movie", "was", "plot"}
	rng := tensor.NewRNG(seed)
	l := &text.Labelled{Classes: []string{"neg", "pos"}}
	for range n {
		y := rng.IntN(2)
		var w []string
		for range 2 + rng.IntN(5) {
			w = append(w, filler[rng.IntN(len(filler))])
		}
		words := pos
		if y == 0 {
			words = neg
		}
		w[rng.IntN(len(w))] = words[rng.IntN(4)]
		l.Texts = append(l.Texts, strings.Join(w, " "))
		l.Labels = append(l.Labels, y)
	}
	return l
}

func fit(epochs int) FitConfig {
	return FitConfig{Seed: 1, BatchSize: 16, Optim: optim.Config{LR: 0.02}, Train: train.Config{Epochs: epochs, ClipNorm: 1}}
}

func TestClassify(t *testing.T) {
	for _, pool := range []string{"last", "mean", "max", "attention"} {
		t.Run(pool, func(t *testing.T) {
			c, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 8, Pool: pool, Bidirectional: true}, Fit: fit(15)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Fit(context.Background(), sentiment(200, 1), sentiment(40, 3)); err != nil {
				t.Fatal(err)
			}
			held := sentiment(100, 2)
			// Classes in another order are matched by name.
			held.Classes = []string{"pos", "neg"}
			for i := range held.Labels {
				held.Labels[i] = 1 - held.Labels[i]
			}
			met, err := c.Evaluate(held)
			if err != nil {
				t.Fatal(err)
			}
			if met.Accuracy < 0.9 || met.MacroF1 < 0.85 || !(met.ROCAUC > 0.9) {
				t.Errorf("held-out accuracy %v, macro F1 %v, ROC-AUC %v; want ≥ 0.9, 0.85, 0.9", met.Accuracy, met.MacroF1, met.ROCAUC)
			}
			path := filepath.Join(t.TempDir(), "c.safetensors")
			if err := c.Save(path); err != nil {
				t.Fatal(err)
			}
			c2, err := LoadClassifier(path)
			if err != nil {
				t.Fatal(err)
			}
			if c2.Classes()[1] != "pos" || len(c2.Metrics()) == 0 {
				t.Fatalf("after load: classes %q, metrics %s", c2.Classes(), c2.Metrics())
			}
			ps, err := c2.Predict(context.Background(), []string{"a great movie", "zzz"})
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			if p.Label != "pos" || p.Probabilities[1] < 0.5 || p.Probabilities[0]+p.Probabilities[1] < 0.999 || p.Tokens != 3 {
				t.Errorf("Predict(a great movie) = %+v", p)
			}
			if ps[1].Unknown != 1 || (pool == "attention") != (len(p.Attention) == 3) {
				t.Errorf("Predict(zzz) = %+v; attention %v", ps[1], p.Attention)
			}
		})
	}
	if _, err := NewClassifier(ClassifyConfig{Text: TextConfig{Level: "sentence"}}); err == nil {
		t.Error("level sentence accepted")
	}
}

func TestCharLM(t *testing.T) {
	corpus := strings.Repeat("hello world. ", 60)
	for _, tie := range []bool{false, true} {
		fc := fit(20)
		fc.BatchSize = 4
		m, err := NewLanguageModel(LMConfig{Spec: Spec{Hidden: 16, Tie: tie}, SeqLen: 10, Fit: fc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fit(context.Background(), corpus, ""); err != nil {
			t.Fatal(err)
		}
		met, err := m.Evaluate(corpus)
		if err != nil {
			t.Fatal(err)
		}
		if met["bits"] > 0.5 {
			t.Errorf("tie=%v: %v bits per character on a periodic text, want < 0.5", tie, met["bits"])
		}
		// Two words of 13 characters: a character model's bits per
		// word are 6.5 times its bits per character.
		if bpc, bpw := met["bits_per_char"], met["bits_per_word"]; math.Abs(bpc-met["bits"]) > 1e-9 || math.Abs(bpw-6.5*bpc) > 1e-9 {
			t.Errorf("tie=%v: bits per char %v (bits %v), per word %v", tie, bpc, met["bits"], bpw)
		}
		g, err := m.Generate(context.Background(), "hello", 8, SampleConfig{}, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		if g.Completion != " world. " || g.Text != "hello world. " || g.Tokens != 8 {
			t.Errorf("tie=%v: greedy continuation of %q = %+v, want %q", tie, "hello", g, " world. ")
		}
		long := strings.Repeat("hello world. ", 40) + "hello"
		g2, err := m.Generate(context.Background(), long, 8, SampleConfig{}, tensor.NewRNG(1))
		if err != nil || g2.Completion != " world. " {
			t.Errorf("tie=%v: a prompt of %d characters (several chunks) continues with %+v, %v", tie, len(long), g2, err)
		}
	}
	if _, err := NewLanguageModel(LMConfig{Spec: Spec{Bidirectional: true}}); err == nil || !strings.Contains(err.Error(), "bidirectional") {
		t.Errorf("a bidirectional language model: %v", err)
	}
}

// TestLMResumeMidEpoch interrupts a stateful (TBPTT) language model in
// the middle of an epoch; resuming from the checkpoint, carried state
// included, must give the uninterrupted run's weights.
func TestLMResumeMidEpoch(t *testing.T) {
	corpus := strings.Repeat("abcde fghij. ", 30)
	newRun := func(seed uint64, tc train.Config, resume *checkpoint.File) *LanguageModel {
		tc.Epochs = 2
		m, err := NewLanguageModel(LMConfig{Spec: Spec{Hidden: 8}, SeqLen: 8,
			Fit: FitConfig{Seed: seed, BatchSize: 3, Optim: optim.Config{LR: 0.01}, Train: tc, Resume: resume}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	full := newRun(1, train.Config{}, nil)
	if _, err := full.Fit(context.Background(), corpus, ""); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	steps := len(corpus) / 3 / 8 // chunks per epoch
	part := newRun(1, train.Config{Dir: dir, Callbacks: []train.Callback{train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind == train.StepEnd && ev.Step == steps+3 { // in the middle of the second epoch
			cancel()
		}
		return nil
	})}}, nil)
	if _, err := part.Fit(ctx, corpus, ""); err == nil {
		t.Fatal("cancelled run returned no error")
	}
	f, err := checkpoint.Read(filepath.Join(dir, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensors["train.carry.h"]; !ok {
		t.Fatal("checkpoint lacks the carried state")
	}
	if m, err := FromFile("last", f); err != nil || m.Spec().Task != LM {
		t.Fatalf("the checkpoint does not load as a model: %v", err)
	}
	resumed := newRun(2, train.Config{}, f)
	if _, err := resumed.Fit(context.Background(), corpus, ""); err != nil {
		t.Fatal(err)
	}
	for i, p := range full.Params() {
		q := resumed.Params()[i]
		for j := range p.Value.Data {
			if p.Value.Data[j] != q.Value.Data[j] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", p.Name, j, q.Value.Data[j], p.Value.Data[j])
			}
		}
	}
}

// TestPredictLimited: a text the network would read more tokens of than
// the limit is refused, naming it, before anything is computed; a model
// whose max_len is within the limit reads any text.
func TestPredictLimited(t *testing.T) {
	for _, tc := range []struct {
		maxLen, limit int
		refused       bool
	}{{0, 3, true}, {10, 3, true}, {3, 3, false}, {0, 0, false}, {0, 100, false}} {
		fc := fit(1)
		c, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 4, Hidden: 4}, Text: TextConfig{MaxLen: tc.maxLen}, Fit: fc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Fit(context.Background(), sentiment(20, 1), nil); err != nil {
			t.Fatal(err)
		}
		texts := []string{"good", "a good film with bad acting"}
		got, err := c.PredictLimited(context.Background(), texts, tc.limit)
		var tl *TokenLimitError
		if tc.refused {
			if !errors.As(err, &tl) || tl.Index != 1 || tl.Tokens != 6 || tl.Limit != tc.limit {
				t.Errorf("max_len %d, limit %d: %v, want text 1's 6 tokens refused", tc.maxLen, tc.limit, err)
			}
			continue
		}
		want, _ := c.Predict(context.Background(), texts)
		if err != nil || len(got) != 2 || got[1].Tokens != 6 || got[1].Probabilities[0] != want[1].Probabilities[0] {
			t.Errorf("max_len %d, limit %d: %+v, %v; want Predict's %+v", tc.maxLen, tc.limit, got, err, want)
		}
	}
}
