package nn_test

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Beam search over a toy model whose next-token distribution depends only
// on the previous token. Token 0 ends a hypothesis.
func ExampleBeamSearch() {
	p := [][]float64{ // p[prev][next]
		{1, 0, 0},
		{0.4, 0.1, 0.5},
		{0.9, 0.05, 0.05},
	}
	step := func(prev []int, states []struct{}) (*tensor.Tensor, []struct{}) {
		lp := tensor.New(len(prev), 3)
		for i, t := range prev {
			for j, q := range p[t] {
				lp.Data[i*3+j] = float32(math.Log(q))
			}
		}
		return lp, states
	}
	hs, _ := nn.BeamSearch(nn.BeamConfig{Width: 2, MaxLen: 5, EndToken: 0}, 1, struct{}{}, step)
	for _, h := range hs {
		fmt.Printf("%v p=%.2f\n", h.Tokens, math.Exp(h.LogProb))
	}
	// Output:
	// [2 0] p=0.45
	// [0] p=0.40
}
