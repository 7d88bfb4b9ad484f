package train

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/recur-ml/recur/tensor"
)

// ErrStop, returned by a callback, ends training cleanly after the
// current step: Fit returns its Result and no error.
var ErrStop = errors.New("train: stop requested")

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
	Trainer  *Trainer
}

// Callback observes training. Returning ErrStop stops training; any other
// error aborts Fit with that error.
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

// EarlyStopping stops training when the monitored validation metric has
// not improved by more than MinDelta for Patience evaluations. With
// RestoreBest it copies the best weights back into the parameters when it
// stops (and at the end of training).
type EarlyStopping struct {
	Patience    int     // evaluations without improvement (zero: 5)
	MinDelta    float64 // smallest change that counts as improvement
	RestoreBest bool

	best    float64
	seen    bool
	wait    int
	weights []*tensor.Tensor
}

// On implements Callback.
func (e *EarlyStopping) On(ev *Event) error {
	switch ev.Kind {
	case EvalEnd:
		t := ev.Trainer
		v := ev.Metrics[t.cfg.Monitor]
		better := !e.seen || v < e.best-e.MinDelta
		if t.cfg.MonitorMax {
			better = !e.seen || v > e.best+e.MinDelta
		}
		if !better {
			e.wait++
			p := e.Patience
			if p == 0 {
				p = 5
			}
			if e.wait >= p {
				e.restore(t)
				return ErrStop
			}
			return nil
		}
		e.best, e.seen, e.wait = v, true, 0
		if e.RestoreBest {
			if e.weights == nil {
				for _, p := range t.params {
					e.weights = append(e.weights, p.Value.Clone())
				}
			} else {
				for i, p := range t.params {
					e.weights[i].CopyFrom(p.Value)
				}
			}
		}
	case TrainEnd:
		e.restore(ev.Trainer)
	}
	return nil
}

func (e *EarlyStopping) restore(t *Trainer) {
	if !e.RestoreBest || e.weights == nil {
		return
	}
	for i, p := range t.params {
		p.Value.CopyFrom(e.weights[i])
	}
}

// ReduceLROnPlateau multiplies the learning rate by Factor when the
// monitored metric has not improved by more than Threshold (relative) for
// Patience evaluations, never below MinLR, as PyTorch's scheduler of the
// same name in "rel" threshold mode.
type ReduceLROnPlateau struct {
	Factor    float64 // zero: 0.1
	Patience  int     // zero: 10
	Threshold float64 // zero: 1e-4
	MinLR     float64

	best float64
	seen bool
	bad  int
}

// On implements Callback.
func (r *ReduceLROnPlateau) On(ev *Event) error {
	if ev.Kind != EvalEnd {
		return nil
	}
	t := ev.Trainer
	factor, patience, thr := r.Factor, r.Patience, r.Threshold
	if factor == 0 {
		factor = 0.1
	}
	if patience == 0 {
		patience = 10
	}
	if thr == 0 {
		thr = 1e-4
	}
	v := ev.Metrics[t.cfg.Monitor]
	better := !r.seen || v < r.best*(1-thr)
	if t.cfg.MonitorMax {
		better = !r.seen || v > r.best*(1+thr)
	}
	if better {
		r.best, r.seen, r.bad = v, true, 0
		return nil
	}
	r.bad++
	if r.bad > patience {
		if lr := t.LR(); lr*factor >= r.MinLR {
			t.ScaleLR(factor)
		} else if lr > r.MinLR {
			t.ScaleLR(r.MinLR / lr)
		}
		r.bad = 0
	}
	return nil
}

// logRow returns the flat record logged for ev, or nil for events that
// are not logged (only EpochEnd is).
func logRow(ev *Event) map[string]float64 {
	if ev.Kind != EpochEnd {
		return nil
	}
	row := map[string]float64{"epoch": float64(ev.Epoch), "step": float64(ev.Step), "train_loss": ev.Loss, "lr": ev.LR}
	for k, v := range ev.Metrics {
		row["val_"+k] = v
	}
	return row
}

// JSONLog writes one JSON object per epoch to W.
type JSONLog struct{ W io.Writer }

// On implements Callback.
func (l JSONLog) On(ev *Event) error {
	row := logRow(ev)
	if row == nil {
		return nil
	}
	for k, v := range row {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(row, k) // JSON cannot hold them
		}
	}
	b, err := json.Marshal(row)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(l.W, "%s\n", b)
	return err
}

// CSVLog writes one CSV row per epoch to W, with a header row first. The
// columns are fixed by the first row.
type CSVLog struct {
	W    io.Writer
	cols []string
}

// On implements Callback.
func (l *CSVLog) On(ev *Event) error {
	row := logRow(ev)
	if row == nil {
		return nil
	}
	w := csv.NewWriter(l.W)
	if l.cols == nil {
		for k := range row {
			l.cols = append(l.cols, k)
		}
		sort.Strings(l.cols)
		w.Write(l.cols)
	}
	rec := make([]string, len(l.cols))
	for i, c := range l.cols {
		if v, ok := row[c]; ok {
			rec[i] = strconv.FormatFloat(v, 'g', 8, 64)
		}
	}
	w.Write(rec)
	w.Flush()
	return w.Error()
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
