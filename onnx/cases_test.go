package onnx_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// The models every consumer test exports: each task, each cell, one and
// two layers, one and two directions, sequences of different lengths.

func forecastCases(t *testing.T, dir string) []consumerCase {
	var cs []consumerCase
	for i, c := range []struct {
		s     model.Spec
		extra string
	}{
		{model.Spec{Task: model.Forecast, Cell: "lstm", Hidden: 8, Inputs: 3, Targets: 2, Horizon: 2}, ""},
		{model.Spec{Task: model.Forecast, Cell: "gru", Hidden: 6, Layers: 2, Bidirectional: true, Inputs: 3, Targets: 2, Horizon: 3, Residual: true}, "residual"},
		{model.Spec{Task: model.Forecast, Cell: "lstm", Hidden: 6, Inputs: 3, Targets: 2, Horizon: 2, Residual: true, Local: true}, "local"},
		{model.Spec{Task: model.Forecast, Cell: "rnn", Hidden: 5, Inputs: 2, Horizon: 2, Quantiles: []float64{0.1, 0.5, 0.9}}, "quantiles"},
		{model.Spec{Task: model.Forecast, Cell: "lstm", Hidden: 5, Inputs: 2, Horizon: 2, Base: "holt-winters"}, "base"},
		{model.Spec{Task: model.Forecast, Cell: "gru", Hidden: 5, Inputs: 3, Targets: 2, Horizon: 2, Residual: true, Local: true, Ensemble: 3}, "ensemble"},
	} {
		f := build(t, c.s, uint64(i+1)).(*model.Forecaster)
		cs = append(cs, forecastCase(t, dir, caseName(c.s, c.extra), f))
	}
	cs = append(cs, forecastCase(t, dir, "forecast_pipeline_widened", pipelineForecaster(t)))
	// A global forecaster's graph is its network in the scaled space, the
	// same for every series: the outputs of any series' view.
	g := globalForecaster(t)
	c := forecastCase(t, dir, "forecast_global", g.SeriesForecaster("s1"))
	c.path = exportFile(t, dir, c.name, g, "")
	return append(cs, c)
}

// globalForecaster is a global forecaster trained for an epoch on three
// seasonal series at levels 1, 10 and 100 (s0, s1, s2).
func globalForecaster(t *testing.T) *model.GlobalForecaster {
	var data []*series.Frame
	for s := range 3 {
		level := math.Pow(10, float64(s))
		v := make([]float64, 48)
		for i := range v {
			v[i] = level * (5 + math.Sin(float64(i+s)/2) + 0.03*float64(i))
		}
		f, err := series.NewFrame([]string{"y"}, [][]float64{v})
		if err != nil {
			t.Fatal(err)
		}
		f.Name = "s" + string(rune('0'+s))
		data = append(data, f)
	}
	g, err := model.NewGlobalForecaster(model.GlobalConfig{Spec: model.Spec{Hidden: 6}, Lookback: 6, Horizon: 2,
		Fit: model.FitConfig{Seed: 4, BatchSize: 8, Train: train.Config{Epochs: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Fit(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	return g
}

// pipelineForecaster is a residual quantile forecaster loaded from a file
// with a pipeline whose targets are not its first inputs and a conformal
// widening.
func pipelineForecaster(t *testing.T) *model.Forecaster {
	s := model.Spec{Task: model.Forecast, Cell: "lstm", Hidden: 6, Inputs: 3, Targets: 2, Horizon: 2, Residual: true, Quantiles: []float64{0.2, 0.5, 0.8}}
	m := build(t, s, 9)
	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	cols := []string{"a", "b", "c"}
	prep := model.ForecastPrep{
		Pipeline: &series.Pipeline{Columns: cols, Inputs: cols, Targets: []string{"c", "a"}, Lookback: 5, Horizon: 2,
			Scaler: &series.Scaler{Method: series.ZScore, Columns: cols, Center: []float64{1, 2, 3}, Scale: []float64{4, 5, 6}}},
		Widen: []float64{0.1, 0.2, 0.3, 0.4},
	}
	if err := f.SetJSON(model.MetaPrep, prep); err != nil {
		t.Fatal(err)
	}
	loaded, err := model.FromFile("pipeline", f)
	if err != nil {
		t.Fatal(err)
	}
	return loaded.(*model.Forecaster)
}

// forecastCase exports f and computes its outputs on random windows:
// Forward's raw outputs, plus the base, sorted over the quantile levels
// and widened, as the forecaster's Predict does.
func forecastCase(t *testing.T, dir, name string, f *model.Forecaster) consumerCase {
	s := f.Spec()
	rng := tensor.NewRNG(7)
	B, L := 3, 6
	if p := f.Prep(); p != nil {
		L = p.Pipeline.Lookback
	}
	H, K, Q := s.Horizon, s.Targets, max(len(s.Quantiles), 1)
	x := uniform(rng, B*L*s.Inputs, -2, 2)
	xt := tensor.New(L, B, s.Inputs)
	copy(xt.Data, timeMajor(x, B, L, s.Inputs))
	raw := f.Forward(xt).Data
	c := consumerCase{name: name, path: exportFile(t, dir, name, f, ""), inputs: map[string]feed{"input": floats([]int{B, L, s.Inputs}, x)}, want: map[string]want{}}
	if s.Base != "" {
		base := uniform(rng, B*H*K, -1, 1)
		c.inputs["base"] = floats([]int{B, H, K}, base)
		for i := range raw {
			raw[i] += base[i/Q]
		}
	}
	var widen []float64
	if p := f.Prep(); p != nil {
		widen = p.Widen
	}
	point := make([]float32, B*H*K)
	mid := medianLevel(s.Quantiles)
	for i := range B * H * K {
		v := raw[i*Q : (i+1)*Q]
		slices.Sort(v)
		if widen != nil {
			v[0] -= float32(widen[i%(H*K)])
			v[Q-1] += float32(widen[i%(H*K)])
		}
		point[i] = v[mid]
	}
	c.want["forecast"] = want{data: point}
	if Q > 1 {
		c.want["quantiles"] = want{data: raw}
	}
	return c
}

func medianLevel(levels []float64) int {
	best := 0
	for q, l := range levels {
		if math.Abs(l-0.5) < math.Abs(levels[best]-0.5) {
			best = q
		}
	}
	return best
}

func classifyCases(t *testing.T, dir string) []consumerCase {
	var cs []consumerCase
	for i, s := range []model.Spec{
		{Task: model.Classify, Cell: "lstm", Hidden: 8, Vocab: 20, Embed: 5, Classes: 3},
		{Task: model.Classify, Cell: "gru", Hidden: 6, Layers: 2, Bidirectional: true, Vocab: 20, Classes: 4, Pool: "mean"},
		{Task: model.Classify, Cell: "rnn", Hidden: 5, Bidirectional: true, Vocab: 15, Classes: 2, Pool: "max"},
		{Task: model.Classify, Cell: "lstm", Hidden: 6, Layers: 2, Bidirectional: true, Vocab: 25, Embed: 4, Classes: 3, Pool: "attention"},
		{Task: model.Classify, Cell: "rnn_relu", Hidden: 5, Layers: 2, Inputs: 3, Classes: 3},
		{Task: model.Classify, Cell: "gru", Hidden: 4, Inputs: 2, Classes: 2, Pool: "attention"},
		{Task: model.Classify, Cell: "lstm", Hidden: 5, Layers: 2, Bidirectional: true, Vocab: 15, Classes: 3, Peephole: true},
		{Task: model.Classify, Cell: "gru", Hidden: 5, Bidirectional: true, Vocab: 15, Classes: 3, Pool: "mean", ResetBefore: true},
	} {
		c := build(t, s, uint64(20+i)).(*model.Classifier)
		cs = append(cs, classifyCase(t, dir, caseName(s, strings.TrimSuffix(c.Spec().Pool+"_"+variant(s), "_")), c))
	}
	for _, multi := range []bool{false, true} {
		c := trainedClassifier(t, multi)
		cs = append(cs, classifyCase(t, dir, caseName(c.Spec(), "trained"+map[bool]string{true: "_multilabel"}[multi]), c))
	}
	return cs
}

// trainedClassifier is a classifier fitted for an epoch on a few texts,
// with its vocabulary; multi: of label sets, with sigmoid probabilities.
func trainedClassifier(t *testing.T, multi bool) *model.Classifier {
	cfg := model.ClassifyConfig{Spec: model.Spec{Hidden: 5, Layers: 2, Bidirectional: true, Pool: "mean"}, Fit: model.FitConfig{Train: train.Config{Epochs: 1}}}
	data := &text.Labelled{Texts: []string{"good film", "bad film", "a good plot", "a bad plot", "good", "bad"}, Labels: []int{0, 1, 0, 1, 0, 1}, Classes: []string{"pos", "neg"}}
	if multi {
		cfg.Fit.Loss.Name = "bce"
		data.Labels, data.Sets, data.Classes = nil, [][]int{{0}, {1}, {0, 2}, {1, 2}, {0}, {1}}, []string{"pos", "neg", "plot"}
	}
	c, err := model.NewClassifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fit(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	randomize(c, 5)
	return c
}

// classifyCase exports c and computes its logits and probabilities on a
// random batch of sequences of different lengths.
func classifyCase(t *testing.T, dir, name string, c *model.Classifier) consumerCase {
	s := c.Spec()
	rng := tensor.NewRNG(8)
	B, T := 4, 7
	ls := lengths(rng, B, T)
	tb := &model.TextBatch{T: T, B: B, Lengths: ls}
	in := map[string]feed{"sequence_lens": int32s([]int{B}, ls)}
	if s.Vocab > 0 {
		x := ids(rng, B, T, 1, s.Vocab, ls)
		tb.IDs = timeMajor(x, B, T, 1)
		in["input_ids"] = int64s([]int{B, T}, x)
	} else {
		x := uniform(rng, B*T*s.Inputs, -2, 2)
		tb.X = tensor.New(T, B, s.Inputs)
		copy(tb.X.Data, timeMajor(x, B, T, s.Inputs))
		in["input"] = floats([]int{B, T, s.Inputs}, x)
	}
	logits := c.Logits(tb).Data
	probs := softmaxRows(logits, s.Classes)
	if c.Prep() != nil && c.Prep().MultiLabel {
		for i, v := range logits {
			probs[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	}
	return consumerCase{name: name, path: exportFile(t, dir, name, c, ""), inputs: in,
		want: map[string]want{"logits": {data: logits}, "probabilities": {data: probs}}}
}

func softmaxRows(x []float32, w int) []float32 {
	out := make([]float32, len(x))
	for r := 0; r < len(x); r += w {
		m := slices.Max(x[r : r+w])
		var sum float64
		for _, v := range x[r : r+w] {
			sum += math.Exp(float64(v - m))
		}
		for j, v := range x[r : r+w] {
			out[r+j] = float32(math.Exp(float64(v-m)) / sum)
		}
	}
	return out
}

func lmCases(t *testing.T, dir string) []consumerCase {
	var cs []consumerCase
	for i, c := range []struct {
		s model.Spec
		T int
	}{
		{model.Spec{Task: model.LM, Cell: "lstm", Hidden: 6, Layers: 2, Vocab: 30, Tie: true}, 5},
		{model.Spec{Task: model.LM, Cell: "gru", Hidden: 7, Vocab: 25, Embed: 4}, 1},
		{model.Spec{Task: model.LM, Cell: "rnn", Hidden: 5, Layers: 2, Vocab: 20}, 3},
		{model.Spec{Task: model.LM, Cell: "lstm", Hidden: 5, Vocab: 20, Embed: 3}, 1},
	} {
		m := build(t, c.s, uint64(40+i)).(*model.LanguageModel)
		cs = append(cs, lmCase(t, dir, caseName(c.s, "steps"+string(rune('0'+c.T))), m, c.T))
	}
	return cs
}

// lmCase exports m and runs T steps from a random state.
func lmCase(t *testing.T, dir, name string, m *model.LanguageModel, T int) consumerCase {
	s := m.Spec()
	rng := tensor.NewRNG(9)
	B, L, V, H := 3, s.Layers, s.Vocab, s.Hidden
	x := ids(rng, B, T, 0, V, nil)
	h0 := tensor.New(L, B, H)
	copy(h0.Data, uniform(rng, L*B*H, -1, 1))
	st := &nn.State{H: nn.NewVar(h0)}
	in := map[string]feed{"input_ids": int64s([]int{B, T}, x), "h0": floats([]int{L, B, H}, h0.Data)}
	if s.Cell == "lstm" {
		c0 := tensor.New(L, B, H)
		copy(c0.Data, uniform(rng, L*B*H, -1, 1))
		st.C = nn.NewVar(c0)
		in["c0"] = floats([]int{L, B, H}, c0.Data)
	}
	logits, fin := m.Forward(timeMajor(x, B, T, 1), T, B, st)
	w := map[string]want{"logits": {data: timeMajor(logits.Data, T, B, V)}, "hn": {data: fin.H.Value.Data}}
	if fin.C != nil {
		w["cn"] = want{data: fin.C.Value.Data}
	}
	return consumerCase{name: name, path: exportFile(t, dir, name, m, ""), inputs: in, want: w}
}

func seq2seqCases(t *testing.T, dir string) []consumerCase {
	var cs []consumerCase
	for i, s := range []model.Spec{
		{Task: model.Seq2Seq, Cell: "lstm", Hidden: 5, Layers: 2, Bidirectional: true, Vocab: 20, TgtVocab: 18, Embed: 4},
		{Task: model.Seq2Seq, Cell: "gru", Hidden: 6, Vocab: 15, TgtVocab: 12, Attention: "bahdanau"},
		{Task: model.Seq2Seq, Cell: "rnn", Hidden: 5, Bidirectional: true, Vocab: 15, TgtVocab: 14, Attention: "dot"},
		{Task: model.Seq2Seq, Cell: "lstm", Hidden: 4, Layers: 2, Vocab: 12, TgtVocab: 10, Attention: "concat"},
	} {
		m := build(t, s, uint64(60+i)).(*model.Translator)
		cs = append(cs, seq2seqCase(t, dir, caseName(s, m.Spec().Attention), m)...)
	}
	return cs
}

// seq2seqCase exports both parts of m, runs the encoder on random source
// batches and one decoder step from a random state over its keys.
func seq2seqCase(t *testing.T, dir, name string, m *model.Translator) []consumerCase {
	s, net := m.Spec(), m.Network()
	rng := tensor.NewRNG(10)
	B, Ts := 3, 6
	ls := lengths(rng, B, Ts)
	src := ids(rng, B, Ts, 1, s.Vocab, ls)
	enc := net.Encode(nil, timeMajor(src, B, Ts, 1), Ts, B, ls)
	hd := enc.Keys.Value.Shape[2]
	P := enc.Proj.Value.Shape[2]
	padded := func(w int) []bool { // (B, Ts, w): the padded source steps
		skip := make([]bool, B*Ts*w)
		for i := range skip {
			skip[i] = (i/w)%Ts >= ls[i/(w*Ts)]
		}
		return skip
	}
	lens := int32s([]int{B}, ls)
	ec := consumerCase{name: name + "_encoder", path: exportFile(t, dir, name+"_encoder", m, "encoder"),
		inputs: map[string]feed{"src_ids": int64s([]int{B, Ts}, src), "src_lens": lens},
		want: map[string]want{"keys": {data: enc.Keys.Value.Data, skip: padded(hd)}, "proj_keys": {data: enc.Proj.Value.Data, skip: padded(P)},
			"h": {data: enc.Start.H.Value.Data}, "feed": {data: enc.Start.Feed.Value.Data}}}
	state := nn.DecoderState{H: randomVar(rng, B, hd), Feed: randomVar(rng, B, hd)}
	prev := ids(rng, B, 1, 0, s.TgtVocab, nil)
	in := map[string]feed{"prev_ids": int64s([]int{B}, prev), "h": floats([]int{B, hd}, state.H.Value.Data), "feed": floats([]int{B, hd}, state.Feed.Value.Data),
		"keys": floats([]int{B, Ts, hd}, enc.Keys.Value.Data), "proj_keys": floats([]int{B, Ts, P}, enc.Proj.Value.Data), "src_lens": lens}
	if enc.Start.C != nil {
		ec.want["c"] = want{data: enc.Start.C.Value.Data}
		state.C = randomVar(rng, B, hd)
		in["c"] = floats([]int{B, hd}, state.C.Value.Data)
	}
	logits, weights, next := net.Step(nil, &nn.Encoded{Keys: enc.Keys, Proj: enc.Proj, Mask: nn.PaddingMask(ls, 1, Ts)}, prev, state)
	dw := map[string]want{"logits": {data: logits.Value.Data}, "attention": {data: weights.Value.Data},
		"h_out": {data: next.H.Value.Data}, "feed_out": {data: next.Feed.Value.Data}}
	if next.C != nil {
		dw["c_out"] = want{data: next.C.Value.Data}
	}
	dc := consumerCase{name: name + "_decoder", path: exportFile(t, dir, name+"_decoder", m, "decoder"), inputs: in, want: dw}
	return []consumerCase{ec, dc}
}

func randomVar(rng *tensor.RNG, shape ...int) *nn.Var {
	x := tensor.New(shape...)
	copy(x.Data, uniform(rng, x.Len(), -1, 1))
	return nn.NewVar(x)
}

func tagCases(t *testing.T, dir string) []consumerCase {
	var cs []consumerCase
	for i, s := range []model.Spec{
		{Task: model.Tag, Cell: "lstm", Hidden: 6, Layers: 2, Bidirectional: true, Inputs: 3, Classes: 3},
		{Task: model.Tag, Cell: "gru", Hidden: 5, Inputs: 2, Targets: 2},
		{Task: model.Tag, Cell: "rnn", Hidden: 4, Inputs: 4, Targets: 4, NoHead: true},
		{Task: model.Tag, Cell: "lstm", Hidden: 5, Bidirectional: true, Inputs: 3, Targets: 2, Peephole: true},
		{Task: model.Tag, Cell: "gru", Hidden: 5, Layers: 2, Inputs: 3, Classes: 3, ResetBefore: true},
	} {
		m := build(t, s, uint64(80+i)).(*model.Tagger)
		cs = append(cs, tagCase(t, dir, caseName(s, variant(s)), m))
	}
	return cs
}

// variant names the cell variants ONNX has and PyTorch has not.
func variant(s model.Spec) string {
	switch {
	case s.Peephole:
		return "peephole"
	case s.ResetBefore:
		return "reset_before"
	}
	return ""
}

// tagCase exports m and compares its Predict, sequence by sequence, with
// the outputs of a padded batch at the valid steps.
func tagCase(t *testing.T, dir, name string, m *model.Tagger) consumerCase {
	s := m.Spec()
	rng := tensor.NewRNG(11)
	B, T, I := 3, 5, s.Inputs
	ls := lengths(rng, B, T)
	x := make([]float32, B*T*I)
	seqs := make([][]float32, B)
	for b := range B {
		seqs[b] = uniform(rng, ls[b]*I, -2, 2)
		copy(x[b*T*I:], seqs[b])
	}
	got, err := m.Predict(seqs)
	if err != nil {
		t.Fatalf("%s: Predict: %v", name, err)
	}
	W := len(got[0]) / ls[0]
	out := make([]float32, B*T*W)
	skip := make([]bool, B*T*W)
	for b := range B {
		copy(out[b*T*W:], got[b])
		for i := ls[b] * W; i < T*W; i++ {
			skip[b*T*W+i] = true
		}
	}
	key := "outputs"
	if s.Classes > 0 {
		key = "probabilities"
	}
	return consumerCase{name: name, path: exportFile(t, dir, name, m, ""),
		inputs: map[string]feed{"input": floats([]int{B, T, I}, x), "sequence_lens": int32s([]int{B}, ls)},
		want:   map[string]want{key: {data: out, skip: skip}}}
}
