package model_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/train"
)

// A forecaster in a few lines: fit on AirPassengers (the last third of
// the months test), compare with the seasonal-naive baseline, save, load
// and forecast the next month.
func ExampleForecaster() {
	air, err := dataset.AirPassengers()
	if err != nil {
		log.Fatal(err)
	}
	fc, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Residual: true},
		Fit: model.FitConfig{Train: train.Config{ClipNorm: 1}}})
	if err != nil {
		log.Fatal(err)
	}
	report, err := fc.Fit(context.Background(), air)
	if err != nil {
		log.Fatal(err)
	}
	seasonal := report.Baselines[1]
	fmt.Printf("%d test months; LSTM beats %s: %v\n", report.Forecast.Shape[0], seasonal.Name, report.Test.RMSE < seasonal.Metrics.RMSE)
	path := filepath.Join(os.TempDir(), "example-air.safetensors")
	defer os.Remove(path)
	if err := fc.Save(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := model.LoadForecaster(path)
	if err != nil {
		log.Fatal(err)
	}
	next, err := loaded.Predict(air)
	if err != nil {
		log.Fatal(err)
	}
	v := next.Values[0][0]
	fmt.Println("January 1961 between 380 and 480 thousand passengers:", v > 380 && v < 480)
	// Output:
	// 48 test months; LSTM beats seasonal naive (12): true
	// January 1961 between 380 and 480 thousand passengers: true
}
