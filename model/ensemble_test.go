package model

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/nn"
)

// An ensemble's members train side by side, each as if alone: without
// clipping or dropout, the first member ends where a single network of
// the same seed does; the forecast is the members' mean.
func TestEnsembleMembersTrainAsIfAlone(t *testing.T) {
	cfg := sineConfig(5)
	cfg.Spec.Base, cfg.ValFraction, cfg.Fit.Train.ClipNorm = "", 0, 0
	single, _ := trainForecaster(t, sine(120), cfg)
	cfg.Spec.Ensemble = 3
	ens, _ := trainForecaster(t, sine(120), cfg)
	if got, want := len(ens.Params()), 3*len(single.Params()); got != want {
		t.Fatalf("%d parameters, want %d", got, want)
	}
	names := map[string]*nn.Param{}
	for _, p := range ens.Params() {
		names[p.Name] = p
	}
	for _, p := range single.Params() {
		q := names[p.Name]
		if q == nil || names["ensemble.2."+p.Name] == nil {
			t.Fatalf("no %s or ensemble.2.%s in %d names", p.Name, p.Name, len(names))
		}
		for i, v := range p.Value.Data {
			if d := math.Abs(float64(v - q.Value.Data[i])); d > 1e-4*(1+math.Abs(float64(v))) {
				t.Fatalf("%s[%d]: member 0 %v, single network %v", p.Name, i, q.Value.Data[i], v)
			}
		}
	}
	// The forecast is the mean of the members' forecasts.
	b := windowBatch(sineWindows(t), 0, 4)
	x := nn.Constant(b.X)
	mean := ens.net.forward(nil, x, nil).Value
	each := ens.net.forwardEach(nil, x, nil)
	for i, v := range mean.Data {
		s := float32(0)
		for _, y := range each {
			s += y.Value.Data[i]
		}
		if math.Abs(float64(v-s/3)) > 1e-6 {
			t.Fatalf("output %d: %v, members' mean %v", i, v, s/3)
		}
	}
	if each[0].Value.Data[0] == each[1].Value.Data[0] {
		t.Error("members 0 and 1 forecast alike: not initialized apart")
	}
	g := reload[*Forecaster](t, ens)
	p1, _ := ens.Predict(sine(120))
	p2, err := g.Predict(sine(120))
	if err != nil || p1.Values[0][0] != p2.Values[0][0] {
		t.Errorf("reloaded ensemble forecasts %v, want %v (%v)", p2, p1, err)
	}
}

// sineWindows returns the test windows of the sine series, scaled.
func sineWindows(t *testing.T) *series.Windows {
	t.Helper()
	pr, err := series.Prepare(sine(120), series.PrepareConfig{Window: series.WindowConfig{Lookback: 12, Horizon: 3}, Test: 0.33})
	if err != nil {
		t.Fatal(err)
	}
	return pr.Test
}

func TestEnsembleErrors(t *testing.T) {
	for _, c := range []struct {
		s    Spec
		want string
	}{
		{Spec{Task: Classify, Vocab: 5, Classes: 2, Ensemble: 2}, "ensemble"},
		{Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Ensemble: 65}, "ensemble"},
		{Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Ensemble: -1}, "ensemble"},
	} {
		if _, err := Build(c.s, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.s, err, c.want)
		}
	}
}

// Every member of an ensemble is quantized, and the quantized file loads
// with each member's int8 or bf16 weights.
func TestEnsembleQuantizes(t *testing.T) {
	cfg := sineConfig(3)
	cfg.Spec.Ensemble, cfg.Spec.Base = 3, ""
	f, _ := trainForecaster(t, sine(120), cfg)
	want, _ := f.Predict(sine(120))
	for _, kind := range []nn.QuantKind{nn.QuantInt8, nn.QuantBF16} {
		q, err := QuantizeAs(f, kind)
		if err != nil {
			t.Fatal(err)
		}
		file, err := q.File()
		if err != nil {
			t.Fatal(err)
		}
		if kind == nn.QuantInt8 && file.Int8["ensemble.2.rnn.weight_hh_l0"] == nil || kind == nn.QuantBF16 && file.BF16["ensemble.1.head.weight"] == nil {
			t.Fatalf("%v: members not quantized (%d int8, %d bf16 tensors)", kind, len(file.Int8), len(file.BF16))
		}
		g := reload[*Forecaster](t, q)
		got, err := g.Predict(sine(120))
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(got.Values[0][0] - want.Values[0][0]); d > 0.05 {
			t.Errorf("%v: forecast %v, float32 %v", kind, got.Values[0][0], want.Values[0][0])
		}
	}
}
