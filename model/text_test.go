package model

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

func fitTask(t *testing.T, task train.Task, params []*nn.Param, d train.Data, epochs int, shuffle bool) {
	t.Helper()
	opt, err := optim.New("adam", params, optim.Config{LR: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Shuffle: shuffle, Seed: 1, ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
}

// sentiment makes n short texts: positive ones use words from pos.
func sentiment(n int, seed uint64) ([]string, []int) {
	pos := []string{"good", "great", "nice", "fine"}
	neg := []string{"bad", "awful", "poor", "sad"}
	filler := []string{"the", "a", "movie", "was", "plot"}
	rng := tensor.NewRNG(seed)
	var texts []string
	var labels []int
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
		texts = append(texts, strings.Join(w, " "))
		labels = append(labels, y)
	}
	return texts, labels
}

func TestClassify(t *testing.T) {
	for _, pool := range []string{"last", "mean", "max", "attention"} {
		t.Run(pool, func(t *testing.T) {
			texts, labels := sentiment(200, 1)
			enc, err := text.NewEncoder(texts, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := Build(Spec{Task: Classify, Vocab: enc.Vocab.Len(), Embed: 8, Hidden: 8, Classes: 2, Pool: pool, Bidirectional: true}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetTextPrep(&TextPrep{Encoder: enc, Classes: []string{"neg", "pos"}}); err != nil {
				t.Fatal(err)
			}
			v := enc.Vocab
			d := NewTextData(enc.EncodeAll(texts), labels, 16, v.Pad, v.Unk, 0, true)
			task := &ClassifyTask{M: m}
			fitTask(t, task, m.Params(), d, 15, true)
			tt, tl := sentiment(100, 2)
			met, err := task.Evaluate(NewTextData(enc.EncodeAll(tt), tl, 32, v.Pad, v.Unk, 0, false))
			if err != nil {
				t.Fatal(err)
			}
			if met["accuracy"] < 0.9 {
				t.Errorf("held-out accuracy %v, want ≥ 0.9", met["accuracy"])
			}
			path := filepath.Join(t.TempDir(), "c.safetensors")
			if err := m.Save(path, nil); err != nil {
				t.Fatal(err)
			}
			m2, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := m2.TextPrep()
			if err != nil || p2.Classes[1] != "pos" {
				t.Fatalf("TextPrep after load: %+v, %v", p2, err)
			}
			b := NewTextData(p2.Encoder.EncodeAll([]string{"a great movie"}), nil, 1, v.Pad, v.Unk, 0, false).Batches[0]
			pr := (&ClassifyTask{M: m2}).Probabilities(b)
			if pr.Data[1] < 0.5 || pr.Data[0]+pr.Data[1] < 0.999 {
				t.Errorf("P(pos | a great movie) = %v", pr.Data)
			}
		})
	}
}

func TestCharLM(t *testing.T) {
	corpus := strings.Repeat("hello world. ", 60)
	enc, err := text.NewEncoder([]string{corpus}, text.Cleaner{}, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tie := range []bool{false, true} {
		m, err := Build(Spec{Task: LM, Vocab: enc.Vocab.Len(), Hidden: 16, Tie: tie}, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewLMData(enc.Encode(corpus), 4, 10)
		if err != nil {
			t.Fatal(err)
		}
		task := &LMTask{M: m}
		fitTask(t, task, m.Params(), d, 20, false)
		met, err := task.Evaluate(d)
		if err != nil {
			t.Fatal(err)
		}
		if met["bits"] > 0.5 {
			t.Errorf("tie=%v: %v bits per character on a periodic text, want < 0.5", tie, met["bits"])
		}
		out, err := m.Generate(enc.Encode("hello"), 8, nn.SampleConfig{}, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		if got := enc.Decode(out); got != " world. " {
			t.Errorf("tie=%v: greedy continuation of %q = %q, want %q", tie, "hello", got, " world. ")
		}
	}
}

// TestLMResumeMidEpoch interrupts a stateful (TBPTT) language model in
// the middle of an epoch; resuming from the checkpoint, carried state
// included, must give the uninterrupted run's weights.
func TestLMResumeMidEpoch(t *testing.T) {
	corpus := strings.Repeat("abcde fghij. ", 30)
	enc, err := text.NewEncoder([]string{corpus}, text.Cleaner{}, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewLMData(enc.Encode(corpus), 3, 8)
	if err != nil {
		t.Fatal(err)
	}
	newRun := func(seed uint64, cfg train.Config) (*Model, *train.Trainer) {
		m, err := Build(Spec{Task: LM, Vocab: enc.Vocab.Len(), Hidden: 8}, seed)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := optim.New("adam", m.Params(), optim.Config{LR: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Epochs, cfg.Seed = 2, 1
		tr, err := train.New(&LMTask{M: m}, opt, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m, tr
	}
	full, tr := newRun(1, train.Config{})
	if _, err := tr.Fit(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stop := d.Len() + 3 // in the middle of the second epoch
	_, tr = newRun(1, train.Config{Dir: dir, Callbacks: []train.Callback{train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind == train.StepEnd && ev.Step == stop {
			cancel()
		}
		return nil
	})}})
	if _, err := tr.Fit(ctx, d, nil); err == nil {
		t.Fatal("cancelled run returned no error")
	}
	f, err := checkpoint.Read(filepath.Join(dir, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensors["train.carry.h"]; !ok {
		t.Fatal("checkpoint lacks the carried state")
	}
	resumed, tr := newRun(2, train.Config{})
	if err := tr.Resume(f); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), d, nil); err != nil {
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
