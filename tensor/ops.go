package tensor

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
)

func sameLen(op string, a, b *Tensor) {
	if len(a.Data) != len(b.Data) {
		panic(fmt.Sprintf("tensor: %s of %v and %v", op, a.Shape, b.Shape))
	}
}

// AddTo sets dst = a + b element-wise and returns dst.
func AddTo(dst, a, b *Tensor) *Tensor {
	sameLen("AddTo", a, b)
	dst = ensure(dst, a.Shape)
	for i, v := range a.Data {
		dst.Data[i] = v + b.Data[i]
	}
	return dst
}

// SubTo sets dst = a - b element-wise and returns dst.
func SubTo(dst, a, b *Tensor) *Tensor {
	sameLen("SubTo", a, b)
	dst = ensure(dst, a.Shape)
	for i, v := range a.Data {
		dst.Data[i] = v - b.Data[i]
	}
	return dst
}

// MulTo sets dst = a ⊙ b element-wise and returns dst.
func MulTo(dst, a, b *Tensor) *Tensor {
	sameLen("MulTo", a, b)
	dst = ensure(dst, a.Shape)
	for i, v := range a.Data {
		dst.Data[i] = v * b.Data[i]
	}
	return dst
}

// ScaleTo sets dst = s*a and returns dst.
func ScaleTo(dst *Tensor, s float32, a *Tensor) *Tensor {
	dst = ensure(dst, a.Shape)
	for i, v := range a.Data {
		dst.Data[i] = s * v
	}
	return dst
}

// AddScaled sets dst += s*a (axpy).
func (t *Tensor) AddScaled(s float32, a *Tensor) {
	sameLen("AddScaled", t, a)
	kernel.Axpy(s, a.Data, t.Data)
}

// Add sets t += a.
func (t *Tensor) Add(a *Tensor) { t.AddScaled(1, a) }

// Scale sets t *= s.
func (t *Tensor) Scale(s float32) { kernel.Scal(s, t.Data) }

// Sum returns the sum of all elements, accumulated in float64.
func (t *Tensor) Sum() float64 {
	var s float64
	for _, v := range t.Data {
		s += float64(v)
	}
	return s
}

// Transpose selects whether a MatMul operand is used as stored (No) or
// transposed (Trans).
type Transpose bool

const (
	No    Transpose = false
	Trans Transpose = true
)

// MatMulTo sets dst = op(a)·op(b) (+ dst when accumulate) for 2-D a and b
// and returns dst. op(a) is m×k and op(b) k×n; dst is m×n. The four
// layouts NN, NT, TN, TT are chosen with ta and tb.
func MatMulTo(dst, a *Tensor, ta Transpose, b *Tensor, tb Transpose, accumulate bool) *Tensor {
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		panic(fmt.Sprintf("tensor: MatMul of %v and %v: want 2-D", a.Shape, b.Shape))
	}
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	k2, n := b.Shape[0], b.Shape[1]
	if tb {
		k2, n = n, k2
	}
	if k != k2 {
		panic(fmt.Sprintf("tensor: MatMul inner sizes %v (t=%v) and %v (t=%v)", a.Shape, ta, b.Shape, tb))
	}
	dst = ensure(dst, []int{m, n})
	var beta float32
	if accumulate {
		beta = 1
	}
	kernel.Sgemm(bool(ta), bool(tb), m, n, k, 1, a.Data, a.Shape[1], b.Data, b.Shape[1], beta, dst.Data, n)
	return dst
}

// MatMul returns a new a·b.
func MatMul(a, b *Tensor) *Tensor { return MatMulTo(nil, a, No, b, No, false) }
