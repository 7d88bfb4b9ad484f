package checkpoint

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

const python = "/usr/bin/python3"

// torchScript loads recur-written safetensors state dicts into
// torch.nn.LSTM with load_state_dict (strict), reading the files with
// struct and json only (Debian has no safetensors module), runs the inputs
// stored beside them and prints the outputs as JSON, one list per case.
// Without torch it prints the marker noTorch.
const torchScript = `
import json, struct, sys
try:
    import torch
except ImportError:
    print("NO_TORCH")
    sys.exit(0)
def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e["shape"])
    return out
res = []
for cfg in json.loads(sys.argv[1]):
    lstm = torch.nn.LSTM(cfg["I"], cfg["H"], num_layers=cfg["L"], bidirectional=cfg["bi"], proj_size=cfg["P"])
    lstm.load_state_dict(load(cfg["weights"]), strict=True)
    with torch.no_grad():
        y, _ = lstm(load(cfg["input"])["input"])
    res.append(y.flatten().tolist())
print(json.dumps(res))
`

const noTorch = "NO_TORCH"

// TestTorchLoadsLSTM writes recur LSTM weights with Write and checks that
// torch.nn.LSTM.load_state_dict accepts them and computes the same output.
func TestTorchLoadsLSTM(t *testing.T) {
	skipWithoutPython(t)
	cases := []struct {
		I, H, L, P int
		bi         bool
	}{
		{3, 5, 1, 0, false},
		{4, 6, 2, 0, true},
		{3, 6, 1, 4, false},
	}
	dir := t.TempDir()
	var cfgs []map[string]any
	var want [][]float32
	for k, c := range cases {
		rng := tensor.NewRNG(uint64(42 + k))
		lstm, err := nn.NewLSTM(nn.LSTMConfig{InputSize: c.I, HiddenSize: c.H, NumLayers: c.L, Bidirectional: c.bi, ProjSize: c.P}, rng)
		if err != nil {
			t.Fatal(err)
		}
		T, B := 5, 2
		x := tensor.New(T, B, c.I)
		rng.FillUniform(x, -1, 1)
		y, _ := lstm.Forward(nil, nn.NewVar(x), nil, nil)
		want = append(want, y.Value.Data)

		wf := New()
		if err := wf.AddParams(lstm.Params()); err != nil {
			t.Fatal(err)
		}
		xf := New()
		xf.Tensors["input"] = x
		wpath, xpath := filepath.Join(dir, fmt.Sprintf("lstm%d.safetensors", k)), filepath.Join(dir, fmt.Sprintf("x%d.safetensors", k))
		if err := Write(wpath, wf); err != nil {
			t.Fatal(err)
		}
		if err := Write(xpath, xf); err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, map[string]any{"I": c.I, "H": c.H, "L": c.L, "bi": c.bi, "P": c.P, "weights": wpath, "input": xpath})
	}
	arg, _ := json.Marshal(cfgs)
	out := runTorch(t, torchScript, string(arg))
	var got [][]float64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if len(got) != len(cases) {
		t.Fatalf("python returned %d outputs for %d cases", len(got), len(cases))
	}
	for k := range cases {
		if len(got[k]) != len(want[k]) {
			t.Fatalf("case %+v: torch output has %d values, recur %d", cases[k], len(got[k]), len(want[k]))
		}
		for i, v := range want[k] {
			if d := math.Abs(float64(v) - got[k][i]); d > 1e-5 {
				t.Fatalf("case %+v: output[%d]: recur %v, torch %v (diff %g)", cases[k], i, v, got[k][i], d)
			}
		}
	}
}

// skipWithoutPython skips a PyTorch interoperability test on a machine
// without Debian's python3 (the resource it needs, not a check it fails).
func skipWithoutPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("skipping: %s is absent (install Debian's python3-torch to run this PyTorch interoperability test)", python)
	}
}

// runTorch runs a script that prints noTorch when torch does not import
// (then the test is skipped: python3-torch is absent) and returns its
// output; a failing script fails the test.
func runTorch(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	skipWithoutPython(t)
	out, err := exec.Command(python, append([]string{"-c", script}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out)) == noTorch {
		t.Skipf("skipping: %s cannot import torch (install Debian's python3-torch to run this PyTorch interoperability test)", python)
	}
	return out
}
