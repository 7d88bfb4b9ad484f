package model

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/train"
)

// FitConfig is how every front door trains. Zero fields mean the
// documented defaults.
type FitConfig struct {
	// Seed fixes every random choice: initialization, the split of
	// shuffled data, batch order, dropout masks (zero is a seed too).
	Seed uint64
	// Optimizer is one of optim.Names() (zero: "adam").
	Optimizer string
	// Optim holds the optimizer's hyperparameters. A zero LR means the
	// task's rate for Adam and AdamW (TaskDefaults: recurrent models this
	// small train faster than with PyTorch's 1e-3) and the optimizer's
	// PyTorch default for the others (SGD 0.01, Adadelta 1, ...).
	Optim optim.Config
	// LRBackbone, when > 0, trains everything but the head with this rate
	// (two parameter groups), as fine-tuning wants.
	LRBackbone float64
	// BatchSize is the number of sequences per batch (zero: the task's;
	// streams for a language model).
	BatchSize int
	// Loss chooses the training loss (zero: the task's own).
	Loss LossConfig
	// Schedule names the learning-rate schedule (sched.Names; zero:
	// constant), Sched holds its settings: fields that depend on the run's
	// length and are zero are filled from it (sched.ForRun), and Warmup
	// puts a linear warmup of that many steps in front.
	Schedule string
	Sched    sched.Config
	Warmup   int
	// ScheduleEpochs makes the schedule's step counts (Sched's StepSize,
	// Milestones, TMax, T0, Iters, TotalSteps, and Warmup) count epochs:
	// they are multiplied by the optimizer steps of one epoch, so a
	// recipe such as "halve the rate after epochs 4, 5, ..." does not
	// depend on the data's length.
	ScheduleEpochs bool
	// Train configures the loop: epochs (zero: the task's), clipping,
	// accumulation, L1, early stopping, restore-best, plateau, freezing,
	// checkpoints and logs in Dir, callbacks. Its Seed, Shuffle, Schedule,
	// RNGs and Extra are set by Fit.
	Train train.Config
	// AR and TAR are activation regularization (Merity et al. 2017) of
	// the recurrent stack's output h in training: AR·mean(h²) and
	// TAR·mean((h[t] - h[t-1])²) over the valid steps (AWD-LSTM: AR 2,
	// TAR 1; zero: off). Not for seq2seq.
	AR, TAR float64
	// InitFrom, when set, initializes every parameter that matches by
	// name and shape from this model or checkpoint file.
	InitFrom *checkpoint.File
	// Resume, when set, continues the run saved in this checkpoint
	// (weights, optimizer, position, history).
	Resume *checkpoint.File
}

// TaskDefaults are the per-task defaults of a FitConfig's zero fields.
type TaskDefaults struct {
	BatchSize int
	Epochs    int
	LR        float64 // for Adam and AdamW
}

// Defaults returns the defaults of task.
func Defaults(task string) TaskDefaults {
	switch task {
	case Forecast:
		return TaskDefaults{BatchSize: 8, Epochs: 150, LR: 0.003}
	case LM:
		return TaskDefaults{BatchSize: 20, Epochs: 10, LR: 0.01}
	default:
		return TaskDefaults{BatchSize: 32, Epochs: 10, LR: 0.01}
	}
}

// withDefaults fills the zero fields for task and validates them.
func (fc FitConfig) withDefaults(task string) (FitConfig, error) {
	d := Defaults(task)
	if fc.Optimizer == "" {
		fc.Optimizer = "adam"
	}
	fc.Optimizer = strings.ToLower(fc.Optimizer)
	if fc.Optim.LR == 0 && (fc.Optimizer == "adam" || fc.Optimizer == "adamw") {
		fc.Optim.LR = d.LR
	}
	if fc.BatchSize == 0 {
		fc.BatchSize = d.BatchSize
	}
	if fc.Train.Epochs == 0 {
		fc.Train.Epochs = d.Epochs
	}
	if task != Tag { // a tagger's targets are values or classes: NewTagger checks
		if task == Forecast && fc.Loss.multiLabel() {
			return fc, &FitError{"Loss.Name", fc.Loss.Name, "mse, mae, huber or smooth_l1 (bce is for a tagger's 0/1 labels)"}
		}
		if err := fc.Loss.validate(task == Forecast); err != nil {
			return fc, err
		}
	}
	if (task == LM || task == Seq2Seq) && fc.Loss.multiLabel() {
		return fc, &FitError{"Loss.Name", fc.Loss.Name, "ce (a " + task + " model predicts one token at a time)"}
	}
	if (task == LM || task == Seq2Seq) && (fc.Loss.ClassWeights != nil || fc.Loss.AutoClassWeights) {
		return fc, &FitError{"Loss.ClassWeights", "set", "a classifier (a " + task + " model predicts tokens)"}
	}
	switch {
	case fc.BatchSize < 0:
		return fc, &FitError{"BatchSize", fc.BatchSize, "> 0"}
	case fc.Warmup < 0:
		return fc, &FitError{"Warmup", fc.Warmup, ">= 0"}
	case !(fc.LRBackbone >= 0):
		return fc, &FitError{"LRBackbone", fc.LRBackbone, ">= 0"}
	}
	return fc, nil
}

// checkText fills fc's defaults for the text task of s, checks the text
// options, and validates s with placeholder data sizes (the vocabulary and
// classes come from the data at Fit).
func checkText(fc FitConfig, tc TextConfig, s Spec) (FitConfig, error) {
	fc, err := fc.withDefaults(s.Task)
	if err != nil {
		return fc, err
	}
	if err := tc.validate(); err != nil {
		return fc, err
	}
	s.TgtVocab, s.Classes = 1, 2
	if s.Inputs == 0 {
		s.Vocab = 1
	}
	_, err = s.withDefaults()
	return fc, err
}

// FitError reports an invalid FitConfig field.
type FitError struct {
	Field string
	Value any
	Want  string
}

func (e *FitError) Error() string {
	return fmt.Sprintf("model: fit: %s = %v: want %s", e.Field, e.Value, e.Want)
}

// session is one prepared training run: the task over the built network
// and the data.
type session struct {
	task         train.Task
	train, valid train.Data // valid nil when there is none
	shuffle      bool
	prep         any // the preprocessing state, saved in checkpoints
	// bodies are the network's shared parts, which AR and TAR act on
	// (one, or an ensemble's members; nil for seq2seq).
	bodies []*body
	// freeze adds parameter patterns to freeze (pretrained embeddings).
	freeze []string
}

// inSteps converts the step counts of a schedule given in epochs to
// optimizer steps, perEpoch to an epoch.
func inSteps(c sched.Config, warmup, perEpoch int) (sched.Config, int) {
	for _, v := range []*int{&c.StepSize, &c.TMax, &c.T0, &c.Iters, &c.TotalSteps} {
		*v *= perEpoch
	}
	if c.Milestones != nil {
		ms := make([]int, len(c.Milestones))
		for i, m := range c.Milestones {
			ms[i] = m * perEpoch
		}
		c.Milestones = ms
	}
	return c, warmup * perEpoch
}

// activationReg sets the network's AR and TAR from fc.
func (s *session) activationReg(fc FitConfig, task string) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"AR", fc.AR}, {"TAR", fc.TAR}} {
		switch {
		case !(f.v >= 0) || math.IsInf(f.v, 0):
			return &FitError{f.name, f.v, ">= 0 and finite"}
		case f.v != 0 && s.bodies == nil:
			return &FitError{f.name, f.v, "0: the " + task + " task does not support it"}
		}
	}
	for _, b := range s.bodies {
		b.ar, b.tar = fc.AR, fc.TAR
	}
	return nil
}

// trainer builds the optimizer, schedule and Trainer of a session, after
// copying InitFrom's weights, and resumes when asked.
func (c *core) trainer(s *session, fc FitConfig) (*train.Trainer, error) {
	if c.spec.Quantize != "" {
		return nil, errQuantized
	}
	c.transfer = nil
	if fc.InitFrom != nil {
		t, err := c.InitFrom(fc.InitFrom)
		if err != nil {
			return nil, fmt.Errorf("model: init from: %w", err)
		}
		c.transfer = t
	}
	opt, err := c.newOptimizer(fc.Optimizer, fc.Optim, fc.LRBackbone)
	if err != nil {
		return nil, err
	}
	if err := s.activationReg(fc, c.spec.Task); err != nil {
		return nil, err
	}
	if err := s.checkParallel(fc, c.spec.Task); err != nil {
		return nil, err
	}
	tc := fc.Train
	if s.freeze != nil {
		tc.Freeze = append(slices.Clip(tc.Freeze), s.freeze...)
	}
	accum := max(tc.Accum, 1)
	steps := tc.Epochs * ((s.train.Len() + accum - 1) / accum)
	sc, warmup := fc.Sched, fc.Warmup
	if fc.ScheduleEpochs {
		sc, warmup = inSteps(sc, warmup, (s.train.Len()+accum-1)/accum)
	}
	if tc.Schedule == nil && (fc.Schedule != "" || warmup > 0) {
		tc.Schedule, err = sched.ForRun(fc.Schedule, sc, sched.Run{Steps: steps, BaseLR: opt.LR(len(opt.Groups()) - 1), Warmup: warmup})
		if err != nil {
			return nil, err
		}
	}
	tc.Seed, tc.Shuffle, tc.RNGs = fc.Seed, s.shuffle, c.rngs
	tc.Extra = func(f *checkpoint.File) error { return c.addMeta(f, s.prep) }
	tr, err := train.New(s.task, opt, tc)
	if err != nil {
		return nil, err
	}
	if fc.Resume != nil {
		if err := tr.Resume(fc.Resume); err != nil {
			return nil, fmt.Errorf("model: resume: %w", err)
		}
	}
	return tr, nil
}

// fit trains a session.
func (c *core) fit(ctx context.Context, s *session, fc FitConfig) (*train.Result, error) {
	res, err := c.train(ctx, s, fc)
	// One collection once the trainer and its tape are garbage: until the
	// next one, which a heap grown by training puts hundreds of MB away,
	// every allocation of the inference that follows (evaluation,
	// predictions, a server in the same process) lands on fresh pages, a
	// page fault every few KB allocated (BENCHMARKS.md, "Batch-one latency
	// after training", has the cost); after it, the freed memory is
	// reused. One collection per training run costs little beside it.
	runtime.GC()
	return res, err
}

func (c *core) train(ctx context.Context, s *session, fc FitConfig) (*train.Result, error) {
	tr, err := c.trainer(s, fc)
	if err != nil {
		return nil, err
	}
	return tr.Fit(ctx, s.train, s.valid)
}

// findLR runs the learning-rate range test over a session and leaves the
// model as it was.
func (c *core) findLR(ctx context.Context, s *session, fc FitConfig, lc lrfind.Config) (*lrfind.Result, error) {
	tr, err := c.trainer(s, fc)
	if err != nil {
		return nil, err
	}
	return tr.FindLR(ctx, s.train, lc)
}

// compile-time checks that every front door is a Model.
var (
	_ Model = (*Forecaster)(nil)
	_ Model = (*GlobalForecaster)(nil)
	_ Model = (*Classifier)(nil)
	_ Model = (*LanguageModel)(nil)
	_ Model = (*Translator)(nil)
	_ Model = (*Tagger)(nil)
)
