package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tune"
)

var cmdTune = &command{
	Name:      "tune",
	UsageLine: "recur tune --space FILE [--config FILE] [--trials N] [--parallel P] [--out DIR] [flags]",
	Short:     "search hyperparameters: trials of recur train, weak ones stopped early (ASHA)",
	Long: `Tune searches the values of "recur train" keys for the best validation
metric. Each trial is a "recur train" run (this binary again, as a child
process) with the --config file's settings and the trial's values; --parallel
trials run at once, each with its share of the cores (GOMAXPROCS), each in its
own run directory inside the study directory (--out).

The --space file maps train keys to distributions:

	lr: {log-uniform: [1e-4, 1e-1]}
	dropout: {uniform: [0, 0.5]}
	hidden: {log-int: [8, 128]}
	lookback: {int: [12, 36]}
	cell: {choice: [lstm, gru]}

Trials are points of a scrambled Halton sequence (--sampler halton: even
coverage at a few dozen trials) or independent draws (random), fixed by --seed.
Asynchronous successive halving (ASHA) sets the epochs: a trial first trains
--min-epochs; the best 1/--eta of the trials that reached a rung are promoted
to the next, --eta times as many epochs, up to --max-epochs; the rest stop
there. A promoted trial trains afresh to the new rung's epochs, so that every
result is what "recur train" gives for the trial's configuration. Trials are
ranked on --metric, a validation column of metrics.jsonl at the run's best
epoch: the base config needs validation data (val-fraction, or valid).

The study directory holds study.json (every trial's configuration, state and
results per rung, rewritten atomically after each change), leaderboard.json,
best.yaml (the best trial's configuration as a "recur train --config" file,
its epochs included) and trial-NNN/, the trials' run directories with their
output in tune.log. A trial that fails is recorded with its error and the study
goes on. Rerun the same command after an interruption (Ctrl-C, --time-limit,
a crash) to continue: finished trials are kept and a trial that was running is
resumed from its last checkpoint (--restart: trained again from its start). A
larger --trials extends a finished study.

The leaderboard reports validation figures only: train best.yaml and read its
test figures once, at the end.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &tuneOpts{}
		o.register(fs)
		return noArgs("tune", func(ctx context.Context, stdout, stderr io.Writer) error {
			return runTune(ctx, o, stdout, stderr)
		})
	},
}

// tuneOpts are the flags of "recur tune".
type tuneOpts struct {
	Config, Space, Out, Sampler, Metric, Mode string
	Trials, Parallel, Threads                 int
	MinEpochs, MaxEpochs, Eta                 int
	Seed                                      uint64
	Restart, JSON, Quiet                      bool
	TimeLimit                                 time.Duration
}

func (o *tuneOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Config, "config", "", "base `file`: the \"recur train --config\" YAML every trial starts from")
	fs.StringVar(&o.Space, "space", "", "search space `file` (YAML): train keys and their distributions")
	fs.StringVar(&o.Out, "out", "", "study `dir`ectory (default runs/tune-<space file's name>); rerun with the same one to resume")
	fs.IntVar(&o.Trials, "trials", 20, "configurations to try in all")
	fs.IntVar(&o.Parallel, "parallel", 1, "trials to run at once")
	fs.IntVar(&o.Threads, "threads", 0, "threads to share among the parallel trials (0: the number of CPUs)")
	fs.StringVar(&o.Sampler, "sampler", "halton", "how configurations are drawn: halton (a scrambled quasi-random sequence) or random")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the sampler (each trial trains with the base config's --seed)")
	fs.StringVar(&o.Metric, "metric", "", "validation column of metrics.jsonl that ranks trials (default val_accuracy for classify, else val_loss)")
	fs.StringVar(&o.Mode, "mode", "", "min or max: whether a lower or higher --metric is better (default max for accuracies, f1, auc and bleu, else min)")
	fs.IntVar(&o.MinEpochs, "min-epochs", 0, "epochs of ASHA's first rung (0: --max-epochs / eta³, at least 1)")
	fs.IntVar(&o.MaxEpochs, "max-epochs", 0, "epochs of the last rung (0: the base config's epochs, else the task's default)")
	fs.IntVar(&o.Eta, "eta", 3, "ASHA's reduction factor: each rung promotes its best 1/eta with eta times the epochs")
	fs.BoolVar(&o.Restart, "restart", false, "train trials that an interrupted session left running again from their start rather than resuming their checkpoints")
	fs.DurationVar(&o.TimeLimit, "time-limit", 0, "end the session after this long (e.g. 30m), interrupting the running trials; rerun to continue (0: none)")
	fs.BoolVar(&o.JSON, "json", false, "print the result as one JSON line on stdout (the progress goes to stderr)")
	fs.BoolVar(&o.Quiet, "quiet", false, "print no progress")
}

// tuneResult is the JSON line of "recur tune --json".
type tuneResult struct {
	Study       string      `json:"study"`
	Complete    bool        `json:"complete"`
	Metric      string      `json:"metric"`
	Trials      int         `json:"trials"`
	Failed      int         `json:"failed"`
	Best        *tune.Entry `json:"best,omitempty"`
	Config      string      `json:"config,omitempty"` // best.yaml
	Leaderboard string      `json:"leaderboard"`
}

// reservedKeys are the train keys that recur tune sets for every trial.
var reservedKeys = map[string]string{
	"epochs": "ASHA sets the epochs: give --min-epochs, --max-epochs and --eta", "out": "each trial has its run directory",
	"name": "each trial has its run directory", "resume": "recur tune resumes trials itself", "config": "the base is --config",
	"json": "recur tune reads the trials' results", "quiet": "recur tune writes the trials' output to their tune.log",
	"no-report": "trials write no report", "overwrite": "recur tune manages the trials' run directories",
}

func runTune(ctx context.Context, o *tuneOpts, stdout, stderr io.Writer) (err error) {
	// Under mpirun the ranks share the trials (tune.Tuner.Group). A rank
	// waits for the others as long as their trials train, so the
	// training watchdog (RECUR_RANK_TIMEOUT) is not set; a rank that dies
	// ends the job through mpirun.
	rk, err := joinRanks(stderr)
	if err != nil {
		return err
	}
	defer func() { err = rk.leave(err) }()
	t, base, err := o.tuner(rk)
	if err != nil {
		return err
	}
	progress := stdout
	if o.JSON {
		progress = stderr
	}
	if o.Quiet || rk.rank != 0 {
		progress = io.Discard
	}
	t.Log = progress
	s := t.Settings
	fmt.Fprintf(progress, "tuning into %s: %d trials (%s), rungs at epochs %s (eta %d), ranked by %s (%s); %d at a time, %d thread(s) each\n",
		t.Dir, t.Trials, s.Sampler, joinInts(s.Rungs), s.Eta, s.Metric, map[bool]string{false: "lower is better", true: "higher is better"}[s.Maximize],
		t.Parallel, t.Runner.(*tune.Exec).Threads)
	if rk.size > 1 {
		fmt.Fprintf(progress, "%d ranks: one trial at a time on each\n", rk.size)
	}
	if o.TimeLimit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.TimeLimit)
		defer cancel()
	}
	st, runErr := t.Run(ctx)
	if st == nil { // rank 0 failed before its study opened, or another rank
		return runErr
	}
	if runErr != nil && !errors.Is(runErr, context.DeadlineExceeded) && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	if err := o.report(t, st, base, stdout); err != nil {
		return err
	}
	if errors.Is(runErr, context.DeadlineExceeded) {
		fmt.Fprintf(progress, "time limit (%v) reached: rerun the command to continue the study\n", o.TimeLimit)
		return nil
	}
	return runErr
}

// tuner checks the options, the base config and the space, and returns
// the study's tuner and the base config's bytes.
func (o *tuneOpts) tuner(rk *ranks) (*tune.Tuner, []byte, error) {
	if err := o.validate(); err != nil {
		return nil, nil, err
	}
	if rk.size > 1 && o.Parallel != 1 {
		return nil, nil, flagErr("parallel", o.Parallel, fmt.Sprintf("1 under mpirun: each of the %d ranks runs one trial at a time", rk.size))
	}
	base, topts, err := o.base()
	if err != nil {
		return nil, nil, err
	}
	space, err := o.space(topts)
	if err != nil {
		return nil, nil, err
	}
	settings, err := o.settings(space, base, topts)
	if err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("tune: finding this program to run the trials: %w", err)
	}
	args := []string{"train"}
	if o.Config != "" {
		args = append(args, "--config="+o.Config)
	}
	threads := o.Threads
	switch {
	case threads == 0 && rk.size > 1:
		threads = runtime.GOMAXPROCS(0) // this rank's share of its machine
	case threads == 0:
		threads = runtime.NumCPU()
	}
	out := o.Out
	if out == "" {
		out = filepath.Join("runs", "tune-"+strings.TrimSuffix(filepath.Base(o.Space), filepath.Ext(o.Space)))
	}
	runner := &tune.Exec{Path: exe, Args: args, Threads: max(1, threads/o.Parallel), Restart: o.Restart}
	return &tune.Tuner{Dir: out, Space: space, Settings: settings, Trials: o.Trials, Parallel: o.Parallel, Runner: runner, Group: rk.comm()}, base, nil
}

func (o *tuneOpts) validate() error {
	switch {
	case o.Space == "":
		return usagef("tune: --space is required: a YAML file of train keys and their distributions (see \"recur help tune\")")
	case o.Trials < 1:
		return flagErr("trials", o.Trials, ">= 1")
	case o.Parallel < 1:
		return flagErr("parallel", o.Parallel, ">= 1")
	case o.Threads < 0:
		return flagErr("threads", o.Threads, ">= 0 (0: the number of CPUs)")
	case o.Eta < 2:
		return flagErr("eta", o.Eta, ">= 2")
	case o.MinEpochs < 0:
		return flagErr("min-epochs", o.MinEpochs, ">= 1 (0: from --max-epochs)")
	case o.MaxEpochs < 0:
		return flagErr("max-epochs", o.MaxEpochs, ">= 1 (0: the base config's epochs)")
	case o.TimeLimit < 0:
		return flagErr("time-limit", o.TimeLimit, ">= 0 (0: none)")
	case !slices.Contains(tune.Samplers, o.Sampler):
		return flagErr("sampler", o.Sampler, strings.Join(tune.Samplers, " or "))
	case o.Mode != "" && o.Mode != "min" && o.Mode != "max":
		return flagErr("mode", o.Mode, "min or max")
	}
	return nil
}

// base reads the base config and returns its bytes and the train options
// it gives (checked as "recur train" checks them).
func (o *tuneOpts) base() ([]byte, *trainOpts, error) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	topts := &trainOpts{}
	topts.register(fs)
	if o.Config == "" {
		return nil, topts, nil
	}
	b, err := readSmall(o.Config, "--config")
	if err != nil {
		return nil, nil, err
	}
	if err := applyConfig(fs, o.Config); err != nil {
		return nil, nil, err
	}
	if topts.Resume != "" {
		return nil, nil, usagef("tune: --config %s: key resume: %s", o.Config, reservedKeys["resume"])
	}
	if err := topts.validate(); err != nil {
		return nil, nil, fmt.Errorf("--config %s: %w", o.Config, err)
	}
	return b, topts, nil
}

// space reads the space file and checks every key and sample value
// against the train flags.
func (o *tuneOpts) space(topts *trainOpts) (*tune.Space, error) {
	b, err := readSmall(o.Space, "--space")
	if err != nil {
		return nil, err
	}
	space, err := tune.ParseSpace(o.Space, b)
	if err != nil {
		return nil, err
	}
	err = space.Check(func(key, value string) error {
		if why, ok := reservedKeys[key]; ok {
			return fmt.Errorf("set by recur tune for every trial (%s)", why)
		}
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		(&trainOpts{}).register(fs)
		if fs.Lookup(key) == nil {
			return errors.New("unknown key (keys are the flags of \"recur train\")")
		}
		if err := fs.Set(key, value); err != nil {
			return fmt.Errorf("--%s does not take the value %q (%v)", key, value, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := space.Keys()
	// A piano-roll JSON file carries its own validation split.
	ownSplit := topts.Task == model.Tag && strings.EqualFold(filepath.Ext(topts.Data), ".json")
	if !ownSplit && topts.ValFraction == 0 && topts.Valid == "" && !slices.Contains(keys, "val-fraction") && !slices.Contains(keys, "valid") {
		return nil, usagef("tune: trials are ranked on validation data: set val-fraction (or valid) in the --config file")
	}
	return space, nil
}

// settings are the study's settings from the options.
func (o *tuneOpts) settings(space *tune.Space, base []byte, topts *trainOpts) (tune.Settings, error) {
	maxEpochs := o.MaxEpochs
	if maxEpochs == 0 {
		maxEpochs = topts.Epochs
	}
	if maxEpochs == 0 {
		maxEpochs = model.Defaults(topts.Task).Epochs
	}
	minEpochs := o.MinEpochs
	if minEpochs == 0 {
		minEpochs = max(1, (maxEpochs+o.Eta*o.Eta*o.Eta/2)/(o.Eta*o.Eta*o.Eta))
	}
	rungs, err := tune.Rungs(minEpochs, maxEpochs, o.Eta)
	if err != nil {
		return tune.Settings{}, usagef("%v (--min-epochs, --max-epochs)", err)
	}
	metric := o.Metric
	if metric == "" {
		metric = "val_loss"
		if topts.Task == model.Classify {
			metric = "val_accuracy"
		}
	}
	maximize := o.Mode == "max"
	if o.Mode == "" {
		for _, s := range []string{"accuracy", "f1", "auc", "bleu"} {
			maximize = maximize || strings.HasSuffix(metric, s)
		}
	}
	s := tune.Settings{Space: space.Params, Sampler: o.Sampler, Seed: o.Seed, Metric: metric, Maximize: maximize, Rungs: rungs, Eta: o.Eta}
	if o.Config != "" {
		sum := sha256.Sum256(base)
		s.Base = "sha256:" + hex.EncodeToString(sum[:])
	}
	return s, nil
}

// report writes the leaderboard (a table on stdout, or the JSON line)
// and, in the study directory, leaderboard.json and best.yaml.
func (o *tuneOpts) report(t *tune.Tuner, st *tune.Study, base []byte, stdout io.Writer) error {
	lb := st.Leaderboard()
	lbPath := filepath.Join(t.Dir, "leaderboard.json")
	if err := writeFileAtomic(lbPath, lb, nil); err != nil {
		return err
	}
	res := tuneResult{Study: t.Dir, Complete: st.Complete, Metric: lb.Metric, Trials: len(st.Trials), Leaderboard: lbPath}
	for _, tr := range st.Trials {
		if tr.State == tune.Failed {
			res.Failed++
		}
	}
	if best, err := lb.Best(); err == nil {
		res.Best, res.Config = best, filepath.Join(t.Dir, "best.yaml")
		comment := fmt.Sprintf("recur tune study %s: trial %d, %s %.6g at epoch %d of %d (rung %d of %d).\nTrain it with: recur train --config %s",
			t.Dir, best.Trial, lb.Metric, *best.Score, best.BestEpoch, best.Epochs, best.Rung, len(lb.Rungs), res.Config)
		y, err := tune.BestConfig(base, best.Params, t.Space.Keys(), best.Epochs, comment)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(res.Config, nil, y); err != nil {
			return err
		}
	}
	if o.JSON {
		return writeJSON(stdout, res)
	}
	if err := lb.WriteTable(stdout, t.Space.Keys()); err != nil {
		return err
	}
	if res.Best != nil {
		fmt.Fprintf(stdout, "best: trial %d, %s %.6g; its config: %s\n", res.Best.Trial, lb.Metric, *res.Best.Score, res.Config)
	}
	return nil
}

// writeFileAtomic writes v as indented JSON, or else raw, to path.
func writeFileAtomic(path string, v any, raw []byte) error {
	if v != nil {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		raw = append(b, '\n')
	}
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	})
}

// readSmall reads a config-sized file (at most 1 MiB) named by flag.
func readSmall(path, flagName string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	defer f.Close()
	const limit = 1 << 20
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s %s: larger than 1 MiB; it holds settings, not data", flagName, path)
	}
	return b, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
