package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
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

const carryPrefix = checkpoint.TrainPrefix + "carry."

// Config configures a Trainer. Zero fields mean the documented defaults.
type Config struct {
	// Epochs is the number of passes over the training data (zero: 10).
	Epochs int
	// Accum is the number of batches whose gradients are accumulated into
	// one optimizer step (zero: 1).
	Accum int
	// ClipNorm clips the global gradient norm to this value (zero: off).
	ClipNorm float64
	// L1 adds L1·Σ|p| over the trainable parameters to each step's loss
	// (zero: off); weight decay (L2) is the optimizer's.
	L1 float64
	// Shuffle draws a new batch order each epoch; keep it false for
	// stateful truncated-BPTT tasks, whose batches must stay in order.
	Shuffle bool
	// Seed seeds the shuffle generator.
	Seed uint64
	// EvalEvery evaluates every this many optimizer steps; zero means at
	// the end of each epoch (which happens in any case).
	EvalEvery int
	// Monitor is the validation metric that decides "best" (zero: "loss");
	// MonitorMax makes larger values better (accuracy).
	Monitor    string
	MonitorMax bool
	// Schedule, when set, gives the learning rate of a group with base
	// rate base for the optimizer step about to be taken (0-based), as
	// optim/sched's Schedule.LR does; plateau reductions multiply it.
	Schedule func(base float64, step int) float64
	// Dir, when set, receives best.safetensors each time the monitored
	// metric improves, last.safetensors at each epoch end, and a checkpoint
	// on cancellation.
	Dir string
	// Extra adds task-level content (spec, preprocessing state) to every
	// checkpoint the Trainer writes.
	Extra func(f *checkpoint.File) error
	// RNGs are generators (dropout) whose state is saved and restored.
	RNGs []*tensor.RNG
	// Callbacks receive the training events.
	Callbacks []Callback
}

// State is the training position, saved in checkpoints.
type State struct {
	Epoch     int       `json:"epoch"`      // current epoch, 0-based
	Batch     int       `json:"batch"`      // batches done in the current epoch
	Step      int       `json:"step"`       // optimizer steps done
	Best      float64   `json:"best"`       // best monitored metric so far (0 if none)
	BestEpoch int       `json:"best_epoch"` // epoch of Best, -1 if none yet
	BaseLR    []float64 `json:"base_lr"`    // per group, before the schedule
	LRScale   float64   `json:"lr_scale"`   // plateau reductions so far
	Shuffle   []byte    `json:"shuffle"`    // shuffle RNG at the epoch start
	RNGs      [][]byte  `json:"rngs"`       // Config.RNGs states
	Done      bool      `json:"done"`       // training finished
}

// Trainer trains one Task with one optimizer.
type Trainer struct {
	task    Task
	opt     optim.Optimizer
	cfg     Config
	params  []*nn.Param
	state   State
	shuffle *tensor.RNG
	stop    bool
	norms   []float64
	// tape is reused across steps so that the layers' activation and
	// gradient buffers are recycled instead of allocated every step.
	tape nn.Tape
	// seed is the gradient fed into each loss, 1/(batches per step).
	seed tensor.Tensor
}

// New returns a Trainer. The optimizer must be over task's parameters.
func New(task Task, opt optim.Optimizer, cfg Config) (*Trainer, error) {
	if cfg.Epochs < 0 || cfg.Accum < 0 || cfg.ClipNorm < 0 || cfg.EvalEvery < 0 || cfg.L1 < 0 {
		return nil, fmt.Errorf("train: negative Epochs, Accum, ClipNorm, EvalEvery or L1 in %+v", cfg)
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
	t := &Trainer{task: task, opt: opt, cfg: cfg, params: task.Params(), shuffle: tensor.NewRNG(cfg.Seed)}
	t.norms = make([]float64, len(t.params))
	t.state.BestEpoch = -1
	t.state.LRScale = 1
	for g := range opt.Groups() {
		t.state.BaseLR = append(t.state.BaseLR, opt.LR(g))
	}
	return t, nil
}

// State returns the current training position.
func (t *Trainer) State() State { return t.state }

// Params returns the task's parameters.
func (t *Trainer) Params() []*nn.Param { return t.params }

// Optimizer returns the optimizer.
func (t *Trainer) Optimizer() optim.Optimizer { return t.opt }

// ScaleLR multiplies every group's learning rate by f from now on
// (used by ReduceLROnPlateau).
func (t *Trainer) ScaleLR(f float64) {
	t.state.LRScale *= f
	t.applyLR(t.state.Step)
}

// LR returns group 0's current learning rate.
func (t *Trainer) LR() float64 { return t.opt.LR(0) }

func (t *Trainer) applyLR(step int) {
	for g, lr := range t.state.BaseLR {
		if t.cfg.Schedule != nil {
			lr = t.cfg.Schedule(lr, step)
		}
		t.opt.SetLR(g, lr*t.state.LRScale)
	}
}

// Result summarises a Fit.
type Result struct {
	Epochs    int                // epochs completed
	Steps     int                // optimizer steps taken
	Best      float64            // best monitored validation metric
	BestEpoch int                // its epoch (-1 without validation)
	Valid     map[string]float64 // last validation metrics
	TrainLoss float64            // mean training loss of the last epoch
	Stopped   bool               // a callback stopped training early
}

// NonFiniteError reports a NaN or infinite gradient.
type NonFiniteError struct {
	Step     int
	Param    string
	GradNorm float64
	Loss     float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("train: non-finite gradient at step %d in parameter %s (gradient norm %v, loss %v); lower the learning rate or clip gradients", e.Step, e.Param, e.GradNorm, e.Loss)
}

// Fit trains on trainData for the configured epochs, evaluating on
// valid (may be nil) at each epoch end. It continues from the state
// restored by Resume, if any.
func (t *Trainer) Fit(ctx context.Context, trainData, valid Data) (*Result, error) {
	res := &Result{}
	if trainData.Len() == 0 {
		return nil, errors.New("train: no training batches")
	}
	if err := t.emit(&Event{Kind: TrainBegin}); err != nil && !errors.Is(err, ErrStop) {
		return nil, err
	}
	var lastValid map[string]float64
	for t.state.Epoch < t.cfg.Epochs && !t.stop {
		if t.state.Batch == 0 {
			sh, err := t.shuffle.MarshalBinary()
			if err != nil {
				return nil, err
			}
			t.state.Shuffle = sh
		} else if err := t.shuffle.UnmarshalBinary(t.state.Shuffle); err != nil {
			return nil, fmt.Errorf("train: restoring shuffle state: %w", err)
		}
		order := make([]int, trainData.Len())
		if t.cfg.Shuffle {
			order = t.shuffle.Perm(len(order))
		} else {
			for i := range order {
				order[i] = i
			}
		}
		if r, ok := t.task.(Resetter); ok && t.state.Batch == 0 {
			r.Reset()
		}
		var sum float64
		var cnt int
		for t.state.Batch < len(order) && !t.stop {
			if err := ctx.Err(); err != nil {
				return res, t.interrupted(err)
			}
			end := min(t.state.Batch+t.cfg.Accum, len(order))
			loss, n, err := t.step(trainData, order[t.state.Batch:end])
			if err != nil {
				return res, err
			}
			sum += loss * float64(n)
			cnt += n
			t.state.Batch = end
			t.state.Step++
			ev := &Event{Kind: StepEnd, Loss: loss, GradNorm: t.totalNorm()}
			if err := t.emit(ev); err != nil {
				if err := t.stopOr(err); err != nil {
					return res, err
				}
			}
			if t.cfg.EvalEvery > 0 && t.state.Step%t.cfg.EvalEvery == 0 && valid != nil && t.state.Batch < len(order) {
				m, err := t.evaluate(valid)
				if err != nil {
					return res, err
				}
				lastValid = m
			}
		}
		if cnt > 0 {
			res.TrainLoss = sum / float64(cnt)
		}
		if t.stop && t.state.Batch < len(order) {
			break
		}
		if valid != nil && !t.stop {
			m, err := t.evaluate(valid)
			if err != nil {
				return res, err
			}
			lastValid = m
		}
		t.state.Epoch++
		t.state.Batch = 0
		sh, err := t.shuffle.MarshalBinary()
		if err != nil {
			return nil, err
		}
		t.state.Shuffle = sh
		if err := t.emit(&Event{Kind: EpochEnd, Loss: res.TrainLoss, Metrics: lastValid}); err != nil {
			if err := t.stopOr(err); err != nil {
				return res, err
			}
		}
		if t.cfg.Dir != "" {
			if err := t.Save(filepath.Join(t.cfg.Dir, "last.safetensors")); err != nil {
				return res, err
			}
		}
	}
	t.state.Done = true
	res.Epochs, res.Steps = t.state.Epoch, t.state.Step
	res.Best, res.BestEpoch, res.Valid, res.Stopped = t.state.Best, t.state.BestEpoch, lastValid, t.stop
	if err := t.emit(&Event{Kind: TrainEnd, Metrics: lastValid}); err != nil && !errors.Is(err, ErrStop) {
		return res, err
	}
	if t.cfg.Dir != "" {
		if err := t.Save(filepath.Join(t.cfg.Dir, "last.safetensors")); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (t *Trainer) stopOr(err error) error {
	if errors.Is(err, ErrStop) {
		t.stop = true
		return nil
	}
	return err
}

func (t *Trainer) interrupted(cause error) error {
	if t.cfg.Dir == "" {
		return cause
	}
	path := filepath.Join(t.cfg.Dir, "last.safetensors")
	if err := t.Save(path); err != nil {
		return fmt.Errorf("%w (and saving a checkpoint failed: %v)", cause, err)
	}
	return fmt.Errorf("train: stopped at epoch %d step %d, checkpoint saved to %s: %w", t.state.Epoch, t.state.Step, path, cause)
}

// lossSeed returns the tensor of L's shape filled with 1/n, reusing its
// memory from step to step.
func (t *Trainer) lossSeed(L *tensor.Tensor, n int) *tensor.Tensor {
	s := &t.seed
	if len(s.Data) != len(L.Data) {
		s.Data = make([]float32, len(L.Data))
	}
	s.Shape = append(s.Shape[:0], L.Shape...)
	for i := range s.Data {
		s.Data[i] = 1 / float32(n)
	}
	return s
}

// step runs one optimizer step over the batches idx.
func (t *Trainer) step(d Data, idx []int) (float64, int, error) {
	nn.ZeroGrad(t.params)
	var total float64
	var n int
	for _, i := range idx {
		tp := &t.tape
		l, k := t.task.Loss(tp, d.Batch(i))
		tp.Backward(l, t.lossSeed(l.Value, len(idx)))
		total += float64(l.Value.Data[0])
		n += k
	}
	total /= float64(len(idx))
	if t.cfg.L1 > 0 {
		total += optim.L1Penalty(t.params, t.cfg.L1)
	}
	var sq float64
	for j, p := range t.params {
		s := kernel.SumSq(p.Grad.Data)
		t.norms[j] = math.Sqrt(s)
		sq += s
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, 0, &NonFiniteError{Step: t.state.Step, Param: p.Name, GradNorm: t.norms[j], Loss: total}
		}
	}
	if c := t.cfg.ClipNorm; c > 0 {
		if norm := math.Sqrt(sq); norm > c {
			f := float32(c / (norm + 1e-6))
			for _, p := range t.params {
				kernel.Scal(f, p.Grad.Data)
			}
		}
	}
	t.applyLR(t.state.Step)
	t.opt.Step()
	return total, n, nil
}

func (t *Trainer) totalNorm() float64 {
	var s float64
	for _, n := range t.norms {
		s += n * n
	}
	return math.Sqrt(s)
}

// GradNorms returns the gradient norm of each parameter at the last step
// (before clipping), in Params order.
func (t *Trainer) GradNorms() []float64 { return t.norms }

func (t *Trainer) evaluate(valid Data) (map[string]float64, error) {
	m, err := t.task.Evaluate(valid)
	if err != nil {
		return nil, err
	}
	v, ok := m[t.cfg.Monitor]
	if !ok {
		return nil, fmt.Errorf("train: monitored metric %q not among the validation metrics", t.cfg.Monitor)
	}
	improved := t.state.BestEpoch < 0 || v < t.state.Best
	if t.cfg.MonitorMax {
		improved = t.state.BestEpoch < 0 || v > t.state.Best
	}
	if improved {
		t.state.Best, t.state.BestEpoch = v, t.state.Epoch
		if t.cfg.Dir != "" {
			if err := t.Save(filepath.Join(t.cfg.Dir, "best.safetensors")); err != nil {
				return nil, err
			}
		}
	}
	if err := t.emit(&Event{Kind: EvalEnd, Metrics: m, Improved: improved}); err != nil {
		if err := t.stopOr(err); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (t *Trainer) emit(ev *Event) error {
	ev.Trainer = t
	ev.Epoch, ev.Step = t.state.Epoch, t.state.Step
	if len(t.state.BaseLR) > 0 {
		ev.LR = t.opt.LR(0)
	}
	return Callbacks(t.cfg.Callbacks).On(ev)
}

// Save writes a checkpoint with the weights, optimizer state, training
// state and Config.Extra's content to path (atomically).
func (t *Trainer) Save(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	f := checkpoint.New()
	if err := f.AddParams(t.params); err != nil {
		return err
	}
	if err := AddOptimState(f, t.opt.State()); err != nil {
		return err
	}
	if c, ok := t.task.(Carrier); ok {
		for k, v := range c.Carried() {
			f.Tensors[carryPrefix+k] = v
		}
	}
	st := t.state
	st.RNGs = nil
	for _, g := range t.cfg.RNGs {
		b, err := g.MarshalBinary()
		if err != nil {
			return err
		}
		st.RNGs = append(st.RNGs, b)
	}
	if err := f.SetJSON(MetaTrainState, st); err != nil {
		return err
	}
	if t.cfg.Extra != nil {
		if err := t.cfg.Extra(f); err != nil {
			return err
		}
	}
	return checkpoint.Write(path, f)
}

// MetaTrainState is the metadata key of the training State.
const MetaTrainState = "train_state"

// Resume restores weights, optimizer state and the training position from
// a checkpoint written by Save, so that Fit continues where it stopped.
func (t *Trainer) Resume(f *checkpoint.File) error {
	var st State
	ok, err := f.GetJSON(MetaTrainState, &st)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("train: checkpoint has no training state (is it a final model rather than a checkpoint?)")
	}
	if len(st.RNGs) != len(t.cfg.RNGs) {
		return fmt.Errorf("train: checkpoint has %d generator states, trainer has %d", len(st.RNGs), len(t.cfg.RNGs))
	}
	if len(st.BaseLR) != len(t.state.BaseLR) {
		return fmt.Errorf("train: checkpoint has %d parameter groups, optimizer has %d", len(st.BaseLR), len(t.state.BaseLR))
	}
	if _, err := f.LoadParams(t.params, true); err != nil {
		return err
	}
	os, err := OptimState(f, t.opt.Name())
	if err != nil {
		return err
	}
	if err := t.opt.LoadState(os); err != nil {
		return err
	}
	if c, ok := t.task.(Carrier); ok {
		carried := map[string]*tensor.Tensor{}
		for name, v := range f.Tensors {
			if k, ok := strings.CutPrefix(name, carryPrefix); ok {
				carried[k] = v
			}
		}
		c.Reset()
		if len(carried) > 0 {
			if err := c.SetCarried(carried); err != nil {
				return fmt.Errorf("train: restoring the carried state: %w", err)
			}
		}
	}
	for i, g := range t.cfg.RNGs {
		if err := g.UnmarshalBinary(st.RNGs[i]); err != nil {
			return fmt.Errorf("train: restoring generator %d: %w", i, err)
		}
	}
	if len(st.Shuffle) > 0 {
		if err := t.shuffle.UnmarshalBinary(st.Shuffle); err != nil {
			return fmt.Errorf("train: restoring shuffle generator: %w", err)
		}
	}
	t.state = st
	t.applyLR(st.Step)
	return nil
}
