package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/input"
)

// Peer is another implementation timed on the same configurations as
// recur, in the same window: PyTorch (bench/torch_models.py), oneDNN's
// LSTM primitive (bench/onednn) and ONNX Runtime (bench/ort/bench.js).
type Peer interface {
	// Name is the peer's name on the command line and in reports.
	Name() string
	// Check reports why the peer cannot run at all (not built, not
	// installed), or nil.
	Check() error
	// Unsupported says why the peer does not measure c ("no training",
	// say), or "" when it does.
	Unsupported(c Config) string
	// Measure times c with recur's steps, repeats and warm-up at each of
	// the peer's thread counts and returns the better.
	Measure(ctx context.Context, c Config, t Timing) (*PeerResult, error)
}

// Timing is how long a peer measures: Repeat timings of Steps steps (or
// calls) after Warmup untimed ones, the median kept, as recur measured.
type Timing struct {
	Steps, Repeat, Warmup int
}

// PeerResult is one peer's time for one configuration. A peer that did
// not run it has Skipped set and no time.
type PeerResult struct {
	Peer   string `json:"peer"`
	Config string `json:"config"`
	// MsPerStep is the median ms per step (per call for inference) at the
	// better of the thread counts tried, Threads.
	MsPerStep   float64            `json:"ms_per_step,omitempty"`
	Threads     int                `json:"threads,omitempty"`
	MsByThreads map[string]float64 `json:"ms_by_threads,omitempty"`
	Steps       int                `json:"steps,omitempty"`
	Repeat      int                `json:"repeat,omitempty"`
	Version     string             `json:"version,omitempty"`
	PeakRSSMB   float64            `json:"peak_rss_mb,omitempty"`
	// Covers says what the time includes when it is less than recur's
	// step (oneDNN: the LSTM layers alone).
	Covers string `json:"covers,omitempty"`
	// FloorMs is the peer's time per call of a trivial model (ONNX
	// Runtime: one Identity node) in the same process: its per-call
	// overhead, included in MsPerStep.
	FloorMs float64 `json:"floor_ms,omitempty"`
	// Speedup is the peer's ms over recur's (> 1: recur is faster).
	Speedup float64 `json:"speedup,omitempty"`
	// Skipped says why there is no time.
	Skipped string `json:"skipped,omitempty"`
}

// peerLine is one JSON line of bench/onednn's and bench/ort/bench.js's
// output: one run at one thread count.
type peerLine struct {
	Peer      string  `json:"peer"`
	Config    string  `json:"config"`
	Threads   int     `json:"threads"`
	MsPerStep float64 `json:"ms_per_step"`
	Steps     int     `json:"steps"`
	Repeat    int     `json:"repeat"`
	Version   string  `json:"version"`
	FloorMs   float64 `json:"floor_ms"`
}

// ParsePeer reads the JSON lines a peer program printed for one run and
// returns the one of the named peer and configuration, with a positive,
// finite time and thread count. Lines not starting with "{" are ignored.
func ParsePeer(out []byte, peer, name string) (*PeerResult, error) {
	var found *PeerResult
	err := jsonLines(out, peer, func(line []byte) (bool, error) {
		var l peerLine
		if err := json.Unmarshal(line, &l); err != nil || l.Peer != peer || l.Config != name {
			return false, err
		}
		switch {
		case !(l.MsPerStep > 0) || math.IsInf(l.MsPerStep, 0):
			return false, fmt.Errorf("ms_per_step %v", l.MsPerStep)
		case l.Threads < 1:
			return false, fmt.Errorf("threads %d", l.Threads)
		case l.FloorMs < 0 || math.IsInf(l.FloorMs, 0) || math.IsNaN(l.FloorMs):
			return false, fmt.Errorf("floor_ms %v", l.FloorMs)
		}
		found = &PeerResult{Peer: peer, Config: name, MsPerStep: l.MsPerStep, Threads: l.Threads,
			MsByThreads: map[string]float64{strconv.Itoa(l.Threads): l.MsPerStep},
			Steps:       l.Steps, Repeat: l.Repeat, Version: l.Version, FloorMs: l.FloorMs}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("benchrun: no %s result for %s in %s", peer, input.Quote(name), input.Quote(lastLines(string(out), 5)))
	}
	return found, nil
}

// bestOf runs one measurement per thread count and merges them: the
// fastest is kept, every count's time listed in MsByThreads.
func bestOf(threads []int, run func(n int) (*PeerResult, error)) (*PeerResult, error) {
	if len(threads) == 0 {
		threads = []int{1, 2}
	}
	var best *PeerResult
	by := map[string]float64{}
	for _, n := range threads {
		r, err := run(n)
		if err != nil {
			return nil, err
		}
		by[strconv.Itoa(n)] = r.MsPerStep
		if best == nil || r.MsPerStep < best.MsPerStep {
			best = r
		}
	}
	best.MsByThreads = by
	return best, nil
}

// runPeer runs a peer program and returns its standard output; a failure
// names the command and quotes the end of its standard error.
func runPeer(ctx context.Context, env []string, exe string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if env != nil {
		cmd.Env = append(cmd.Environ(), env...)
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("benchrun: %s %s: %v: %s", exe, strings.Join(args, " "), err, lastLines(errb.String(), 5))
	}
	return out.Bytes(), nil
}

// PyTorch is bench/torch_models.py as a Peer.
type PyTorch struct{ Torch }

// Name is "pytorch".
func (p *PyTorch) Name() string { return "pytorch" }

// Check reports a missing script or a Python that cannot import torch.
func (p *PyTorch) Check() error {
	if _, err := os.Stat(p.Script); err != nil {
		return fmt.Errorf("bench/torch_models.py not found: %w", err)
	}
	if out, err := exec.Command(p.python(), "-c", "import torch").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import torch (apt-get install python3-torch): %v: %s", p.python(), err, lastLines(string(out), 1))
	}
	return nil
}

// Unsupported is "" for every configuration: the script builds each kind.
func (p *PyTorch) Unsupported(Config) string { return "" }

// Measure runs the script for c; it tries the thread counts itself.
func (p *PyTorch) Measure(ctx context.Context, c Config, t Timing) (*PeerResult, error) {
	tr, err := p.Run(ctx, c, t.Steps, t.Repeat, t.Warmup)
	if err != nil {
		return nil, err
	}
	return &PeerResult{Peer: p.Name(), Config: c.Name, MsPerStep: tr.MsPerStep, Threads: tr.Threads,
		MsByThreads: tr.MsByThreads, Steps: tr.Steps, Repeat: tr.Repeat, Version: tr.Version, PeakRSSMB: tr.PeakRSSMB}, nil
}

// setPeers attaches the peers' results to r with their speed-ups over r
// and the best peer's.
func (r *Result) setPeers(ps []*PeerResult) {
	r.Peers, r.BestPeer, r.SpeedupBest = nil, "", 0
	best := 0.0
	for _, p := range ps {
		if p == nil {
			continue
		}
		q := *p
		if q.Skipped == "" && q.MsPerStep > 0 && r.MsPerStep > 0 {
			q.Speedup = q.MsPerStep / r.MsPerStep
			if best == 0 || q.MsPerStep < best {
				best, r.BestPeer, r.SpeedupBest = q.MsPerStep, q.Peer, q.Speedup
			}
		}
		r.Peers = append(r.Peers, q)
	}
}

// Peer returns the named peer's result if it measured r's configuration,
// or nil.
func (r Result) Peer(name string) *PeerResult {
	for i := range r.Peers {
		if p := &r.Peers[i]; p.Peer == name && p.Skipped == "" {
			return p
		}
	}
	return nil
}
