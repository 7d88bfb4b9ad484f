package series

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestARIMAMatchesR compares fits on the first 96 AirPassengers rows with
// R 4's forecast::Arima (method CSS-ML, the default): coefficients in R's
// order (ar, ma, sar, sma, mean or drift), log-likelihood, AICc and the
// first three forecasts. The R script: see the test's cases.
func TestARIMAMatchesR(t *testing.T) {
	ap, logAP := airPassengers96(t)
	cases := []struct {
		name     string
		y        []float64
		o        ARIMAOrder
		coef     []float64
		loglik   float64
		aicc     float64
		forecast []float64
		// multimodal: the fit finds a higher maximum than R's.
		multimodal bool
	}{
		// Arima(y, order=c(1,1,0), seasonal=c(0,1,1))
		{"(1,1,0)(0,1,1)", ap, ARIMAOrder{P: 1, D: 1, SD: 1, SQ: 1, Season: 12},
			[]float64{-0.217183, -0.199450}, -305.2657, 616.8353, []float64{313.6061, 305.9362, 345.1911}, false},
		// Arima(y, order=c(1,1,1), seasonal=c(1,1,0))
		{"(1,1,1)(1,1,0)", ap, ARIMAOrder{P: 1, D: 1, Q: 1, SD: 1, SP: 1, Season: 12},
			[]float64{-0.593679, 0.398179, -0.227631}, -304.7308, 617.9745, []float64{314.2092, 306.3884, 345.2396}, true},
		// Arima(diff(y, lag=12), order=c(1,0,0), seasonal=c(1,0,0), include.mean=TRUE)
		{"(1,0,0)(1,0,0) with mean", diffLag(ap, 12), ARIMAOrder{P: 1, SP: 1, Season: 12, Constant: true},
			[]float64{0.808997, -0.246049, 27.973903}, -307.1571, 622.8206, []float64{28.7292, 27.4337, 25.3074}, false},
		// Arima(log(y), order=c(0,1,1), seasonal=c(0,1,1)), the airline model
		{"airline on log", logAP, ARIMAOrder{D: 1, Q: 1, SD: 1, SQ: 1, Season: 12},
			[]float64{-0.394148, -0.612930}, 148.7630, -291.2222, []float64{5.7570, 5.7339, 5.8832}, false},
		// Arima(y, order=c(0,1,1), include.drift=TRUE)
		{"(0,1,1) with drift", ap, ARIMAOrder{D: 1, Q: 1, Constant: true},
			[]float64{0.391121, 2.212306}, -428.8787, 864.0211, []float64{324.7306, 326.9429, 329.1552}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := FitARIMA(c.y, c.o)
			if err != nil {
				t.Fatal(err)
			}
			// R's log-likelihood is a local maximum: the fit must reach it
			// and, where R's optimum is the only one, at R's coefficients.
			if a.LogLik < c.loglik-0.02 {
				t.Errorf("log-likelihood %.4f, want at least R's %.4f", a.LogLik, c.loglik)
			}
			if !c.multimodal && !closeAll(coefficients(a), c.coef, 0.01) {
				t.Errorf("coefficients %.4f, want R's %.4f", coefficients(a), c.coef)
			}
			// At R's coefficients (printed to six digits): R's likelihood, AICc
			// and forecasts.
			r := withCoefficients(c.o, c.coef)
			r.score(difference(c.y, c.o))
			if math.Abs(r.LogLik-c.loglik) > 5e-3 || math.Abs(r.AICc-c.aicc) > 1e-2 {
				t.Errorf("at R's coefficients: log-likelihood %.4f AICc %.4f, want %.4f and %.4f", r.LogLik, r.AICc, c.loglik, c.aicc)
			}
			if fc := r.Forecast(c.y, []int{len(c.y)}, 3)[0]; !closeAll(fc, c.forecast, 2e-5) {
				t.Errorf("forecast at R's coefficients %.4f, want %.4f", fc, c.forecast)
			}
		})
	}
}

// airPassengers96 returns the first 96 AirPassengers rows and their logs.
func airPassengers96(t *testing.T) (y, logs []float64) {
	y = airPassengers(t).Values[0][:96]
	logs = make([]float64, len(y))
	for i, v := range y {
		logs[i] = math.Log(v)
	}
	return y, logs
}

func coefficients(a *ARIMA) []float64 {
	var got []float64
	for _, part := range [][]float64{a.AR, a.MA, a.SAR, a.SMA} {
		got = append(got, part...)
	}
	if a.Constant {
		got = append(got, a.Mean)
	}
	return got
}

func withCoefficients(o ARIMAOrder, c []float64) *ARIMA {
	a := &ARIMA{ARIMAOrder: o}
	next := func(k int) []float64 { v := c[:k]; c = c[k:]; return v }
	a.AR, a.MA, a.SAR, a.SMA = next(o.P), next(o.Q), next(o.SP), next(o.SQ)
	if o.Constant {
		a.Mean = c[0]
	}
	return a
}

func closeAll(got, want []float64, rel float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > rel*max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

// TestARIMARecoversItsModel fits an ARMA(1,1) with a mean to 2,000 rows
// drawn from it.
func TestARIMARecoversItsModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 2000)
	var prev, prevE float64
	for i := range y {
		e := rng.NormFloat64()
		x := 0.6*prev + e + 0.3*prevE
		prev, prevE = x, e
		y[i] = 10 + x
	}
	a, err := FitARIMA(y, ARIMAOrder{P: 1, Q: 1, Constant: true})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.AR[0]-0.6) > 0.06 || math.Abs(a.MA[0]-0.3) > 0.06 || math.Abs(a.Mean-10) > 0.2 || math.Abs(a.Sigma2-1) > 0.1 {
		t.Errorf("got ar %.3f ma %.3f mean %.3f σ² %.3f, want 0.6, 0.3, 10, 1", a.AR[0], a.MA[0], a.Mean, a.Sigma2)
	}
}

func TestARIMAForecastOrigins(t *testing.T) {
	y := airPassengers(t).Values[0][:120]
	a, err := FitARIMA(y[:96], ARIMAOrder{P: 1, D: 1, SD: 1, Season: 12})
	if err != nil {
		t.Fatal(err)
	}
	// A forecast from an origin uses only the rows before it: the same as
	// forecasting the end of the series cut there.
	all := a.Forecast(y, []int{5, 100, 110}, 2)
	for i, o := range []int{100, 110} {
		got, want := all[i+1], a.Forecast(y[:o], []int{o}, 2)[0]
		for j := range got {
			if math.Abs(got[j]-want[j]) > 1e-9 {
				t.Errorf("origin %d: %v, want %v", o, got, want)
			}
		}
	}
	if all[0][0] != y[4] || all[0][1] != y[4] {
		t.Errorf("origin 5, before the differences' 13 rows: %v, want the row before it, %v", all[0], y[4])
	}
}

func TestARIMABadInput(t *testing.T) {
	for _, c := range []struct {
		y    []float64
		o    ARIMAOrder
		want string
	}{
		{make([]float64, 10), ARIMAOrder{P: 1, D: 1, SD: 1, Season: 12}, "needs"},
		{[]float64{1, 2, math.NaN(), 4, 5, 6, 7}, ARIMAOrder{P: 1}, "row 2"},
		{make([]float64, 50), ARIMAOrder{SP: 1}, "season"},
		{make([]float64, 50), ARIMAOrder{D: 2, Constant: true}, "constant"},
	} {
		if _, err := FitARIMA(c.y, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FitARIMA(%s): %v, want an error with %q", c.o.Name(), err, c.want)
		}
	}
}

func TestARIMAOrderName(t *testing.T) {
	for _, c := range []struct {
		o    ARIMAOrder
		want string
	}{
		{ARIMAOrder{P: 1, D: 1, Season: 12}, "ARIMA(1,1,0)"},
		{ARIMAOrder{SD: 1, Season: 12, Constant: true}, "ARIMA(0,0,0)(0,1,0)[12] with drift"},
		{ARIMAOrder{P: 2, Q: 1, Constant: true}, "ARIMA(2,0,1) with non-zero mean"},
	} {
		if got := c.o.Name(); got != c.want {
			t.Errorf("%+v: %q, want R's %q", c.o, got, c.want)
		}
	}
}
