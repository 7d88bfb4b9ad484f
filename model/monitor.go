package model

import (
	"math"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// Saturation is the share of gate activations of the first recurrent
// layer that are saturated (a sigmoid below 0.05 or above 0.95, a tanh
// beyond ±0.95), per LSTM gate: saturated gates pass almost no gradient,
// the vanishing-gradient problem made visible.
type Saturation struct {
	Input, Forget, Cell, Output float64
	// Histogram[g] is the share of gate g's activations (input, forget,
	// cell candidate, output) in each of HistogramBins equal bins over
	// the gate's range: [0, 1] for the sigmoids, [-1, 1] for the tanh.
	Histogram [4][]float64
}

// HistogramBins is the number of bins of Saturation.Histogram.
const HistogramBins = 20

// gateInputs is implemented by the front doors whose first recurrent
// layer can be replayed: it returns the body and the layer's input for a
// batch of the model's Task.
type gateInputs interface {
	firstInput(b train.Batch) (net *body, x *nn.Var, lengths []int, ok bool)
}

func (f *Forecaster) firstInput(b train.Batch) (*body, *nn.Var, []int, bool) {
	fb, ok := b.(*ForecastBatch)
	if !ok || f.net == nil {
		return nil, nil, nil, false
	}
	return f.net.body, nn.Constant(fb.X), nil, true
}

func (c *Classifier) firstInput(b train.Batch) (*body, *nn.Var, []int, bool) {
	tb, ok := b.(*TextBatch)
	if !ok || c.net == nil {
		return nil, nil, nil, false
	}
	if tb.X != nil {
		return c.net, nn.Constant(tb.X), tb.Lengths, true
	}
	return c.net, c.net.emb.Forward(nil, tb.IDs, tb.T, tb.B), tb.Lengths, true
}

func (m *LanguageModel) firstInput(b train.Batch) (*body, *nn.Var, []int, bool) {
	ch, ok := b.(*text.Chunk)
	if !ok || m.net == nil {
		return nil, nil, nil, false
	}
	return m.net, m.net.emb.Forward(nil, ch.X, ch.T, ch.B), nil, true
}

func (t *Tagger) firstInput(b train.Batch) (*body, *nn.Var, []int, bool) {
	tb, ok := b.(*TagBatch)
	if !ok || t.net == nil {
		return nil, nil, nil, false
	}
	return t.net, nn.Constant(tb.X), tb.Lengths, true
}

// GateSaturation computes the Saturation of the first layer's forward
// direction of an LSTM model over batch b (a batch of the model's Task:
// *ForecastBatch, *TextBatch, *text.Chunk, *TagBatch). It reports false
// for other cells, peepholes, translators and batches it does not know.
func GateSaturation(m Model, b train.Batch) (Saturation, bool) {
	gi, ok := m.(gateInputs)
	if !ok || m.Spec().Cell != "lstm" || m.Spec().Peephole {
		return Saturation{}, false
	}
	net, x, lengths, ok := gi.firstInput(b)
	if !ok {
		return Saturation{}, false
	}
	return saturation(net.rnn.Params(), m.Spec().Hidden, x, lengths)
}

// HiddenStates returns the recurrent stack's output for the first example
// of batch b (a batch of m's Task), (T, features) with T that example's
// length: what the network carries from step to step, for a heat map. It
// reports false for a translator and for batches it does not know.
func HiddenStates(m Model, b train.Batch) (*tensor.Tensor, bool) {
	gi, ok := m.(gateInputs)
	if !ok {
		return nil, false
	}
	net, x, lengths, ok := gi.firstInput(b)
	if !ok {
		return nil, false
	}
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	L := T
	if lengths != nil {
		L = lengths[0]
	}
	one := tensor.New(L, 1, I)
	for t := range L {
		copy(one.Data[t*I:(t+1)*I], x.Value.Data[t*B*I:t*B*I+I])
	}
	out, _ := net.rnn.Forward(nil, nn.Constant(one), nil, nil)
	return out.Value.Reshape(L, out.Value.Len()/L), true
}

// saturation replays the first LSTM layer (parameters ps) over x.
func saturation(ps []*nn.Param, H int, x *nn.Var, lengths []int) (Saturation, bool) {
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	if len(ps) < 4 || ps[0].Value.Shape[1] != I {
		return Saturation{}, false // no biases, or an unexpected layout
	}
	wih, whh, bih, bhh := ps[0].Value, ps[1].Value, ps[2].Value, ps[3].Value
	if whh.Shape[1] != H {
		return Saturation{}, false // projection: skip
	}
	h := tensor.New(B, H)
	c := tensor.New(B, H)
	pre := tensor.New(B, 4*H)
	var sat [4]float64
	var hist [4][HistogramBins]float64
	var n float64
	for t := range T {
		xt := x.Value.Slice(t, t+1).Reshape(B, I)
		tensor.MatMulTo(pre, xt, tensor.No, wih, tensor.Trans, false)
		tensor.MatMulTo(pre, h, tensor.No, whh, tensor.Trans, true)
		for r := range B {
			if lengths != nil && t >= lengths[r] {
				continue
			}
			row := pre.Data[r*4*H : (r+1)*4*H]
			for j := range H {
				var a [4]float64
				for g := range 4 {
					v := float64(row[g*H+j] + bih.Data[g*H+j] + bhh.Data[g*H+j])
					var u float64 // the activation mapped to [0, 1]
					if g == 2 {
						a[g] = math.Tanh(v)
						u = (a[g] + 1) / 2
						if math.Abs(a[g]) > 0.95 {
							sat[g]++
						}
					} else {
						a[g] = 1 / (1 + math.Exp(-v))
						u = a[g]
						if a[g] < 0.05 || a[g] > 0.95 {
							sat[g]++
						}
					}
					hist[g][min(int(u*HistogramBins), HistogramBins-1)]++
				}
				cc := a[1]*float64(c.Data[r*H+j]) + a[0]*a[2]
				c.Data[r*H+j] = float32(cc)
				h.Data[r*H+j] = float32(a[3] * math.Tanh(cc))
			}
			n += float64(H)
		}
	}
	if n == 0 {
		return Saturation{}, false
	}
	out := Saturation{Input: sat[0] / n, Forget: sat[1] / n, Cell: sat[2] / n, Output: sat[3] / n}
	for g := range hist {
		out.Histogram[g] = make([]float64, HistogramBins)
		for b, k := range hist[g] {
			out.Histogram[g][b] = k / n
		}
	}
	return out, true
}
