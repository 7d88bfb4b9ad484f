package model_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/series"
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

// One network across many series: twelve short monthly series at very
// different levels, each scaled on its own training rows and scored in
// its own units; the model also forecasts a series it never saw.
func ExampleGlobalForecaster() {
	var data []*series.Frame
	for s := range 12 {
		level := 10 * float64(1+s*s)
		y := make([]float64, 60)
		for i := range y {
			y[i] = level * (1 + 0.2*math.Sin(2*math.Pi*float64(i+s)/12) + 0.01*float64(i))
		}
		f := series.Of(y)
		f.Name = fmt.Sprintf("store%d", s)
		data = append(data, f)
	}
	g, err := model.NewGlobalForecaster(model.GlobalConfig{Spec: model.Spec{Hidden: 16}, Lookback: 12, Season: 12,
		Fit: model.FitConfig{Train: train.Config{Epochs: 40, ClipNorm: 1}}})
	if err != nil {
		log.Fatal(err)
	}
	report, err := g.Fit(context.Background(), data)
	if err != nil {
		log.Fatal(err)
	}
	model0, persistence := report.Summary[0], report.Summary[1]
	fmt.Printf("%d series; mean MASE below %s's: %v\n", len(report.Series), persistence.Name, model0.MASE < persistence.MASE)
	unseen := series.Of(data[3].Values[0][:48])
	unseen.Name = "new store"
	next, err := g.Predict(unseen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("its next month within 10% of the truth:", math.Abs(next.Values[0][0]-data[3].Values[0][48]) < 0.1*data[3].Values[0][48])
	// Output:
	// 12 series; mean MASE below persistence's: true
	// its next month within 10% of the truth: true
}
