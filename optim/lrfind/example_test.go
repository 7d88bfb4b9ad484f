package lrfind_test

import (
	"fmt"

	"github.com/recur-ml/recur/optim/lrfind"
)

// A quadratic f(w) = w², minimised by gradient steps w −= lr·2w, diverges
// for lr > 1; the range test suggests a rate below that.
func ExampleRun() {
	w := 1.0
	res, err := lrfind.Run(lrfind.Config{MinLR: 1e-3, MaxLR: 10, Steps: 50}, func(lr float64) (float64, error) {
		loss := w * w
		w -= lr * 2 * w
		return loss, nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Diverged, res.Suggested < 1)
	// Output: true true
}
