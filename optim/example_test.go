package optim_test

import (
	"fmt"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
)

// Minimise (w−3)² with Adam, clipping the gradient norm at 1.
func ExampleNew() {
	w := nn.NewParam("w", 1)
	opt, err := optim.New("adam", []*nn.Param{w}, optim.Config{LR: 0.1})
	if err != nil {
		panic(err)
	}
	for step := 0; step < 200; step++ {
		nn.ZeroGrad([]*nn.Param{w})
		w.Grad.Data[0] = 2 * (w.Value.Data[0] - 3)
		optim.ClipGradNorm([]*nn.Param{w}, 1, 2)
		opt.Step()
	}
	fmt.Printf("w = %.2f\n", w.Value.Data[0])
	_, err = optim.New("adam", []*nn.Param{w}, optim.Config{Betas: []float64{0.9, 1.5}})
	fmt.Println(err)
	// Output:
	// w = 3.00
	// optim: adam: betas[1] = 1.5, want in [0, 1)
}
