package nn

import (
	"fmt"
	"math"
)

// LayerNorm normalises the last axis of its input to zero mean and unit
// variance (biased variance, as PyTorch), then applies an affine map:
// y = (x − mean)/sqrt(var + Eps) ⊙ weight + bias.
//
// Parameters: "weight" (Dim) starting at 1, "bias" (Dim) starting at 0.
type LayerNorm struct {
	Dim          int
	Eps          float64
	Weight, Bias *Param
}

// NewLayerNorm returns a LayerNorm over dim features; eps <= 0 means 1e-5
// (PyTorch's default). It panics when dim is not positive.
func NewLayerNorm(dim int, eps float64) *LayerNorm {
	if dim <= 0 {
		panic(fieldMsg("LayerNorm", "dim", dim, "> 0"))
	}
	if eps <= 0 {
		eps = 1e-5
	}
	l := &LayerNorm{Dim: dim, Eps: eps, Weight: NewParam("weight", dim), Bias: NewParam("bias", dim)}
	l.Weight.Value.Fill(1)
	return l
}

// Params returns weight and bias.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// Forward normalises x (..., Dim).
func (l *LayerNorm) Forward(tp *Tape, x *Var) *Var {
	tp.Touch(l.Weight, l.Bias)
	F := l.Dim
	if len(x.Value.Shape) == 0 || x.Value.Dim(-1) != F {
		panic(fmt.Sprintf("nn: LayerNorm(%d) input shape %v", F, x.Value.Shape))
	}
	n := x.Value.Len() / F
	y := tp.Zeros(x.Value.Shape...)
	xhat := tp.Buffer(len(y.Data)).Data // fully written below
	rstd := tp.Buffer(n).Data
	w, b := l.Weight.Value.Data, l.Bias.Value.Data
	for r := 0; r < n; r++ {
		xr := x.Value.Data[r*F : (r+1)*F]
		var mean, v float64
		for _, a := range xr {
			mean += float64(a)
		}
		mean /= float64(F)
		for _, a := range xr {
			d := float64(a) - mean
			v += d * d
		}
		rs := 1 / math.Sqrt(v/float64(F)+l.Eps)
		rstd[r] = float32(rs)
		for j, a := range xr {
			h := float32((float64(a) - mean) * rs)
			xhat[r*F+j] = h
			y.Data[r*F+j] = h*w[j] + b[j]
		}
	}
	out, op := newOp[layerNormOp](tp, y)
	if op != nil {
		op.l, op.tp, op.x, op.y, op.xhat, op.rstd = l, tp, x, out, xhat, rstd
	}
	return out
}

// layerNormOp is the backward of LayerNorm.Forward.
type layerNormOp struct {
	l          *LayerNorm
	tp         *Tape
	x, y       *Var
	xhat, rstd []float32
}

func (o *layerNormOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	l, F, xhat, rstd := o.l, o.l.Dim, o.xhat, o.rstd
	n := len(rstd)
	w := l.Weight.Value.Data
	dy := o.y.Grad
	dx := o.tp.Grad(o.x).Data
	dw, db := l.Weight.Grad.Data, l.Bias.Grad.Data
	for r := 0; r < n; r++ {
		g, h := dy.Data[r*F:(r+1)*F], xhat[r*F:(r+1)*F]
		var mg, mgh float64
		for j := range g {
			gh := float64(g[j] * w[j])
			mg += gh
			mgh += gh * float64(h[j])
		}
		mg /= float64(F)
		mgh /= float64(F)
		for j := range g {
			gh := float64(g[j] * w[j])
			dx[r*F+j] += float32(float64(rstd[r]) * (gh - mg - float64(h[j])*mgh))
			if !l.Weight.Frozen {
				dw[j] += g[j] * h[j]
			}
			if !l.Bias.Frozen {
				db[j] += g[j]
			}
		}
	}
}
