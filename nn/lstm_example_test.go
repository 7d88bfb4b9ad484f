package nn_test

import (
	"fmt"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

func ExampleLSTM() {
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: 3, HiddenSize: 4, NumLayers: 2, Bidirectional: true}, tensor.NewRNG(1))
	if err != nil {
		panic(err)
	}
	x := nn.NewVar(tensor.New(5, 2, 3)) // (T, B, I)
	// The second sequence has 3 valid steps; its padded outputs are 0.
	out, st := l.Forward(nil, x, []int{5, 3}, nil)
	fmt.Println("output", out.Value.Shape, "h_n", st.H.Value.Shape, "c_n", st.C.Value.Shape)
	for _, p := range l.Params()[:5] {
		fmt.Println(p.Name, p.Value.Shape)
	}
	// Output:
	// output [5 2 8] h_n [4 2 4] c_n [4 2 4]
	// weight_ih_l0 [16 3]
	// weight_hh_l0 [16 4]
	// bias_ih_l0 [16]
	// bias_hh_l0 [16]
	// weight_ih_l0_reverse [16 3]
}

// Truncated backpropagation through time: carry the final state into the
// next chunk, cut from the graph.
func ExampleState_Detach() {
	l, _ := nn.NewGRU(nn.GRUConfig{InputSize: 2, HiddenSize: 3}, tensor.NewRNG(1))
	var state *nn.State
	for chunk := 0; chunk < 3; chunk++ {
		x := nn.NewVar(tensor.New(4, 1, 2))
		x.Value.Fill(float32(chunk))
		tp := &nn.Tape{}
		out, st := l.Forward(tp, x, nil, state)
		tp.Backward(out, nil) // gradients stop at this chunk's initial state
		state = st.Detach()
	}
	fmt.Println("carried state", state.H.Value.Shape, "gradient", state.H.Grad)
	// Output: carried state [1 1 3] gradient <nil>
}
