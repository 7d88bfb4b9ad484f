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
	out, op := newOp[closureOp](tp, y)
	if op != nil {
		op.out, op.back = out, back
	}
	return out
}

// newOp returns y as the tape's Var (see Tape.Var) and, with a tape, a
// new record of the op type T, already recorded (AddOp), for the caller
// to fill in before the tape's Backward; with a nil tape the op is nil.
func newOp[T any, P interface {
	*T
	Op
}](tp *Tape, y *tensor.Tensor) (*Var, P) {
	out := tp.Var(y)
	if tp == nil {
		return out, nil
	}
	op := P(NewRecord[T](tp))
	tp.AddOp(op)
	return out, op
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
	var sb [8]int
	shape := append(sb[:0], s0...)
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
	out, op := newOp[concatOp](tp, y)
	if op != nil {
		op.tp, op.y, op.xs, op.ax, op.outer, op.inner = tp, out, tp.vars(len(xs)), ax, outer, inner
		copy(op.xs, xs) // the caller's slice may change before Backward
	}
	return out
}

// concatOp is the backward of Concat.
type concatOp struct {
	tp               *Tape
	y                *Var
	xs               []*Var
	ax, outer, inner int
}

func (o *concatOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dy := o.y.Grad.Data
	row := len(dy) / o.outer
	off := 0
	for _, x := range o.xs {
		w := x.Value.Shape[o.ax] * o.inner
		dx := o.tp.Grad(x).Data
		for i := 0; i < o.outer; i++ {
			addInto(dx[i*w:(i+1)*w], dy[i*row+off:i*row+off+w])
		}
		off += w
	}
}

// Split cuts x along axis into pieces of the given sizes, which must add up
// to the dimension. With a tape the returned slice is the tape's, like the
// pieces (valid until its next step).
func Split(tp *Tape, axis int, x *Var, sizes ...int) []*Var {
	ax, _, _ := axisSplit("Split", x.Value.Shape, axis)
	outs := tp.vars(len(sizes))
	from := 0
	for i, s := range sizes {
		outs[i] = Slice(tp, ax, x, from, from+s)
		from += s
	}
	if from != x.Value.Shape[ax] {
		panic(fmt.Sprintf("nn: Split sizes %v of dimension %d", append([]int(nil), sizes...), x.Value.Shape[ax]))
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
	var sb [8]int
	shape := append(sb[:0], x.Value.Shape...)
	shape[ax] = to - from
	y := tp.Buffer(shape...)
	w, row, off := (to-from)*inner, n*inner, from*inner
	for o := 0; o < outer; o++ {
		copy(y.Data[o*w:(o+1)*w], x.Value.Data[o*row+off:o*row+off+w])
	}
	out, op := newOp[sliceOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.outer, op.w, op.row, op.off = tp, x, out, outer, w, row, off
	}
	return out
}

// sliceOp is the backward of Slice.
type sliceOp struct {
	tp                 *Tape
	x, y               *Var
	outer, w, row, off int
}

func (o *sliceOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dx, dy, w := o.tp.Grad(o.x).Data, o.y.Grad.Data, o.w
	for i := 0; i < o.outer; i++ {
		addInto(dx[i*o.row+o.off:i*o.row+o.off+w], dy[i*w:(i+1)*w])
	}
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
	var sb [8]int
	y := tp.Buffer(append(append(sb[:0], len(xs)), xs[0].Value.Shape...)...)
	for i, x := range xs {
		copy(y.Data[i*w:(i+1)*w], x.Value.Data)
	}
	out, op := newOp[stackOp](tp, y)
	if op != nil {
		op.tp, op.y, op.xs = tp, out, tp.vars(len(xs))
		copy(op.xs, xs)
	}
	return out
}

// stackOp is the backward of Stack (and Add, with sum set).
type stackOp struct {
	tp  *Tape
	y   *Var
	xs  []*Var
	sum bool // every x receives all of dy
}

func (o *stackOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dy := o.y.Grad.Data
	w := len(dy)
	if !o.sum {
		w /= len(o.xs)
	}
	for i, x := range o.xs {
		if o.sum {
			i = 0
		}
		addInto(o.tp.Grad(x).Data, dy[i*w:(i+1)*w])
	}
}

// Add returns the element-wise sum of equally sized xs.
func Add(tp *Tape, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("nn: Add of nothing")
	}
	y := tp.Buffer(xs[0].Value.Shape...)
	copy(y.Data, xs[0].Value.Data)
	for _, x := range xs[1:] {
		if x.Value.Len() != y.Len() {
			panic(fmt.Sprintf("nn: Add of shapes %v and %v", y.Shape, x.Value.Shape))
		}
		y.Add(x.Value)
	}
	out, op := newOp[stackOp](tp, y)
	if op != nil {
		op.tp, op.y, op.xs, op.sum = tp, out, tp.vars(len(xs)), true
		copy(op.xs, xs)
	}
	return out
}

// Mul returns the element-wise product a ⊙ b of equally sized a and b.
func Mul(tp *Tape, a, b *Var) *Var {
	if a.Value.Len() != b.Value.Len() {
		panic(fmt.Sprintf("nn: Mul of shapes %v and %v", a.Value.Shape, b.Value.Shape))
	}
	y := tp.Buffer(a.Value.Shape...)
	kernel.MulTo(y.Data, a.Value.Data, b.Value.Data)
	out, op := newOp[binaryOp](tp, y)
	if op != nil {
		op.tp, op.a, op.b, op.y = tp, a, b, out
	}
	return out
}

// binaryOp is the backward of Mul.
type binaryOp struct {
	tp      *Tape
	a, b, y *Var
}

func (o *binaryOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	da, db := o.tp.Grad(o.a).Data, o.tp.Grad(o.b).Data
	av, bv := o.a.Value.Data, o.b.Value.Data
	for i, g := range o.y.Grad.Data {
		da[i] += g * bv[i]
		db[i] += g * av[i]
	}
}

// Scale returns s·x.
func Scale(tp *Tape, s float32, x *Var) *Var {
	y := tp.Buffer(x.Value.Shape...)
	for i, v := range x.Value.Data {
		y.Data[i] = s * v
	}
	return unaryRecord(tp, x, y, s)
}

// unaryOp is the backward of Scale and Reshape: dx += s·dy.
type unaryOp struct {
	tp   *Tape
	x, y *Var
	s    float32
}

// unaryRecord returns y as a Var whose gradient flows back to x scaled by
// s.
func unaryRecord(tp *Tape, x *Var, y *tensor.Tensor, s float32) *Var {
	out, op := newOp[unaryOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.s = tp, x, out, s
	}
	return out
}

func (o *unaryOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	kernel.Axpy(o.s, o.y.Grad.Data, o.tp.Grad(o.x).Data)
}

// Reshape returns x with a new shape of the same size (one dimension may
// be −1). The value shares x's data; the gradient flows back to x.
func Reshape(tp *Tape, x *Var, shape ...int) *Var {
	if tp == nil {
		// A copy, so that shape itself stays on the caller's stack.
		return NewVar(x.Value.Reshape(append([]int(nil), shape...)...))
	}
	return unaryRecord(tp, x, tp.view(x.Value, shape), 1)
}

// view is t.Reshape(shape...) with the header and its shape from the tape
// (valid until its next step).
func (tp *Tape) view(t *tensor.Tensor, shape []int) *tensor.Tensor {
	s := tp.Ints(len(shape))
	copy(s, shape)
	infer, n := -1, 1
	for i, d := range s {
		if d == -1 && infer < 0 {
			infer = i
			continue
		}
		n *= d
	}
	if infer >= 0 && n != 0 {
		s[infer] = len(t.Data) / n
		n *= s[infer]
	}
	if n != len(t.Data) || infer >= 0 && s[infer] < 0 {
		return t.Reshape(append([]int(nil), shape...)...) // panics with the message of tensor
	}
	v := NewRecord[tensor.Tensor](tp)
	v.Shape, v.Data = s, t.Data
	return v
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
	var sb [8]int
	shape := append(append(sb[:0], B, T), s[2:]...)
	y := tp.Buffer(shape...)
	swapTB(y.Data, x.Value.Data, T, B, w, false)
	out, op := newOp[swapOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.T, op.B, op.w = tp, x, out, T, B, w
	}
	return out
}

// swapTB sets (or adds into, when add) dst (B, T, w) the rows of src
// (T, B, w).
func swapTB(dst, src []float32, T, B, w int, add bool) {
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			d, s := dst[(b*T+t)*w:(b*T+t+1)*w], src[(t*B+b)*w:(t*B+b+1)*w]
			if add {
				addInto(d, s)
			} else {
				copy(d, s)
			}
		}
	}
}

// swapOp is the backward of SwapTB.
type swapOp struct {
	tp      *Tape
	x, y    *Var
	T, B, w int
}

func (o *swapOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	// dy is (B, T, w): swapping it back is a swap with T and B exchanged.
	swapTB(o.tp.Grad(o.x).Data, o.y.Grad.Data, o.B, o.T, o.w, true)
}
