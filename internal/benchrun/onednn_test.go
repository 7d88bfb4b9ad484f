package benchrun

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

func TestOneDNNArgs(t *testing.T) {
	p := &OneDNN{}
	cs, _ := Select("classify-b1")
	got := p.args(cs[0], Timing{Steps: 3, Repeat: 4, Warmup: 1}, 2)
	want := []string{"bench", "--name", "classify-b1", "--T", "200", "--B", "1", "--I", "100", "--H", "128", "--L", "1",
		"--mode", "infer", "--threads", "2", "--steps", "3", "--repeat", "4", "--warmup", "1"}
	if !slices.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	for name, want := range map[string]bool{"lstm-t50": true, "forecast-b1": true, "ptb-lm": false, "bi-classifier": false, "seq2seq": false} {
		cs, _ := Select(name)
		if got := p.Unsupported(cs[0]) == ""; got != want {
			t.Errorf("onednn supports %s: %v, want %v", name, got, want)
		}
	}
	if err := (&OneDNN{Binary: filepath.Join(t.TempDir(), "none")}).Check(); err != OneDNNNotBuilt {
		t.Errorf("Check of a missing binary = %v, want %v", err, OneDNNNotBuilt)
	}
}

// oneDNNBinary builds bench/onednn/main.cpp into a temporary directory
// when g++ and libdnnl-dev's headers are present (so the test checks the
// current source), else returns bench/onednn/recur-onednn when that was
// built, else skips t saying what to install.
func oneDNNBinary(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "bench", "onednn"))
	if err != nil {
		t.Fatal(err)
	}
	_, hdr := os.Stat("/usr/include/oneapi/dnnl/dnnl.hpp")
	if gxx, err := exec.LookPath("g++"); err == nil && hdr == nil {
		bin := filepath.Join(t.TempDir(), "recur-onednn")
		out, err := exec.Command(gxx, "-O2", "-std=c++17", "-fopenmp", "-o", bin, filepath.Join(src, "main.cpp"), "-ldnnl").CombinedOutput()
		if err != nil {
			t.Fatalf("building recur-onednn: %v\n%s", err, out)
		}
		return bin
	}
	bin := filepath.Join(src, "recur-onednn")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("oneDNN peer not built and libdnnl-dev absent: apt-get install -y libdnnl-dev g++ (see bench/onednn/README.md)")
	}
	return bin
}

// oneDNNCheck is what "recur-onednn check" prints.
type oneDNNCheck map[string][]float64

// TestOneDNN builds the peer program once for its subtests.
func TestOneDNN(t *testing.T) {
	bin := oneDNNBinary(t)
	t.Run("MatchesRecur", func(t *testing.T) { oneDNNMatchesRecur(t, bin) })
	t.Run("Bench", func(t *testing.T) { oneDNNBench(t, bin) })
}

// oneDNNMatchesRecur: oneDNN's LSTM primitive, given recur's weights
// through the layout mapping of bench/onednn, computes recur's forward
// (inference and training) within 1e-5, and its backward the input and
// weight gradients of recur's tape. Two layers, the first with I ≠ H.
func oneDNNMatchesRecur(t *testing.T, bin string) {
	const T, B, I, H, L = 5, 3, 4, 6, 2
	rng := tensor.NewRNG(7)
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: L}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, dy := uniform(rng, T, B, I), uniform(rng, T, B, H)
	var file bytes.Buffer
	file.WriteString("RCDN")
	binary.Write(&file, binary.LittleEndian, []int32{T, B, I, H, L})
	for _, p := range l.Params() { // weight_ih, weight_hh, bias_ih, bias_hh per layer
		binary.Write(&file, binary.LittleEndian, p.Value.Data)
	}
	binary.Write(&file, binary.LittleEndian, x.Data)
	binary.Write(&file, binary.LittleEndian, dy.Data)
	path := filepath.Join(t.TempDir(), "case.bin")
	if err := os.WriteFile(path, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "check", path).Output()
	if err != nil {
		t.Fatalf("%s check: %v", bin, err)
	}
	var got oneDNNCheck
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("check output: %v\n%.300s", err, out)
	}

	y, st := l.Forward(nil, nn.NewVar(x), nil, nil)
	tp := &nn.Tape{}
	xv := nn.NewVar(x)
	yt, _ := l.Forward(tp, xv, nil, nil)
	tp.Backward(yt, dy)
	want := map[string][]float32{"y": y.Value.Data, "h_n": st.H.Value.Data, "c_n": st.C.Value.Data,
		"y_train": yt.Value.Data, "dx": xv.Grad.Data}
	ps := l.Params()
	for k := 0; k < L; k++ {
		s := string(rune('0' + k))
		want["dw_ih_l"+s] = ps[4*k].Grad.Data
		want["dw_hh_l"+s] = ps[4*k+1].Grad.Data
		want["db_l"+s] = ps[4*k+2].Grad.Data // the same as bias_hh's
	}
	for name, w := range want {
		g := got[name]
		if len(g) != len(w) {
			t.Errorf("%s: oneDNN gave %d values, recur %d", name, len(g), len(w))
			continue
		}
		worst := 0.0
		for i := range w {
			worst = max(worst, math.Abs(g[i]-float64(w[i])))
		}
		if worst > 1e-5 {
			t.Errorf("%s: oneDNN and recur differ by up to %.3g (> 1e-5)", name, worst)
		}
	}
}

func oneDNNBench(t *testing.T, bin string) {
	p := &OneDNN{Binary: bin, Threads: []int{1, 2}}
	for _, name := range []string{"tiny", "tiny-forecast"} {
		cs, _ := Select(name)
		r, err := p.Measure(context.Background(), cs[0], Timing{Steps: 2, Repeat: 3, Warmup: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Peer != "onednn" || r.Config != name || !(r.MsPerStep > 0) || r.Steps != 2 || r.Repeat != 3 ||
			len(r.MsByThreads) != 2 || r.Version == "" || r.Covers == "" {
			t.Errorf("%s: oneDNN result %+v", name, r)
		}
	}
	if out, err := exec.Command(bin, "bench", "--T", "0").CombinedOutput(); err == nil || !bytes.Contains(out, []byte("must be positive")) {
		t.Errorf("recur-onednn bench --T 0: %v, %s; want a failure naming the bad value", err, out)
	}
}
