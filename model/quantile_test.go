package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/tensor"
)

// noisySine is sine plus Gaussian noise of standard deviation 1: its
// 10% and 90% quantiles lie 1.28 either side of the curve.
func noisySine(n int) *series.Frame {
	rng := tensor.NewRNG(11)
	v := make([]float64, n)
	for i := range v {
		v[i] = 10 + 3*math.Sin(2*math.Pi*float64(i)/12) + rng.Normal(0, 1)
	}
	f, _ := series.NewFrame([]string{"y"}, [][]float64{v})
	f.Name = "noisy"
	return f
}

func TestQuantileForecast(t *testing.T) {
	cfg := sineConfig(30)
	cfg.Spec.Quantiles = []float64{0.1, 0.5, 0.9}
	cfg.Horizon, cfg.ValFraction = 1, 0
	fc, err := NewForecaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The intervals are under test, not the baselines: fitting ARIMA to
	// 400 noisy rows would be most of the test's time (twenty-fold under
	// the race detector).
	fc.skipModelBaselines = true
	rep, err := fc.Fit(context.Background(), noisySine(600))
	if err != nil {
		t.Fatal(err)
	}
	iv := rep.Intervals
	t.Logf("%v; below %v; %d epochs", iv, iv.Below, rep.Result.Epochs)
	if iv == nil || len(rep.Quantiles) != 3 {
		t.Fatalf("no intervals in the report: %v, %d quantile forecasts", iv, len(rep.Quantiles))
	}
	// 200 test points: a calibrated 80% interval covers 0.8 ± 0.06
	// (two binomial standard errors); a network that ignored the levels
	// would cover nearly nothing.
	if iv.Coverage < 0.68 || iv.Coverage > 0.92 {
		t.Errorf("80%% interval covers %.3f of the test values, want 0.68..0.92", iv.Coverage)
	}
	if math.Abs(iv.Width-2.56) > 0.8 {
		t.Errorf("interval width %.3f, want near 2.56 (the noise's 10-90%% span)", iv.Width)
	}
	for q := 1; q < 3; q++ {
		if iv.Below[q] < iv.Below[q-1] {
			t.Errorf("share below the levels %v not increasing", iv.Below)
		}
	}
	for i := range rep.Forecast.Data {
		lo, mid, hi := rep.Quantiles[0].Data[i], rep.Forecast.Data[i], rep.Quantiles[2].Data[i]
		if lo > mid || mid > hi {
			t.Fatalf("window %d: quantiles %v %v %v cross", i, lo, mid, hi)
		}
	}
	if rep.Forecast.Data[0] != rep.Quantiles[1].Data[0] {
		t.Errorf("the point forecast %v is not the median %v", rep.Forecast.Data[0], rep.Quantiles[1].Data[0])
	}

	g := reload[*Forecaster](t, fc)
	out, err := g.Predict(noisySine(600))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Levels) != 3 || len(out.Quantiles) != 3 || out.Quantiles[0][0][0] > out.Values[0][0] || out.Values[0][0] > out.Quantiles[2][0][0] {
		t.Errorf("reloaded Predict: levels %v quantiles %v point %v", out.Levels, out.Quantiles, out.Values)
	}
	ev, err := g.Evaluate(noisySine(600))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Intervals == nil || ev.Intervals.Coverage < 0.6 || math.IsNaN(ev.Intervals.MSIS) {
		t.Errorf("Evaluate intervals: %+v", ev.Intervals)
	}
}

func TestQuantileSpecErrors(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Quantiles: []float64{0.9, 0.1}}, "quantiles"},
		{Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Quantiles: []float64{0, 0.5}}, "quantiles"},
		{Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Quantiles: []float64{0.5, 1}}, "quantiles"},
		{Spec{Task: Classify, Vocab: 10, Classes: 2, Quantiles: []float64{0.1, 0.9}}, "does not support"},
	} {
		if _, err := Build(c.spec, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%v): got %v, want an error with %q", c.spec.Quantiles, err, c.want)
		}
	}
}

func TestConformalInterval(t *testing.T) {
	cfg := sineConfig(30)
	cfg.Spec.Quantiles = []float64{0.1, 0.9}
	cfg.Horizon, cfg.ValFraction, cfg.Conformal = 2, 0.25, true
	fc, rep := trainForecaster(t, noisySine(600), cfg)
	if rep.Calibrated == 0 || len(fc.Prep().Widen) != 2 {
		t.Fatalf("not calibrated: %d windows, widen %v", rep.Calibrated, fc.Prep().Widen)
	}
	t.Logf("%v; widen %v", rep.Intervals, fc.Prep().Widen)
	if c := rep.Intervals.Coverage; c < 0.68 || c > 0.92 {
		t.Errorf("calibrated 80%% interval covers %.3f of the test values, want 0.68..0.92", c)
	}
	g := reload[*Forecaster](t, fc)
	a, err := fc.Predict(noisySine(600))
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Predict(noisySine(600))
	if err != nil {
		t.Fatal(err)
	}
	if a.Quantiles[0][1][0] != b.Quantiles[0][1][0] || a.Quantiles[1][1][0] != b.Quantiles[1][1][0] {
		t.Errorf("reloaded interval %v, trained %v: the calibration was not saved", b.Quantiles, a.Quantiles)
	}
	for _, c := range []ForecastConfig{
		{Conformal: true, ValFraction: 0.2},
		{Conformal: true, Spec: Spec{Quantiles: []float64{0.1, 0.9}}},
	} {
		if _, err := NewForecaster(c); err == nil || !strings.Contains(err.Error(), "Conformal") {
			t.Errorf("NewForecaster(%+v): got %v, want an error naming Conformal", c, err)
		}
	}
}

func TestMCDropoutIntervals(t *testing.T) {
	cfg := sineConfig(20)
	cfg.Spec.Dropout, cfg.Spec.RecurrentDropout = 0.2, 0.2
	cfg.Horizon, cfg.ValFraction = 2, 0
	fc, err := NewForecaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.MCDropout(50, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := fc.Fit(t.Context(), noisySine(400))
	if err != nil {
		t.Fatal(err)
	}
	iv := rep.Intervals
	if iv == nil || len(rep.Quantiles) != 3 || iv.Width <= 0 {
		t.Fatalf("MC dropout intervals: %v, %d levels", iv, len(rep.Quantiles))
	}
	t.Logf("MC dropout, 50 passes: %v", iv)
	for i := range rep.Forecast.Data {
		if lo, hi := rep.Quantiles[0].Data[i], rep.Quantiles[2].Data[i]; lo > hi {
			t.Fatalf("window %d: 10%% level %v above the 90%% level %v", i, lo, hi)
		}
	}
	out, err := fc.Predict(noisySine(400))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Levels) != 3 || len(out.Quantiles) != 3 || len(out.Quantiles[0]) != 2 || out.Quantiles[0][0][0] >= out.Quantiles[2][0][0] {
		t.Errorf("Predict with MC dropout: levels %v quantiles %v", out.Levels, out.Quantiles)
	}
	if err := fc.MCDropout(0, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := fc.Predict(noisySine(400)); err != nil || out.Levels != nil {
		t.Errorf("MC dropout off: levels %v, %v", out.Levels, err)
	}

	plain, _ := NewForecaster(sineConfig(1))
	quant := sineConfig(1)
	quant.Spec.Dropout, quant.Spec.Quantiles = 0.1, []float64{0.1, 0.9}
	withQ, _ := NewForecaster(quant)
	for _, c := range []struct {
		f       *Forecaster
		samples int
		levels  []float64
		want    string
	}{
		{plain, 20, nil, "no dropout"},
		{withQ, 20, nil, "predicts quantiles itself"},
		{fc, 1, nil, ">= 2"},
		{fc, 20, []float64{0.9, 0.1}, "increasing"},
	} {
		if err := c.f.MCDropout(c.samples, c.levels); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("MCDropout(%d, %v): got %v, want an error with %q", c.samples, c.levels, err, c.want)
		}
	}
}
