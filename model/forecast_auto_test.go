package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/tensor"
)

func autoConfig() ForecastConfig {
	cfg := sineConfig(15)
	cfg.Spec.Base, cfg.ValFraction, cfg.Horizon = BaseAuto, 0, 1
	return cfg
}

// An automatic forecaster takes the form with the lowest validation RMSE,
// saves that form (never "auto"), and chooses again, the same way, on a
// second Fit.
func TestAutoFormChoosesTheBestOnValidation(t *testing.T) {
	fc, rep := trainForecaster(t, sine(150), autoConfig())
	if len(rep.FormScores) != 6 {
		t.Fatalf("form scores %v, want six candidates", rep.FormScores)
	}
	lowest := math.Inf(1)
	for name, v := range rep.FormScores {
		if !(v >= 0) {
			t.Errorf("form %s: validation RMSE %v", name, v)
		}
		lowest = min(lowest, v)
	}
	if rep.FormScores[rep.Form] != lowest {
		t.Errorf("chose %q, want one of the lowest validation RMSE %v (%v)", rep.Form, lowest, rep.FormScores)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "form: "+rep.Form) {
		t.Errorf("notes %q do not say the form chosen", rep.Notes)
	}
	g := reload[*Forecaster](t, fc)
	wantBase := ""
	switch {
	case strings.Contains(rep.Form, "averaged"):
		wantBase = BaseCombined
	case strings.Contains(rep.Form, "Holt-Winters"):
		wantBase = BaseHoltWinters
	case strings.Contains(rep.Form, "ARIMA"):
		wantBase = BaseARIMA
	}
	if s := g.Spec(); s.Base != wantBase || s.Local != (rep.Form == "network on local windows") {
		t.Errorf("saved base %q local %v for form %q", s.Base, s.Local, rep.Form)
	}
	rep2, err := fc.Fit(context.Background(), sine(150))
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Form != rep.Form || rep2.Test.RMSE != rep.Test.RMSE {
		t.Errorf("second Fit: form %q RMSE %v, first %q %v", rep2.Form, rep2.Test.RMSE, rep.Form, rep.Test.RMSE)
	}
	// The statistical candidates' figures are their own on the
	// validation folds: hybrids scored on those rows report them as their
	// baselines. 150 rows: 100 before the test rows, folds of 20 rows
	// ending at 100 and 80.
	sq := map[string]float64{}
	for _, end := range []int{100, 80} {
		cfg := sineConfig(1)
		cfg.Spec.Base, cfg.ValFraction, cfg.Horizon, cfg.Spec.Residual, cfg.TestRows = "holt-winters", 0, 1, false, 20
		_, hyb := trainForecaster(t, sine(150).Slice(0, end), cfg)
		mean := tensor.New(hyb.Actual.Shape...)
		for _, b := range hyb.Baselines {
			label, _, _ := strings.Cut(b.Name, " ")
			sq[label] += b.Metrics.RMSE * b.Metrics.RMSE / 2
			if label == "holt-winters" || label == "arima" {
				for i, v := range b.Forecast.Data {
					mean.Data[i] += v / 2
				}
			}
		}
		r := series.Score(mean, hyb.Actual, nil).RMSE
		sq["holt-winters+arima"] += r * r / 2
	}
	for form, label := range map[string]string{"Holt-Winters alone": "holt-winters", "ARIMA alone": "arima", "Holt-Winters and ARIMA averaged": "holt-winters+arima"} {
		want, ok := sq[label]
		if got := rep.FormScores[form]; !ok || math.Abs(got-math.Sqrt(want)) > 1e-12*got {
			t.Errorf("%s scored %v on the folds, its own baselines there %v (found: %v)", form, got, math.Sqrt(want), ok)
		}
	}
}

// On a series too short to compare on, the forecaster is Holt-Winters
// alone, scoring exactly its baseline; with differencing it is the
// network; a network cannot be built with base auto.
func TestAutoFormFallbacks(t *testing.T) {
	_, rep := trainForecaster(t, sine(40), autoConfig())
	if rep.Form != "Holt-Winters alone" || !rep.BaseOnly {
		t.Fatalf("40 rows: form %q (base only %v), want Holt-Winters alone; notes %q", rep.Form, rep.BaseOnly, rep.Notes)
	}
	for _, b := range rep.Baselines {
		if strings.HasPrefix(b.Name, "holt-winters") && math.Abs(b.Metrics.RMSE-rep.Test.RMSE) > 1e-4*b.Metrics.RMSE {
			t.Errorf("Holt-Winters alone scores %v, its baseline %v", rep.Test.RMSE, b.Metrics.RMSE)
		}
	}
	cfg := autoConfig()
	cfg.Diffs = []int{1}
	fc, rep := trainForecaster(t, sine(150), cfg)
	if fc.Spec().Base != "" || rep.FormScores != nil {
		t.Errorf("with differencing: base %q, scores %v, want the network alone", fc.Spec().Base, rep.FormScores)
	}
	if _, err := Build(Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Base: BaseAuto}, 1); err == nil || !strings.Contains(err.Error(), "auto") {
		t.Errorf("Build with base auto: %v", err)
	}
}

// A forecaster on local windows with a residual head is invariant to the
// level: shifting every target value of a window by c shifts its forecast
// by c, and leaves the other inputs' effect alone.
func TestLocalWindowsAreLevelFree(t *testing.T) {
	m, err := Build(Spec{Task: Forecast, Hidden: 5, Inputs: 2, Targets: 1, Horizon: 2, Residual: true, Local: true}, 4)
	if err != nil {
		t.Fatal(err)
	}
	fc := m.(*Forecaster)
	T, B, I := 6, 3, 2
	x := tensor.New(T, B, I)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	shifted := x.Clone()
	const c = 7.5
	for i := 0; i < len(shifted.Data); i += I {
		shifted.Data[i] += c // the target column only
	}
	a, b := fc.Forward(x), fc.Forward(shifted)
	for i := range a.Data {
		if d := b.Data[i] - a.Data[i]; math.Abs(float64(d)-c) > 1e-5 {
			t.Errorf("output %d: shifted by %v, want %v", i, d, c)
		}
	}
	// The same network reading levels (Local off) is not invariant.
	s := fc.Spec()
	s.Local = false
	g, err := Build(s, 4)
	if err != nil {
		t.Fatal(err)
	}
	a, b = g.(*Forecaster).Forward(x), g.(*Forecaster).Forward(shifted)
	if d := b.Data[0] - a.Data[0]; math.Abs(float64(d)-c) < 1e-3 {
		t.Errorf("without Local, a shift of %v moved the forecast by %v", c, d)
	}
}

// A season the forecaster does not choose is no season anywhere: a
// yearly series with a 12-step cycle (the calendar says yearly, so no
// season) must not get a seasonal Holt-Winters base, a seasonal-naive
// baseline or a seasonal MASE scale from a period found by
// autocorrelation behind the choice's back.
func TestNoSeasonChosenMeansNone(t *testing.T) {
	g := seasonFrame(sine(120).Values[0], 1)
	cfg := sineConfig(2)
	cfg.Spec.Base, cfg.Spec.Residual, cfg.Lookback, cfg.Horizon, cfg.ValFraction = "holt-winters", false, 0, 1, 0
	fc, rep := trainForecaster(t, g, cfg)
	if rep.Season != 0 {
		t.Errorf("season %d, want 0 (notes %q)", rep.Season, rep.Notes)
	}
	for _, b := range rep.Baselines {
		if strings.HasPrefix(b.Name, "seasonal naive") {
			t.Errorf("baseline %q on a series with no season chosen", b.Name)
		}
	}
	if hw := fc.Prep().HoltWinters[0]; hw.Season > 1 {
		t.Errorf("Holt-Winters base %s with period %d, want none", hw.Name(), hw.Season)
	}
}

func TestMeanOfBaselines(t *testing.T) {
	fc := func(v ...float32) *tensor.Tensor { return tensor.FromSlice(v, len(v), 1, 1) }
	r := &ForecastReport{Actual: fc(2, 4), Baselines: []series.Scored{
		{Name: "mean", Metrics: series.Metrics{RMSE: 9}, Forecast: fc(9, 9)},
		{Name: "holt-winters (A,N,N)", Metrics: series.Metrics{RMSE: 1}, Forecast: fc(1, 3)},
		{Name: "arima (ARIMA(0,1,0))", Metrics: series.Metrics{RMSE: 1}, Forecast: fc(3, 5)},
	}}
	for _, c := range []struct {
		parts []string
		want  float64
		ok    bool
	}{
		{[]string{"holt-winters"}, 1, true},
		{[]string{"holt-winters", "arima"}, 0, true}, // errors of -1 and +1 cancel
		{[]string{"holt-winters", "theta"}, 0, false},
	} {
		if got, ok := meanOfBaselines(r, c.parts); got != c.want || ok != c.ok {
			t.Errorf("%v: %v %v, want %v %v", c.parts, got, ok, c.want, c.ok)
		}
	}
}
