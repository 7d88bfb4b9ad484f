package nn_test

import (
	"fmt"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Scaled dot-product attention of three queries over three keys with a
// causal mask: query i sees keys 0..i only.
func ExampleSDPA() {
	q := nn.NewVar(tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 1, 3, 2))
	k := nn.NewVar(tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 1, 3, 2))
	v := nn.NewVar(tensor.FromSlice([]float32{10, 20, 30}, 1, 3, 1))
	out, w := nn.SDPA(nil, q, k, v, nn.CausalMask(1, 3, 3))
	fmt.Printf("weights %.3f\n", w.Value.Data)
	fmt.Printf("output %.3f\n", out.Value.Data)
	// Output:
	// weights [1.000 0.000 0.000 0.330 0.670 0.000 0.248 0.248 0.503]
	// output [10.000 16.698 22.552]
}

// A training step through a layer: Forward on a tape, then Backward from
// the output's gradient.
func ExampleLinear() {
	l := nn.NewLinear(2, 1, true, tensor.NewRNG(1))
	copy(l.Weight.Value.Data, []float32{2, -1})
	l.Bias.Value.Data[0] = 0.5
	x := nn.NewVar(tensor.FromSlice([]float32{1, 3}, 1, 2))
	tp := &nn.Tape{}
	y := l.Forward(tp, x)
	tp.Backward(y, nil) // dL/dy = 1
	fmt.Println(y.Value.Data, x.Grad.Data, l.Weight.Grad.Data, l.Bias.Grad.Data)
	// Output:
	// [-0.5] [2 -1] [1 3] [1]
}
