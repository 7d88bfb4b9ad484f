package model

import (
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/nn"
)

// hiddenStats returns the mean of h² and of (h[t]-h[t-1])² of the
// forecaster's recurrent output over every window of f.
func hiddenStats(t *testing.T, fc *Forecaster, f *series.Frame) (ar, tar float64) {
	t.Helper()
	p := fc.prep.Pipeline
	z, err := p.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := series.MakeWindows(z, series.WindowConfig{Lookback: p.Lookback, Horizon: p.Horizon, Inputs: p.Inputs, Targets: p.Targets}, series.Range{From: 0, To: z.Len()})
	if err != nil {
		t.Fatal(err)
	}
	b := windowBatch(w, 0, w.Len())
	out, _ := fc.net.rnn.Forward(nil, nn.Constant(b.X), nil, nil)
	T, BF := out.Value.Shape[0], out.Value.Shape[1]*out.Value.Shape[2]
	h := out.Value.Data
	for i, v := range h {
		ar += float64(v * v)
		if i >= BF {
			d := float64(v - h[i-BF])
			tar += d * d
		}
	}
	return ar / float64(len(h)), tar / float64((T-1)*BF)
}

func TestActivationRegularization(t *testing.T) {
	train := func(ar, tar float64) (float64, float64) {
		cfg := sineConfig(15)
		cfg.Fit.AR, cfg.Fit.TAR = ar, tar
		fc, _ := trainForecaster(t, sine(180), cfg)
		return hiddenStats(t, fc, sine(180))
	}
	ar0, tar0 := train(0, 0)
	ar1, _ := train(5, 0)
	_, tar2 := train(0, 50)
	t.Logf("mean h² %.4f → %.4f with AR; mean Δh² %.5f → %.5f with TAR", ar0, ar1, tar0, tar2)
	if ar1 >= 0.8*ar0 {
		t.Errorf("AR 5: mean h² %.4f, without %.4f: want it at least 20%% smaller", ar1, ar0)
	}
	if tar2 >= 0.8*tar0 {
		t.Errorf("TAR 50: mean Δh² %.5f, without %.5f: want it at least 20%% smaller", tar2, tar0)
	}
	cfg := sineConfig(1)
	cfg.Fit.AR = -1
	fc, _ := NewForecaster(cfg)
	if _, err := fc.Fit(t.Context(), sine(60)); err == nil || !strings.Contains(err.Error(), "AR") {
		t.Errorf("AR -1: got %v, want an error naming AR", err)
	}
}
