package nntest_test

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/nn/nntest"
	"github.com/recur-ml/recur/tensor"
)

// scaleTanh is a toy layer y = tanh(w ⊙ x) with a hand-written backward,
// enough to exercise every sub-check.
type scaleTanh struct{ w *nn.Param }

func (l *scaleTanh) Params() []*nn.Param { return []*nn.Param{l.w} }

func (l *scaleTanh) forward(tp *nn.Tape, x *nn.Var) *nn.Var {
	y := nn.NewVar(tensor.New(x.Value.Shape...))
	for i, v := range x.Value.Data {
		y.Value.Data[i] = float32(math.Tanh(float64(l.w.Value.Data[i] * v)))
	}
	if tp != nil {
		tp.Add(func() {
			if y.Grad == nil {
				return
			}
			gx := x.G()
			for i, g := range y.Grad.Data {
				d := g * (1 - y.Value.Data[i]*y.Value.Data[i])
				gx.Data[i] += d * l.w.Value.Data[i]
				l.w.Grad.Data[i] += d * x.Value.Data[i]
			}
		})
	}
	return y
}

func TestCheckToyLayer(t *testing.T) {
	nntest.Check(t, nntest.Spec{
		Name: "scaletanh",
		New: func(rng *tensor.RNG) (nn.Module, error) {
			w := nn.NewParam("weight", 2, 3)
			rng.FillUniform(w.Value, -1, 1)
			return &scaleTanh{w: w}, nil
		},
		Inputs: func(rng *tensor.RNG) []*nn.Var { return []*nn.Var{nntest.RandVar(rng, 2, 3)} },
		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
			return []*nn.Var{m.(*scaleTanh).forward(tp, in[0])}
		},
	})
}
