package nn

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestArgmaxTopK(t *testing.T) {
	row := []float32{0.1, 3, -1, 3, 2}
	if got := Argmax(row); got != 1 {
		t.Errorf("Argmax = %d, want 1 (first of the ties)", got)
	}
	if got := Argmax(nil); got != -1 {
		t.Errorf("Argmax(nil) = %d, want -1", got)
	}
	for k, want := range map[int]string{1: "[1]", 3: "[1 3 4]", 9: "[1 3 4 0 2]"} {
		if got := fmt.Sprint(topK(row, k)); got != want {
			t.Errorf("topK(%d) = %s, want %s", k, got, want)
		}
	}
}

func TestSample(t *testing.T) {
	logits := []float32{1, 2, 0.5, -3}
	rng := tensor.NewRNG(1)
	if got := Sample(logits, SampleConfig{}, rng); got != 1 {
		t.Errorf("greedy sample = %d, want 1", got)
	}
	const n = 20000
	for _, tc := range []struct {
		c    SampleConfig
		want []float64
	}{
		{SampleConfig{Temperature: 1}, softmax64([]float64{1, 2, 0.5, -3})},
		{SampleConfig{Temperature: 0.5}, softmax64([]float64{2, 4, 1, -6})},
		{SampleConfig{Temperature: 1, TopK: 2}, append(softmax64([]float64{1, 2}), 0, 0)},
		// softmax(logits) ≈ [0.23 0.63 0.14 0.003]: top-p 0.8 keeps tokens 1 and 0.
		{SampleConfig{Temperature: 1, TopP: 0.8}, append(softmax64([]float64{1, 2}), 0, 0)},
		{SampleConfig{Temperature: 1, TopP: 0.5}, []float64{0, 1, 0, 0}},
	} {
		counts := make([]float64, 4)
		for i := 0; i < n; i++ {
			counts[Sample(logits, tc.c, rng)]++
		}
		for j := range counts {
			if got := counts[j] / n; math.Abs(got-tc.want[j]) > 0.015 {
				t.Errorf("%+v: token %d drawn %.4f of the time, want %.4f", tc.c, j, got, tc.want[j])
			}
		}
	}
	a := Sample(logits, SampleConfig{Temperature: 1}, tensor.NewRNG(5))
	b := Sample(logits, SampleConfig{Temperature: 1}, tensor.NewRNG(5))
	if a != b {
		t.Error("same seed, different samples")
	}
	for _, c := range []SampleConfig{{Temperature: -1}, {Temperature: math.Inf(1)}, {TopK: -2}, {TopP: 1.5}, {TopP: math.NaN()}} {
		if c.Validate() == nil {
			t.Errorf("%+v: Validate gave nil", c)
		}
	}
}

func softmax64(x []float64) []float64 {
	var s float64
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Exp(v)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// markov is a toy next-token model: the log-probabilities of the next
// token depend on the previous token only. The state counts steps.
func markov(V int, seed uint64) BeamStep[int] {
	rng := tensor.NewRNG(seed)
	table := make([][]float32, V)
	for i := range table {
		logits := make([]float64, V)
		for j := range logits {
			logits[j] = rng.Normal(0, 1.5)
		}
		for _, p := range softmax64(logits) {
			table[i] = append(table[i], float32(math.Log(p)))
		}
	}
	return func(prev []int, states []int) (*tensor.Tensor, []int) {
		lp := tensor.New(len(prev), V)
		next := make([]int, len(prev))
		for i, p := range prev {
			copy(lp.Data[i*V:(i+1)*V], table[p])
			next[i] = states[i] + 1
		}
		return lp, next
	}
}

// exhaustive scores every token sequence of length <= maxLen.
func exhaustive(step BeamStep[int], V, start, end, maxLen int, alpha float64) []Hypothesis {
	var out []Hypothesis
	var walk func(toks []int, lp float64)
	walk = func(toks []int, lp float64) {
		prev := start
		if len(toks) > 0 {
			prev = toks[len(toks)-1]
		}
		row, _ := step([]int{prev}, []int{0})
		for v := 0; v < V; v++ {
			t := append(append([]int(nil), toks...), v)
			l := lp + float64(row.Data[v])
			if v == end || len(t) == maxLen {
				out = append(out, Hypothesis{Tokens: t, LogProb: l, Score: l / math.Pow(float64(len(t)), alpha), Finished: v == end})
				continue
			}
			walk(t, l)
		}
	}
	walk(nil, 0)
	sort.SliceStable(out, func(a, b int) bool { return out[a].Score > out[b].Score })
	return out
}

func TestBeamSearchMatchesExhaustiveSearch(t *testing.T) {
	const V, start, end, maxLen = 4, 3, 0, 4
	for seed := uint64(1); seed <= 5; seed++ {
		step := markov(V, seed)
		for _, alpha := range []float64{0, 1} {
			all := exhaustive(step, V, start, end, maxLen, alpha)
			// A width covering every prefix is an exhaustive search.
			got, err := BeamSearch(BeamConfig{Width: 64, MaxLen: maxLen, EndToken: end, LengthPenalty: alpha}, start, 0, step)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				tie := math.Abs(all[i].Score-all[i+1].Score) < 1e-6 || i > 0 && math.Abs(all[i].Score-all[i-1].Score) < 1e-6
				if !tie && fmt.Sprint(got[i].Tokens) != fmt.Sprint(all[i].Tokens) || math.Abs(got[i].Score-all[i].Score) > 1e-5 {
					t.Errorf("seed %d α=%v: hypothesis %d = %v %.5f, want %v %.5f", seed, alpha, i, got[i].Tokens, got[i].Score, all[i].Tokens, all[i].Score)
				}
			}
			// Width 1 does at least as well as greedy decoding (it also
			// keeps a hypothesis that ends early) and no better than the
			// exhaustive search.
			g, _ := BeamSearch(BeamConfig{Width: 1, MaxLen: maxLen, EndToken: end, LengthPenalty: alpha}, start, 0, step)
			prev, greedy, lp := start, []int(nil), 0.0
			for len(greedy) < maxLen {
				row, _ := step([]int{prev}, []int{0})
				prev = Argmax(row.Data)
				greedy, lp = append(greedy, prev), lp+float64(row.Data[prev])
				if prev == end {
					break
				}
			}
			gs := lp / math.Pow(float64(len(greedy)), alpha)
			if len(g) != 1 || g[0].Score < gs-1e-9 || g[0].Score > all[0].Score+1e-9 {
				t.Errorf("seed %d α=%v: width-1 beam %v, greedy %v scoring %v, best %v", seed, alpha, g, greedy, gs, all[0])
			}
		}
	}
}

func TestBeamSearchStatesAndErrors(t *testing.T) {
	step := markov(5, 9)
	hs, err := BeamSearch(BeamConfig{Width: 3, MaxLen: 6, EndToken: 2}, 0, 0, step)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 || len(hs) > 3 {
		t.Fatalf("%d hypotheses for width 3", len(hs))
	}
	for i, h := range hs {
		if i > 0 && h.Score > hs[i-1].Score {
			t.Errorf("hypotheses not sorted by score: %v", hs)
		}
		if h.Finished != (h.Tokens[len(h.Tokens)-1] == 2) || len(h.Tokens) > 6 {
			t.Errorf("hypothesis %v: finished=%v", h.Tokens, h.Finished)
		}
	}
	for _, c := range []BeamConfig{{Width: -1}, {MaxLen: -3}, {LengthPenalty: -0.5}, {LengthPenalty: math.NaN()}} {
		if _, err := BeamSearch(c, 0, 0, step); err == nil {
			t.Errorf("%+v: got nil error", c)
		}
	}
}
