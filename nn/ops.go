package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// record wraps y as the Var a layer returns and, on a tape, registers back
// to run with y's gradient during Backward (nothing runs when no gradient
// reached y).
//
// The Var and the op record are the tape's (see NewRecord), so the only
// allocation left per op is back itself; hot ops record an op type of
// their own instead (linearOp, embeddingOp, ...), which allocates nothing.
func record(tp *Tape, y *tensor.Tensor, back func(dy *tensor.Tensor)) *Var {
	out := tp.Var(y)
	if tp != nil {
		op := NewRecord[closureOp](tp)
		op.out, op.back = out, back
		tp.AddOp(op)
	}
	return out
}

// closureOp runs a backward closure with its output's gradient.
type closureOp struct {
	out  *Var
	back func(dy *tensor.Tensor)
}

func (o *closureOp) Backward() {
	if o.out.Grad != nil {
		o.back(o.out.Grad)
	}
}

// addInto sets dst[i] += src[i].
func addInto(dst, src []float32) { kernel.Axpy(1, src, dst) }

// axisSplit returns, for shape and an axis (negative counts from the end),
// the normalised axis, the product of the dimensions before it (outer) and
// the product of those after it (inner).
func axisSplit(op string, shape []int, axis int) (ax, outer, inner int) {
	ax = axis
	if ax < 0 {
		ax += len(shape)
	}
	if ax < 0 || ax >= len(shape) {
		panic(fmt.Sprintf("nn: %s: axis %d of shape %v", op, axis, shape))
	}
	outer, inner = 1, 1
	for _, d := range shape[:ax] {
		outer *= d
	}
	for _, d := range shape[ax+1:] {
		inner *= d
	}
	return ax, outer, inner
}

// Concat joins xs along axis (−1: the feature axis). All other dimensions
// must agree.
func Concat(tp *Tape, axis int, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("nn: Concat of nothing")
	}
	s0 := xs[0].Value.Shape
	ax, outer, inner := axisSplit("Concat", s0, axis)
	total := 0
	for _, x := range xs {
		s := x.Value.Shape
		ok := len(s) == len(s0)
		for i := 0; ok && i < len(s); i++ {
			ok = i == ax || s[i] == s0[i]
		}
		if !ok {
			panic(fmt.Sprintf("nn: Concat along %d of shapes %v and %v", axis, s0, s))
		}
		total += s[ax]
	}
	shape := append([]int(nil), s0...)
	shape[ax] = total
	y := tp.Buffer(shape...) // the pieces cover every element
	row := total * inner
	off := 0
	for _, x := range xs {
		w := x.Value.Shape[ax] * inner
		for o := 0; o < outer; o++ {
			copy(y.Data[o*row+off:o*row+off+w], x.Value.Data[o*w:(o+1)*w])
		}
		off += w
	}
	return record(tp, y, func(dy *tensor.Tensor) {
		off := 0
		for _, x := range xs {
			w := x.Value.Shape[ax] * inner
			dx := tp.Grad(x).Data
			for o := 0; o < outer; o++ {
				addInto(dx[o*w:(o+1)*w], dy.Data[o*row+off:o*row+off+w])
			}
			off += w
		}
	})
}

// Split cuts x along axis into pieces of the given sizes, which must add up
// to the dimension.
func Split(tp *Tape, axis int, x *Var, sizes ...int) []*Var {
	ax, _, _ := axisSplit("Split", x.Value.Shape, axis)
	outs := make([]*Var, len(sizes))
	from := 0
	for i, s := range sizes {
		outs[i] = Slice(tp, ax, x, from, from+s)
		from += s
	}
	if from != x.Value.Shape[ax] {
		panic(fmt.Sprintf("nn: Split sizes %v of dimension %d", sizes, x.Value.Shape[ax]))
	}
	return outs
}

// Slice returns indices [from, to) of x along axis.
func Slice(tp *Tape, axis int, x *Var, from, to int) *Var {
	ax, outer, inner := axisSplit("Slice", x.Value.Shape, axis)
	n := x.Value.Shape[ax]
	if from < 0 || to < from || to > n {
		panic(fmt.Sprintf("nn: Slice [%d, %d) of axis %d of shape %v", from, to, axis, x.Value.Shape))
	}
	shape := append([]int(nil), x.Value.Shape...)
	shape[ax] = to - from
	y := tp.Buffer(shape...)
	w, row, off := (to-from)*inner, n*inner, from*inner
	for o := 0; o < outer; o++ {
		copy(y.Data[o*w:(o+1)*w], x.Value.Data[o*row+off:o*row+off+w])
	}
	return record(tp, y, func(dy *tensor.Tensor) {
		dx := tp.Grad(x).Data
		for o := 0; o < outer; o++ {
			addInto(dx[o*row+off:o*row+off+w], dy.Data[o*w:(o+1)*w])
		}
	})
}

// SliceLast returns features [from, to) of the last axis of x.
func SliceLast(tp *Tape, x *Var, from, to int) *Var { return Slice(tp, -1, x, from, to) }

// Select returns x[i] along the first axis (one step of a (T, B, F)
// sequence, one layer of a (L·D, B, H) state), shape x.Shape[1:].
func Select(tp *Tape, x *Var, i int) *Var {
	s := Slice(tp, 0, x, i, i+1)
	s.Value.Shape = s.Value.Shape[1:]
	return s
}

// Stack joins equally shaped xs along a new first axis: n × (...) → (n, ...).
func Stack(tp *Tape, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("nn: Stack of nothing")
	}
	for _, x := range xs {
		if !tensor.SameShape(x.Value, xs[0].Value) {
			panic(fmt.Sprintf("nn: Stack of shapes %v and %v", xs[0].Value.Shape, x.Value.Shape))
		}
	}
	w := xs[0].Value.Len()
	y := tp.Buffer(append([]int{len(xs)}, xs[0].Value.Shape...)...)
	for i, x := range xs {
		copy(y.Data[i*w:(i+1)*w], x.Value.Data)
	}
	return record(tp, y, func(dy *tensor.Tensor) {
		for i, x := range xs {
			addInto(tp.Grad(x).Data, dy.Data[i*w:(i+1)*w])
		}
	})
}

// Add returns the element-wise sum of equally sized xs.
func Add(tp *Tape, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("nn: Add of nothing")
	}
	y := xs[0].Value.Clone()
	for _, x := range xs[1:] {
		if x.Value.Len() != y.Len() {
			panic(fmt.Sprintf("nn: Add of shapes %v and %v", y.Shape, x.Value.Shape))
		}
		y.Add(x.Value)
	}
	return record(tp, y, func(dy *tensor.Tensor) {
		for _, x := range xs {
			addInto(tp.Grad(x).Data, dy.Data)
		}
	})
}

// Mul returns the element-wise product a ⊙ b of equally sized a and b.
func Mul(tp *Tape, a, b *Var) *Var {
	return record(tp, tensor.MulTo(nil, a.Value, b.Value), func(dy *tensor.Tensor) {
		da, db := tp.Grad(a).Data, tp.Grad(b).Data
		for i, g := range dy.Data {
			da[i] += g * b.Value.Data[i]
			db[i] += g * a.Value.Data[i]
		}
	})
}

// Scale returns s·x.
func Scale(tp *Tape, s float32, x *Var) *Var {
	return record(tp, tensor.ScaleTo(nil, s, x.Value), func(dy *tensor.Tensor) { tp.Grad(x).AddScaled(s, dy) })
}

// Reshape returns x with a new shape of the same size (one dimension may
// be −1). The value shares x's data; the gradient flows back to x.
func Reshape(tp *Tape, x *Var, shape ...int) *Var {
	return record(tp, x.Value.Reshape(shape...), func(dy *tensor.Tensor) { addInto(tp.Grad(x).Data, dy.Data) })
}

// SwapTB swaps the first two axes of x (T, B, ...) → (B, T, ...): time-
// major to batch-major and back.
func SwapTB(tp *Tape, x *Var) *Var {
	s := x.Value.Shape
	if len(s) < 2 {
		panic(fmt.Sprintf("nn: SwapTB of shape %v", s))
	}
	T, B := s[0], s[1]
	w := 1
	for _, d := range s[2:] {
		w *= d
	}
	shape := append([]int{B, T}, s[2:]...)
	y := tp.Buffer(shape...)
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			copy(y.Data[(b*T+t)*w:(b*T+t+1)*w], x.Value.Data[(t*B+b)*w:(t*B+b+1)*w])
		}
	}
	return record(tp, y, func(dy *tensor.Tensor) {
		dx := tp.Grad(x).Data
		for t := 0; t < T; t++ {
			for b := 0; b < B; b++ {
				addInto(dx[(t*B+b)*w:(t*B+b+1)*w], dy.Data[(b*T+t)*w:(b*T+t+1)*w])
			}
		}
	})
}
