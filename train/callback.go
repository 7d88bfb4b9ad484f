package train

import (
	"errors"
	"strconv"
)

// ErrStop, returned by a callback, ends training cleanly after the
// current step: Fit returns its Result and no error. Return Stop(reason)
// to say why.
var ErrStop = errors.New("train: stop requested")

// StopError is ErrStop with a reason, which Result.StopReason reports.
type StopError struct{ Reason string }

func (e *StopError) Error() string { return "train: stop requested: " + e.Reason }

// Is makes errors.Is(err, ErrStop) true.
func (e *StopError) Is(target error) bool { return target == ErrStop }

// Stop returns an ErrStop that carries reason.
func Stop(reason string) error { return &StopError{Reason: reason} }

// EventKind says when an Event happens.
type EventKind int

// The events, in the order a run produces them.
const (
	TrainBegin EventKind = iota
	StepEnd              // after each optimizer step
	EvalEnd              // after each validation
	EpochEnd             // after each epoch (and its validation)
	TrainEnd
)

var kindNames = [...]string{"train_begin", "step_end", "eval_end", "epoch_end", "train_end"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is what callbacks receive.
type Event struct {
	Kind  EventKind
	Epoch int     // 0-based epoch during the event (at EpochEnd: epochs done)
	Step  int     // optimizer steps done
	Loss  float64 // step loss (StepEnd) or mean epoch loss (EpochEnd)
	LR    float64 // group 0's learning rate
	// GradNorm is the global gradient norm before clipping (StepEnd).
	GradNorm float64
	// Metrics are the validation metrics (EvalEnd; EpochEnd when there is
	// validation data).
	Metrics map[string]float64
	// Improved is set at EvalEnd when the monitored metric improved.
	Improved bool
	// Batch is the step's (first) batch (StepEnd), for monitors that
	// replay it.
	Batch   Batch
	Trainer *Trainer
}

// Callback observes training. Returning ErrStop (or Stop(reason)) stops
// training; any other error aborts Fit with that error.
type Callback interface {
	On(ev *Event) error
}

// CallbackFunc adapts a function to a Callback.
type CallbackFunc func(ev *Event) error

// On calls f(ev).
func (f CallbackFunc) On(ev *Event) error { return f(ev) }

// Callbacks is a list of callbacks called in order; it stops at the first
// error.
type Callbacks []Callback

// On calls each callback in turn.
func (cs Callbacks) On(ev *Event) error {
	for _, c := range cs {
		if err := c.On(ev); err != nil {
			return err
		}
	}
	return nil
}

// GradMonitor reports, every Every steps, each parameter's gradient norm
// (before clipping) and flags vanishing (< Low) and exploding (> High)
// gradients, so that the central problem of recurrent training is visible.
type GradMonitor struct {
	Every     int     // zero: 100
	Low, High float64 // zero: 1e-7 and 1e3
	// Report receives the step and the norms by parameter name.
	Report func(step int, norms map[string]float64, vanishing, exploding []string) error
}

// On implements Callback.
func (g GradMonitor) On(ev *Event) error {
	every := g.Every
	if every == 0 {
		every = 100
	}
	if ev.Kind != StepEnd || ev.Step%every != 0 || g.Report == nil {
		return nil
	}
	low, high := g.Low, g.High
	if low == 0 {
		low = 1e-7
	}
	if high == 0 {
		high = 1e3
	}
	norms := map[string]float64{}
	var van, exp []string
	for i, p := range ev.Trainer.params {
		n := ev.Trainer.norms[i]
		norms[p.Name] = n
		if p.Frozen {
			continue
		}
		if n < low {
			van = append(van, p.Name)
		}
		if n > high {
			exp = append(exp, p.Name)
		}
	}
	return g.Report(ev.Step, norms, van, exp)
}
