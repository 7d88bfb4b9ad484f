package tensor_test

import (
	"fmt"

	"github.com/recur-ml/recur/tensor"
)

func ExampleMatMulTo() {
	a := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // 2×3
	b := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2) // 3×2
	c := tensor.MatMulTo(nil, a, tensor.No, b, tensor.No, false)
	fmt.Println(c.Shape, c.Data)
	// aᵀ·a is 3×3
	g := tensor.MatMulTo(nil, a, tensor.Trans, a, tensor.No, false)
	fmt.Println(g.Shape, g.Data[:3])
	// Output:
	// [2 2] [4 5 10 11]
	// [3 3] [17 22 27]
}
