package model

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/internal/mpi"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// onRanks runs fit as the n ranks of an in-process job (n == 1: without
// a Comm) and returns each rank's weights.
func onRanks(t *testing.T, n int, fit func(c train.Comm) ([]*nn.Param, error)) [][]float32 {
	t.Helper()
	out := make([][]float32, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range mpi.NewLocal(n) {
		wg.Go(func() {
			var comm train.Comm
			if n > 1 {
				comm = c
			}
			ps, err := fit(comm)
			errs[r] = err
			for _, p := range ps {
				out[r] = append(out[r], p.Value.Data...)
			}
		})
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("rank %d of %d: %v", r, n, err)
		}
	}
	return out
}

// relDiff returns max|a-b| / max|b|.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// sameOnRanks checks that every rank holds rank 0's weights and that
// they match one rank's to 1e-5.
func sameOnRanks(t *testing.T, what string, runs, one [][]float32) {
	t.Helper()
	for r := range runs {
		if relDiff(runs[r], runs[0]) != 0 {
			t.Errorf("%s: rank %d's weights differ from rank 0's", what, r)
		}
	}
	rel := relDiff(runs[0], one[0])
	t.Logf("%s on %d ranks: max relative weight difference to one rank %.3g", what, len(runs), rel)
	if rel > 1e-5 {
		t.Errorf("%s on %d ranks: weights %.3g off one rank's, want <= 1e-5", what, len(runs), rel)
	}
}

func TestDistForecast(t *testing.T) {
	run := func(c train.Comm) ([]*nn.Param, error) {
		cfg := sineConfig(30)
		cfg.Fit.Train.Comm = c
		f, err := NewForecaster(cfg)
		if err != nil {
			return nil, err
		}
		_, err = f.Fit(context.Background(), sine(120))
		return f.params, err
	}
	one := onRanks(t, 1, run)
	sameOnRanks(t, "forecaster", onRanks(t, 2, run), one)
}

func TestDistClassify(t *testing.T) {
	for _, auto := range []bool{false, true} {
		run := func(c train.Comm) ([]*nn.Param, error) {
			fc := fit(10) // 10 batches an epoch: 100 steps
			fc.Loss.AutoClassWeights = auto
			fc.Train.Comm = c
			cl, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 8, Pool: "mean", Bidirectional: true}, Fit: fc})
			if err != nil {
				return nil, err
			}
			// 150 examples in batches of 16: the last batch of 6 splits
			// unevenly among 4 ranks.
			_, err = cl.Fit(context.Background(), sentiment(150, 1), sentiment(40, 3))
			return cl.params, err
		}
		one := onRanks(t, 1, run)
		what := "bidirectional classifier"
		if auto {
			what += " with class weights"
		}
		sameOnRanks(t, what, onRanks(t, 2, run), one)
		sameOnRanks(t, what, onRanks(t, 4, run), one)
	}
}

// TestDistClassifyEvaluate: the ranks' shared evaluation gives every
// rank exactly the metrics of one rank's.
func TestDistClassifyEvaluate(t *testing.T) {
	cl, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 8}, Fit: fit(2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Fit(context.Background(), sentiment(100, 1), nil); err != nil {
		t.Fatal(err)
	}
	d, err := cl.data(sentiment(90, 4), 16, false)
	if err != nil {
		t.Fatal(err)
	}
	task := &classifyTask{c: cl}
	want, err := task.Evaluate(d)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, c := range mpi.NewLocal(3) {
		wg.Go(func() {
			got, err := task.EvaluateShard(d, c)
			if err != nil {
				t.Error(err)
				return
			}
			for k, v := range want {
				if got[k] != v && !(math.IsNaN(v) && math.IsNaN(got[k])) {
					t.Errorf("rank %d: %s = %v, one rank %v", c.Rank(), k, got[k], v)
				}
			}
		})
	}
	wg.Wait()
}

// TestDistLM: a language model's streams split among ranks, each rank
// carrying its streams' state; a checkpoint written mid-epoch by 2 ranks
// resumes on 1 and one written by 1 resumes on 2.
func TestDistLM(t *testing.T) {
	corpus := strings.Repeat("abcde fghij. ", 30)
	steps := len(corpus) / 4 / 8 // chunks per epoch
	lm := func(c train.Comm, tc train.Config, resume *checkpoint.File, ctx context.Context) ([]*nn.Param, error) {
		tc.Epochs, tc.Comm = 2, c
		fc := fit(2)
		fc.BatchSize, fc.Train, fc.Resume = 4, tc, resume
		m, err := NewLanguageModel(LMConfig{Spec: Spec{Hidden: 8, Layers: 2}, SeqLen: 8, Fit: fc})
		if err != nil {
			return nil, err
		}
		_, err = m.Fit(ctx, corpus, "abcde fghij. abcde fghij. ")
		return m.params, err
	}
	one := onRanks(t, 1, func(c train.Comm) ([]*nn.Param, error) { return lm(c, train.Config{}, nil, context.Background()) })
	sameOnRanks(t, "language model", onRanks(t, 2, func(c train.Comm) ([]*nn.Param, error) {
		return lm(c, train.Config{}, nil, context.Background())
	}), one)
	for _, c := range []struct{ before, after int }{{2, 1}, {1, 2}} {
		dir := t.TempDir()
		onRanks(t, c.before, func(comm train.Comm) ([]*nn.Param, error) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := train.CallbackFunc(func(ev *train.Event) error {
				if ev.Kind == train.StepEnd && ev.Step == steps+3 { // in the middle of the second epoch
					cancel()
				}
				return nil
			})
			return lm(comm, train.Config{Dir: dir, Callbacks: []train.Callback{stop}}, nil, ctx)
		})
		f, err := checkpoint.Read(filepath.Join(dir, "last.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if h := f.Tensors["train.carry.h"]; h == nil || h.Shape[1] != 4 {
			t.Fatalf("checkpoint of %d ranks: carried state %v, want 4 streams", c.before, h)
		}
		resumed := onRanks(t, c.after, func(comm train.Comm) ([]*nn.Param, error) {
			return lm(comm, train.Config{}, f, context.Background())
		})
		rel := relDiff(resumed[0], one[0])
		t.Logf("language model checkpoint of %d ranks resumed on %d: %.3g relative to one uninterrupted rank", c.before, c.after, rel)
		if rel > 1e-5 {
			t.Errorf("language model checkpoint of %d ranks resumed on %d: weights %.3g off", c.before, c.after, rel)
		}
	}
	if _, err := lm(mpi.NewLocal(5)[0], train.Config{}, nil, context.Background()); err == nil || !strings.Contains(err.Error(), "streams") {
		t.Errorf("4 streams on 5 ranks: %v", err)
	}
}

// TestDistSeq2Seq: a translator splits its batches by sentence pairs and
// weights each rank's share by its target tokens, so ranks of unequal
// token counts still sum to the whole batch's mean.
func TestDistSeq2Seq(t *testing.T) {
	run := func(c train.Comm) ([]*nn.Param, error) {
		fc := fit(5) // 90 pairs in batches of 16: 6 batches, 30 steps
		fc.Train.Comm = c
		m, err := NewTranslator(TranslateConfig{Spec: Spec{Embed: 8, Hidden: 8, Attention: "dot"}, Fit: fc})
		if err != nil {
			return nil, err
		}
		_, err = m.Fit(context.Background(), numberPairs(90, 1), numberPairs(20, 2))
		return m.params, err
	}
	one := onRanks(t, 1, run)
	sameOnRanks(t, "translator", onRanks(t, 2, run), one)
	sameOnRanks(t, "translator", onRanks(t, 3, run), one)
}

// TestDistTag: a tagger splits its batches by sequences, each part padded
// to its own longest; labels and regression targets both.
func TestDistTag(t *testing.T) {
	lab, reg := runningSums(tensor.NewRNG(5), 70, 2, 7)
	for _, tc := range []struct {
		name string
		spec Spec
		data *TagSet
	}{
		{"labelling tagger", Spec{Hidden: 8, Inputs: 1, Classes: 2, Bidirectional: true}, lab},
		{"regression tagger", Spec{Hidden: 8, Inputs: 1, Targets: 1}, reg},
	} {
		run := func(c train.Comm) ([]*nn.Param, error) {
			fc := fit(6) // 70 sequences in batches of 16: the last 6 split unevenly
			fc.Train.Comm = c
			tg, err := NewTagger(TagConfig{Spec: tc.spec, Fit: fc})
			if err != nil {
				return nil, err
			}
			_, err = tg.Fit(context.Background(), tc.data, nil)
			return tg.params, err
		}
		one := onRanks(t, 1, run)
		sameOnRanks(t, tc.name, onRanks(t, 2, run), one)
		sameOnRanks(t, tc.name, onRanks(t, 4, run), one)
	}
}

// TestDistOverlap: with a bucket per parameter, the gradient sums run
// while the backward pass goes on, through every kind of layer (a tied
// embedding and output layer, attention pooling, a translator), and the
// weights are those of summing after the pass, bit for bit.
func TestDistOverlap(t *testing.T) {
	corpus := strings.Repeat("abcde fghij. ", 30)
	runs := map[string]func(c train.Comm, after bool) ([]*nn.Param, error){
		"tied language model": func(c train.Comm, after bool) ([]*nn.Param, error) {
			fc := fit(2)
			fc.BatchSize, fc.Train.Comm, fc.Train.BucketElems, fc.Train.SumAfterBackward = 4, c, 1, after
			m, err := NewLanguageModel(LMConfig{Spec: Spec{Embed: 8, Hidden: 8, Layers: 2, Tie: true}, SeqLen: 8, Fit: fc})
			if err != nil {
				return nil, err
			}
			_, err = m.Fit(context.Background(), corpus, "abcde fghij. ")
			return m.params, err
		},
		"classifier with attention pooling": func(c train.Comm, after bool) ([]*nn.Param, error) {
			fc := fit(3)
			fc.Train.Comm, fc.Train.BucketElems, fc.Train.SumAfterBackward = c, 1, after
			cl, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 8, Pool: "attention", Cell: "gru", Bidirectional: true}, Fit: fc})
			if err != nil {
				return nil, err
			}
			_, err = cl.Fit(context.Background(), sentiment(70, 1), nil)
			return cl.params, err
		},
		"translator": func(c train.Comm, after bool) ([]*nn.Param, error) {
			fc := fit(3)
			fc.Train.Comm, fc.Train.BucketElems, fc.Train.SumAfterBackward = c, 1, after
			m, err := NewTranslator(TranslateConfig{Spec: Spec{Embed: 8, Hidden: 8, Attention: "general"}, Fit: fc})
			if err != nil {
				return nil, err
			}
			_, err = m.Fit(context.Background(), numberPairs(50, 1), nil)
			return m.params, err
		},
	}
	for name, run := range runs {
		after := onRanks(t, 2, func(c train.Comm) ([]*nn.Param, error) { return run(c, true) })
		during := onRanks(t, 2, func(c train.Comm) ([]*nn.Param, error) { return run(c, false) })
		for r := range during {
			if relDiff(during[r], after[r]) != 0 {
				t.Errorf("%s, rank %d: weights summed during the backward pass differ from those summed after it by %.3g", name, r, relDiff(during[r], after[r]))
			}
		}
	}
}
