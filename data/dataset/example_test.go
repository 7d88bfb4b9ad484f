package dataset_test

import (
	"fmt"
	"log"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/series"
)

// The embedded AirPassengers series, prepared the way `recur train` does
// with no arguments: 67/33 chronological split, min-max scaling fitted on
// the training months, 12-month lookback, one-step targets.
func ExampleAirPassengers() {
	f, err := dataset.AirPassengers()
	if err != nil {
		log.Fatal(err)
	}
	pr, err := series.Prepare(f, series.PrepareConfig{Window: series.WindowConfig{Lookback: 12}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Len(), "months;", pr.Train.Len(), "training and", pr.Test.Len(), "test windows")
	fmt.Printf("scaler: min %g range %g\n", pr.Pipeline.Scaler.Center[0], pr.Pipeline.Scaler.Scale[0])
	_, base, err := pr.Evaluate(pr.Test, pr.Test.Y)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: test RMSE %.2f\n", base[1].Name, base[1].Metrics.RMSE)
	// Output:
	// 144 months; 84 training and 48 test windows
	// scaler: min 104 range 309
	// seasonal naive (12): test RMSE 41.85
}

// MNIST images become 28-step sequences of 28 inputs.
func ExampleNewMNIST() {
	im := &dataset.IDX{Dims: []int{1, 2, 3}, Data: []byte{0, 51, 255, 102, 0, 0}}
	lb := &dataset.IDX{Dims: []int{1}, Data: []byte{4}}
	m, err := dataset.NewMNIST(im, lb)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Images.Shape, m.Images.Row(0).Row(0).Data, m.Labels)
	// Output:
	// [1 2 3] [0 0.2 1] [4]
}
