package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/tensor"
)

// TestShapesMatchBuild checks the parameter list that Check derives from
// a spec against the networks Build makes, over tasks, cells, directions,
// depths, projections, pools, tying and attention kinds.
func TestShapesMatchBuild(t *testing.T) {
	bases := []Spec{
		{Task: Forecast, Inputs: 3, Targets: 2, Horizon: 2},
		{Task: Forecast, Quantiles: []float64{0.1, 0.5, 0.9}, Horizon: 3, Base: "holt-winters"},
		{Task: Forecast, Inputs: 2, Targets: 1, Horizon: 2, Ensemble: 3, Local: true, Residual: true},
		{Task: Classify, Vocab: 7, Embed: 5, Classes: 3},
		{Task: Classify, Vocab: 7, Classes: 3, Pool: "attention"},
		{Task: Classify, Inputs: 3, Classes: 2, Pool: "mean"},
		{Task: LM, Vocab: 7, Embed: 3},
		{Task: LM, Vocab: 7, Tie: true},
		{Task: Tag, Inputs: 2, Targets: 3},
		{Task: Tag, Inputs: 2, Classes: 4},
		{Task: Seq2Seq, Vocab: 6, TgtVocab: 5, Embed: 3},
		{Task: Seq2Seq, Vocab: 6, TgtVocab: 5, Attention: "dot"},
		{Task: Seq2Seq, Vocab: 6, TgtVocab: 5, Attention: "concat"},
		{Task: Seq2Seq, Vocab: 6, TgtVocab: 5, Attention: "bahdanau"},
	}
	built := 0
	for _, base := range bases {
		for _, cell := range []string{"lstm", "gru", "rnn", "rnn_relu"} {
			for _, v := range []struct{ bi, proj, variant bool }{{false, false, false}, {true, false, false}, {false, true, false}, {true, true, false}, {true, false, true}, {false, true, true}} {
				for _, layers := range []int{1, 3} {
					s := base
					s.Cell, s.Bidirectional, s.Layers, s.Hidden = cell, v.bi, layers, 4
					if v.proj {
						s.Proj = 2
					}
					s.Peephole, s.ResetBefore = v.variant && cell == "lstm", v.variant && cell == "gru"
					if v.variant && !s.Peephole && !s.ResetBefore {
						continue
					}
					if s.Task == LM && s.Tie {
						s.Embed = s.features()
					}
					m, err := Build(s, 1)
					if err != nil {
						continue // a combination the spec rules out
					}
					built++
					var got []paramShape
					for _, p := range m.Params() {
						got = append(got, paramShape{p.Name, p.Value.Shape})
					}
					if want := m.Spec().shapes(); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%+v:\nBuild  %v\nshapes %v", s, got, want)
					}
				}
			}
		}
	}
	if built < 200 {
		t.Errorf("only %d specs built", built)
	}
}

// modelFile is a forecaster's model file: hidden 4, one input, the
// legacy preprocessing state (no training needed).
func modelFile(t testing.TB) *checkpoint.File {
	t.Helper()
	m, err := Build(Spec{Task: Forecast, Hidden: 4, Residual: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := checkpoint.New()
	if err := f.AddParams(m.Params()); err != nil {
		t.Fatal(err)
	}
	if err := f.SetJSON(MetaSpec, m.Spec()); err != nil {
		t.Fatal(err)
	}
	f.Metadata[MetaPrep] = `{"inputs":["y"],"targets":["y"],"lookback":12,"horizon":1,"season":12,"scaler":{"method":"minmax","columns":["y"],"center":[4.6],"scale":[1.8]}}`
	return f
}

// respec returns a copy of f whose spec has the fields of set replaced
// (raw JSON values; an empty one deletes the field).
func respec(t testing.TB, f *checkpoint.File, set map[string]string) *checkpoint.File {
	t.Helper()
	var spec map[string]json.RawMessage
	if err := json.Unmarshal([]byte(f.Metadata[MetaSpec]), &spec); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == "" {
			delete(spec, k)
		} else {
			spec[k] = json.RawMessage(v)
		}
	}
	g := &checkpoint.File{Tensors: map[string]*tensor.Tensor{}, Metadata: map[string]string{}}
	for k, v := range f.Tensors {
		g.Tensors[k] = v
	}
	for k, v := range f.Metadata {
		g.Metadata[k] = v
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	g.Metadata[MetaSpec] = string(b)
	return g
}

// hostileFiles are model files whose spec or tensors do not fit
// together, each with a part of the error Load must give.
func hostileFiles(t testing.TB) []struct {
	name string
	file *checkpoint.File
	want string
} {
	base := modelFile(t)
	with := func(edit func(f *checkpoint.File)) *checkpoint.File {
		g := respec(t, base, nil)
		edit(g)
		return g
	}
	spec := func(kv ...string) *checkpoint.File {
		set := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			set[kv[i]] = kv[i+1]
		}
		return respec(t, base, set)
	}
	return []struct {
		name string
		file *checkpoint.File
		want string
	}{
		{"huge hidden", spec("hidden", "1099511627776"), "hidden = 1099511627776: want <= 65536"},
		{"huge layers", spec("layers", "1073741824"), "layers = 1073741824: want <= 256"},
		{"2^62 layers", spec("layers", "4611686018427387904"), "layers = 4611686018427387904: want <= 256"},
		{"huge vocab", spec("task", `"lm"`, "vocab", "1099511627776", "inputs", "", "targets", "", "horizon", "", "residual", ""), "vocab = 1099511627776: want <= 16777216"},
		{"huge embed", spec("task", `"lm"`, "vocab", "5", "embed", "1048576", "inputs", "", "targets", "", "horizon", "", "residual", ""), "embed = 1048576: want <= 65536"},
		{"huge inputs", spec("inputs", "1099511627776"), "inputs = 1099511627776: want <= 1048576"},
		{"huge outputs", spec("inputs", "1048576", "targets", "1048576", "horizon", "1048576"), "horizon × targets × quantile levels"},
		{"hidden beyond the file", spec("hidden", "60000"), `tensor "rnn.weight_ih_l0": shape [16 1] but the spec implies [240000 1] (the spec implies 14400780001 parameters, the file holds 117 values)`},
		{"layers beyond the file", spec("layers", "200"), `tensor "rnn.weight_ih_l1" is missing: the spec implies one of shape [16 4]`},
		{"bidirectional", spec("bidirectional", "true"), `tensor "rnn.weight_ih_l0_reverse" is missing`},
		{"negative hidden", spec("hidden", "-4"), "hidden = -4: want > 0"},
		{"negative layers", spec("layers", "-1"), "layers = -1: want > 0"},
		{"negative horizon", spec("horizon", "-1"), "horizon = -1: want > 0"},
		{"hidden not an integer", spec("hidden", "4.5"), `metadata "spec"`},
		{"hidden beyond int64", spec("hidden", "1e30"), `metadata "spec"`},
		{"spec not JSON", with(func(f *checkpoint.File) { f.Metadata[MetaSpec] = `{"task":` }), `metadata "spec"`},
		{"unknown task", spec("task", `"poetry"`), "task = poetry"},
		{"shape mismatch", with(func(f *checkpoint.File) { f.Tensors["rnn.weight_ih_l0"] = tensor.New(4096, 1) }), `tensor "rnn.weight_ih_l0": shape [4096 1] but the spec implies [16 1]`},
		{"rank mismatch", with(func(f *checkpoint.File) { f.Tensors["head.bias"] = tensor.New(1, 1) }), `tensor "head.bias": shape [1 1] but the spec implies [1]`},
		{"missing tensor", with(func(f *checkpoint.File) { delete(f.Tensors, "rnn.bias_hh_l0") }), `tensor "rnn.bias_hh_l0" is missing`},
		{"extra tensor", with(func(f *checkpoint.File) { f.Tensors["rnn.weight_ih_l1"] = tensor.New(16, 4) }), `tensor "rnn.weight_ih_l1" is not a parameter of the spec's forecast model`},
	}
}

// TestLoadRejectsHostileSpecs: a spec that does not fit the file's
// tensors is an error naming the file, the field or tensor and the
// values, from Check, Load and the task's Load, before the network is
// allocated.
func TestLoadRejectsHostileSpecs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range hostileFiles(t) {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
			if err := checkpoint.Write(path, c.file); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(path)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("Load error = %v, want one starting with the path and containing %q", err, c.want)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("Load allocated %d bytes before failing", n)
			}
			if _, err2 := LoadForecaster(path); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("LoadForecaster error = %v, want Load's %v", err2, err)
			}
			if err := Check(path, c.file); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestCheckAccepts: the untouched file, one with optimizer and training
// state, and a file without a spec pass Check; the first two load.
func TestCheckAccepts(t *testing.T) {
	f := modelFile(t)
	g := respec(t, f, nil)
	g.Tensors[checkpoint.OptimPrefix+"rnn.weight_ih_l0.exp_avg"] = tensor.New(16, 1)
	g.Tensors[checkpoint.TrainPrefix+"state.h"] = tensor.New(1, 4)
	for _, x := range []*checkpoint.File{f, g} {
		if err := Check("m", x); err != nil {
			t.Errorf("Check: %v", err)
		}
		if _, err := FromFile("m", x); err != nil {
			t.Errorf("FromFile: %v", err)
		}
	}
	plain := checkpoint.New()
	plain.Tensors["w"] = tensor.New(3)
	if err := Check("plain", plain); err != nil {
		t.Errorf("Check(plain safetensors file) = %v, want nil", err)
	}
}

// TestSpecLimits: the limits hold for specs built in code and read from
// YAML too, and a NaN forget bias (YAML has .nan) is refused.
func TestSpecLimits(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"task: forecast\nhidden: 65537\n", "hidden = 65537: want <= 65536"},
		{"task: forecast\nlayers: 257\n", "layers = 257: want <= 256"},
		{"task: lm\nvocab: 16777217\n", "vocab = 16777217"},
		{"task: seq2seq\nvocab: 3\ntgt_vocab: 16777217\n", "tgt_vocab = 16777217"},
		{"task: classify\nvocab: 3\nclasses: 16777217\n", "classes = 16777217"},
		{"task: forecast\nforget_bias: .nan\n", "forget_bias = NaN: want a finite number"},
		{"task: forecast\nforget_bias: .inf\n", "forget_bias = +Inf"},
		{"task: seq2seq\nvocab: 3\ntgt_vocab: 3\nattention: luong\n", "attention = luong"},
	} {
		s, err := ParseSpec("s.yaml", []byte(c.text))
		if err != nil {
			t.Fatalf("ParseSpec(%q): %v", c.text, err)
		}
		if _, err := Build(s, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%q) error = %v, want one containing %q", c.text, err, c.want)
		}
	}
	if _, err := Build(Spec{Task: Forecast, Hidden: MaxHidden / 1024, Layers: 2}, 1); err != nil {
		t.Errorf("a spec within the limits: %v", err)
	}
}

// TestLoadTruncatedFile: a model file cut short is an error naming it,
// from the reader, before the spec is looked at.
func TestLoadTruncatedFile(t *testing.T) {
	var buf bytes.Buffer
	if err := checkpoint.Encode(&buf, modelFile(t)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	path := filepath.Join(t.TempDir(), "cut.safetensors")
	for _, cut := range [][]byte{b[:len(b)-4], binary.LittleEndian.AppendUint64(nil, uint64(len(b)))} {
		if err := os.WriteFile(path, cut, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("Load(truncated) error = %v", err)
		}
	}
}
