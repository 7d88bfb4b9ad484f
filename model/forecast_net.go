package model

import (
	"fmt"
	"math"
	"slices"
	"strings"

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
	// members are the other networks of an ensemble (Spec.Ensemble):
	// the forecast is the mean over the body and every member.
	members []*body
	spec    Spec
	// residual holds, for a residual head, the input index of each target:
	// the head predicts the change from the last observed value.
	residual []int
	// local holds, for a Spec.Local forecaster, the input index of each
	// target: those columns are read relative to the window's last step.
	local []int
	// widen, when set, moves the lowest and highest quantile levels of
	// each output apart (ForecastPrep.Widen).
	widen []float32
}

func (n *forecastNet) setWiden(w []float64) {
	n.widen = make([]float32, len(w))
	for i, v := range w {
		n.widen[i] = float32(v)
	}
}

func newForecastNet(s Spec, p *series.Pipeline, seed uint64) (*forecastNet, error) {
	if s.Base == BaseAuto {
		return nil, &SpecError{"base", s.Base, "holt-winters, arima, holt-winters+arima or empty to build a network (auto is resolved by Forecaster.Fit)"}
	}
	b, err := newBody(s, 0, s.Horizon*s.Targets*max(len(s.Quantiles), 1), seed)
	if err != nil {
		return nil, err
	}
	n := &forecastNet{body: b, spec: s}
	for k := 1; k < s.Ensemble; k++ {
		// Each member draws its initialization from its own seed.
		m, err := newBody(s, 0, s.Horizon*s.Targets*max(len(s.Quantiles), 1), seed+uint64(k)*0x9E3779B97F4A7C15)
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, m)
	}
	targets, err := targetInputs(s, p)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Base != "":
		// The network corrects the base: it starts at zero correction.
		for _, q := range n.heads() {
			q.Value.Zero()
		}
	case s.Residual:
		n.residual = targets
	}
	if s.Local {
		n.local = targets
	}
	return n, nil
}

// targetInputs returns the input index of each target: its column among
// the pipeline's inputs, or without a pipeline (Build) the first Targets
// inputs.
func targetInputs(s Spec, p *series.Pipeline) ([]int, error) {
	var idx []int
	if p == nil {
		for k := range s.Targets {
			idx = append(idx, k)
		}
		return idx, nil
	}
	for _, t := range p.Targets {
		i := slices.Index(p.Inputs, t)
		if i < 0 {
			return nil, fmt.Errorf("model: forecast: target %q is not an input", t)
		}
		idx = append(idx, i)
	}
	return idx, nil
}

// centre returns x (T, B, I) with the target columns of every step less
// their value at the last step (Spec.Local).
func (n *forecastNet) centre(x *nn.Var) *nn.Var {
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	out := x.Value.Clone()
	last := out.Data[(T-1)*B*I:]
	for t := range T - 1 {
		row := out.Data[t*B*I:]
		for b := range B {
			for _, i := range n.local {
				row[b*I+i] -= last[b*I+i]
			}
		}
	}
	for b := range B {
		for _, i := range n.local {
			last[b*I+i] = 0
		}
	}
	return nn.Constant(out)
}

// bodies returns the ensemble's networks, the first one first.
func (n *forecastNet) bodies() []*body { return append([]*body{n.body}, n.members...) }

// params returns every member's parameters: the first one's with their
// PyTorch names, member k's prefixed "ensemble.k.".
func (n *forecastNet) params() []*nn.Param {
	ps := n.body.params(false)
	for i, m := range n.members {
		ps = append(ps, nn.Prefix(strings.TrimSuffix(memberPrefix(i+1), "."), m.params(false))...)
	}
	return ps
}

// rngs returns every member's generators of training-time masks.
func (n *forecastNet) rngs() []*tensor.RNG {
	var r []*tensor.RNG
	for _, b := range n.bodies() {
		r = append(r, b.rngs()...)
	}
	return r
}

// heads returns the parameters of every member's head.
func (n *forecastNet) heads() []*nn.Param {
	var ps []*nn.Param
	for _, b := range n.bodies() {
		ps = append(ps, b.head.Params()...)
	}
	return ps
}

// keepCorrection compares, on valid, the loss of the hybrid as trained
// with its correction zeroed (its heads: Holt-Winters alone), and keeps
// the correction only if it is the lower: otherwise the heads stay zero.
func (n *forecastNet) keepCorrection(task train.Task, valid train.Data) (trained, alone float64, err error) {
	m, err := task.Evaluate(valid)
	if err != nil {
		return 0, 0, err
	}
	heads := n.heads()
	saved := make([][]float32, len(heads))
	for i, p := range heads {
		saved[i] = slices.Clone(p.Value.Data)
		p.Value.Zero()
	}
	z, err := task.Evaluate(valid)
	if err != nil {
		return 0, 0, err
	}
	if m["loss"] < z["loss"] {
		for i, p := range heads {
			copy(p.Value.Data, saved[i])
		}
	}
	return m["loss"], z["loss"], nil
}

// forward maps x (T, B, Inputs) to (B, Horizon·Targets·Q); base, when
// not nil, is a forecast (B, Horizon·Targets) the output is added to. An
// ensemble's output is its members' mean, a constant: it trains through
// forwardEach.
func (n *forecastNet) forward(tp *nn.Tape, x *nn.Var, base *tensor.Tensor) *nn.Var {
	if n.members == nil {
		return n.forwardOne(tp, n.body, x, base)
	}
	ys := n.forwardEach(tp, x, base)
	mean := ys[0].Value.Clone()
	for _, y := range ys[1:] {
		for i, v := range y.Value.Data {
			mean.Data[i] += v
		}
	}
	inv := 1 / float32(len(ys))
	for i := range mean.Data {
		mean.Data[i] *= inv
	}
	return nn.Constant(mean)
}

// forwardEach returns each member's output for x.
func (n *forecastNet) forwardEach(tp *nn.Tape, x *nn.Var, base *tensor.Tensor) []*nn.Var {
	var ys []*nn.Var
	for _, b := range n.bodies() {
		ys = append(ys, n.forwardOne(tp, b, x, base))
	}
	return ys
}

// forwardOne is one member's forward pass.
func (n *forecastNet) forwardOne(tp *nn.Tape, b *body, x *nn.Var, base *tensor.Tensor) *nn.Var {
	xin := x
	if n.local != nil {
		xin = n.centre(x)
	}
	out, st := b.recur(tp, xin, nil, nil)
	var last *nn.Var
	if n.spec.Bidirectional {
		// The reverse direction's summary of the window is its final
		// state, not its output at the last step (which has seen one row).
		last = b.final(tp, st, n.spec)
	} else {
		last = nn.LastStep(tp, out, nil)
	}
	y := b.head.Forward(tp, b.dropout(tp, last))
	if base == nil && n.residual == nil {
		return y
	}
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	H, K, Q := n.spec.Horizon, n.spec.Targets, max(len(n.spec.Quantiles), 1)
	add := tensor.New(B, H*K*Q)
	for b := range B {
		row := x.Value.Data[((T-1)*B+b)*I:]
		for h := range H {
			for k := range K {
				v := float32(0)
				if base != nil {
					v = base.Data[(b*H+h)*K+k]
				} else {
					v = row[n.residual[k]]
				}
				for q := range Q {
					add.Data[((b*H+h)*K+k)*Q+q] = v
				}
			}
		}
	}
	return nn.Add(tp, y, nn.NewVar(add))
}

// median is the index of the quantile level nearest 0.5 (0 without
// quantiles): the point forecast.
func (n *forecastNet) median() int {
	best := 0
	for q, l := range n.spec.Quantiles {
		if math.Abs(l-0.5) < math.Abs(n.spec.Quantiles[best]-0.5) {
			best = q
		}
	}
	return best
}

// level returns quantile q of every output of all, (N, H·K·Q) in scaled
// units, as (N, H, K), with the conformal widening (ForecastPrep.Widen)
// of the outermost levels.
func (n *forecastNet) level(all *tensor.Tensor, q int) *tensor.Tensor {
	Q := max(len(n.spec.Quantiles), 1)
	out := n.levelOf(all, q, Q)
	if n.widen != nil && Q > 1 && (q == 0 || q == Q-1) {
		sign := float32(-1)
		if q == Q-1 {
			sign = 1
		}
		hk := len(n.widen)
		for i := range out.Data {
			out.Data[i] += sign * n.widen[i%hk]
		}
	}
	return out
}

// levelOf returns value q of the Q values of every output of all, (N,
// H·K·Q), as (N, H, K). The Q values of each output are sorted first: a
// network trained with the pinball loss may cross its quantiles, and the
// sorted values are never worse estimates (monotone rearrangement).
func (n *forecastNet) levelOf(all *tensor.Tensor, q, Q int) *tensor.Tensor {
	N, H, K := all.Shape[0], n.spec.Horizon, n.spec.Targets
	out := tensor.New(N, H, K)
	buf := make([]float32, Q)
	for i := range out.Data {
		copy(buf, all.Data[i*Q:(i+1)*Q])
		slices.Sort(buf)
		out.Data[i] = buf[q]
	}
	return out
}

// mcQuantiles runs samples forward passes of x (L, B, F) with the
// training-time dropout on (Monte Carlo dropout) and returns the
// empirical quantiles at levels of each output, (B, H·K·len(levels)) in
// scaled units, interpolated linearly between the sorted draws (numpy's
// default). The passes advance the dropout generators.
func (n *forecastNet) mcQuantiles(x, base *tensor.Tensor, samples int, levels []float64) *tensor.Tensor {
	B, hk, L := x.Shape[1], n.spec.Horizon*n.spec.Targets, len(levels)
	draws := make([]float32, samples*B*hk)
	var tp nn.Tape
	xv := nn.Constant(x)
	for s := range samples {
		y := n.forward(&tp, xv, base)
		copy(draws[s*B*hk:], y.Value.Data)
		tp.Reset()
	}
	out := tensor.New(B, hk*L)
	col := make([]float64, samples)
	for i := range B * hk {
		for s := range samples {
			col[s] = float64(draws[s*B*hk+i])
		}
		slices.Sort(col)
		for l, lv := range levels {
			pos := lv * float64(samples-1)
			j := int(pos)
			v := col[j]
			if j+1 < samples {
				v += (pos - float64(j)) * (col[j+1] - col[j])
			}
			out.Data[i*L+l] = float32(v)
		}
	}
	return out
}

// mcAll is mcQuantiles over every window of w, in batches of bs.
func (n *forecastNet) mcAll(w *series.Windows, samples int, levels []float64, bs int) *tensor.Tensor {
	width := n.spec.Horizon * n.spec.Targets * len(levels)
	out := tensor.New(w.Len(), width)
	for from := 0; from < w.Len(); from += bs {
		b := windowBatch(w, from, min(from+bs, w.Len()))
		copy(out.Data[from*width:], n.mcQuantiles(b.X, b.Base, samples, levels).Data)
	}
	return out
}

// predictAll returns every output for every window of w in scaled
// units, (N, Horizon·Targets·Q), in batches of bs.
func (n *forecastNet) predictAll(w *series.Windows, bs int) *tensor.Tensor {
	hkq := n.spec.Horizon * n.spec.Targets * max(len(n.spec.Quantiles), 1)
	out := tensor.New(w.Len(), hkq)
	for from := 0; from < w.Len(); from += bs {
		b := windowBatch(w, from, min(from+bs, w.Len()))
		p := n.forward(nil, nn.Constant(b.X), b.Base)
		copy(out.Data[from*hkq:], p.Value.Data)
	}
	return out
}

// predict returns the point forecasts for every window of w in scaled
// units, (N, Horizon, Targets).
func (n *forecastNet) predict(w *series.Windows, bs int) *tensor.Tensor {
	return n.level(n.predictAll(w, bs), n.median())
}

// ForecastBatch is a batch of windows: X (L, B, F) time-major, Y (B, H·K)
// scaled targets, the windows' indices and, for a forecaster with a
// statistical base, Base (B, H·K): the forecast the network corrects.
type ForecastBatch struct {
	X, Y, Base *tensor.Tensor
	Index      []int
	xv         *nn.Var
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

// windowBatch gathers windows [from, to) of w into a time-major batch,
// reading the windows' frame when they index it rather than copy it.
func windowBatch(w *series.Windows, from, to int) *ForecastBatch {
	L, F := w.Lookback, len(w.Inputs)
	hk := w.Horizon * len(w.Targets)
	B := to - from
	b := &ForecastBatch{X: tensor.New(L, B, F), Y: tensor.New(B, hk)}
	x := make([]float32, L*F)
	for j := range B {
		n := from + j
		b.Index = append(b.Index, n)
		w.Input(x, n)
		for t := range L {
			copy(b.X.Data[(t*B+j)*F:(t*B+j+1)*F], x[t*F:(t+1)*F])
		}
		w.Target(b.Y.Data[j*hk:(j+1)*hk], n)
	}
	if w.Base != nil {
		b.Base = tensor.New(B, hk)
		copy(b.Base.Data, w.Base.Data[from*hk:to*hk])
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
	var pred *nn.Var
	y, members := fb.Y.Data, 1
	if t.f.net.members == nil {
		pred = t.f.net.forward(tp, fb.input(), fb.Base)
	} else {
		// Each member's outputs stacked on the batch axis against the
		// targets repeated: the loss reported is the mean of the members'
		// own losses, and each member's gradient is its own loss's (the
		// mean's, times the members), so each trains as if alone.
		ys := t.f.net.forwardEach(tp, fb.input(), fb.Base)
		pred, members = nn.Concat(tp, 0, ys...), len(ys)
		y = make([]float32, 0, len(ys)*len(fb.Y.Data))
		for range ys {
			y = append(y, fb.Y.Data...)
		}
	}
	lf := t.f.lossFn
	if levels := t.f.net.spec.Quantiles; levels != nil {
		lf = func(g, p, y []float32, o loss.Options) float64 { return loss.Pinball(g, p, y, levels, o) }
	}
	L, _ := loss.Record(tp, pred, func(g []float32) float64 {
		l := lf(g, pred.Value.Data, y, loss.Options{})
		if members > 1 && g != nil {
			for i := range g {
				g[i] *= float32(members)
			}
		}
		return l
	})
	return L, fb.Y.Shape[0]
}

// Evaluate returns "loss" (the training loss, in scaled units) and, in the data's units,
// "rmse", "mae", "mape", "smape" and "mase" over d (a split of Fit).
func (t *forecastTask) Evaluate(d train.Data) (map[string]float64, error) {
	wd, ok := d.(*windowData)
	if !ok {
		return nil, fmt.Errorf("model: a forecaster evaluates its own windows, got %T", d)
	}
	all := t.f.net.predictAll(wd.w, 64)
	pred := t.f.net.level(all, t.f.net.median())
	y := wd.w.AllTargets()
	var l float64
	if levels := t.f.net.spec.Quantiles; levels != nil {
		l = loss.Pinball(nil, all.Data, y.Data, levels, loss.Options{})
	} else {
		l = t.f.lossFn(nil, pred.Data, y.Data, loss.Options{})
	}
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
