package model

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
)

func TestHoltWintersBase(t *testing.T) {
	cfg := sineConfig(1)
	cfg.Spec.Base = "holt-winters"
	cfg.ValFraction = 0
	cfg.Fit.Optim.LR = 1e-9 // the head stays (almost) at zero: the model is Holt-Winters
	fc, rep := trainForecaster(t, sine(180), cfg)
	var hw series.Scored
	for _, b := range rep.Baselines {
		if strings.HasPrefix(b.Name, "holt-winters") {
			hw = b
		}
	}
	if hw.Name == "" || math.Abs(rep.Test.RMSE-hw.Metrics.RMSE) > 1e-3*hw.Metrics.RMSE {
		t.Fatalf("an untrained hybrid scores %v, its Holt-Winters baseline %v (%s)", rep.Test.RMSE, hw.Metrics.RMSE, hw.Name)
	}
	if len(fc.Prep().HoltWinters) != 1 || !strings.Contains(strings.Join(rep.Notes, "\n"), "base Holt-Winters") {
		t.Errorf("prep %v, notes %q", fc.Prep().HoltWinters, rep.Notes)
	}
	g := reload[*Forecaster](t, fc)
	a, err := fc.Predict(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Predict(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	truth := sine(183).Values[0][180:]
	for h := range 3 {
		if a.Values[h][0] != b.Values[h][0] || math.Abs(a.Values[h][0]-truth[h]) > 0.5 {
			t.Errorf("step %d: %v, reloaded %v, truth %v", h+1, a.Values[h][0], b.Values[h][0], truth[h])
		}
	}
	e1, err := fc.Evaluate(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	e2, err := g.Evaluate(sine(180))
	if err != nil || e1.Metrics != e2.Metrics {
		t.Errorf("Evaluate: %v, reloaded %v (%v)", e1.Metrics, e2.Metrics, err)
	}
	if _, err := Build(Spec{Task: Classify, Vocab: 5, Classes: 2, Base: "holt-winters"}, 1); err == nil || !strings.Contains(err.Error(), "base") {
		t.Errorf("a classifier with a base: %v", err)
	}
	if _, err := Build(Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Base: "arima"}, 1); err == nil || !strings.Contains(err.Error(), "holt-winters") {
		t.Errorf("base arima: %v", err)
	}
}

// With validation windows, the hybrid keeps the network's correction only
// when it lowers the validation loss.
func TestHoltWintersBaseChoice(t *testing.T) {
	cfg := sineConfig(30)
	cfg.Spec.Base = "holt-winters"
	_, rep := trainForecaster(t, noisySine(300), cfg)
	notes := strings.Join(rep.Notes, "\n")
	kept, dropped := strings.Contains(notes, "kept the network's correction"), strings.Contains(notes, "dropped the network's correction")
	if kept == dropped || dropped != rep.BaseOnly {
		t.Errorf("choice notes %q, BaseOnly %v", notes, rep.BaseOnly)
	}
}
