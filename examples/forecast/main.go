// Forecast trains an LSTM on the AirPassengers series with the library API
// and compares its test error with the seasonal-naive baseline.
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
	"github.com/recur-ml/recur/optim"
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
	// 12 months of history predict the next month; the last 33% test.
	sp, err := model.PrepareForecast(f, model.ForecastOptions{Lookback: 12, Horizon: 1, ValFraction: -1}, 8)
	if err != nil {
		return err
	}
	m, err := model.Build(sp.Prep.SpecFor(model.Spec{Hidden: 32, Residual: true}), 1)
	if err != nil {
		return err
	}
	if err := m.SetForecastPrep(sp.Prep); err != nil {
		return err
	}
	task := &model.ForecastTask{M: m, Prep: sp.Prep}
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 0.01})
	if err != nil {
		return err
	}
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Shuffle: true, Seed: 1, ClipNorm: 1})
	if err != nil {
		return err
	}
	if _, err := tr.Fit(context.Background(), sp.Train, nil); err != nil {
		return err
	}
	test, err := task.Evaluate(sp.Test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "LSTM test RMSE %.2f, seasonal naive %.2f, persistence %.2f\n",
		test["rmse"], model.Errors(sp.Seas, sp.Test.Actual)["rmse"], model.Errors(sp.Persistence, sp.Test.Actual)["rmse"])
	next, err := task.Future(f)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "forecast for January 1961: %.0f thousand passengers\n", next.Data[0])
	return nil
}
