package dataset

import (
	"fmt"
	"strconv"

	"github.com/recur-ml/recur/tensor"
)

// AddingProblem returns n sequences of the adding problem (Hochreiter and
// Schmidhuber 1997, in the form of Le, Jaitly and Hinton 2015): T steps of
// two inputs, a value drawn from U(0, 1) and a marker that is 1 at two
// steps, one in each half of the sequence, and 0 elsewhere. x[i] holds
// sequence i step-major (2T values) and y[i] its target, the sum of the
// two marked values. Always answering 1 scores a mean squared error of
// about 0.167, the baseline a model must beat.
func AddingProblem(T, n int, seed uint64) (x [][]float32, y []float32, err error) {
	if T < 2 || n < 1 {
		return nil, nil, fmt.Errorf("dataset: adding problem of %d steps and %d sequences: want T >= 2 and n >= 1", T, n)
	}
	rng := tensor.NewRNG(seed)
	x, y = make([][]float32, n), make([]float32, n)
	for i := range n {
		s := make([]float32, 2*T)
		for t := range T {
			s[2*t] = rng.Float32()
		}
		a, b := rng.IntN(T/2), T/2+rng.IntN(T-T/2)
		s[2*a+1], s[2*b+1] = 1, 1
		x[i], y[i] = s, s[2*a]+s[2*b]
	}
	return x, y, nil
}

// Addition returns n sums of two random numbers of 1 to digits digits as
// text, "123+45" and "168" (the Keras addition example), without
// repeating a question: a character-level sequence-to-sequence task.
func Addition(digits, n int, seed uint64) (src, tgt []string, err error) {
	if digits < 1 || digits > 9 || n < 1 {
		return nil, nil, fmt.Errorf("dataset: addition of %d-digit numbers, %d pairs: want 1-9 digits and n >= 1", digits, n)
	}
	maxN := 1
	for range digits {
		maxN *= 10
	}
	if n > maxN*maxN/2 {
		return nil, nil, fmt.Errorf("dataset: %d distinct questions of %d digits asked for; there are about %d", n, digits, maxN*maxN/2)
	}
	rng := tensor.NewRNG(seed)
	number := func() int {
		d := 1 + rng.IntN(digits)
		v := 0
		for range d {
			v = 10*v + rng.IntN(10)
		}
		return v
	}
	seen := map[[2]int]bool{}
	for len(src) < n {
		a, b := number(), number()
		if seen[[2]int{a, b}] {
			continue
		}
		seen[[2]int{a, b}] = true
		src = append(src, strconv.Itoa(a)+"+"+strconv.Itoa(b))
		tgt = append(tgt, strconv.Itoa(a+b))
	}
	return src, tgt, nil
}
