package optim

import (
	"fmt"

	"github.com/recur-ml/recur/nn"
)

// NTASGD is non-monotonically triggered averaged SGD (Merity et al. 2017,
// AWD-LSTM): plain SGD until the validation metric (lower is better) has
// not improved on the best value seen more than Patience checks ago; from
// then on it also keeps the running average of the parameters after each
// step, which is what one evaluates and finally keeps.
//
//	for epoch := ... {
//		// train: opt.Step() after each batch
//		opt.SwapAverage()       // evaluate with the averaged weights
//		val := evaluate()
//		opt.SwapAverage()       // back to the trained weights
//		opt.Observe(val)
//	}
//
// Before averaging starts SwapAverage does nothing.
type NTASGD struct {
	Optimizer
	params   []*nn.Param
	patience int
	logs     []float64
	// avg holds the averages, nil until the switch; n counts the averaged
	// steps.
	avg     [][]float32
	n       int
	swapped bool
}

// NewNTASGD returns NT-ASGD over params: SGD with c (no momentum, as in
// the paper, though c may set it) switching to averaging after patience
// non-improving checks (AWD-LSTM uses 5). patience must be >= 1.
func NewNTASGD(params []*nn.Param, c Config, patience int) (*NTASGD, error) {
	if patience < 1 {
		return nil, &ConfigError{Optimizer: "ntasgd", Field: "nonmono", Value: patience, Want: ">= 1"}
	}
	sgd, err := New("sgd", params, c)
	if err != nil {
		return nil, err
	}
	return &NTASGD{Optimizer: sgd, params: params, patience: patience}, nil
}

// Averaging reports whether averaging has started.
func (o *NTASGD) Averaging() bool { return o.avg != nil }

// Step applies one SGD step and, once averaging, folds the new parameter
// values into their running average. It panics if the averaged weights
// are swapped in.
func (o *NTASGD) Step() {
	if o.swapped {
		panic("optim: NTASGD.Step with the averaged weights swapped in")
	}
	o.Optimizer.Step()
	if o.avg == nil {
		return
	}
	o.n++
	k := float32(1 / float64(o.n))
	for i, p := range o.params {
		a := o.avg[i]
		for j, v := range p.Value.Data {
			a[j] += (v - a[j]) * k
		}
	}
}

// Observe records a validation metric (lower is better) and reports
// whether it switched averaging on now: it switches when there are more
// than patience earlier checks and the metric is worse than the best of
// all but the last patience of them.
func (o *NTASGD) Observe(metric float64) bool {
	switched := false
	if o.avg == nil && len(o.logs) > o.patience {
		best := o.logs[0]
		for _, v := range o.logs[:len(o.logs)-o.patience] {
			best = min(best, v)
		}
		if metric > best {
			o.avg = make([][]float32, len(o.params))
			for i, p := range o.params {
				o.avg[i] = append([]float32(nil), p.Value.Data...)
			}
			o.n = 1
			switched = true
		}
	}
	o.logs = append(o.logs, metric)
	return switched
}

// History returns the metrics observed so far, for a checkpoint (State
// holds the averages, not the history).
func (o *NTASGD) History() []float64 { return append([]float64(nil), o.logs...) }

// SetHistory restores the metrics observed before a checkpoint.
func (o *NTASGD) SetHistory(h []float64) { o.logs = append([]float64(nil), h...) }

// SwapAverage exchanges the parameter values with their averages; call it
// once to evaluate with the averages and again to swap back.
func (o *NTASGD) SwapAverage() {
	if o.avg == nil {
		return
	}
	for i, p := range o.params {
		a, v := o.avg[i], p.Value.Data
		for j := range v {
			a[j], v[j] = v[j], a[j]
		}
	}
	o.swapped = !o.swapped
}

// State adds the averages (buffer "ax") and the averaged-step count (as
// the step count of the pseudo-parameter "ntasgd.averaged") to the SGD
// state.
func (o *NTASGD) State() *State {
	s := o.Optimizer.State()
	if o.avg != nil {
		s.Steps["ntasgd.averaged"] = o.n
		for i, p := range o.params {
			if s.Buffers[p.Name] == nil {
				s.Buffers[p.Name] = map[string][]float32{}
			}
			s.Buffers[p.Name]["ax"] = append([]float32(nil), o.avg[i]...)
		}
	}
	return s
}

// LoadState restores a state from State.
func (o *NTASGD) LoadState(s *State) error {
	n, averaging := s.Steps["ntasgd.averaged"]
	inner := &State{Optimizer: s.Optimizer, Steps: map[string]int{}, Buffers: map[string]map[string][]float32{}}
	var avg [][]float32
	for k, v := range s.Steps {
		if k != "ntasgd.averaged" {
			inner.Steps[k] = v
		}
	}
	for _, p := range o.params {
		bufs := map[string][]float32{}
		for k, v := range s.Buffers[p.Name] {
			if k == "ax" {
				if len(v) != len(p.Value.Data) {
					return fmt.Errorf("optim: NT-ASGD average of %q has %d values, want %d", p.Name, len(v), len(p.Value.Data))
				}
				avg = append(avg, append([]float32(nil), v...))
				continue
			}
			bufs[k] = v
		}
		if len(bufs) > 0 {
			inner.Buffers[p.Name] = bufs
		}
	}
	if averaging && len(avg) != len(o.params) {
		return fmt.Errorf("optim: NT-ASGD state has averages for %d of %d parameters", len(avg), len(o.params))
	}
	if err := o.Optimizer.LoadState(inner); err != nil {
		return err
	}
	if averaging {
		o.avg, o.n = avg, n
	} else {
		o.avg, o.n = nil, 0
	}
	return nil
}
