package model

import (
	"fmt"
	"slices"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// forecastNet maps windows x (T, B, Inputs) to predictions (B,
// Horizon·Targets) in the pipeline's scaled space.
type forecastNet struct {
	*body
	spec Spec
	// residual holds, for a residual head, the input index of each target:
	// the head predicts the change from the last observed value.
	residual []int
}

func newForecastNet(s Spec, p *series.Pipeline, seed uint64) (*forecastNet, error) {
	b, err := newBody(s, 0, s.Horizon*s.Targets, seed)
	if err != nil {
		return nil, err
	}
	n := &forecastNet{body: b, spec: s}
	switch {
	case s.Residual && p == nil:
		// Without a pipeline (Build), the targets are the first inputs.
		for k := range s.Targets {
			n.residual = append(n.residual, k)
		}
	case s.Residual:
		for _, t := range p.Targets {
			i := slices.Index(p.Inputs, t)
			if i < 0 {
				return nil, fmt.Errorf("model: residual forecast: target %q is not an input", t)
			}
			n.residual = append(n.residual, i)
		}
	}
	return n, nil
}

// forward maps x (T, B, Inputs) to (B, Horizon·Targets).
func (n *forecastNet) forward(tp *nn.Tape, x *nn.Var) *nn.Var {
	out, st := n.rnn.Forward(tp, x, nil, nil)
	var last *nn.Var
	if n.spec.Bidirectional {
		// The reverse direction's summary of the window is its final
		// state, not its output at the last step (which has seen one row).
		last = n.final(tp, st, n.spec)
	} else {
		last = nn.LastStep(tp, out, nil)
	}
	y := n.head.Forward(tp, n.dropout(tp, last))
	if n.residual == nil {
		return y
	}
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	H, K := n.spec.Horizon, n.spec.Targets
	base := tensor.New(B, H*K)
	for b := range B {
		row := x.Value.Data[((T-1)*B+b)*I:]
		for h := range H {
			for k, i := range n.residual {
				base.Data[b*H*K+h*K+k] = row[i]
			}
		}
	}
	return nn.Add(tp, y, nn.NewVar(base))
}

// predict returns the predictions for every window of w in scaled units,
// (N, Horizon, Targets), in batches of bs.
func (n *forecastNet) predict(w *series.Windows, bs int) *tensor.Tensor {
	out := tensor.New(w.Len(), n.spec.Horizon, n.spec.Targets)
	hk := n.spec.Horizon * n.spec.Targets
	for from := 0; from < w.Len(); from += bs {
		b := windowBatch(w, from, min(from+bs, w.Len()))
		p := n.forward(nil, nn.Constant(b.X))
		copy(out.Data[from*hk:], p.Value.Data)
	}
	return out
}

// ForecastBatch is a batch of windows: X (L, B, F) time-major, Y (B, H·K)
// scaled targets, and the windows' indices.
type ForecastBatch struct {
	X, Y  *tensor.Tensor
	Index []int
	xv    *nn.Var
}

// input returns X as a constant input, made once per batch.
func (b *ForecastBatch) input() *nn.Var {
	if b.xv == nil || b.xv.Value != b.X {
		b.xv = nn.Constant(b.X)
	}
	return b.xv
}

// NewForecastBatch wraps time-major inputs x (L, B, F) and scaled targets
// y (B, H·K) as a batch for a forecaster's Task, for a training loop of
// one's own.
func NewForecastBatch(x, y *tensor.Tensor) *ForecastBatch { return &ForecastBatch{X: x, Y: y} }

// windowBatch gathers windows [from, to) of w into a time-major batch.
func windowBatch(w *series.Windows, from, to int) *ForecastBatch {
	X, Y := w.X, w.Y
	L, F := X.Shape[1], X.Shape[2]
	hk := Y.Shape[1] * Y.Shape[2]
	B := to - from
	b := &ForecastBatch{X: tensor.New(L, B, F), Y: tensor.New(B, hk)}
	for j := range B {
		n := from + j
		b.Index = append(b.Index, n)
		for t := range L {
			copy(b.X.Data[(t*B+j)*F:(t*B+j+1)*F], X.Data[(n*L+t)*F:(n*L+t+1)*F])
		}
		copy(b.Y.Data[j*hk:(j+1)*hk], Y.Data[n*hk:(n+1)*hk])
	}
	return b
}

// windowData serves the windows of one split in batches; it implements
// train.Data.
type windowData struct {
	f  *Forecaster
	w  *series.Windows
	pr *series.Prepared
	bs int
}

func (d *windowData) Len() int { return (d.w.Len() + d.bs - 1) / d.bs }

func (d *windowData) Batch(i int) train.Batch {
	return windowBatch(d.w, i*d.bs, min((i+1)*d.bs, d.w.Len()))
}

// forecastTask trains a forecaster with its loss (the mean squared error
// by default) in scaled units.
type forecastTask struct{ f *Forecaster }

func (t *forecastTask) Params() []*nn.Param { return t.f.params }

func (t *forecastTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	fb := b.(*ForecastBatch)
	pred := t.f.net.forward(tp, fb.input())
	lf := t.f.lossFn
	L, _ := loss.Record(tp, pred, func(g []float32) float64 { return lf(g, pred.Value.Data, fb.Y.Data, loss.Options{}) })
	return L, fb.Y.Shape[0]
}

// Evaluate returns "loss" (the training loss, in scaled units) and, in the data's units,
// "rmse", "mae", "mape", "smape" and "mase" over d (a split of Fit).
func (t *forecastTask) Evaluate(d train.Data) (map[string]float64, error) {
	wd, ok := d.(*windowData)
	if !ok {
		return nil, fmt.Errorf("model: a forecaster evaluates its own windows, got %T", d)
	}
	pred := t.f.net.predict(wd.w, 64)
	l := t.f.lossFn(nil, pred.Data, wd.w.Y.Data, loss.Options{})
	fc, err := wd.pr.Forecast(wd.w, pred)
	if err != nil {
		return nil, err
	}
	actual, err := wd.pr.Actual(wd.w)
	if err != nil {
		return nil, err
	}
	m := series.Score(fc, actual, wd.pr.Scales)
	return map[string]float64{"loss": l, "rmse": m.RMSE, "mae": m.MAE, "mape": m.MAPE, "smape": m.SMAPE, "mase": m.MASE}, nil
}
