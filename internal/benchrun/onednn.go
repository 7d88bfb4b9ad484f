package benchrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// OneDNNNotBuilt is why the oneDNN peer cannot run when its program is
// missing.
var OneDNNNotBuilt = errors.New("not built (see bench/onednn/README.md)")

// OneDNN times oneDNN's LSTM primitive with bench/onednn's program
// (recur-onednn, built against the system's libdnnl). It runs the LSTM
// layers of a configuration alone: for a training configuration of kind
// lstm, forward_training and backward (input, weight and bias gradients),
// without recur's loss and Adam; for the inference kinds, forward_inference
// of the stack, without the embedding look-up or the head. Each thread
// count runs in its own process with OMP_NUM_THREADS set (Debian's
// libdnnl uses OpenMP).
type OneDNN struct {
	// Binary is the path of recur-onednn; "" or a missing file makes
	// Check report OneDNNNotBuilt.
	Binary string
	// Threads lists the thread counts to try; nil means 1 and 2.
	Threads []int
}

// Name is "onednn".
func (p *OneDNN) Name() string { return "onednn" }

// Check reports OneDNNNotBuilt when the program is missing.
func (p *OneDNN) Check() error {
	if p.Binary == "" {
		return OneDNNNotBuilt
	}
	if _, err := os.Stat(p.Binary); err != nil {
		return OneDNNNotBuilt
	}
	return nil
}

// Unsupported names what the LSTM primitive alone cannot stand for: the
// language model's, classifier's and seq2seq model's training steps,
// whose embeddings, heads and attention are a large share of the step.
func (p *OneDNN) Unsupported(c Config) string {
	switch c.Kind {
	case KindLSTM, KindForecast, KindClassify:
		if c.Bidirectional {
			return "bidirectional stacks are not wired"
		}
		return ""
	}
	return "the LSTM primitive alone is not this model"
}

// args returns recur-onednn's arguments for c at n threads.
func (p *OneDNN) args(c Config, t Timing, n int) []string {
	in, mode := c.I, "train"
	if c.Kind == KindClassify {
		in = c.E
	}
	if !c.Training() {
		mode = "infer"
	}
	return []string{"bench", "--name", c.Name, "--T", strconv.Itoa(c.T), "--B", strconv.Itoa(c.B),
		"--I", strconv.Itoa(in), "--H", strconv.Itoa(c.H), "--L", strconv.Itoa(c.L), "--mode", mode,
		"--threads", strconv.Itoa(n), "--steps", strconv.Itoa(max(t.Steps, 1)), "--repeat", strconv.Itoa(max(t.Repeat, 1)),
		"--warmup", strconv.Itoa(max(t.Warmup, 0))}
}

// Measure runs recur-onednn for c at each thread count.
func (p *OneDNN) Measure(ctx context.Context, c Config, t Timing) (*PeerResult, error) {
	if why := p.Unsupported(c); why != "" {
		return nil, fmt.Errorf("benchrun: onednn cannot run %s: %s", c.Name, why)
	}
	r, err := bestOf(p.Threads, func(n int) (*PeerResult, error) {
		out, err := runPeer(ctx, []string{"OMP_NUM_THREADS=" + strconv.Itoa(n)}, p.Binary, p.args(c, t, n)...)
		if err != nil {
			return nil, err
		}
		return ParsePeer(out, p.Name(), c.Name)
	})
	if err != nil {
		return nil, err
	}
	r.Covers = "LSTM layers: forward + backward, no loss or Adam"
	if !c.Training() {
		r.Covers = "LSTM layers only"
	}
	return r, nil
}
