package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/tensor"
)

// Batch is whatever a Task's batches are; the Trainer only passes it on.
type Batch any

// Data is a data set split into batches.
type Data interface {
	// Len returns the number of batches.
	Len() int
	// Batch returns batch i, 0 <= i < Len().
	Batch(i int) Batch
}

// EpochData is Data that orders its own batches, epoch by epoch (a
// bucketing loader that shuffles with its own seed, say). The Trainer calls
// SetEpoch at the start of every epoch, and when resuming, and then takes
// batches 0..Len()-1 in order, without shuffling them itself.
type EpochData interface {
	Data
	SetEpoch(epoch int)
}

// Task is the model side of training.
type Task interface {
	// Params returns the parameters, in a stable order.
	Params() []*nn.Param
	// Loss runs the forward pass of b recording on tp and returns the
	// scalar mean loss as a Var on the tape and the number of items it
	// averaged over.
	Loss(tp *nn.Tape, b Batch) (loss *nn.Var, n int)
	// Evaluate computes metrics (at least "loss") over d without a tape.
	Evaluate(d Data) (map[string]float64, error)
}

// Resetter is implemented by tasks that carry state across batches
// (truncated BPTT); the Trainer calls Reset at the start of each epoch.
type Resetter interface{ Reset() }

// Carrier is a Resetter whose carried state the Trainer saves in
// checkpoints (under checkpoint.TrainPrefix + "carry.") and restores on
// Resume, so that a run resumed mid-epoch continues exactly.
type Carrier interface {
	Resetter
	// Carried returns the carried tensors by name (none after Reset).
	Carried() map[string]*tensor.Tensor
	// SetCarried restores tensors returned by Carried.
	SetCarried(map[string]*tensor.Tensor) error
}

// Config configures a Trainer. Zero fields mean the documented defaults.
type Config struct {
	// Epochs is the number of passes over the training data (zero: 10).
	Epochs int
	// Accum is the number of batches whose gradients are accumulated into
	// one optimizer step (zero: 1).
	Accum int
	// ClipNorm clips the global L2 norm of the trainable parameters'
	// gradients to this value (optim.ClipGradNorm; zero: off). ClipValue
	// clamps every gradient element to [-ClipValue, ClipValue] first
	// (optim.ClipGradValue; zero: off).
	ClipNorm  float64
	ClipValue float64
	// L1 adds L1·Σ|p| over the trainable parameters to each step's loss
	// (zero: off); weight decay (L2) is the optimizer's.
	L1 float64
	// GradNoise adds annealed Gaussian noise to the gradients before
	// clipping (optim.GradNoise; zero Eta: off), drawn from a generator
	// seeded by Seed whose state travels in the checkpoints.
	GradNoise GradNoise
	// Shuffle draws a new batch order each epoch; keep it false for
	// stateful truncated-BPTT tasks, whose batches must stay in order.
	// EpochData orders itself and is never shuffled by the Trainer.
	Shuffle bool
	// Seed seeds the shuffle generator and the LR range test's batch draws.
	Seed uint64
	// EvalEvery evaluates every this many optimizer steps; zero means at
	// the end of each epoch (which happens in any case).
	EvalEvery int
	// Monitor is the validation metric that decides "best", early stopping
	// and plateaus (zero: "loss"); MonitorMax makes larger values better
	// (accuracy).
	Monitor    string
	MonitorMax bool
	// Schedule gives each group's learning rate from its base rate and the
	// optimizer step about to be taken (nil: constant); sched.ForRun builds
	// one for a run's length. A schedule that also sets the momentum
	// (sched.MomentumSchedule, one-cycle) sets it too.
	Schedule sched.Schedule
	// Plateau, when set, lowers every group's learning rate when the
	// monitored metric stops improving (PyTorch's ReduceLROnPlateau; its
	// Mode follows MonitorMax). Its reductions multiply the schedule's rate.
	// It needs validation data.
	Plateau *sched.PlateauConfig
	// EarlyStop stops training when the monitored metric has not improved
	// for a number of evaluations (zero Patience: never). It needs
	// validation data.
	EarlyStop EarlyStop
	// RestoreBest copies the weights of the best evaluation back into the
	// parameters when training ends, early or not. It needs validation
	// data; with Dir set the best weights travel in the checkpoints, so a
	// resumed run restores them too.
	RestoreBest bool
	// Freeze lists parameter patterns (see nn.Freeze: a name, a prefix such
	// as "rnn", or "prefix*") kept frozen from the start; UnfreezeAfter,
	// when > 0, unfreezes them from that epoch on (gradual unfreezing when
	// fine-tuning).
	Freeze        []string
	UnfreezeAfter int
	// Dir, when set, receives best.safetensors each time the monitored
	// metric improves, last.safetensors at each epoch end and on
	// cancellation, and metrics.csv and metrics.jsonl (one row per epoch,
	// the whole history) and TimesFile (the seconds since training began
	// at each epoch's end), rewritten atomically at each epoch end.
	Dir string
	// Extra adds task-level content (spec, preprocessing state) to every
	// checkpoint the Trainer writes.
	Extra func(f *checkpoint.File) error
	// RNGs are generators (dropout) whose state is saved and restored.
	RNGs []*tensor.RNG
	// Callbacks receive the training events.
	Callbacks []Callback
	// Precision is the arithmetic of the training steps' large products
	// (nn.Precision; zero: FP32). BF16 runs them in bfloat16 with float32
	// sums where the CPU has AVX512_BF16 and in float32 elsewhere
	// (Trainer.Precision says which); the weights, their gradients and the
	// optimizer state stay float32, and evaluation runs in float32.
	Precision nn.Precision
	// Comm, when it has more than one rank, trains data-parallel: every
	// rank runs the same Trainer over the same Data (a ShardedData), takes
	// its shard of each global batch, and the gradients are summed over
	// the ranks (in buckets, while the backward pass runs) with each batch's
	// loss weighted by the ranks' item counts, so that N ranks take the
	// same steps as one rank with the same global batch, up to the order
	// of float32 sums. Every rank applies the same optimizer step. At the
	// start of Fit every rank takes rank 0's state (weights, optimizer,
	// position); to resume, every rank calls Resume with the same
	// checkpoint, whatever number of ranks wrote it. Only rank 0 writes
	// files into Dir, and Save is a call every rank makes. Validation is
	// split among the ranks when the Task is a ShardEvaluator. Callbacks
	// run on every rank, and one that stops training must decide the same
	// on all. Dropout generators (RNGs) draw different masks on each rank.
	Comm Comm
	// SumAfterBackward sums the gradients over the ranks after the
	// backward pass instead of while it runs (as soon as the tape reports
	// a bucket's gradients finished): the same sums, later. For
	// measuring the overlap.
	SumAfterBackward bool
	// BucketElems is the most gradient elements summed over the ranks in
	// one call (0: 25 MiB of float32, PyTorch DDP's bucket_cap_mb); a
	// larger parameter is summed alone. Smaller buckets start summing
	// earlier in the backward pass, at the cost of more calls.
	BucketElems int
}

// EarlyStop configures early stopping.
type EarlyStop struct {
	// Patience is the number of evaluations without improvement after
	// which training stops (zero: never stop).
	Patience int
	// MinDelta is the smallest change of the monitored metric that counts
	// as an improvement.
	MinDelta float64
}

// GradNoise is the gradient noise of Neelakantan et al. (2015): at step
// t, noise of variance Eta/(1+t)^Gamma (their Gamma is 0.55, Eta 0.01 to
// 1).
type GradNoise struct {
	Eta, Gamma float64
}

// Trainer trains one Task with one optimizer.
type Trainer struct {
	task    Task
	opt     optim.Optimizer
	cfg     Config
	params  []*nn.Param
	state   State
	shuffle *tensor.RNG
	plateau *sched.Plateau
	stop    bool
	norms   []float64
	// best holds the weights of the best evaluation (RestoreBest).
	best []*tensor.Tensor
	// tape is reused across steps so that the layers' activation and
	// gradient buffers are recycled instead of allocated every step.
	tape nn.Tape
	// seed is the gradient fed into each loss, 1/(batches per step).
	seed  tensor.Tensor
	batch []Batch
	// lastNorm is the global gradient norm of the last step.
	lastNorm float64
	noise    *optim.GradNoise
	// dist is the data-parallel side (nil on one rank).
	dist *dist
	// now is the clock (time.Now; tests replace it); began is when Fit
	// began and base the State's Elapsed then (see elapsed).
	now   func() time.Time
	began time.Time
	base  float64
}

// New validates cfg and returns a Trainer. The optimizer must be over
// task's parameters.
func New(task Task, opt optim.Optimizer, cfg Config) (*Trainer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 10
	}
	if cfg.Accum == 0 {
		cfg.Accum = 1
	}
	if cfg.Monitor == "" {
		cfg.Monitor = "loss"
	}
	t := &Trainer{task: task, opt: opt, cfg: cfg, params: task.Params(), shuffle: tensor.NewRNG(cfg.Seed), now: time.Now}
	t.tape.Precision = cfg.Precision
	if cfg.Comm != nil && cfg.Comm.Size() > 1 {
		t.dist = newDist(cfg.Comm, t.params, cmp.Or(cfg.BucketElems, bucketElems), len(cfg.RNGs))
		if !cfg.SumAfterBackward {
			t.dist.overlap = newOverlap(t.dist)
		}
	}
	if err := checkPatterns(t.params, cfg.Freeze); err != nil {
		return nil, err
	}
	if cfg.GradNoise.Eta > 0 {
		n, err := optim.NewGradNoise(cfg.GradNoise.Eta, cfg.GradNoise.Gamma, cfg.Seed^0x6e6f697365)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		t.noise = n
		// Saved and restored with the others, so a resumed run draws
		// the same noise.
		t.cfg.RNGs = append(slices.Clip(cfg.RNGs), n.RNG)
	}
	if cfg.Plateau != nil {
		pc := *cfg.Plateau
		pc.Mode = "min"
		if cfg.MonitorMax {
			pc.Mode = "max"
		}
		p, err := sched.NewPlateau(pc)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		t.plateau = p
	}
	t.norms = make([]float64, len(t.params))
	t.state.BestEpoch = -1
	for g := range opt.Groups() {
		t.state.BaseLR = append(t.state.BaseLR, opt.LR(g))
		t.state.LRScale = append(t.state.LRScale, 1)
	}
	return t, nil
}

// ConfigError reports an invalid field of a Config.
type ConfigError struct {
	Field string
	Value any
	Want  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("train: %s = %v: want %s", e.Field, e.Value, e.Want)
}

func (c Config) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"Epochs", float64(c.Epochs)}, {"Accum", float64(c.Accum)}, {"ClipNorm", c.ClipNorm}, {"ClipValue", c.ClipValue},
		{"L1", c.L1}, {"EvalEvery", float64(c.EvalEvery)}, {"EarlyStop.Patience", float64(c.EarlyStop.Patience)},
		{"EarlyStop.MinDelta", c.EarlyStop.MinDelta}, {"UnfreezeAfter", float64(c.UnfreezeAfter)},
		{"GradNoise.Eta", c.GradNoise.Eta}, {"GradNoise.Gamma", c.GradNoise.Gamma}, {"BucketElems", float64(c.BucketElems)}} {
		if !(f.v >= 0) || f.v > 1e300 {
			return &ConfigError{f.name, f.v, ">= 0 and finite"}
		}
	}
	if c.UnfreezeAfter > 0 && len(c.Freeze) == 0 {
		return &ConfigError{"UnfreezeAfter", c.UnfreezeAfter, "patterns to unfreeze in Freeze"}
	}
	return nil
}

// checkPatterns reports a freeze pattern that matches no parameter, on
// copies so that nothing is frozen yet.
func checkPatterns(ps []*nn.Param, patterns []string) error {
	for _, pat := range patterns {
		cp := make([]*nn.Param, len(ps))
		for i, p := range ps {
			q := *p
			cp[i] = &q
		}
		if nn.Freeze(cp, true, pat) == 0 {
			return &ConfigError{"Freeze", pat, "a pattern that matches a parameter"}
		}
	}
	return nil
}

// State returns the current training position.
func (t *Trainer) State() State { return t.state }

// History returns one row per completed epoch (see Row).
func (t *Trainer) History() []Row { return t.state.History }

// Params returns the task's parameters.
func (t *Trainer) Params() []*nn.Param { return t.params }

// Optimizer returns the optimizer.
func (t *Trainer) Optimizer() optim.Optimizer { return t.opt }

// LR returns group 0's current learning rate.
func (t *Trainer) LR() float64 { return t.opt.LR(0) }

// GradNorms returns the gradient norm of each parameter at the last step
// (before clipping), in Params order.
func (t *Trainer) GradNorms() []float64 { return t.norms }

// applyLR sets each group's learning rate (and momentum, for a momentum
// schedule) for optimizer step `step`.
func (t *Trainer) applyLR(step int) {
	ms, _ := t.cfg.Schedule.(sched.MomentumSchedule)
	for g, lr := range t.state.BaseLR {
		if t.cfg.Schedule != nil {
			lr = t.cfg.Schedule.LR(lr, step)
		}
		t.opt.SetLR(g, lr*t.state.LRScale[g])
		if ms != nil {
			if m, ok := ms.Momentum(step); ok {
				t.opt.SetMomentum(g, m)
			}
		}
	}
}

// applyFreeze sets the frozen state of the Freeze patterns for the
// current epoch.
func (t *Trainer) applyFreeze() {
	if len(t.cfg.Freeze) == 0 {
		return
	}
	frozen := t.cfg.UnfreezeAfter == 0 || t.state.Epoch < t.cfg.UnfreezeAfter
	nn.Freeze(t.params, frozen, t.cfg.Freeze...)
}

// Result summarises a Fit.
type Result struct {
	Epochs    int                // epochs completed
	Steps     int                // optimizer steps taken
	Best      float64            // best monitored validation metric
	BestEpoch int                // its epoch, 1-based (0 without validation)
	Valid     map[string]float64 // last validation metrics
	TrainLoss float64            // mean training loss of the last epoch
	// Stopped is set when training ended before Epochs: early stopping or
	// a callback's ErrStop; StopReason says which and why.
	Stopped    bool
	StopReason string
	// Restored is the 1-based epoch whose weights RestoreBest copied back
	// (0: none).
	Restored int
	// History has one row per epoch, including those before a resume.
	History []Row
}

// NonFiniteError reports a NaN or infinite gradient.
type NonFiniteError struct {
	Step     int
	Param    string
	GradNorm float64
	Loss     float64
	Detail   string // where, from optim.CheckFinite
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("train: non-finite gradient at step %d in parameter %s (gradient norm %v, loss %v; %s); lower the learning rate or clip gradients",
		e.Step, e.Param, e.GradNorm, e.Loss, e.Detail)
}

// isNil reports whether d is nil or an interface holding a nil pointer
// (an absent split passed as a typed nil).
func isNil(d Data) bool {
	if d == nil {
		return true
	}
	v := reflect.ValueOf(d)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func:
		return v.IsNil()
	}
	return false
}

// needsValid reports which option needs validation data, if any is set.
func (c Config) needsValid() string {
	switch {
	case c.EarlyStop.Patience > 0:
		return "early stopping (EarlyStop.Patience)"
	case c.Plateau != nil:
		return "reducing the learning rate on a plateau (Plateau)"
	case c.RestoreBest:
		return "restoring the best weights (RestoreBest)"
	}
	return ""
}

// Fit trains on trainData for the configured epochs, evaluating on
// valid (may be nil) at each epoch end. It continues from the state
// restored by Resume, if any.
func (t *Trainer) Fit(ctx context.Context, trainData, valid Data) (*Result, error) {
	if isNil(trainData) || trainData.Len() == 0 {
		return nil, errors.New("train: no training batches")
	}
	if isNil(valid) {
		valid = nil
	}
	if what := t.cfg.needsValid(); what != "" && valid == nil {
		return nil, fmt.Errorf("train: %s needs validation data", what)
	}
	t.began, t.base = t.now(), t.state.Elapsed
	if err := t.startRanks(trainData); err != nil {
		return nil, err
	}
	t.applyFreeze()
	if err := t.emit(&Event{Kind: TrainBegin}); err != nil && !errors.Is(err, ErrStop) {
		return nil, err
	}
	res := &Result{}
	for t.state.Epoch < t.cfg.Epochs && !t.stop {
		done, err := t.epoch(ctx, trainData, valid, res)
		if err != nil {
			return res, err
		}
		if !done {
			break
		}
	}
	return t.finish(res)
}

// epoch runs (the rest of) one epoch and its evaluation; done is false
// when training stopped before the epoch's end.
func (t *Trainer) epoch(ctx context.Context, trainData, valid Data, res *Result) (done bool, err error) {
	order, err := t.epochOrder(trainData)
	if err != nil {
		return false, err
	}
	t.applyFreeze()
	if t.state.Batch == 0 {
		t.state.LossSum, t.state.LossItems = 0, 0
	}
	for t.state.Batch < len(order) && !t.stop {
		if err := t.agreeStop(ctx); err != nil {
			return false, t.interrupted(err)
		}
		end := min(t.state.Batch+t.cfg.Accum, len(order))
		t.batch = t.batch[:0]
		for _, i := range order[t.state.Batch:end] {
			if t.dist != nil {
				t.batch = append(t.batch, t.dist.data.Shard(i, t.dist.rank, t.dist.size))
			} else {
				t.batch = append(t.batch, trainData.Batch(i))
			}
		}
		loss, n, err := t.step(t.batch)
		if err != nil {
			return false, err
		}
		t.state.LossSum += loss * float64(n)
		t.state.LossItems += n
		t.state.Batch = end
		t.state.Step++
		if err := t.stopOr(t.emit(&Event{Kind: StepEnd, Loss: loss, GradNorm: t.lastNorm, Batch: t.batch[0]})); err != nil {
			return false, err
		}
		if t.cfg.EvalEvery > 0 && t.state.Step%t.cfg.EvalEvery == 0 && valid != nil && t.state.Batch < len(order) {
			if res.Valid, err = t.evaluate(valid); err != nil {
				return false, err
			}
		}
	}
	if t.state.LossItems > 0 {
		res.TrainLoss = t.state.LossSum / float64(t.state.LossItems)
	}
	if t.stop && t.state.Batch < len(order) {
		return false, nil
	}
	if valid != nil {
		if res.Valid, err = t.evaluate(valid); err != nil {
			return false, err
		}
	}
	return true, t.endEpoch(res)
}

// epochOrder returns the batch order of the current epoch, restoring the
// shuffle generator's state when resuming mid-epoch, and resets a carried
// state at the start of an epoch.
func (t *Trainer) epochOrder(d Data) ([]int, error) {
	if t.state.Batch == 0 {
		sh, err := t.shuffle.MarshalBinary()
		if err != nil {
			return nil, err
		}
		t.state.Shuffle = sh
		if r, ok := t.task.(Resetter); ok {
			r.Reset()
		}
	} else if err := t.shuffle.UnmarshalBinary(t.state.Shuffle); err != nil {
		return nil, fmt.Errorf("train: restoring shuffle state: %w", err)
	}
	ed, own := d.(EpochData)
	if own {
		ed.SetEpoch(t.state.Epoch)
	}
	if t.cfg.Shuffle && !own {
		return t.shuffle.Perm(d.Len()), nil
	}
	order := make([]int, d.Len())
	for i := range order {
		order[i] = i
	}
	return order, nil
}

// endEpoch records the epoch's row, saves the checkpoint and logs, and
// tells the callbacks.
func (t *Trainer) endEpoch(res *Result) error {
	t.state.History = append(t.state.History, t.row(res))
	t.state.Elapsed = t.elapsed()
	t.state.Seconds = append(t.state.Seconds, t.state.Elapsed)
	t.state.Epoch++
	t.state.Batch = 0
	sh, err := t.shuffle.MarshalBinary()
	if err != nil {
		return err
	}
	t.state.Shuffle = sh
	if t.dist != nil {
		if err := t.dist.checkSame(t.params); err != nil {
			return err
		}
	}
	if err := t.stopOr(t.emit(&Event{Kind: EpochEnd, Loss: res.TrainLoss, Metrics: res.Valid})); err != nil {
		return err
	}
	return t.saveRun()
}

// elapsed returns the wall-clock seconds of training: those before this
// Fit (a resumed run's) plus those since it began.
func (t *Trainer) elapsed() float64 {
	return t.base + t.now().Sub(t.began).Seconds()
}

// finish restores the best weights when asked, marks the run done and
// fills the result.
func (t *Trainer) finish(res *Result) (*Result, error) {
	if t.cfg.RestoreBest && t.best != nil {
		for i, p := range t.params {
			p.Value.CopyFrom(t.best[i])
		}
		res.Restored = t.state.BestEpoch + 1
	}
	t.state.Done = true
	res.Epochs, res.Steps = t.state.Epoch, t.state.Step
	res.Best, res.BestEpoch = t.state.Best, t.state.BestEpoch+1
	res.Stopped, res.StopReason = t.stop, t.state.StopReason
	res.History = t.state.History
	if err := t.emit(&Event{Kind: TrainEnd, Metrics: res.Valid}); err != nil && !errors.Is(err, ErrStop) {
		return res, err
	}
	return res, t.saveRun()
}

// stopOr turns ErrStop from a callback into a stop request.
func (t *Trainer) stopOr(err error) error {
	if errors.Is(err, ErrStop) {
		if !t.stop {
			t.stop = true
			t.state.StopReason = "stopped by a callback"
			var se *StopError
			if errors.As(err, &se) {
				t.state.StopReason = se.Reason
			}
		}
		return nil
	}
	return err
}

func (t *Trainer) interrupted(cause error) error {
	if t.cfg.Dir == "" {
		return cause
	}
	path := t.path("last.safetensors")
	if err := t.Save(path); err != nil {
		return fmt.Errorf("%w (and saving a checkpoint failed: %v)", cause, err)
	}
	return fmt.Errorf("train: stopped at epoch %d step %d, checkpoint saved to %s: %w", t.state.Epoch+1, t.state.Step, path, cause)
}

// evaluate runs the task's evaluation, tracks the best metric (saving
// best.safetensors and the best weights), and applies early stopping and
// the plateau rule.
func (t *Trainer) evaluate(valid Data) (map[string]float64, error) {
	var m map[string]float64
	var err error
	if se, ok := t.task.(ShardEvaluator); ok && t.dist != nil {
		m, err = se.EvaluateShard(valid, t.dist.comm)
	} else {
		m, err = t.task.Evaluate(valid)
	}
	if err != nil {
		return nil, err
	}
	v, ok := m[t.cfg.Monitor]
	if !ok {
		return nil, fmt.Errorf("train: monitored metric %q not among the validation metrics %v", t.cfg.Monitor, keys(m))
	}
	improved := t.state.BestEpoch < 0 || t.better(v, t.state.Best, 0)
	if improved {
		t.state.Best, t.state.BestEpoch = v, t.state.Epoch
		if err := t.keepBest(); err != nil {
			return nil, err
		}
	}
	t.earlyStop(v)
	if t.plateau != nil && t.plateau.Observe(v) {
		for g := range t.state.LRScale {
			lr := t.opt.LR(g)
			if n := t.plateau.Reduce(lr); n != lr && lr > 0 {
				t.state.LRScale[g] *= n / lr
			}
		}
		t.applyLR(t.state.Step)
	}
	if t.plateau != nil {
		ps := t.plateau.PlateauState
		t.state.Plateau = &ps
	}
	if err := t.stopOr(t.emit(&Event{Kind: EvalEnd, Metrics: m, Improved: improved})); err != nil {
		return nil, err
	}
	return m, nil
}

// better reports whether v beats best by more than delta.
func (t *Trainer) better(v, best, delta float64) bool {
	if t.cfg.MonitorMax {
		return v > best+delta
	}
	return v < best-delta
}

// keepBest saves best.safetensors and copies the weights for RestoreBest.
func (t *Trainer) keepBest() error {
	if t.cfg.RestoreBest {
		if t.best == nil {
			for _, p := range t.params {
				t.best = append(t.best, p.Value.Clone())
			}
		} else {
			for i, p := range t.params {
				t.best[i].CopyFrom(p.Value)
			}
		}
	}
	if t.cfg.Dir != "" {
		return t.Save(t.path("best.safetensors"))
	}
	return nil
}

// earlyStop counts evaluations without improvement and stops training
// after Patience of them.
func (t *Trainer) earlyStop(v float64) {
	es := t.cfg.EarlyStop
	if es.Patience == 0 {
		return
	}
	if t.state.StopBest == nil || t.better(v, *t.state.StopBest, es.MinDelta) {
		t.state.StopBest, t.state.Wait = &v, 0
		return
	}
	t.state.Wait++
	if t.state.Wait >= es.Patience && !t.stop {
		t.stop = true
		t.state.StopReason = fmt.Sprintf("early stopping: validation %s did not improve on %.6g for %d evaluations", t.cfg.Monitor, *t.state.StopBest, t.state.Wait)
	}
}

func (t *Trainer) emit(ev *Event) error {
	ev.Trainer = t
	ev.Epoch, ev.Step = t.state.Epoch, t.state.Step
	if len(t.state.BaseLR) > 0 {
		ev.LR = t.opt.LR(0)
	}
	return Callbacks(t.cfg.Callbacks).On(ev)
}
