package main

import (
	"context"
	"testing"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/train"
)

// TestForecastPlotLabel: the forecast plot names the model by its cell;
// it once said LSTM for every cell.
func TestForecastPlotLabel(t *testing.T) {
	air, err := dataset.AirPassengers()
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]string{"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"} {
		fc, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Cell: cell, Hidden: 4}, Fit: model.FitConfig{Train: train.Config{Epochs: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := fc.Fit(context.Background(), air)
		if err != nil {
			t.Fatal(err)
		}
		s := forecastSeries(fc, rep)
		if s[2] != want || s[4] != "seasonal naive" {
			t.Errorf("%s: plot lines %v, %v, %v; want actual, %s, seasonal naive", cell, s[0], s[2], s[4], want)
		}
	}
}
