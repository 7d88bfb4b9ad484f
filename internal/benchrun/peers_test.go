package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePeer(t *testing.T) {
	out := []byte("oneDNN warning\n" +
		`{"peer": "onednn", "config": "a", "mode": "train", "threads": 2, "ms_per_step": 2.5, "steps": 4, "repeat": 5, "version": "2.6.3"}` + "\n" +
		`{"peer": "ort", "config": "a", "threads": 1, "ms_per_step": 0.5, "floor_ms": 0.012}` + "\n" +
		`{"peer": "onednn", "config": "zero", "threads": 1, "ms_per_step": 0}` + "\n" +
		`{"peer": "onednn", "config": "nothreads", "ms_per_step": 1}` + "\n")
	r, err := ParsePeer(out, "onednn", "a")
	if err != nil {
		t.Fatal(err)
	}
	if r.Peer != "onednn" || r.MsPerStep != 2.5 || r.Threads != 2 || r.Steps != 4 || r.Repeat != 5 || r.Version != "2.6.3" || r.MsByThreads["2"] != 2.5 {
		t.Errorf("ParsePeer(onednn, a) = %+v", r)
	}
	if r, err := ParsePeer(out, "ort", "a"); err != nil || r.MsPerStep != 0.5 || r.FloorMs != 0.012 {
		t.Errorf("ParsePeer(ort, a) = %+v, %v; want 0.5 ms with a 0.012 ms floor", r, err)
	}
	for _, tt := range []struct{ peer, name, want string }{
		{"onednn", "zero", "ms_per_step 0"},
		{"onednn", "nothreads", "threads 0"},
		{"onednn", "missing", `no onednn result for "missing"`},
		{"pytorch", "a", "no pytorch result"},
	} {
		if _, err := ParsePeer(out, tt.peer, tt.name); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePeer(%s, %s) error = %v, want one containing %q", tt.peer, tt.name, err, tt.want)
		}
	}
	if _, err := ParsePeer([]byte(`{"peer": "onednn", "config": "a", "threads": 1, "ms_per_step": 1, "floor_ms": -1}`), "onednn", "a"); err == nil {
		t.Error("ParsePeer accepted a negative floor")
	}
	if _, err := ParsePeer([]byte("{broken\n"), "onednn", "a"); err == nil || !strings.Contains(err.Error(), `"{broken"`) {
		t.Errorf("ParsePeer(broken) error = %v, want one quoting the line", err)
	}
}

// fakePeer records its calls into a shared log and answers a fixed time.
type fakePeer struct {
	name  string
	ms    []float64 // per round; the best must be kept
	calls int
	check error
	train bool // supports training configurations
	log   *[]string
}

func (p *fakePeer) Name() string { return p.name }
func (p *fakePeer) Check() error { return p.check }
func (p *fakePeer) Unsupported(c Config) string {
	if c.Training() && !p.train {
		return "no training"
	}
	return ""
}
func (p *fakePeer) Measure(_ context.Context, c Config, t Timing) (*PeerResult, error) {
	*p.log = append(*p.log, fmt.Sprintf("%s %d", p.name, t.Steps))
	ms := p.ms[p.calls]
	p.calls++
	return &PeerResult{Peer: p.name, Config: c.Name, MsPerStep: ms, Threads: 1 + p.calls%2, Steps: t.Steps}, nil
}

// TestSessionPeers: each round runs recur, then every peer that can run
// the configuration, with recur's steps; each side's best is kept and the
// speed-ups are against recur's best; a peer that cannot run at all or
// does not support the configuration is skipped with its reason.
func TestSessionPeers(t *testing.T) {
	var log []string
	recur := []float64{4, 2, 3}
	i := 0
	run := func(_ context.Context, c Config, o Options) (Result, error) {
		log = append(log, "recur")
		ms := recur[i]
		i++
		return Result{Config: c, MsPerStep: ms, Steps: 7, Repeat: 3}, nil
	}
	a := &fakePeer{name: "a", ms: []float64{9, 5, 6}, train: true, log: &log}
	b := &fakePeer{name: "b", ms: []float64{1, 1, 1}, log: &log}
	c := &fakePeer{name: "c", check: errors.New("not built (see here)"), train: true, log: &log}
	s := &Session{Rounds: 3, Run: run, Peers: []Peer{a, b, c}}
	cs, _ := Select("tiny")
	r, err := s.Measure(context.Background(), cs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(log, ","), "recur,a 7,recur,a 7,recur,a 7"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	if r.MsPerStep != 2 || len(r.Peers) != 3 {
		t.Fatalf("result %+v, want recur's best 2 and three peers", r)
	}
	if p := r.Peers[0]; p.MsPerStep != 5 || p.Speedup != 2.5 || p.Skipped != "" {
		t.Errorf("peer a = %+v, want its best 5 ms, speed-up 2.5", p)
	}
	if p := r.Peers[1]; p.Skipped != "no training" || p.MsPerStep != 0 {
		t.Errorf("peer b = %+v, want skipped: no training", p)
	}
	if p := r.Peers[2]; p.Skipped != "not built (see here)" || c.calls != 0 {
		t.Errorf("peer c = %+v after %d calls, want skipped as not built, never measured", p, c.calls)
	}
	if r.BestPeer != "a" || r.SpeedupBest != 2.5 {
		t.Errorf("best peer %q %v, want a 2.5", r.BestPeer, r.SpeedupBest)
	}
	if got := s.Unavailable(); len(got) != 1 || got[0] != "c: not built (see here)" {
		t.Errorf("Unavailable = %q", got)
	}
}

// TestSessionFresh: an inference configuration measured in this process
// follows a training configuration (AfterTrain when none ran yet) and is
// also measured fresh.
func TestSessionFresh(t *testing.T) {
	tiny, _ := Select("tiny")
	calls := 0
	s := &Session{Rounds: 2, Options: Options{Steps: 1, Repeat: 1, Warmup: -1, Peak: 50}, AfterTrain: tiny[0],
		Fresh: func(_ context.Context, c Config, o Options) (Result, error) {
			calls++
			return Result{Config: c, MsPerStep: float64(calls)}, nil
		}}
	fc, _ := Select("tiny-forecast")
	r, err := s.Measure(context.Background(), fc[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.FreshMs != 1 || calls != 2 || len(r.TrainedBefore) != 1 || r.TrainedBefore[0] != "tiny" || !(r.MsPerStep > 0) {
		t.Errorf("fresh %v after %d calls, trained before %q, ms %v; want 1, 2, [tiny], > 0", r.FreshMs, calls, r.TrainedBefore, r.MsPerStep)
	}
	// A training configuration is not measured fresh and counts as
	// trained before the next inference one.
	lm, _ := Select("tiny-lm")
	if r, err := s.Measure(context.Background(), lm[0]); err != nil || r.FreshMs != 0 || calls != 2 {
		t.Errorf("training configuration: fresh %v, %d calls, %v", r.FreshMs, calls, err)
	}
	if r, _ := s.Measure(context.Background(), fc[0]); strings.Join(r.TrainedBefore, ",") != "tiny,tiny-lm" {
		t.Errorf("trained before = %q, want tiny, tiny-lm", r.TrainedBefore)
	}
}

// TestPeerReport: the JSON carries every peer's time, speed-up and
// reasons; the table prints the comparison with — for what a peer did
// not run, the notes say why and what the times cover.
func TestPeerReport(t *testing.T) {
	cs, _ := Select("lstm-t50,forecast-b1")
	train := Result{Config: cs[0], Describe: cs[0].Describe(), MsPerStep: 10, Threads: 2, PeakGFlops: 100}
	train.setPeers([]*PeerResult{
		{Peer: "onednn", Config: "lstm-t50", MsPerStep: 20, Threads: 1, Covers: "LSTM layers: forward + backward, no loss or Adam"},
		{Peer: "ort", Config: "lstm-t50", Skipped: "no training"},
		{Peer: "pytorch", Config: "lstm-t50", MsPerStep: 30, Threads: 2},
	})
	infer := Result{Config: cs[1], Describe: cs[1].Describe(), MsPerStep: 0.2, FreshMs: 0.12, TrainedBefore: []string{"lstm-t50"}}
	infer.setPeers([]*PeerResult{
		{Peer: "onednn", Config: "forecast-b1", Skipped: OneDNNNotBuilt.Error()},
		{Peer: "ort", Config: "forecast-b1", MsPerStep: 0.1, Threads: 1, FloorMs: 0.012},
		nil,
	})
	if train.BestPeer != "onednn" || train.SpeedupBest != 2 || infer.BestPeer != "ort" || infer.SpeedupBest != 0.5 {
		t.Errorf("best peers %s %v, %s %v; want onednn 2, ort 0.5", train.BestPeer, train.SpeedupBest, infer.BestPeer, infer.SpeedupBest)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, []Result{train, infer}); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[1], &back); err != nil {
		t.Fatal(err)
	}
	if back.FreshMs != 0.12 || len(back.Peers) != 2 || back.Peers[0].Skipped != OneDNNNotBuilt.Error() || back.Peers[1].FloorMs != 0.012 || back.SpeedupBest != 0.5 {
		t.Errorf("JSON round trip of the inference result: %+v", back)
	}
	buf.Reset()
	if err := WriteTable(&buf, []Result{train, infer}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"fresh ms", "0.1200", "onednn ms (thr)", "vs pytorch", "vs best",
		"20.000 (1)", "2.00x onednn", "3.00x", "0.50x ort",
		"onednn: not built (see bench/onednn/README.md); — for forecast-b1", "ort: no training; — for lstm-t50",
		"onednn: times LSTM layers: forward + backward, no loss or Adam (lstm-t50)", "forecast-b1 0.0120"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// the ort row of lstm-t50 and the onednn row of forecast-b1 are dashes
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "forecast-b1") && strings.Contains(line, "(") && strings.Count(line, "—") < 2 {
			t.Errorf("comparison row %q: want — for onednn's time and speed-up", line)
		}
	}
}

// TestORT times the exported tiny models in ONNX Runtime; skipped, saying
// so, where node or onnxruntime-node is absent.
func TestORT(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "..", "bench", "ort", "bench.js"))
	if err != nil {
		t.Fatal(err)
	}
	p := &ORT{Script: script, Threads: []int{1, 2}, Dir: t.TempDir()}
	if err := p.Check(); err != nil {
		t.Skipf("ONNX Runtime peer unavailable: %v", err)
	}
	for _, name := range []string{"tiny-forecast", "tiny-classify"} {
		cs, _ := Select(name)
		r, err := p.Measure(context.Background(), cs[0], Timing{Steps: 3, Repeat: 2, Warmup: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Peer != "ort" || r.Config != name || !(r.MsPerStep > 0) || !(r.FloorMs > 0) || r.Steps != 3 || len(r.MsByThreads) != 2 || r.Version == "" {
			t.Errorf("%s: ONNX Runtime result %+v", name, r)
		}
	}
	cs, _ := Select("tiny")
	if why := p.Unsupported(cs[0]); why != "no training" {
		t.Errorf("ort on a training configuration: %q, want no training", why)
	}
	if out, err := exec.Command("node", script, filepath.Join(t.TempDir(), "none.json")).CombinedOutput(); err == nil || !bytes.Contains(out, []byte("ENOENT")) {
		t.Errorf("bench.js with a missing job: %v, %s", err, out)
	}
	if err := (&ORT{Script: filepath.Join(t.TempDir(), "x.js")}).Check(); err == nil {
		t.Error("Check accepted a missing script")
	}
	if _, err := os.Stat(p.Dir); err != nil {
		t.Fatal(err)
	}
}
