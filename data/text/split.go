package text

import (
	"fmt"

	"github.com/recur-ml/recur/tensor"
)

// SplitIndex shuffles the indices 0..n-1 with seed and cuts them into
// training, validation and test parts: the last round(test·n) indices
// test, the floor(val·n) before them validate, the rest train. A share of
// zero gives an empty part. It is an error when nothing is left to train.
func SplitIndex(n int, val, test float64, seed uint64) (tr, va, te []int, err error) {
	if !(val >= 0 && test >= 0 && val+test < 1) {
		return nil, nil, nil, fmt.Errorf("text: split shares validation %g and test %g: want >= 0, with a sum below 1", val, test)
	}
	perm := tensor.NewRNG(seed ^ 0x5eed).Perm(n)
	b := n - int(float64(n)*test+0.5)
	a := b - int(float64(n)*val)
	if a < 1 {
		return nil, nil, nil, fmt.Errorf("text: %d examples with validation share %g and test share %g leave none for training", n, val, test)
	}
	return perm[:a], perm[a:b], perm[b:], nil
}

// Subset returns the examples of l at the indices idx (nil when idx is
// empty), with l's classes.
func (l *Labelled) Subset(idx []int) *Labelled {
	if len(idx) == 0 {
		return nil
	}
	out := &Labelled{Classes: l.Classes}
	for _, i := range idx {
		out.Texts = append(out.Texts, l.Texts[i])
		if l.Sets != nil {
			out.Sets = append(out.Sets, l.Sets[i])
		} else {
			out.Labels = append(out.Labels, l.Labels[i])
		}
		if l.Lines != nil {
			out.Lines = append(out.Lines, l.Lines[i])
		}
	}
	return out
}

// Split shuffles l with seed and cuts it as SplitIndex says; an empty
// part is nil.
func (l *Labelled) Split(val, test float64, seed uint64) (tr, va, te *Labelled, err error) {
	a, b, c, err := SplitIndex(len(l.Texts), val, test, seed)
	if err != nil {
		return nil, nil, nil, err
	}
	return l.Subset(a), l.Subset(b), l.Subset(c), nil
}

// SplitPairs shuffles pairs with seed and cuts them as SplitIndex says;
// an empty part is nil.
func SplitPairs(pairs []Pair, val, test float64, seed uint64) (tr, va, te []Pair, err error) {
	a, b, c, err := SplitIndex(len(pairs), val, test, seed)
	if err != nil {
		return nil, nil, nil, err
	}
	pick := func(idx []int) []Pair {
		var out []Pair
		for _, i := range idx {
			out = append(out, pairs[i])
		}
		return out
	}
	return pick(a), pick(b), pick(c), nil
}

// SplitText cuts s by characters, in order (a language model's corpus is
// not shuffled): the last round(test·n) characters test, the floor(val·n)
// before them validate, the rest train.
func SplitText(s string, val, test float64) (tr, va, te string, err error) {
	if !(val >= 0 && test >= 0 && val+test < 1) {
		return "", "", "", fmt.Errorf("text: split shares validation %g and test %g: want >= 0, with a sum below 1", val, test)
	}
	rs := []rune(s)
	n := len(rs)
	b := n - int(float64(n)*test+0.5)
	a := b - int(float64(n)*val)
	if a < 1 {
		return "", "", "", fmt.Errorf("text: %d characters leave none for training", n)
	}
	return string(rs[:a]), string(rs[a:b]), string(rs[b:]), nil
}
