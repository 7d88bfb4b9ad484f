package kernel_test

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/internal/kernel"
)

// One LSTM cell step for a batch of one with H = 2: the pre-activations of
// the gates i, f, g, o (biases included) become the activations, the new
// cell state and the new hidden state.
func ExampleLSTMForward() {
	const B, H = 1, 2
	pre := []float32{
		0, 10, // i
		-10, 0, // f
		1, -1, // g
		10, 10, // o
	}
	cPrev := []float32{0.5, 0.5}
	act, c, h := make([]float32, B*4*H), make([]float32, B*H), make([]float32, B*H)
	kernel.LSTMForward(act, c, h, pre, cPrev, B, H)
	fmt.Printf("i=%.4f f=%.4f g=%.4f o=%.4f\n", act[0:2], act[2:4], act[4:6], act[6:8])
	fmt.Printf("c=%.4f h=%.4f\n", c, h)
	// Output:
	// i=[0.5000 1.0000] f=[0.0000 0.5000] g=[0.7616 -0.7616] o=[1.0000 1.0000]
	// c=[0.3808 -0.5116] h=[0.3634 -0.4711]
}

func ExampleSoftmaxRows() {
	x := []float32{1, 2, 3, 0, 0, 0}
	p := make([]float32, len(x))
	kernel.SoftmaxRows(p, x, 2, 3)
	fmt.Printf("%.4f\n", p)
	// Output:
	// [0.0900 0.2447 0.6652 0.3333 0.3333 0.3333]
}

// The cross-entropy of one row of logits against class 2, from the row's
// maximum and the sum of its shifted exponentials: loss = m + log Σ - x[2].
func ExampleExpShift() {
	x := []float32{1, 2, 3}
	m := kernel.Max(x)
	e := make([]float32, len(x))
	sum := kernel.ExpShift(e, x, m)
	fmt.Printf("max=%g e=%.4f sum=%.4f\n", m, e, sum)
	fmt.Printf("loss=%.4f\n", float64(m)+math.Log(sum)-float64(x[2]))
	// Output:
	// max=3 e=[0.1353 0.3679 1.0000] sum=1.5032
	// loss=0.4076
}
