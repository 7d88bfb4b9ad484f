package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/recur-ml/recur/data/text"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/report"
	"github.com/recur-ml/recur/train"
)

var cmdTrain = &command{
	Name:      "train",
	UsageLine: "recur train [flags]",
	Short:     "train a model (with no flags: a forecaster on AirPassengers)",
	Long: `Train trains a model, evaluates it on held-out data against simple
baselines and saves it.

With no flags it trains an LSTM forecaster on the embedded AirPassengers
series (monthly airline passengers 1949-1960): the first 67% of the months
train for 150 epochs and the last 33% test (--val-fraction holds out rows
before the test rows to keep the best epoch and stop early). The lookback,
season and batch size adapt to the series, and the run says what it chose.
It prints the test errors (RMSE, MAE, MAPE, sMAPE, MASE) next to the
persistence, seasonal-naive and training-mean baselines and where it saved
the model.

Every flag is checked before anything is written. The output directory
(--out, default runs/<name>) receives model.safetensors (the final model:
weights under PyTorch names, spec and preprocessing state),
best.safetensors and last.safetensors (checkpoints with optimizer and
training state, for --resume), metrics.csv and metrics.jsonl (one row per
epoch, the whole run's history, also after a resume), the plots and
report.html.

Keys of a --config YAML file are the flag names (for example "hidden: 64"
or "target: [a, b]"); flags on the command line override the file.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &trainOpts{}
		o.register(fs)
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) > 0 {
				return usagef("train: unexpected argument %q (data files are given with --data)", args[0])
			}
			if o.Config != "" {
				if err := applyConfig(fs, o.Config); err != nil {
					return err
				}
			}
			return runTrain(ctx, o, stdout, stderr)
		}
	},
}

// trainResult is the final JSON line of "recur train --json".
type trainResult struct {
	Task      string         `json:"task"`
	Metrics   map[string]any `json:"metrics"`
	Baselines map[string]any `json:"baselines,omitempty"`
	Model     string         `json:"model"`
	Epochs    int            `json:"epochs"`
	Seconds   float64        `json:"seconds"`
	Precision string         `json:"precision"` // what the training steps ran in: fp32 or bf16
}

// runner holds what every task's training run shares.
type runner struct {
	o        *trainOpts
	stdout   io.Writer
	progress io.Writer // stdout, or stderr with --json
	dir      string
	start    time.Time
	monitor  *report.Monitor // the report's gradient and gate curves
	comm     train.Comm      // the ranks of data-parallel training (nil: one process)
}

func runTrain(ctx context.Context, o *trainOpts, stdout, stderr io.Writer) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	rk, err := joinRanks(stderr)
	if err != nil {
		return err
	}
	rk.watch()
	defer func() { err = rk.leave(err) }()
	r := &runner{o: o, stdout: stdout, progress: stdout, dir: o.outDir(), start: time.Now(), comm: rk.comm()}
	if o.JSON {
		r.progress = stderr // keep stdout for the JSON line
	}
	if o.Quiet {
		r.progress = io.Discard
	}
	if rk.rank > 0 { // rank 0 reports and writes for the job
		r.stdout, r.progress, o.NoReport, o.Monitor = io.Discard, io.Discard, true, 0
	}
	j, err := r.job()
	if err != nil {
		return err
	}
	if p := o.precision(); p != p.Effective() && rk.rank == 0 {
		fmt.Fprintf(stderr, "warning: --precision %s: this CPU has no AVX512_BF16; training in %s\n", p, p.Effective())
	}
	if rk.rank > 0 {
		_, err := j.fit(ctx)
		return fitErr(err)
	}
	release, err := o.claimDir(r.dir, r.progress)
	if err != nil {
		return err
	}
	out, err := j.fit(ctx)
	if err != nil {
		// A run that failed before writing anything (a broken embeddings
		// file, say) leaves no empty directory behind.
		release(true)
		return fitErr(err)
	}
	defer release(false)
	return r.finish(out)
}

// job is a task's prepared run: its data read and checked, its model
// configured; fit trains it and find runs the learning-rate range test.
type job struct {
	fit  func(ctx context.Context) (*outcome, error)
	find func(ctx context.Context, c lrfind.Config) (*lrfind.Result, error)
}

// job reads the data and configures the model of the options' task.
func (r *runner) job() (*job, error) {
	switch r.o.Task {
	case model.Forecast:
		if r.o.isCollection() {
			return globalJob(r)
		}
		return forecastJob(r)
	case model.Classify:
		if r.o.numericData() {
			return sequenceJob(r)
		}
		return classifyJob(r)
	case model.LM:
		return lmJob(r)
	case model.Tag:
		return tagJob(r)
	default:
		return seq2seqJob(r)
	}
}

// fitConfig is the run's FitConfig, with the --init-from and --resume
// files read; has says whether there is validation data.
func (r *runner) fitConfig(has bool) (model.FitConfig, error) {
	fc, err := r.o.withValidation(r.o.fitConfig(r.dir), has)
	if err != nil {
		return fc, err
	}
	fc.Train.Comm = r.comm
	if r.o.InitFrom != "" {
		path, err := modelPath(r.o.InitFrom)
		if err != nil {
			return fc, fmt.Errorf("--init-from: %w", err)
		}
		if fc.InitFrom, err = readModelFile(path); err != nil {
			return fc, fmt.Errorf("--init-from: %w", err)
		}
	}
	if r.o.Resume != "" {
		f, err := checkpoint.Read(r.o.Resume)
		if err != nil {
			return fc, fmt.Errorf("--resume: %w", err)
		}
		fc.Resume = f
	}
	return fc, nil
}

// callbacks are the run's progress line, monitor and announcements; m
// returns the model (built after its config, which holds these) and info
// describes the run once its network is built.
func (r *runner) callbacks(m func() model.Model, info func() string) []train.Callback {
	cbs := []train.Callback{train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind != train.TrainBegin {
			return nil
		}
		fmt.Fprintln(r.progress, info())
		if t, ok := m().(interface{ Transfer() *model.Transfer }); ok && t.Transfer() != nil {
			path, _ := modelPath(r.o.InitFrom)
			fmt.Fprintf(r.progress, "init-from %s: %v\n", path, t.Transfer())
		}
		if p, ok := m().(interface{ Pretrained() *text.Coverage }); ok && p.Pretrained() != nil {
			printCoverage(r.progress, r.o.Embeddings, r.o.FreezeEmbeddings, p.Pretrained())
		}
		if r.o.Resume != "" {
			st := ev.Trainer.State()
			fmt.Fprintf(r.progress, "resumed from %s at epoch %d, step %d\n", r.o.Resume, st.Epoch+1, st.Step)
		}
		return nil
	})}
	if !r.o.NoReport {
		r.monitor = report.NewMonitor(m)
		cbs = append(cbs, r.monitor)
	}
	if pats := splitList(r.o.Freeze); len(pats) > 0 {
		cbs = append(cbs, freezeReport(r.progress, pats, r.o.UnfreezeAfter))
	}
	if r.o.Monitor > 0 {
		cbs = append(cbs, monitor(r.progress, r.o.Monitor, m))
	}
	epochs := r.o.Epochs
	if epochs == 0 {
		epochs = model.Defaults(r.o.Task).Epochs
	}
	return append(cbs, newProgress(r.progress, epochs, isTerminal(r.progress)))
}

// printCoverage says how much of the vocabulary the pretrained vectors
// of path covered, with a few of the tokens they miss.
func printCoverage(w io.Writer, path string, frozen bool, c *text.Coverage) {
	how := "trained"
	if frozen {
		how = "frozen"
	}
	fmt.Fprintf(w, "embeddings %s: %v, %s", path, c, how)
	if n := len(c.Missing); n > 0 {
		fmt.Fprintf(w, "; %d %s without a vector, e.g. %q", n, map[bool]string{true: "token", false: "tokens"}[n == 1], c.Missing[:min(n, 8)])
	}
	fmt.Fprintln(w)
}

// outcome is what a task's run hands to finish.
type outcome struct {
	m         model.Model
	result    *train.Result
	metrics   map[string]any
	baselines map[string]any
	info      string
	figs      []*report.Figure
	human     func(w io.Writer)
}

// finish reports how training ended, saves the final model, writes the
// plots and report, and prints the result.
func (r *runner) finish(out *outcome) error {
	if res := out.result; res.Stopped && res.StopReason != "" {
		fmt.Fprintf(r.progress, "%s (after epoch %d)\n", res.StopReason, res.Epochs)
	}
	if res := out.result; res.Restored > 0 {
		fmt.Fprintf(r.progress, "kept the weights of epoch %d, the best validation %s (%.6g)\n", res.Restored, r.monitorName(), res.Best)
	}
	path := filepath.Join(r.dir, "model.safetensors")
	if out.m == nil {
		path = "(none: cross-validation keeps no model)"
	} else if err := out.m.Save(path); err != nil {
		return err
	}
	page := ""
	if !r.o.NoReport {
		curves, err := r.curves(out)
		if err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		info := out.info + "\nprecision: " + r.o.precision().Effective().String()
		if page, err = report.Write(r.dir, &report.Page{Task: r.o.Task, Info: info, Model: path, Metrics: out.metrics, Baselines: out.baselines,
			Figures: append(curves, out.figs...)}); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if r.o.JSON {
		return writeJSON(r.stdout, trainResult{Task: r.o.Task, Metrics: out.metrics, Baselines: out.baselines, Model: path,
			Epochs: out.result.Epochs, Seconds: time.Since(r.start).Seconds(), Precision: r.o.precision().Effective().String()})
	}
	out.human(r.stdout)
	if out.m != nil {
		fmt.Fprintf(r.stdout, "model saved to %s (%.1fs)\n", path, time.Since(r.start).Seconds())
	}
	if page != "" {
		fmt.Fprintf(r.stdout, "plots and report: %s\n", page)
	}
	return nil
}

// curves are the report's learning curves and, when the run was
// monitored, its per-layer gradient norms, gate saturation and one
// example's hidden states.
func (r *runner) curves(out *outcome) ([]*report.Figure, error) {
	figs, err := report.Curves(out.result.History)
	if err != nil || r.monitor == nil || out.m == nil {
		return figs, err
	}
	more, err := r.monitor.Figures()
	if err != nil {
		return nil, err
	}
	figs = append(figs, more...)
	if f, err := report.HiddenStates(out.m, r.monitor.LastBatch()); err == nil {
		figs = append(figs, f)
	}
	return figs, nil
}

func (r *runner) monitorName() string {
	name, _ := r.o.monitorMetric()
	return name
}

// fitErr adds the hint a user needs to a training error.
func fitErr(err error) error {
	var nf *train.NonFiniteError
	if errors.As(err, &nf) {
		return fmt.Errorf("%w (try a smaller --lr or --clip)", err)
	}
	return flagError(err)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// metricsOf adds the validation metrics of res to m.
func metricsOf(res *train.Result, m map[string]any) map[string]any {
	if res.Valid != nil {
		m["valid"] = res.Valid
	}
	return m
}

// monitor reports gradient norms per parameter and gate saturation every
// `every` epochs: the vanishing/exploding gradient problem made visible.
func monitor(w io.Writer, every int, m func() model.Model) train.Callback {
	var last train.Batch
	return train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind == train.StepEnd {
			last = ev.Batch
		}
		if ev.Kind != train.EpochEnd || ev.Epoch%every != 0 {
			return nil
		}
		ps, norms := ev.Trainer.Params(), ev.Trainer.GradNorms()
		lo, hi := 0, 0
		var vanishing, exploding []string
		for i, n := range norms {
			if n < norms[lo] {
				lo = i
			}
			if n > norms[hi] {
				hi = i
			}
			if !ps[i].Frozen && n < 1e-7 {
				vanishing = append(vanishing, ps[i].Name)
			}
			if n > 1e3 {
				exploding = append(exploding, ps[i].Name)
			}
		}
		fmt.Fprintf(w, "monitor epoch %d: gradient norm %.3g (%s) to %.3g (%s)", ev.Epoch, norms[lo], ps[lo].Name, norms[hi], ps[hi].Name)
		if len(vanishing) > 0 {
			fmt.Fprintf(w, "; vanishing: %s", strings.Join(vanishing, ", "))
		}
		if len(exploding) > 0 {
			fmt.Fprintf(w, "; exploding: %s", strings.Join(exploding, ", "))
		}
		if s, ok := model.GateSaturation(m(), last); ok {
			fmt.Fprintf(w, "; saturated LSTM gates (layer 0): input %.0f%%, forget %.0f%%, cell %.0f%%, output %.0f%%", 100*s.Input, 100*s.Forget, 100*s.Cell, 100*s.Output)
		}
		fmt.Fprintln(w)
		return nil
	})
}

// freezeReport says what --freeze froze and when --unfreeze-after
// unfroze it.
func freezeReport(w io.Writer, pats []string, after int) train.Callback {
	return train.CallbackFunc(func(ev *train.Event) error {
		switch {
		case ev.Kind == train.TrainBegin:
			n := 0
			for _, p := range ev.Trainer.Params() {
				if p.Frozen {
					n++
				}
			}
			fmt.Fprintf(w, "froze %d parameters matching %q\n", n, pats)
		case ev.Kind == train.EpochEnd && ev.Epoch == after:
			fmt.Fprintf(w, "epoch %d: unfroze %q\n", ev.Epoch, pats)
		}
		return nil
	})
}
