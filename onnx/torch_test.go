package onnx_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/onnx"
	"github.com/recur-ml/recur/tensor"
)

// Graphs that PyTorch's exporter wrote (testdata/torch, made by make.py
// there): recur reads them as graphs, not as its own files, and its
// models must give PyTorch's outputs.

// torchFile is a make.py data file: inputs and PyTorch's outputs.
type torchFile struct {
	Inputs, Outputs map[string]struct {
		Dims []int     `json:"dims"`
		Data []float64 `json:"data"`
	}
}

var torchExports = []string{"classify_lstm", "classify_gru_bi", "tag_rnn_relu", "forecast_lstm", "lm_lstm"}

func TestTorchExports(t *testing.T) {
	checkTorchExports(t, filepath.Join("testdata", "torch"))
}

// TestTorchExportsNow runs make.py with the installed PyTorch and checks
// what it writes, so that the committed files stay what PyTorch writes.
func TestTorchExportsNow(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, onnx").Run(); err != nil {
		t.Skip("PyTorch is absent: install Debian's python3-torch and python3-onnx to check PyTorch's own exports")
	}
	dir := t.TempDir()
	if out, err := exec.Command(py, filepath.Join("testdata", "torch", "make.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("make.py: %v\n%s", err, out)
	}
	checkTorchExports(t, dir)
}

func checkTorchExports(t *testing.T, dir string) {
	for _, name := range torchExports {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(f, onnx.ReadOptions{})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var data torchFile
			if err := json.Unmarshal(b, &data); err != nil {
				t.Fatal(err)
			}
			got := runTorchCase(t, g, &data)
			worst := 0.0
			for out, w := range data.Outputs {
				d, err := maxDiff(got[out], f32(w.Data))
				if err != nil {
					t.Fatalf("output %s: %v", out, err)
				}
				worst = max(worst, d)
				if d > 1e-5 {
					t.Errorf("output %s: max |recur - PyTorch| = %.3g", out, d)
				}
			}
			t.Logf("%s as a %s model: max |recur - PyTorch| = %.2g; notes: %q", name, g.Spec.Task, worst, g.Notes)
		})
	}
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func ints(x []float64) []int {
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

// weightsModel is g's model as model.Build makes it with g's weights (the
// graphs carry no vocabulary or pipeline).
func weightsModel(t *testing.T, g *onnx.Graph) model.Model {
	t.Helper()
	f, err := g.File()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(g.Spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.LoadParams(m.Params(), true); err != nil {
		t.Fatal(err)
	}
	return m
}

// runTorchCase runs g's model on the file's inputs and returns its
// outputs in PyTorch's layouts, by output name.
func runTorchCase(t *testing.T, g *onnx.Graph, d *torchFile) map[string][]float32 {
	out := map[string][]float32{}
	switch m := weightsModel(t, g).(type) {
	case *model.Classifier:
		in := d.Inputs["input_ids"]
		B, T := in.Dims[0], in.Dims[1]
		tb := &model.TextBatch{T: T, B: B, IDs: timeMajor(ints(in.Data), B, T, 1), Lengths: full(B, T)}
		logits := m.Logits(tb).Data
		out["logits"], out["probabilities"] = logits, softmaxRows(logits, g.Spec.Classes)
	case *model.Tagger:
		in := d.Inputs["input"]
		B, T, I := in.Dims[0], in.Dims[1], in.Dims[2]
		var seqs [][]float32
		for b := range B {
			seqs = append(seqs, f32(in.Data[b*T*I:(b+1)*T*I]))
		}
		m2, err := g.Model() // a tagger needs no preprocessing state
		if err != nil {
			t.Fatal(err)
		}
		ys, err := m2.(*model.Tagger).Predict(seqs)
		if err != nil {
			t.Fatal(err)
		}
		for _, y := range ys {
			out["outputs"] = append(out["outputs"], y...)
		}
	case *model.Forecaster:
		in := d.Inputs["input"] // time-major, as the graph reads it
		x := tensor.FromSlice(f32(in.Data), in.Dims...)
		out["forecast"] = m.Forward(x).Data
	case *model.LanguageModel:
		in := d.Inputs["input_ids"]
		B, T := in.Dims[0], in.Dims[1]
		h0, c0 := d.Inputs["h0"], d.Inputs["c0"]
		st := &nn.State{H: nn.NewVar(tensor.FromSlice(f32(h0.Data), h0.Dims...)), C: nn.NewVar(tensor.FromSlice(f32(c0.Data), c0.Dims...))}
		logits, fin := m.Forward(timeMajor(ints(in.Data), B, T, 1), T, B, st)
		out["logits"] = timeMajor(logits.Data, T, B, g.Spec.Vocab)
		out["hn"], out["cn"] = fin.H.Value.Data, fin.C.Value.Data
	default:
		t.Fatalf("a %T", m)
	}
	return out
}

// full returns B lengths of T.
func full(B, T int) []int {
	ls := make([]int, B)
	for i := range ls {
		ls[i] = T
	}
	return ls
}
