package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
)

// Session measures configurations as recur bench does: Rounds rounds per
// configuration, each a recur run followed, with a Torch side, by a
// PyTorch run with the same steps and repeats, each side's fastest kept.
// On a shared machine other load only ever slows a run down, so the
// minimum over alternating rounds is the fairer estimate of both.
type Session struct {
	Options Options
	// Torch runs the PyTorch side (nil: none); TorchWarmup is its untimed
	// steps.
	Torch       *Torch
	TorchWarmup int
	// Rounds per configuration (zero: 1).
	Rounds int
	// Run measures one configuration once (nil: Run in this process; see
	// Isolated for a fresh process per configuration).
	Run func(ctx context.Context, c Config, o Options) (Result, error)
}

// Measure runs c for the session's rounds and returns the best result,
// with PyTorch's best and the speed-up when there is a Torch side.
func (s *Session) Measure(ctx context.Context, c Config) (Result, error) {
	run := s.Run
	if run == nil {
		run = func(_ context.Context, c Config, o Options) (Result, error) { return Run(c, o) }
	}
	var best Result
	var bestTorch *TorchResult
	opts := s.Options
	for i := 0; i < max(s.Rounds, 1); i++ {
		if err := ctx.Err(); err != nil {
			return best, err
		}
		r, err := run(ctx, c, opts)
		if err != nil {
			return best, err
		}
		opts.Steps = r.Steps // later rounds and PyTorch time as many steps
		if i == 0 || r.MsPerStep < best.MsPerStep {
			best = r
		}
		if s.Torch == nil {
			continue
		}
		tr, err := s.Torch.Run(ctx, c, r.Steps, r.Repeat, s.TorchWarmup)
		if err != nil {
			return best, err
		}
		if bestTorch == nil || tr.MsPerStep < bestTorch.MsPerStep {
			bestTorch = tr
		}
	}
	if bestTorch != nil {
		best.Torch = bestTorch
		best.Speedup = bestTorch.MsPerStep / best.MsPerStep
	}
	return best, nil
}

// Sweep measures every SweepCases point, telling progress about each, and
// writes dir/sweep.csv and dir/sweep.png.
func (s *Session) Sweep(ctx context.Context, dir string, progress func(SweepPoint)) ([]SweepPoint, error) {
	var ps []SweepPoint
	for _, sc := range SweepCases() {
		r, err := s.Measure(ctx, sc.Config)
		if err != nil {
			return nil, err
		}
		p := SweepPoint{SweepCase: sc, Result: r}
		progress(p)
		ps = append(ps, p)
	}
	csvPath := filepath.Join(dir, "sweep.csv")
	if err := checkpoint.WriteAtomic(csvPath, func(w io.Writer) error { return WriteSweepCSV(w, ps) }); err != nil {
		return nil, err
	}
	if err := PlotSweep(filepath.Join(dir, "sweep.png"), ps); err != nil {
		return nil, fmt.Errorf("benchrun: sweep.png: %w", err)
	}
	return ps, nil
}

// Isolated returns a Session.Run that measures each configuration in a
// child process of the recur binary exe ("exe bench -json -config NAME"),
// with threads kernel threads: the child's peak RSS then covers that
// configuration and nothing measured before it.
func Isolated(exe string, threads int) func(ctx context.Context, c Config, o Options) (Result, error) {
	return func(ctx context.Context, c Config, o Options) (Result, error) {
		args := []string{"bench", "-json", "-config", c.Name, "-repeat", strconv.Itoa(o.Repeat),
			"-steps", strconv.Itoa(o.Steps), "-warmup", strconv.Itoa(max(o.Warmup, 0)), "-threads", strconv.Itoa(threads)}
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return Result{}, fmt.Errorf("%s %s: %v: %s", exe, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		var r Result
		if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r); err != nil {
			return Result{}, fmt.Errorf("isolated run of %s: %v in %q", c.Name, err, out.String())
		}
		if r.Config != c {
			return Result{}, fmt.Errorf("isolated run of %s measured %+v", c.Name, r.Config)
		}
		return r, nil
	}
}
