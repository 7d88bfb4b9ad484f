package model

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec("m.yaml", []byte("task: forecast\nhidden: 16\nlayers: 2\n"))
	if err != nil || s.Task != Forecast || s.Hidden != 16 || s.Layers != 2 {
		t.Fatalf("ParseSpec = %+v, %v", s, err)
	}
	s, err = ParseSpec("m.json", []byte(`{"task":"lm","vocab":10}`))
	if err != nil || s.Task != LM || s.Vocab != 10 {
		t.Fatalf("ParseSpec(json) = %+v, %v", s, err)
	}
	for _, bad := range []struct{ name, text, want string }{
		{"a.yaml", "task: forecast\nhiden: 3\n", "line 2"},
		{"a.json", `{"task":"lm","vocab":"x"}`, "a.json"},
		{"a.yaml", "task: [\n", "a.yaml"},
	} {
		if _, err := ParseSpec(bad.name, []byte(bad.text)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseSpec(%q) error = %v, want one containing %q", bad.text, err, bad.want)
		}
	}
}

func TestBuildValidates(t *testing.T) {
	for _, c := range []struct {
		spec  Spec
		field string
	}{
		{Spec{Task: "poetry"}, "task"},
		{Spec{Task: Forecast, Cell: "tree"}, "cell"},
		{Spec{Task: Forecast, Dropout: 1}, "dropout"},
		{Spec{Task: Forecast, Inputs: 1, Targets: 2}, "targets"},
		{Spec{Task: Classify, Vocab: 10, Classes: 1}, "classes"},
		{Spec{Task: LM}, "vocab"},
		{Spec{Task: LM, Vocab: 5, Bidirectional: true}, "bidirectional"},
		{Spec{Task: LM, Vocab: 5, Embed: 3, Hidden: 4, Tie: true}, "tie"},
		{Spec{Task: Forecast, InputDropout: -0.1}, "input_dropout"},
		{Spec{Task: Forecast, RecurrentDropout: 1}, "recurrent_dropout"},
		{Spec{Task: Forecast, WeightDrop: 1.5}, "weight_drop"},
		{Spec{Task: LM, Vocab: 5, Zoneout: 1}, "zoneout"},
		{Spec{Task: LM, Vocab: 5, EmbedDropout: 1}, "embed_dropout"},
		{Spec{Task: Forecast, EmbedDropout: 0.1}, "embed_dropout"},
		{Spec{Task: Forecast, Init: "uniform"}, "init"},
		{Spec{Task: Forecast, InitRecurrent: "nope"}, "init_recurrent"},
		{Spec{Task: Forecast, Cell: "gru", ForgetBias: 1}, "forget_bias"},
		{Spec{Task: Seq2Seq, Vocab: 5, TgtVocab: 5, Zoneout: 0.1}, "zoneout"},
		{Spec{Task: Seq2Seq, Vocab: 5, TgtVocab: 5, Cell: "gru", Proj: 2}, "proj"},
		{Spec{Task: Forecast, Cell: "gru", Proj: 2}, "proj"},
		{Spec{Task: Forecast, Hidden: 4, Proj: 4}, "proj"},
		{Spec{Task: Tag, Inputs: 2}, "classes"},
		{Spec{Task: Tag, Inputs: 2, Hidden: 4, Targets: 3, NoHead: true}, "no_head"},
	} {
		_, err := Build(c.spec, 1)
		se, ok := err.(*SpecError)
		if !ok || se.Field != c.field {
			t.Errorf("Build(%+v) error = %v, want a SpecError on %q", c.spec, err, c.field)
		}
	}
	for _, cell := range []string{"lstm", "gru", "rnn", "rnn_relu", "RNN_TANH"} {
		if _, err := Build(Spec{Task: Forecast, Cell: cell, Hidden: 3}, 1); err != nil {
			t.Errorf("cell %s: %v", cell, err)
		}
	}
}

// TestRegularizersAndInit checks that the spec's initialization reaches
// the recurrent layer, and that the dropout kinds act in training only.
func TestRegularizersAndInit(t *testing.T) {
	built, err := Build(Spec{Task: LM, Vocab: 7, Hidden: 4, Layers: 2, ForgetBias: 1, Init: "glorot_uniform", InitRecurrent: "orthogonal",
		InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.3, Zoneout: 0.1, EmbedDropout: 0.3}, 3)
	if err != nil {
		t.Fatal(err)
	}
	m := built.(*LanguageModel)
	if m.Spec().Init != "xavier_uniform" {
		t.Errorf("Spec.Init = %q, want the canonical xavier_uniform", m.Spec().Init)
	}
	ps, err := nn.ByName(m.Params())
	if err != nil {
		t.Fatal(err)
	}
	bih, bhh := ps["rnn.bias_ih_l0"].Value.Data, ps["rnn.bias_hh_l0"].Value.Data
	for j := 4; j < 8; j++ { // the f block of 4 gates × H=4
		if bih[j] != 1 || bhh[j] != 0 {
			t.Fatalf("forget bias %d: got ih %v hh %v, want 1 and 0", j, bih[j], bhh[j])
		}
	}
	plain, err := Build(Spec{Task: LM, Vocab: 7, Hidden: 4, Layers: 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := nn.ByName(plain.Params())
	if err != nil {
		t.Fatal(err)
	}
	if w, d := ps["rnn.weight_hh_l0"].Value.Data, pp["rnn.weight_hh_l0"].Value.Data; w[0] == d[0] && w[1] == d[1] {
		t.Errorf("orthogonal weight_hh_l0 starts %v, the same as the default init", w[:2])
	}
	ids := []int{1, 2, 3, 4, 5, 6, 1, 2}
	infer := func() []float32 { return m.net.embed(nil, ids, 4, 2).Value.Data }
	a, b := infer(), infer()
	same, zero := true, 0
	for i := range a {
		same = same && a[i] == b[i]
	}
	for range 10 { // P(no word of six dropped in ten passes) = 0.7^60
		tp := &nn.Tape{}
		tr := m.net.embed(tp, ids, 4, 2).Value.Data
		for i := range tr {
			switch {
			case tr[i] == 0:
				zero++
			case math.Abs(float64(tr[i])-float64(a[i])/0.7) > 1e-6:
				t.Fatalf("training embedding[%d] = %v, want 0 or %v/0.7", i, tr[i], a[i])
			}
		}
	}
	if !same {
		t.Error("embedding dropout changed inference")
	}
	if zero == 0 {
		t.Error("embedding dropout 0.3 dropped no word of a training pass")
	}
}

func TestParamNames(t *testing.T) {
	m, err := Build(Spec{Task: Forecast, Hidden: 4, Layers: 2, Inputs: 3, Horizon: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	want := "rnn.weight_ih_l0 rnn.weight_hh_l0 rnn.bias_ih_l0 rnn.bias_hh_l0 rnn.weight_ih_l1 rnn.weight_hh_l1 rnn.bias_ih_l1 rnn.bias_hh_l1 head.weight head.bias"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("parameter names\ngot  %s\nwant %s", got, want)
	}
	if got, want := m.(*Forecaster).net.head.Weight.Value.Shape, []int{2, 4}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("head weight shape %v, want %v", got, want)
	}
}

// sine returns a frame with a noise-free seasonal series of n rows.
func sine(n int) *series.Frame {
	v := make([]float64, n)
	for i := range v {
		v[i] = 10 + 3*math.Sin(2*math.Pi*float64(i)/12) + 0.05*float64(i)
	}
	f, _ := series.NewFrame([]string{"y"}, [][]float64{v})
	f.Name = "sine"
	return f
}

func sineConfig(epochs int) ForecastConfig {
	return ForecastConfig{Spec: Spec{Hidden: 16, Residual: true}, Lookback: 12, Horizon: 3, ValFraction: 0.1,
		Fit: FitConfig{Seed: 3, Optim: optim.Config{LR: 0.01}, Train: train.Config{Epochs: epochs, ClipNorm: 1}}}
}

func trainForecaster(t *testing.T, f *series.Frame, cfg ForecastConfig) (*Forecaster, *ForecastReport) {
	t.Helper()
	fc, err := NewForecaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := fc.Fit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return fc, rep
}

func TestForecastLearnsAndRoundTrips(t *testing.T) {
	fc, rep := trainForecaster(t, sine(180), sineConfig(40))
	var pers series.Metrics
	for _, b := range rep.Baselines {
		if b.Name == "persistence" {
			pers = b.Metrics
		}
	}
	if rep.Test.RMSE >= pers.RMSE || rep.Valid == nil || rep.Season != 12 {
		t.Errorf("test RMSE %v not below persistence %v, or no validation %v, or season %d", rep.Test.RMSE, pers.RMSE, rep.Valid, rep.Season)
	}
	if math.IsNaN(rep.Test.MASE) || rep.Test.SMAPE <= 0 || rep.Forecast.Shape[1] != 3 || len(rep.Origins) != rep.Forecast.Shape[0] {
		t.Errorf("report: MASE %v sMAPE %v forecast %v origins %d", rep.Test.MASE, rep.Test.SMAPE, rep.Forecast.Shape, len(rep.Origins))
	}

	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := fc.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := LoadForecaster(path)
	if err != nil {
		t.Fatal(err)
	}
	e1, err := fc.Evaluate(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	e2, err := g.Evaluate(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	if e1.Metrics != e2.Metrics || e1.Windows != 180-12-3+1 || len(e1.Baselines) != 2 {
		t.Errorf("reloaded model scores %+v, original %+v (%d windows, %d baselines)", e2.Metrics, e1.Metrics, e1.Windows, len(e1.Baselines))
	}
	a, err := fc.Predict(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Predict(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Values) != 3 || a.Values[0][0] != b.Values[0][0] || a.Values[2][0] != b.Values[2][0] {
		t.Errorf("Predict: %v vs reloaded %v", a, b)
	}
	// The forecast continues the series: within a few units of the truth.
	truth := sine(183).Values[0][180:]
	for h := range 3 {
		if d := math.Abs(a.Values[h][0] - truth[h]); d > 2 {
			t.Errorf("forecast step %d = %v, series continues with %v", h+1, a.Values[h][0], truth[h])
		}
	}
	if _, err := NewForecaster(ForecastConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Forecaster{}).Predict(sine(10)); err == nil || !strings.Contains(err.Error(), "no weights") {
		t.Errorf("Predict before Fit: %v", err)
	}
}

// TestForecastPlainSliceNoValidation trains on a []float32 with no
// validation split (which once passed a typed nil to the trainer and
// panicked) and on a 24-point yearly series, whose defaults must adapt.
func TestForecastPlainSliceNoValidation(t *testing.T) {
	y := make([]float32, 60)
	for i := range y {
		y[i] = float32(5 + math.Sin(float64(i)/3))
	}
	cfg := ForecastConfig{Spec: Spec{Hidden: 8}, Fit: FitConfig{Train: train.Config{Epochs: 2}}}
	fc, rep := trainForecaster(t, series.Of(y), cfg)
	if rep.Valid != nil || fc.Prep().Pipeline.Columns[0] != "y" || rep.Lookback < 1 {
		t.Errorf("valid %v, columns %v, lookback %d", rep.Valid, fc.Prep().Pipeline.Columns, rep.Lookback)
	}
	yearly := make([]float64, 24)
	for i := range yearly {
		yearly[i] = 100 + float64(i*i%7)
	}
	_, rep = trainForecaster(t, series.Of(yearly), cfg)
	if rep.Lookback > 5 || len(rep.Notes) == 0 || !strings.Contains(strings.Join(rep.Notes, "; "), "lookback") {
		t.Errorf("24-point series: lookback %d, notes %q", rep.Lookback, rep.Notes)
	}
}

func TestForecastBidirectionalAndCells(t *testing.T) {
	for _, s := range []Spec{{Bidirectional: true, Hidden: 6}, {Cell: "gru", Hidden: 6}, {Cell: "rnn", Hidden: 6}, {Proj: 3, Hidden: 6, Layers: 2}} {
		cfg := sineConfig(3)
		cfg.Spec = s
		fc, rep := trainForecaster(t, sine(80), cfg)
		if math.IsNaN(rep.Test.RMSE) {
			t.Errorf("%+v: RMSE %v", s, rep.Test.RMSE)
		}
		var rev bool
		for _, p := range fc.Params() {
			rev = rev || strings.HasSuffix(p.Name, "_reverse")
		}
		if rev != s.Bidirectional {
			t.Errorf("%+v: reverse parameters %v", s, rev)
		}
	}
}

func TestForecastCleaning(t *testing.T) {
	f := sine(100)
	f.Values[0][30] = math.NaN()
	f.Values[0][50] = 99999
	cfg := sineConfig(2)
	if _, err := NewForecaster(cfg); err != nil {
		t.Fatal(err)
	}
	fc, _ := NewForecaster(cfg)
	if _, err := fc.Fit(context.Background(), f); err == nil || !strings.Contains(err.Error(), "sine:31") {
		t.Errorf("a missing value without cleaning: %v, want an error naming line 31", err)
	}
	cfg.Clean = series.CleanConfig{Missing: series.MissingInterpolate, Outliers: series.OutliersZScore}
	_, rep := trainForecaster(t, f, cfg)
	if len(rep.Cleaning.Missing) != 1 || len(rep.Cleaning.Outliers) != 1 {
		t.Errorf("cleaning report: %v", rep.Cleaning)
	}
}

func TestLoadRejectsNonModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := checkpoint.Write(path, checkpoint.New()); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "not a recur model") {
		t.Errorf("Load(plain file) error = %v", err)
	}
}

// TestLoadLegacyForecaster reads a forecaster file in the format written
// before the pipeline (log and scaler side by side).
func TestLoadLegacyForecaster(t *testing.T) {
	f := modelFile(t)
	f.Metadata[MetaPrep] = `{"inputs":["y"],"targets":["y"],"lookback":12,"horizon":1,"season":12,"log":{"columns":["y"],"log1p":false},"scaler":{"method":"minmax","columns":["y"],"center":[4.6],"scale":[1.8]}}`
	path := filepath.Join(t.TempDir(), "old.safetensors")
	if err := checkpoint.Write(path, f); err != nil {
		t.Fatal(err)
	}
	fc, err := LoadForecaster(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := fc.Predict(sine(20))
	if err != nil || len(out.Values) != 1 || !(out.Values[0][0] > 0) {
		t.Errorf("legacy forecaster predicts %v, %v", out, err)
	}
	if _, err := LoadClassifier(path); err == nil || !strings.Contains(err.Error(), "not a classify model") {
		t.Errorf("LoadClassifier of a forecaster: %v", err)
	}
}

func TestForecastConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  ForecastConfig
		want string
	}{
		{ForecastConfig{Targets: []string{"nosuch"}}, "nosuch"},
		{ForecastConfig{Lookback: 100}, "rows"},
	} {
		fc, err := NewForecaster(c.cfg)
		if err == nil {
			_, err = fc.Fit(context.Background(), sine(60))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error = %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	for _, cfg := range []ForecastConfig{{TestFraction: 1.5}, {ValFraction: 0.5, TestFraction: 0.5}, {Lookback: -1},
		{Spec: Spec{Cell: "tree"}}, {Fit: FitConfig{BatchSize: -3}}} {
		if _, err := NewForecaster(cfg); err == nil {
			t.Errorf("NewForecaster(%+v) accepted", cfg)
		}
	}
}

func TestTransfer(t *testing.T) {
	src, err := Build(Spec{Task: Classify, Vocab: 20, Hidden: 6, Classes: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := checkpoint.New()
	if err := f.AddParams(src.Params()); err != nil {
		t.Fatal(err)
	}
	built, err := Build(Spec{Task: Classify, Vocab: 20, Hidden: 6, Classes: 3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	dst := built.(*Classifier)
	tr, err := dst.InitFrom(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Matched) != 5 || strings.Join(tr.Fresh, " ") != "head.weight head.bias" {
		t.Errorf("transfer %v", tr)
	}
	if dst.Params()[1].Value.Data[3] != src.Params()[1].Value.Data[3] {
		t.Error("recurrent weights not copied")
	}
	opt, err := dst.newOptimizer("sgd", optim.Config{LR: 0.1}, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if len(opt.Groups()) != 2 || opt.LR(0) != 0.01 || opt.LR(1) != 0.1 {
		t.Errorf("groups %d, LRs %v %v", len(opt.Groups()), opt.LR(0), opt.LR(1))
	}
	other, _ := Build(Spec{Task: Forecast, Hidden: 3}, 1)
	if _, err := other.InitFrom(f); err == nil {
		t.Error("InitFrom with nothing in common succeeded")
	}
}

func TestGateSaturation(t *testing.T) {
	m, err := Build(Spec{Task: Forecast, Hidden: 4, Inputs: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(3, 2, 2)
	b := &ForecastBatch{X: x}
	s, ok := GateSaturation(m, b)
	if !ok || s.Input != 0 || s.Forget != 0 {
		t.Errorf("small weights, zero input: saturation %+v %v, want none", s, ok)
	}
	rnn := m.(*Forecaster).net.rnn
	for _, p := range rnn.Params() {
		p.Value.Fill(0)
	}
	rnn.Params()[2].Value.Fill(10) // bias_ih: every gate pre-activation is 10
	s, ok = GateSaturation(m, b)
	if !ok || s.Input != 1 || s.Forget != 1 || s.Cell != 1 || s.Output != 1 {
		t.Errorf("large biases: saturation %+v, want all 1", s)
	}
	// Every activation is σ(10) or tanh(10): all in the top bin.
	for g, h := range s.Histogram {
		if len(h) != HistogramBins || h[HistogramBins-1] != 1 {
			t.Errorf("gate %d histogram %v, want everything in the last bin", g, h)
		}
	}
	g, _ := Build(Spec{Task: Forecast, Cell: "gru", Hidden: 4}, 1)
	if _, ok := GateSaturation(g, b); ok {
		t.Error("GRU reported LSTM gate saturation")
	}
}

// TestDeterministicAcrossThreads trains the same forecaster with one and
// with several worker threads: the weights must be identical.
func TestDeterministicAcrossThreads(t *testing.T) {
	run := func(procs int) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		fc, _ := trainForecaster(t, sine(120), sineConfig(3))
		var w []float32
		for _, p := range fc.Params() {
			w = append(w, p.Value.Data...)
		}
		return w
	}
	a, b := run(1), run(4)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d: %v with GOMAXPROCS=1, %v with 4", i, a[i], b[i])
		}
	}
}
