package model

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// related returns n short seasonal series of 96 rows that share a shape
// (season 12, a phase and a trend each) at very different levels and
// scales, with a little noise: what a global model learns across and a
// single short series barely shows.
func related(n int) []*series.Frame {
	rng := tensor.NewRNG(7)
	var out []*series.Frame
	for s := range n {
		level := math.Pow(10, float64(s%4)) * (5 + float64(s))
		amp := level * (0.1 + 0.02*float64(s%5))
		phase := float64(s)
		v := make([]float64, 96)
		for i := range v {
			v[i] = level + amp*math.Sin(2*math.Pi*(float64(i)+phase)/12) + level*0.004*float64(i) + rng.Normal(0, amp*0.05)
		}
		f, _ := series.NewFrame([]string{"y"}, [][]float64{v})
		f.Name = fmt.Sprintf("s%02d", s)
		out = append(out, f)
	}
	return out
}

func globalConfig(epochs int) GlobalConfig {
	return GlobalConfig{Spec: Spec{Hidden: 24}, Lookback: 12, TestFraction: 0.2, ValFraction: 0.1, Season: 12,
		Fit: FitConfig{Seed: 1, BatchSize: 32, Optim: optim.Config{LR: 0.01}, Train: train.Config{Epochs: epochs, ClipNorm: 1}}}
}

func TestGlobalForecasterLearnsAcrossSeries(t *testing.T) {
	data := related(16)
	g, err := NewGlobalForecaster(globalConfig(30))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Fit(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Series) != 16 || rep.Lookback != 12 || rep.Series[3].Name != "s03" {
		t.Fatalf("%d series, lookback %d", len(rep.Series), rep.Lookback)
	}
	byName := map[string]MethodScore{}
	for _, m := range rep.Summary {
		byName[m.Name] = m
	}
	model, pers, sn := byName["global model"], byName["persistence"], byName["seasonal naive"]
	if pers.Of != 16 || sn.Of != 16 {
		t.Fatalf("summary %+v", rep.Summary)
	}
	// The season is all there is to learn; persistence misses it
	// entirely and seasonal naive misses the trend and the noise.
	if !(model.MASE < 0.8*pers.MASE) || pers.Beaten < 14 {
		t.Errorf("global model MASE %.3f, persistence %.3f (beaten on %d of 16)", model.MASE, pers.MASE, pers.Beaten)
	}
	// Scores are each series' own: level and scale differ by 10^4.
	if r0, r3 := rep.Series[0].Test.RMSE, rep.Series[3].Test.RMSE; !(r3 > 100*r0) {
		t.Errorf("RMSE of s00 %v and s03 %v: not in each series' units", r0, r3)
	}
	if got := g.Series(); len(got) != 16 || got[15] != "s15" {
		t.Errorf("Series() = %q", got)
	}
	h := reload[*GlobalForecaster](t, g)
	q, err := Quantize(g)
	if err != nil {
		t.Fatal(err)
	}
	hq := reload[*GlobalForecaster](t, q)
	for _, f := range []*series.Frame{data[5], data[12]} {
		a, err := g.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		if a.Values[0][0] != b.Values[0][0] {
			t.Errorf("%s: %v, reloaded %v", f.Name, a.Values[0][0], b.Values[0][0])
		}
		c, err := hq.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(c.Values[0][0] - a.Values[0][0]); d == 0 || d > 0.02*math.Abs(a.Values[0][0]) {
			t.Errorf("%s: the int8 model forecasts %v, float32 %v", f.Name, c.Values[0][0], a.Values[0][0])
		}
	}
}

// A series not seen in training is scaled on its own rows (minmax) and
// its windows are seen relative to their last value, so an affine change
// of its units changes the forecast by the same map.
func TestGlobalForecasterUnseenSeriesIsUnitFree(t *testing.T) {
	g, err := NewGlobalForecaster(globalConfig(3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Fit(context.Background(), related(4)); err != nil {
		t.Fatal(err)
	}
	y := related(6)[5]
	y.Name = "new"
	z := y.Clone()
	for i, v := range z.Values[0] {
		z.Values[0][i] = 250*v - 40
	}
	a, err := g.Predict(y)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Predict(z)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Values[0][0], 250*a.Values[0][0]-40; math.Abs(got-want) > 1e-4*math.Abs(want) {
		t.Errorf("forecast of 250y-40: %v, want %v (forecast of y %v)", got, want, a.Values[0][0])
	}
	ev, err := g.Evaluate(y)
	if err != nil || ev.Windows != y.Len()-12 {
		t.Errorf("Evaluate: %+v, %v", ev, err)
	}
}

func TestGlobalForecasterErrors(t *testing.T) {
	if _, err := NewGlobalForecaster(GlobalConfig{Scale: series.NoScale}); err == nil || !strings.Contains(err.Error(), "Scale") {
		t.Errorf("no scaling: %v", err)
	}
	short, _ := series.NewFrame([]string{"y"}, [][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}})
	short.Name = "tiny"
	twice := related(2)
	twice[1].Name = twice[0].Name
	for _, c := range []struct {
		data []*series.Frame
		want string
	}{
		{nil, "no series"},
		{twice, `two series are named "s00"`},
		{append(related(2), short), "series tiny has 7 training rows; lookback 12 and horizon 1 need 13"},
	} {
		g, err := NewGlobalForecaster(globalConfig(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.Fit(context.Background(), c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	g, _ := NewGlobalForecaster(globalConfig(1))
	if _, err := g.Predict(related(1)[0]); err == nil {
		t.Error("Predict before Fit: no error")
	}
	// A model file whose series share a name (edited by hand) is refused.
	if _, err := g.Fit(context.Background(), related(2)); err != nil {
		t.Fatal(err)
	}
	f, err := g.File()
	if err != nil {
		t.Fatal(err)
	}
	f.Metadata[MetaPrep] = strings.Replace(f.Metadata[MetaPrep], `"name":"s01"`, `"name":"s00"`, 1)
	if _, err := FromFile("edited", f); err == nil || !strings.Contains(err.Error(), `two series are named "s00"`) {
		t.Errorf("a file with two series of one name: %v", err)
	}
}

// With a Holt-Winters base, the network corrects each series' own
// Holt-Winters forecast: untrained (a head of zeros) it is Holt-Winters on
// every series; with validation rows the correction is kept only when it
// lowers the validation loss over all series.
func TestGlobalForecasterHoltWintersBase(t *testing.T) {
	cfg := globalConfig(2)
	cfg.Spec.Base, cfg.ValFraction = "holt-winters", 0
	cfg.Fit.Optim.LR = 1e-9
	g, err := NewGlobalForecaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Fit(context.Background(), related(6))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Series {
		var hw float64
		for _, b := range s.Baselines {
			if strings.HasPrefix(b.Name, "holt-winters") {
				hw = b.Metrics.RMSE
			}
		}
		if math.Abs(s.Test.RMSE-hw) > 1e-3*hw {
			t.Errorf("%s: an untrained correction scores %v, Holt-Winters %v", s.Name, s.Test.RMSE, hw)
		}
	}
	y := related(7)[6]
	y.Name = "new"
	h := reload[*GlobalForecaster](t, g)
	for _, f := range []*series.Frame{related(2)[1], y} {
		a, err := g.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.Predict(f)
		if err != nil || a.Values[0][0] != b.Values[0][0] {
			t.Errorf("%s: %v, reloaded %v (%v)", f.Name, a.Values[0][0], b.Values[0][0], err)
		}
	}
	cfg = globalConfig(10)
	cfg.Spec.Base = "holt-winters"
	g, _ = NewGlobalForecaster(cfg)
	if rep, err = g.Fit(context.Background(), related(6)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.BaseChoice, "the network's correction") || !strings.Contains(rep.BaseChoice, "refitted") {
		t.Errorf("BaseChoice %q", rep.BaseChoice)
	}
	if _, err := NewGlobalForecaster(GlobalConfig{Spec: Spec{Base: "arima"}}); err == nil || !strings.Contains(err.Error(), "Spec.Base") {
		t.Errorf("base arima: %v", err)
	}
}

// A constant series has no naive scale: its MASE is left out of the
// means, which stay finite, and the model file is written.
func TestGlobalForecasterConstantSeries(t *testing.T) {
	data := related(3)
	for i := range data[0].Values[0] {
		data[0].Values[0][i] = 7
	}
	g, err := NewGlobalForecaster(globalConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Fit(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Summary[0].MASE; math.IsNaN(m) || math.IsInf(m, 0) {
		t.Errorf("mean MASE %v over a constant series and two others", m)
	}
	if err := g.Save(filepath.Join(t.TempDir(), "m.safetensors")); err != nil {
		t.Fatal(err)
	}
}
