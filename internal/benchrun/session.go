package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
)

// Session measures configurations as recur bench does: Rounds rounds per
// configuration, each a recur run followed by a run of every Peer with the
// same steps and repeats, each side's fastest kept. On a shared machine
// other load only ever slows a run down, so the minimum over alternating
// rounds is the fairer estimate of every side.
type Session struct {
	Options Options
	// Peers are the other implementations timed beside recur (PyTorch,
	// oneDNN, ONNX Runtime); PeerWarmup is their untimed steps. A peer
	// whose Check fails is reported as skipped, with the reason, and not
	// run.
	Peers      []Peer
	PeerWarmup int
	// Rounds per configuration (zero: 1).
	Rounds int
	// Run measures one configuration once (nil: Run in this process; see
	// Isolated for a fresh process per configuration).
	Run func(ctx context.Context, c Config, o Options) (Result, error)
	// Fresh, when set, also measures each inference configuration in a
	// fresh process (Isolated), beside the in-process time that follows
	// the training configurations: the two differ when what ran before in
	// the process slows inference down. Before an inference configuration
	// with no training configuration measured yet in this process,
	// AfterTrain is run (its warm-up and one timed step), so that the
	// in-process time is always one after training.
	Fresh      func(ctx context.Context, c Config, o Options) (Result, error)
	AfterTrain Config

	trained []string // training configurations run in this process
	checked map[string]error
}

// Measure runs c for the session's rounds and returns recur's best
// result, with every peer's best and the speed-ups.
func (s *Session) Measure(ctx context.Context, c Config) (Result, error) {
	run := s.Run
	if run == nil {
		run = func(_ context.Context, c Config, o Options) (Result, error) { return Run(c, o) }
		if err := s.trainFirst(c); err != nil {
			return Result{}, err
		}
	}
	var best Result
	var fresh float64
	peers := make([]*PeerResult, len(s.Peers))
	opts := s.Options
	for i := 0; i < max(s.Rounds, 1); i++ {
		if err := ctx.Err(); err != nil {
			return best, err
		}
		r, err := run(ctx, c, opts)
		if err != nil {
			return best, err
		}
		opts.Steps = r.Steps // later rounds and the peers time as many steps
		if i == 0 || r.MsPerStep < best.MsPerStep {
			best = r
		}
		if s.Fresh != nil && !c.Training() {
			f, err := s.Fresh(ctx, c, opts)
			if err != nil {
				return best, err
			}
			if fresh == 0 || f.MsPerStep < fresh {
				fresh = f.MsPerStep
			}
		}
		t := Timing{Steps: r.Steps, Repeat: r.Repeat, Warmup: s.PeerWarmup}
		if err := s.measurePeers(ctx, c, t, peers); err != nil {
			return best, err
		}
	}
	if s.Run == nil && c.Training() {
		s.trained = append(s.trained, c.Name)
	}
	if s.Fresh != nil && !c.Training() {
		best.FreshMs = fresh
		best.TrainedBefore = append([]string(nil), s.trained...)
	}
	best.setPeers(peers)
	return best, nil
}

// trainFirst runs AfterTrain in this process before c when c is an
// inference configuration that Fresh compares and no training
// configuration has run yet.
func (s *Session) trainFirst(c Config) error {
	if s.Fresh == nil || c.Training() || len(s.trained) > 0 || s.AfterTrain.Name == "" {
		return nil
	}
	if _, err := Run(s.AfterTrain, Options{Steps: 1, Repeat: 1, Warmup: s.Options.Warmup, Seed: s.Options.Seed, Peak: s.Options.Peak}); err != nil {
		return err
	}
	s.trained = append(s.trained, s.AfterTrain.Name)
	return nil
}

// measurePeers runs every available peer that supports c once and keeps
// each one's best in best (indexed as s.Peers); a peer that cannot run,
// or does not support c, gets a result saying why.
func (s *Session) measurePeers(ctx context.Context, c Config, t Timing, best []*PeerResult) error {
	for i, p := range s.Peers {
		if err := s.check(p); err != nil {
			best[i] = &PeerResult{Peer: p.Name(), Config: c.Name, Skipped: err.Error()}
			continue
		}
		if why := p.Unsupported(c); why != "" {
			best[i] = &PeerResult{Peer: p.Name(), Config: c.Name, Skipped: why}
			continue
		}
		r, err := p.Measure(ctx, c, t)
		if err != nil {
			return err
		}
		if best[i] == nil || r.MsPerStep < best[i].MsPerStep {
			best[i] = r
		}
	}
	return nil
}

// check runs p.Check once per session.
func (s *Session) check(p Peer) error {
	if s.checked == nil {
		s.checked = map[string]error{}
	}
	err, ok := s.checked[p.Name()]
	if !ok {
		err = p.Check()
		s.checked[p.Name()] = err
	}
	return err
}

// Unavailable returns, for each peer whose Check fails, "name: reason".
func (s *Session) Unavailable() []string {
	var out []string
	for _, p := range s.Peers {
		if err := s.check(p); err != nil {
			out = append(out, p.Name()+": "+err.Error())
		}
	}
	return out
}

// Close releases what the peers hold (ORT's exported models).
func (s *Session) Close() error {
	var errs []error
	for _, p := range s.Peers {
		if c, ok := p.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
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
			"-steps", strconv.Itoa(o.Steps), "-warmup", strconv.Itoa(max(o.Warmup, 0)), "-threads", strconv.Itoa(threads),
			"-precision", o.Precision.String()}
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
