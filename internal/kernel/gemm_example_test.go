package kernel_test

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
)

// C (2×2) = A (2×3) · Bᵀ where B is stored 2×3, as a linear layer computes
// X·Wᵀ.
func ExampleSgemm() {
	a := []float32{1, 2, 3, 4, 5, 6}
	w := []float32{1, 0, 1, 0, 1, 0}
	c := make([]float32, 4)
	kernel.Sgemm(false, true, 2, 2, 3, 1, a, 3, w, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

// A recurrent weight W (4H×H, here 4×2) is packed once, transposed, and
// each step accumulates H_{t-1}·Wᵀ into the gate pre-activations.
func ExampleSgemmPacked() {
	w := []float32{1, 0, 0, 1, 1, 1, 2, -1}
	p := kernel.NewPackedB(true, 2, 4, w, 2)
	h := []float32{3, 4}
	gates := []float32{10, 10, 10, 10}
	kernel.SgemmPacked(false, 1, 1, h, 2, p, 1, gates, 4)
	fmt.Println(gates)
	// Output: [13 14 17 12]
}

// y = Aᵀ·x for A 2×3.
func ExampleSgemv() {
	a := []float32{1, 2, 3, 4, 5, 6}
	x := []float32{1, -1}
	y := make([]float32, 3)
	kernel.Sgemv(true, 2, 3, 1, a, 3, x, 0, y)
	fmt.Println(y)
	// Output: [-3 -3 -3]
}
