package onnx_test

// The exported files are verified by real consumers, not by recur reading
// its own file: ONNX's checker (Debian's python3-onnx) and ONNX Runtime
// (onnxruntime-node from npm, run by bench/ort/run.js), which must give
// the outputs recur gives on the same random inputs. Each test says what
// to install when its consumer is absent.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/onnx"
	"github.com/recur-ml/recur/tensor"
)

// tolerance is the largest difference allowed between recur's and ONNX
// Runtime's outputs.
const tolerance = 1e-5

// feed is an input tensor as bench/ort/run.js reads it.
type feed struct {
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	Data any    `json:"data"`
}

func floats(dims []int, data []float32) feed { return feed{"float32", dims, data} }
func int64s(dims []int, data []int) feed     { return feed{"int64", dims, data} }
func int32s(dims []int, data []int) feed     { return feed{"int32", dims, data} }

// want is one output recur computed; skip, when set, says which elements
// are not compared (a tagger's padded steps).
type want struct {
	data []float32
	skip []bool
}

// consumerCase is one exported file with inputs and recur's outputs.
type consumerCase struct {
	name   string
	path   string
	inputs map[string]feed
	want   map[string]want
}

// exportFile writes m (part of it for seq2seq) to dir and returns the path.
func exportFile(t *testing.T, dir, name string, m model.Model, part string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := onnx.Export(&buf, m, onnx.Options{Part: part, ProducerVersion: "test"}); err != nil {
		t.Fatalf("%s: Export: %v", name, err)
	}
	path := filepath.Join(dir, name+".onnx")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// build returns the model of spec with every parameter drawn from
// U(-0.6, 0.6), larger than PyTorch's initialization so that gates
// saturate and errors in gate order or layout show.
func build(t *testing.T, s model.Spec, seed uint64) model.Model {
	t.Helper()
	m, err := model.Build(s, seed)
	if err != nil {
		t.Fatalf("Build(%+v): %v", s, err)
	}
	randomize(m, seed)
	return m
}

func randomize(m model.Model, seed uint64) {
	rng := tensor.NewRNG(seed + 1000)
	for _, p := range m.Params() {
		rng.FillUniform(p.Value, -0.6, 0.6)
	}
}

// uniform returns n values from U(lo, hi).
func uniform(rng *tensor.RNG, n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.Uniform(lo, hi))
	}
	return out
}

// lengths returns B lengths in [1, T], the first T.
func lengths(rng *tensor.RNG, B, T int) []int {
	ls := make([]int, B)
	for b := range ls {
		ls[b] = T
		if b > 0 {
			ls[b] = 1 + rng.IntN(T)
		}
	}
	return ls
}

// ids returns B sequences of T ids in [lo, V), zero after each length,
// batch-major.
func ids(rng *tensor.RNG, B, T, lo, V int, ls []int) []int {
	out := make([]int, B*T)
	for b := range B {
		for t := range T {
			if ls == nil || t < ls[b] {
				out[b*T+t] = lo + rng.IntN(V-lo)
			}
		}
	}
	return out
}

// timeMajor swaps the first two axes of x (A, C, W) to (C, A, W).
func timeMajor[E any](x []E, A, C, W int) []E {
	out := make([]E, len(x))
	for a := range A {
		for c := range C {
			copy(out[(c*A+a)*W:(c*A+a+1)*W], x[(a*C+c)*W:(a*C+c+1)*W])
		}
	}
	return out
}

// python returns a python3 that imports onnx, or skips t.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("RECUR_PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		if err := exec.Command(p, "-c", "import onnx").Run(); err == nil {
			return p
		}
	}
	t.Skip("the ONNX checker is absent: install Debian's python3-onnx (apt-get install -y python3-onnx), or set RECUR_PYTHON to a python3 that imports onnx")
	return ""
}

// ortScript returns bench/ort/run.js when node and onnxruntime-node are
// installed, or skips t.
func ortScript(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("ONNX Runtime is absent: install Debian's nodejs, then cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci")
	}
	dir, err := filepath.Abs(filepath.Join("..", "bench", "ort"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		t.Skip("ONNX Runtime is absent: cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci (onnxruntime-node from npm)")
	}
	return filepath.Join(dir, "run.js")
}

const checkerScript = `
import sys, onnx
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print("ok", path)
    except Exception as e:
        print("FAIL", path, str(e).replace("\n", " "))
`

func TestChecker(t *testing.T) {
	py := python(t)
	cases := allCases(t, t.TempDir())
	args := []string{"-c", checkerScript}
	for _, c := range cases {
		args = append(args, c.path)
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", py, err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(line, "ok ") {
			t.Error(line)
		}
	}
	if n := strings.Count(string(out), "ok "); n != len(cases) {
		t.Errorf("the checker passed %d of %d files:\n%s", n, len(cases), out)
	}
}

// ortResult is what run.js answers for one job.
type ortResult struct {
	Outputs map[string]struct {
		Dims []int     `json:"dims"`
		Data []float64 `json:"data"`
	} `json:"outputs"`
	Error string `json:"error"`
}

// runORT runs every case in ONNX Runtime in one node process.
func runORT(t *testing.T, script string, cases []consumerCase) []ortResult {
	t.Helper()
	type job struct {
		Model  string          `json:"model"`
		Inputs map[string]feed `json:"inputs"`
	}
	jobs := make([]job, len(cases))
	for i, c := range cases {
		jobs[i] = job{c.path, c.inputs}
	}
	in, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	var res []ortResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("node %s: %d results for %d jobs (%v)", script, len(res), len(cases), err)
	}
	return res
}

func TestONNXRuntime(t *testing.T) {
	script := ortScript(t)
	cases := allCases(t, t.TempDir())
	results := runORT(t, script, cases)
	worst := 0.0
	for i, c := range cases {
		r := results[i]
		if r.Error != "" {
			t.Errorf("%s: ONNX Runtime: %s", c.name, r.Error)
			continue
		}
		d := compare(t, c, r)
		worst = max(worst, d)
		t.Logf("%-46s max |recur - ONNX Runtime| = %.2g", c.name, d)
	}
	t.Logf("largest difference over %d files: %.2g (tolerance %g)", len(cases), worst, tolerance)
}

// compare checks every output of c against ONNX Runtime's and returns the
// largest difference.
func compare(t *testing.T, c consumerCase, r ortResult) float64 {
	t.Helper()
	worst := 0.0
	for name, w := range c.want {
		got, ok := r.Outputs[name]
		if !ok {
			t.Errorf("%s: ONNX Runtime gave no output %q", c.name, name)
			continue
		}
		if len(got.Data) != len(w.data) {
			t.Errorf("%s: output %s has %d values (dims %v), recur %d", c.name, name, len(got.Data), got.Dims, len(w.data))
			continue
		}
		bad := 0
		for i, v := range w.data {
			if w.skip != nil && w.skip[i] {
				continue
			}
			d := math.Abs(got.Data[i] - float64(v))
			worst = max(worst, d)
			if !(d <= tolerance) && bad < 3 {
				bad++
				t.Errorf("%s: output %s[%d] = %g in ONNX Runtime, %g in recur (difference %.2g)", c.name, name, i, got.Data[i], v, d)
			}
		}
	}
	return worst
}

// allCases exports every model of the tests into dir.
func allCases(t *testing.T, dir string) []consumerCase {
	var cases []consumerCase
	for _, f := range []func(*testing.T, string) []consumerCase{forecastCases, classifyCases, lmCases, seq2seqCases, tagCases} {
		cases = append(cases, f(t, dir)...)
	}
	return cases
}

func caseName(s model.Spec, extra string) string {
	n := fmt.Sprintf("%s_%s_l%d", s.Task, s.Cell, max(s.Layers, 1))
	if s.Bidirectional {
		n += "_bi"
	}
	if extra != "" {
		n += "_" + extra
	}
	return n
}
