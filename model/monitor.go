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
}

// GateSaturation computes the Saturation of the first layer's forward
// direction of an LSTM model over batch b (a batch of the model's task:
// *ForecastBatch, *TextBatch or an LM chunk). It reports false for GRU
// models and batches it does not know.
func (m *Model) GateSaturation(b train.Batch) (Saturation, bool) {
	if m.Spec.Cell != "lstm" || m.rnn == nil {
		return Saturation{}, false
	}
	var x *nn.Var
	var lengths []int
	switch b := b.(type) {
	case *ForecastBatch:
		x = nn.Constant(b.X)
	case *TextBatch:
		x = m.emb.Forward(nil, b.IDs, b.T, b.B)
		lengths = b.Lengths
	case *text.Chunk:
		x = m.emb.Forward(nil, b.X, b.T, b.B)
	default:
		return Saturation{}, false
	}
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	ps := m.rnn.Params()
	if len(ps) < 4 || ps[0].Value.Shape[1] != I {
		return Saturation{}, false // no biases, or an unexpected layout
	}
	wih, whh, bih, bhh := ps[0].Value, ps[1].Value, ps[2].Value, ps[3].Value
	H := m.Spec.Hidden
	if whh.Shape[1] != H {
		return Saturation{}, false // projection: skip
	}
	h := tensor.New(B, H)
	c := tensor.New(B, H)
	pre := tensor.New(B, 4*H)
	var sat [4]float64
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
					if g == 2 {
						a[g] = math.Tanh(v)
						if math.Abs(a[g]) > 0.95 {
							sat[g]++
						}
					} else {
						a[g] = 1 / (1 + math.Exp(-v))
						if a[g] < 0.05 || a[g] > 0.95 {
							sat[g]++
						}
					}
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
	return Saturation{sat[0] / n, sat[1] / n, sat[2] / n, sat[3] / n}, true
}
