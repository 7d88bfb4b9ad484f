package model

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/train"
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
	if _, err := Build(Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Base: "prophet"}, 1); err == nil || !strings.Contains(err.Error(), "holt-winters, arima") {
		t.Errorf("base prophet: %v", err)
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

// An ARIMA base: the untrained hybrid is the ARIMA that R's auto.arima
// chooses on the training rows (AirPassengers, 67/33: RMSE 14.6 in R),
// and the model file keeps it, so a reloaded forecaster predicts alike.
func TestARIMABase(t *testing.T) {
	ap := airPassengersFrame(t)
	cfg := ForecastConfig{Spec: Spec{Hidden: 8, Base: BaseARIMA}, Lookback: 12, Horizon: 1, TestFraction: 0.33,
		Fit: FitConfig{Seed: 1, Optim: optim.Config{LR: 1e-9}, Train: train.Config{Epochs: 1}}}
	fc, rep := trainForecaster(t, ap, cfg)
	if len(fc.Prep().ARIMA) != 1 || fc.Prep().ARIMA[0].Name() != "ARIMA(1,1,0)(1,1,0)[12]" {
		t.Fatalf("ARIMA base %v, want R's ARIMA(1,1,0)(1,1,0)[12]; notes %q", fc.Prep().ARIMA, rep.Notes)
	}
	if math.Abs(rep.Test.RMSE-14.64) > 0.05 {
		t.Errorf("an untrained ARIMA hybrid scores %.3f, want the ARIMA's 14.64", rep.Test.RMSE)
	}
	g := reload[*Forecaster](t, fc)
	a, err := fc.Predict(ap)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Predict(ap)
	if err != nil || a.Values[0][0] != b.Values[0][0] {
		t.Errorf("Predict %v, reloaded %v (%v)", a.Values, b.Values, err)
	}
	// A model file whose base disagrees with its spec is refused.
	p := *fc.Prep()
	p.ARIMA = []*series.ARIMA{{ARIMAOrder: series.ARIMAOrder{P: 2}, AR: []float64{0.5}}}
	if err := p.checkBases(fc.Spec()); err == nil || !strings.Contains(err.Error(), "coefficients") {
		t.Errorf("an ARIMA(2,0,0) with one coefficient: %v", err)
	}
	p.ARIMA = nil
	if err := p.checkBases(fc.Spec()); err == nil || !strings.Contains(err.Error(), "0 ARIMA models for 1 targets") {
		t.Errorf("no ARIMA model for base arima: %v", err)
	}
}

func airPassengersFrame(t *testing.T) *series.Frame {
	t.Helper()
	f, err := dataset.AirPassengers()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The combined base forecasts the mean of Holt-Winters' and ARIMA's
// forecasts, and a model file keeps both.
func TestCombinedBase(t *testing.T) {
	ap := airPassengersFrame(t)
	cfg := ForecastConfig{Spec: Spec{Hidden: 8, Base: BaseCombined}, Lookback: 12, Horizon: 1, TestFraction: 0.33,
		Fit: FitConfig{Seed: 1, Optim: optim.Config{LR: 1e-9}, Train: train.Config{Epochs: 1}}}
	fc, rep := trainForecaster(t, ap, cfg)
	if p := fc.Prep(); len(p.HoltWinters) != 1 || len(p.ARIMA) != 1 {
		t.Fatalf("bases %v and %v, want one of each", p.HoltWinters, p.ARIMA)
	}
	want, ok := meanOfBaselines(rep, []string{"holt-winters", "arima"})
	if !ok || math.Abs(rep.Test.RMSE-want) > 1e-3*want {
		t.Errorf("an untrained combined hybrid scores %.4f, the mean of its baselines %.4f (%v)", rep.Test.RMSE, want, ok)
	}
	g := reload[*Forecaster](t, fc)
	if p := g.Prep(); len(p.HoltWinters) != 1 || len(p.ARIMA) != 1 || g.Spec().Base != BaseCombined {
		t.Errorf("reloaded: base %q, %d Holt-Winters and %d ARIMA", g.Spec().Base, len(p.HoltWinters), len(p.ARIMA))
	}
}
