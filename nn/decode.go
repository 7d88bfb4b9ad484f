package nn

import (
	"fmt"
	"math"
	"sort"

	"github.com/recur-ml/recur/tensor"
)

// Argmax returns the index of the largest value of row (the first one on
// ties); -1 for an empty row.
func Argmax(row []float32) int {
	best := -1
	for i, v := range row {
		if best < 0 || v > row[best] {
			best = i
		}
	}
	return best
}

// topK returns the indices of the k largest values of row, largest first
// (earlier index first on ties). k larger than the row means all of it.
func topK(row []float32, k int) []int {
	k = min(k, len(row))
	idx := make([]int, 0, k+1)
	for i, v := range row {
		if len(idx) == k && v <= row[idx[k-1]] {
			continue
		}
		pos := sort.Search(len(idx), func(p int) bool { return row[idx[p]] < v })
		idx = append(idx, 0)
		copy(idx[pos+1:], idx[pos:])
		idx[pos] = i
		if len(idx) > k {
			idx = idx[:k]
		}
	}
	return idx
}

// SampleConfig chooses how a token is drawn from a row of logits. The
// zero value is greedy decoding.
type SampleConfig struct {
	// Temperature divides the logits before the softmax; 0 means greedy
	// (always the most likely token). Values below 1 sharpen, above 1
	// flatten.
	Temperature float64
	// TopK keeps only the K most likely tokens before drawing; 0 keeps all.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// (after temperature and TopK) reaches P (nucleus sampling); 0 or 1
	// keeps all.
	TopP float64
}

// Validate reports a negative or non-finite temperature or a negative K.
func (c SampleConfig) Validate() error {
	if c.Temperature < 0 || math.IsNaN(c.Temperature) || math.IsInf(c.Temperature, 0) {
		return fieldError("SampleConfig", "temperature", c.Temperature, "finite and >= 0")
	}
	if c.TopK < 0 {
		return fieldError("SampleConfig", "top_k", c.TopK, ">= 0")
	}
	if !(c.TopP >= 0 && c.TopP <= 1) {
		return fieldError("SampleConfig", "top_p", c.TopP, "in [0, 1]")
	}
	return nil
}

// Sample draws a token index from logits (V) as c says, using rng only
// when c is not greedy. c must be valid (see [SampleConfig.Validate]).
func Sample(logits []float32, c SampleConfig, rng *tensor.RNG) int {
	if c.Temperature == 0 || c.TopK == 1 {
		return Argmax(logits)
	}
	k := len(logits)
	if c.TopK > 0 {
		k = min(k, c.TopK)
	}
	idx := topK(logits, k) // most likely first
	m := float64(logits[idx[0]])
	w := make([]float64, len(idx))
	var sum float64
	for j, i := range idx {
		w[j] = math.Exp((float64(logits[i]) - m) / c.Temperature)
		sum += w[j]
	}
	if c.TopP > 0 && c.TopP < 1 {
		var acc float64
		for j, v := range w {
			acc += v
			if acc >= c.TopP*sum {
				idx, w, sum = idx[:j+1], w[:j+1], acc
				break
			}
		}
	}
	u := rng.Float64() * sum
	for j, v := range w {
		if u < v {
			return idx[j]
		}
		u -= v
	}
	return idx[len(idx)-1]
}

// BeamConfig configures [BeamSearch]. Zero fields mean the documented
// defaults.
type BeamConfig struct {
	// Width is the number of hypotheses kept per step; 0 means 5.
	Width int
	// MaxLen bounds the generated tokens (the end token included); 0
	// means 100.
	MaxLen int
	// EndToken finishes a hypothesis.
	EndToken int
	// LengthPenalty α ranks finished hypotheses by logP / len^α; 0 ranks by
	// the plain sum of log-probabilities (which favours short outputs), 1 by
	// the mean per token.
	LengthPenalty float64
}

// Validate reports negative sizes or a negative or non-finite penalty.
func (c BeamConfig) Validate() error {
	switch {
	case c.Width < 0:
		return fieldError("BeamConfig", "width", c.Width, ">= 0")
	case c.MaxLen < 0:
		return fieldError("BeamConfig", "max_len", c.MaxLen, ">= 0")
	case c.LengthPenalty < 0 || math.IsNaN(c.LengthPenalty) || math.IsInf(c.LengthPenalty, 0):
		return fieldError("BeamConfig", "length_penalty", c.LengthPenalty, "finite and >= 0")
	}
	return nil
}

// Hypothesis is one output of [BeamSearch].
type Hypothesis struct {
	Tokens   []int   // generated tokens, the end token included when Finished
	LogProb  float64 // sum of the tokens' log-probabilities
	Score    float64 // LogProb / len(Tokens)^LengthPenalty
	Finished bool    // ended with the end token (else cut at MaxLen)
}

// BeamStep scores the next token of n hypotheses at once: prev holds each
// one's last token (the start token at the first step) and states their
// decoder states. It returns log-probabilities (n, V) and the states after
// consuming prev, one per hypothesis (they may share nothing with the
// inputs that a later step mutates).
type BeamStep[S any] func(prev []int, states []S) (logProbs *tensor.Tensor, next []S)

// BeamSearch decodes one sequence from the start token and initial state.
// At each step every live hypothesis is extended by every token; the 2·Width
// best extensions by log-probability are kept, those ending in EndToken
// move to the finished list and the best Width others stay live. Search
// stops when Width hypotheses have finished and none of the live ones
// scores better than the worst of those, or at MaxLen, when the live ones
// are returned unfinished. The result, best score first, has at most
// Width hypotheses.
func BeamSearch[S any](c BeamConfig, start int, init S, step BeamStep[S]) ([]Hypothesis, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Width == 0 {
		c.Width = 5
	}
	if c.MaxLen == 0 {
		c.MaxLen = 100
	}
	score := func(lp float64, n int) float64 { return lp / math.Pow(float64(n), c.LengthPenalty) }
	type beam struct {
		tokens []int
		lp     float64
		state  S
	}
	live := []beam{{state: init}}
	var done []Hypothesis
	for t := 1; t <= c.MaxLen && len(live) > 0; t++ {
		prev := make([]int, len(live))
		states := make([]S, len(live))
		for i, b := range live {
			prev[i], states[i] = start, b.state
			if len(b.tokens) > 0 {
				prev[i] = b.tokens[len(b.tokens)-1]
			}
		}
		lp, next := step(prev, states)
		if len(lp.Shape) != 2 || lp.Shape[0] != len(live) || len(next) != len(live) {
			panic(fmt.Sprintf("nn: BeamSearch step returned log-probabilities %v and %d states for %d hypotheses", lp.Shape, len(next), len(live)))
		}
		V := lp.Shape[1]
		type cand struct {
			from, tok int
			lp        float64
		}
		var cands []cand
		for i, b := range live {
			row := lp.Data[i*V : (i+1)*V]
			for _, v := range topK(row, 2*c.Width) {
				cands = append(cands, cand{i, v, b.lp + float64(row[v])})
			}
		}
		sort.SliceStable(cands, func(a, b int) bool { return cands[a].lp > cands[b].lp })
		var nl []beam
		for _, cd := range cands[:min(len(cands), 2*c.Width)] {
			toks := append(append([]int(nil), live[cd.from].tokens...), cd.tok)
			if cd.tok == c.EndToken {
				done = append(done, Hypothesis{Tokens: toks, LogProb: cd.lp, Score: score(cd.lp, t), Finished: true})
			} else if len(nl) < c.Width {
				nl = append(nl, beam{tokens: toks, lp: cd.lp, state: next[cd.from]})
			}
		}
		live = nl
		sort.SliceStable(done, func(a, b int) bool { return done[a].Score > done[b].Score })
		if len(done) >= c.Width && len(live) > 0 && score(live[0].lp, t) <= done[c.Width-1].Score {
			live = nil
		}
	}
	for _, b := range live {
		done = append(done, Hypothesis{Tokens: b.tokens, LogProb: b.lp, Score: score(b.lp, len(b.tokens))})
	}
	sort.SliceStable(done, func(a, b int) bool { return done[a].Score > done[b].Score })
	return done[:min(len(done), c.Width)], nil
}
