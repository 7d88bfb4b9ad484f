package loss_test

import (
	"fmt"

	"github.com/recur-ml/recur/loss"
)

func ExampleMSE() {
	pred := []float32{1, 2, 3, 9}
	target := []float32{0, 2, 5, 0}
	grad := make([]float32, len(pred))
	// The last step is padding: it counts neither in the sum nor the mean.
	v := loss.MSE(grad, pred, target, loss.Options{Mask: []bool{true, true, true, false}})
	fmt.Printf("%.4f %v\n", v, grad)
	// Output: 1.6667 [0.6666667 0 -1.3333334 0]
}

func ExampleCrossEntropy() {
	logits := []float32{ // (N=2, C=3)
		2, 0, 0,
		0, 0, 0,
	}
	grad := make([]float32, len(logits))
	v := loss.CrossEntropy(grad, logits, []int{0, 2}, 3, loss.ClassOptions{Reduction: loss.Sum})
	fmt.Printf("%.4f\n", v)
	fmt.Printf("%.4f\n", grad)
	// Output:
	// 1.3382
	// [-0.2130 0.1065 0.1065 0.3333 0.3333 -0.6667]
}
