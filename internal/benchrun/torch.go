package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/input"
)

// TorchResult is one line of bench/torch_models.py's output: PyTorch's
// median ms/step at the better of the thread counts it tried.
type TorchResult struct {
	Config      string             `json:"config"`
	MsPerStep   float64            `json:"ms_per_step"`
	Threads     int                `json:"threads"`
	MsByThreads map[string]float64 `json:"ms_by_threads"`
	PeakRSSMB   float64            `json:"peak_rss_mb"`
	Steps       int                `json:"steps"`
	Repeat      int                `json:"repeat"`
	Version     string             `json:"torch_version"`
	Loss        float64            `json:"loss,omitempty"`
}

// Torch runs the PyTorch script for one configuration at a time.
type Torch struct {
	// Python is the interpreter; "" means /usr/bin/python3.
	Python string
	// Script is the path of bench/torch_models.py.
	Script string
	// Threads lists the thread counts to try; nil means 1 and 2.
	Threads []int
}

// FindScript looks for rel (e.g. "bench/torch_models.py") in dir and its
// parents, so that "recur bench" finds the script from anywhere inside the
// repository.
func FindScript(dir, rel string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("benchrun: %s not found in %s or a parent directory", rel, dir)
		}
	}
}

// Args returns the script's command-line arguments for c with the given
// steps, repeats and warm-up.
func (tr Torch) Args(c Config, steps, repeat, warmup int) ([]string, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	threads := tr.Threads
	if len(threads) == 0 {
		threads = []int{1, 2}
	}
	ts := make([]string, len(threads))
	for i, n := range threads {
		ts[i] = strconv.Itoa(n)
	}
	return []string{tr.Script, "--spec", string(spec), "--steps", strconv.Itoa(steps),
		"--repeat", strconv.Itoa(repeat), "--warmup", strconv.Itoa(warmup),
		"--threads", strings.Join(ts, ",")}, nil
}

// Run measures c in PyTorch with the same steps and repeats as the Go
// run and returns the script's result line.
func (tr Torch) Run(ctx context.Context, c Config, steps, repeat, warmup int) (*TorchResult, error) {
	args, err := tr.Args(c, steps, repeat, warmup)
	if err != nil {
		return nil, err
	}
	py := tr.python()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("benchrun: %s %s: %v: %s", py, tr.Script, err, lastLines(stderr.String(), 5))
	}
	return ParseTorch(stdout.Bytes(), c.Name)
}

// ParseTorch reads the script's JSON lines and returns the one for the
// named configuration.
func ParseTorch(out []byte, name string) (*TorchResult, error) {
	var found *TorchResult
	err := jsonLines(out, "PyTorch", func(line []byte) (bool, error) {
		var r TorchResult
		if err := json.Unmarshal(line, &r); err != nil || r.Config != name {
			return false, err
		}
		if !(r.MsPerStep > 0) {
			return false, fmt.Errorf("ms_per_step %v", r.MsPerStep)
		}
		found = &r
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("benchrun: no PyTorch result for %s in %q", name, lastLines(string(out), 5))
	}
	return found, nil
}

// jsonLines calls f on each line of out that starts with "{" (spaces
// trimmed) until f is done or fails; a failure quotes the line and names
// who printed it.
func jsonLines(out []byte, who string, f func(line []byte) (done bool, err error)) error {
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		done, err := f([]byte(line))
		if err != nil {
			return fmt.Errorf("benchrun: %s output line %s: %w", who, input.Quote(line), err)
		}
		if done {
			return nil
		}
	}
	return nil
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// python is the interpreter to run: Python, or /usr/bin/python3.
func (tr Torch) python() string {
	if tr.Python == "" {
		return "/usr/bin/python3"
	}
	return tr.Python
}
