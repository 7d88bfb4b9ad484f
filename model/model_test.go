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
	} {
		_, err := Build(c.spec, 1)
		se, ok := err.(*SpecError)
		if !ok || se.Field != c.field {
			t.Errorf("Build(%+v) error = %v, want a SpecError on %q", c.spec, err, c.field)
		}
	}
}

// TestRegularizersAndInit checks that the spec's initialization reaches
// the recurrent layer, and that the dropout kinds act in training only.
func TestRegularizersAndInit(t *testing.T) {
	m, err := Build(Spec{Task: LM, Vocab: 7, Hidden: 4, Layers: 2, ForgetBias: 1, Init: "glorot_uniform", InitRecurrent: "orthogonal",
		InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.3, Zoneout: 0.1, EmbedDropout: 0.3}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spec.Init != "xavier_uniform" {
		t.Errorf("Spec.Init = %q, want the canonical xavier_uniform", m.Spec.Init)
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
	infer := func() []float32 { return m.embed(nil, ids, 4, 2).Value.Data }
	a, b := infer(), infer()
	same, zero := true, 0
	for i := range a {
		same = same && a[i] == b[i]
	}
	for range 10 { // P(no word of six dropped in ten passes) = 0.7^60
		tp := &nn.Tape{}
		tr := m.embed(tp, ids, 4, 2).Value.Data
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
	if got, want := m.head.Weight.Value.Shape, []int{2, 4}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("head weight shape %v, want %v", got, want)
	}
}

// sine returns a frame with a noisy-free seasonal series of n rows.
func sine(n int) *series.Frame {
	v := make([]float64, n)
	for i := range v {
		v[i] = 10 + 3*math.Sin(2*math.Pi*float64(i)/12) + 0.05*float64(i)
	}
	f, _ := series.NewFrame([]string{"y"}, [][]float64{v})
	f.Name = "sine"
	return f
}

func trainForecaster(t *testing.T, f *series.Frame, epochs int) (*ForecastSplits, *ForecastTask) {
	t.Helper()
	sp, err := PrepareForecast(f, ForecastOptions{Lookback: 12, Horizon: 3}, 8)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(sp.Prep.SpecFor(Spec{Hidden: 16, Residual: true}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetForecastPrep(sp.Prep); err != nil {
		t.Fatal(err)
	}
	task := &ForecastTask{M: m, Prep: sp.Prep}
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(task, opt, train.Config{Epochs: epochs, Shuffle: true, Seed: 1, ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), sp.Train, sp.Val); err != nil {
		t.Fatal(err)
	}
	return sp, task
}

func TestForecastLearnsAndRoundTrips(t *testing.T) {
	sp, task := trainForecaster(t, sine(180), 40)
	test, err := task.Evaluate(sp.Test)
	if err != nil {
		t.Fatal(err)
	}
	pers := Errors(sp.Persistence, sp.Test.Actual)
	if test["rmse"] >= pers["rmse"] {
		t.Errorf("test RMSE %v not below persistence %v", test["rmse"], pers["rmse"])
	}

	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := task.M.Save(path, map[string]float64{"rmse": test["rmse"]}); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	prep2, err := m2.ForecastPrep()
	if err != nil {
		t.Fatal(err)
	}
	task2 := &ForecastTask{M: m2, Prep: prep2}
	test2, err := task2.Evaluate(sp.Test)
	if err != nil {
		t.Fatal(err)
	}
	if test2["rmse"] != test["rmse"] {
		t.Errorf("reloaded model RMSE %v, original %v", test2["rmse"], test["rmse"])
	}
	a, err := task.Future(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	b, err := task2.Future(sine(180))
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 3 || a.Data[0] != b.Data[0] || a.Data[2] != b.Data[2] {
		t.Errorf("Future: %v vs reloaded %v", a, b)
	}
	// The forecast continues the series: within a few units of the truth.
	truth := sine(183).Values[0][180:]
	for h := range 3 {
		if d := math.Abs(float64(a.Data[h]) - truth[h]); d > 2 {
			t.Errorf("forecast step %d = %v, series continues with %v", h+1, a.Data[h], truth[h])
		}
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

func TestPrepareForecastErrors(t *testing.T) {
	for _, c := range []struct {
		o    ForecastOptions
		want string
	}{
		{ForecastOptions{Targets: []string{"nosuch"}}, "nosuch"},
		{ForecastOptions{TestFraction: 1.5}, "test fraction"},
		{ForecastOptions{Lookback: 100}, "too few"},
		{ForecastOptions{ValFraction: 0.5, TestFraction: 0.5}, "no training rows"},
	} {
		if _, err := PrepareForecast(sine(60), c.o, 8); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PrepareForecast(%+v) error = %v, want one containing %q", c.o, err, c.want)
		}
	}
}

func TestTransfer(t *testing.T) {
	src, err := Build(Spec{Task: Classify, Vocab: 20, Hidden: 6, Classes: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := checkpoint.New()
	if err := src.AddTo(f); err != nil {
		t.Fatal(err)
	}
	dst, err := Build(Spec{Task: Classify, Vocab: 20, Hidden: 6, Classes: 3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := dst.InitFrom(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Matched) != 5 || strings.Join(tr.Fresh, " ") != "head.weight head.bias" {
		t.Errorf("transfer %v", tr)
	}
	if dst.rnn.Params()[0].Value.Data[3] != src.rnn.Params()[0].Value.Data[3] {
		t.Error("recurrent weights not copied")
	}
	n, err := dst.Freeze(true, "embedding", "rnn")
	if err != nil || n != 5 {
		t.Errorf("Freeze = %d, %v; want 5", n, err)
	}
	if _, err := dst.Freeze(true, "decoder"); err == nil {
		t.Error("a pattern matching nothing was accepted")
	}
	opt, err := dst.NewOptimizer("sgd", optim.Config{LR: 0.1}, 0.01)
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
	s, ok := m.GateSaturation(b)
	if !ok || s.Input != 0 || s.Forget != 0 {
		t.Errorf("small weights, zero input: saturation %+v %v, want none", s, ok)
	}
	for _, p := range m.rnn.Params() {
		p.Value.Fill(0)
	}
	m.rnn.Params()[2].Value.Fill(10) // bias_ih: every gate pre-activation is 10
	s, ok = m.GateSaturation(b)
	if !ok || s.Input != 1 || s.Forget != 1 || s.Cell != 1 || s.Output != 1 {
		t.Errorf("large biases: saturation %+v, want all 1", s)
	}
	g, _ := Build(Spec{Task: Forecast, Cell: "gru", Hidden: 4}, 1)
	if _, ok := g.GateSaturation(b); ok {
		t.Error("GRU reported LSTM gate saturation")
	}
}

// TestDeterministicAcrossThreads trains the same forecaster with one and
// with several worker threads: the weights must be identical.
func TestDeterministicAcrossThreads(t *testing.T) {
	run := func(procs int) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		_, task := trainForecaster(t, sine(120), 3)
		var w []float32
		for _, p := range task.Params() {
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
