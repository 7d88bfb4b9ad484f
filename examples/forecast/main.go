// Forecast trains an LSTM on the AirPassengers series with validation,
// early stopping and a log transform, forecasts a year ahead, and compares
// its test errors with the baselines'.
//
//	go run ./examples/forecast
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/train"
)

func main() {
	if err := run(os.Stdout, 150); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, epochs int) error {
	f, err := dataset.AirPassengers()
	if err != nil {
		return err
	}
	fc, err := model.NewForecaster(model.ForecastConfig{
		Spec:    model.Spec{Hidden: 32, Residual: true},
		Horizon: 12, Log: true, ValFraction: 0.1, // a year ahead; 10% of the months validate
		Fit: model.FitConfig{Seed: 1, Train: train.Config{Epochs: epochs, ClipNorm: 1,
			EarlyStop: train.EarlyStop{Patience: 30}, RestoreBest: true}},
	})
	if err != nil {
		return err
	}
	rep, err := fc.Fit(context.Background(), f)
	if err != nil {
		return err
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if rep.Result.Stopped {
		fmt.Fprintln(w, rep.Result.StopReason)
	}
	fmt.Fprintf(w, "weights of epoch %d; LSTM test %v\n", rep.Result.Restored, rep.Test)
	for _, b := range rep.Baselines {
		fmt.Fprintf(w, "%s: %v\n", b.Name, b.Metrics)
	}
	next, err := fc.Predict(f)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "forecast for 1961: %.0f ... %.0f thousand passengers\n", next.Values[0][0], next.Values[11][0])
	return nil
}
