// Quickstart trains an LSTM forecaster on the embedded AirPassengers
// series, compares it with the baselines, saves it, loads it back and
// forecasts the next month: the whole library in about ten lines.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/model"
)

func main() {
	air, err := dataset.AirPassengers() // a *series.Frame; series.Of(y) wraps a plain []float64
	check(err)
	fc, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Residual: true, Base: model.BaseAuto}})
	check(err)
	report, err := fc.Fit(context.Background(), air) // last 33% of the months test
	check(err)
	fmt.Println(report.Form, report.Test) // the form chosen on a validation tail
	for _, b := range report.Baselines {
		fmt.Printf("%-10s %v\n", b.Name, b.Metrics)
	}
	path := filepath.Join(os.TempDir(), "air.safetensors")
	check(fc.Save(path))
	loaded, err := model.LoadForecaster(path)
	check(err)
	next, err := loaded.Predict(air)
	check(err)
	fmt.Printf("January 1961: %.0f thousand passengers\n", next.Values[0][0])
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
