package nn

import (
	"math"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// elementwise wraps y = f(x) and, on a tape, records a backward that adds
// dy·f'(x) into x's gradient; grad(dx, dy, x, y) does that accumulation
// for the whole tensor.
// grad is a function value that captures nothing, so recording allocates
// nothing.
func elementwise(tp *Tape, x *Var, y *tensor.Tensor, grad func(dx, dy, x, y []float32)) *Var {
	out, op := newOp[elementwiseOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.grad = tp, x, out, grad
	}
	return out
}

// elementwiseOp is the backward of an element-wise op (and of Softmax,
// with rows of width w: grad is then nil).
type elementwiseOp struct {
	tp      *Tape
	x, y    *Var
	grad    func(dx, dy, x, y []float32)
	rows, w int
}

func (o *elementwiseOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dx, dy, y := o.tp.Grad(o.x).Data, o.y.Grad.Data, o.y.Value.Data
	if o.grad == nil {
		kernel.SoftmaxRowsBackward(dx, dy, y, o.rows, o.w)
		return
	}
	o.grad(dx, dy, o.x.Value.Data, y)
}

// Tanh returns tanh(x) element-wise, any shape.
func Tanh(tp *Tape, x *Var) *Var {
	y := tp.Buffer(x.Value.Shape...)
	kernel.Tanh(y.Data, x.Value.Data)
	return elementwise(tp, x, y, func(dx, dy, _, y []float32) { kernel.TanhBackward(dx, dy, y) })
}

// Sigmoid returns 1/(1+exp(−x)) element-wise, any shape.
func Sigmoid(tp *Tape, x *Var) *Var {
	y := tp.Buffer(x.Value.Shape...)
	kernel.Sigmoid(y.Data, x.Value.Data)
	return elementwise(tp, x, y, func(dx, dy, _, y []float32) { kernel.SigmoidBackward(dx, dy, y) })
}

// ReLU returns max(x, 0) element-wise; its gradient at 0 is 0 (PyTorch).
func ReLU(tp *Tape, x *Var) *Var {
	y := tp.Zeros(x.Value.Shape...)
	for i, v := range x.Value.Data {
		if v > 0 {
			y.Data[i] = v
		}
	}
	return elementwise(tp, x, y, func(dx, dy, x, _ []float32) { kernel.ReLUBackward(dx, dy, x) })
}

// GELU returns the exact (erf) Gaussian error linear unit
// x·Φ(x) = x·(1+erf(x/√2))/2, PyTorch's default.
func GELU(tp *Tape, x *Var) *Var {
	y := tp.Zeros(x.Value.Shape...)
	for i, v := range x.Value.Data {
		f := float64(v)
		y.Data[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
	return elementwise(tp, x, y, func(dx, dy, x, _ []float32) {
		for i, g := range dy {
			f := float64(x[i])
			cdf := 0.5 * (1 + math.Erf(f/math.Sqrt2))
			pdf := math.Exp(-0.5*f*f) / math.Sqrt(2*math.Pi)
			dx[i] += g * float32(cdf+f*pdf)
		}
	})
}

// Activation returns the activation function with the given name: "tanh",
// "sigmoid", "relu", "gelu", or "identity" / "" (x itself).
func Activation(name string) (func(tp *Tape, x *Var) *Var, error) {
	switch name {
	case "tanh":
		return Tanh, nil
	case "sigmoid":
		return Sigmoid, nil
	case "relu":
		return ReLU, nil
	case "gelu":
		return GELU, nil
	case "", "identity", "linear":
		return func(_ *Tape, x *Var) *Var { return x }, nil
	}
	return nil, fieldError("Activation", "name", name, "tanh, sigmoid, relu, gelu or identity")
}

// Softmax returns the softmax over the last axis of x.
func Softmax(tp *Tape, x *Var) *Var {
	w := x.Value.Dim(-1)
	rows := x.Value.Len() / max(w, 1)
	y := tp.Buffer(x.Value.Shape...)
	kernel.SoftmaxRows(y.Data, x.Value.Data, rows, w)
	out, op := newOp[elementwiseOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.rows, op.w = tp, x, out, rows, w
	}
	return out
}
