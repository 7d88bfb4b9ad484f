package onnx

import (
	pb "github.com/recur-ml/recur/internal/onnxpb"
	"slices"
)

// constEval evaluates a node all of whose inputs are constants: the shape
// arithmetic exporters write (axes, indices, shapes) and layout changes
// of weights.
func (it *interp) constEval(op string, ins []*val) (*val, error) {
	if len(ins) == 0 || ins[0] == nil || ins[0].kind != vConst {
		return nil, it.fail("operator %s on these inputs is not part of a recurrent stack recur reads", op)
	}
	x := ins[0].k
	var (
		k   *konst
		err error
	)
	switch op {
	case "Cast":
		k = castConst(x, pb.TensorProto_DataType(attrI(it.node, "to", 1)))
	case "Unsqueeze", "Squeeze", "Reshape":
		k, err = it.reshapeConst(op, x, ins)
	case "Transpose":
		k, err = it.transposeConst(x)
	case "Concat":
		k, err = it.concatConst(ins)
	case "Gather":
		k, err = it.gatherConst(x, ins)
	case "Add", "Sub", "Mul", "Div":
		k, err = it.arith(op, x, ins)
	default:
		return nil, it.fail("operator %s on constants is not supported", op)
	}
	if err != nil {
		return nil, err
	}
	return &val{kind: vConst, k: k}, nil
}

// castConst converts x to the integer or float type to.
func castConst(x *konst, to pb.TensorProto_DataType) *konst {
	switch to {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16:
		return &konst{shape: x.shape, f: x.floats()}
	}
	return &konst{shape: x.shape, i: x.ints()}
}

// reshapeConst gives x a new shape: Unsqueeze's and Squeeze's axes, or
// Reshape's shape (0 copies a dimension, -1 is inferred).
func (it *interp) reshapeConst(op string, x *konst, ins []*val) (*konst, error) {
	var shape []int
	switch op {
	case "Reshape":
		spec, _, err := it.constInts(ins, 1, "shape")
		if err != nil {
			return nil, err
		}
		if shape, err = it.inferShape(x, spec); err != nil {
			return nil, err
		}
	default:
		axes, _, err := it.axesInput(ins)
		if err != nil {
			return nil, err
		}
		if shape, err = it.squeezeShape(op, x.shape, axes); err != nil {
			return nil, err
		}
	}
	if numel(shape) != x.len() {
		return nil, it.fail("cannot give %d values the shape %v", x.len(), shape)
	}
	return &konst{shape: shape, f: x.f, i: x.i}, nil
}

// inferShape resolves a Reshape shape against x's.
func (it *interp) inferShape(x *konst, spec []int64) ([]int, error) {
	shape := make([]int, len(spec))
	infer, n := -1, 1
	for i, d := range spec {
		switch {
		case d == 0 && i < len(x.shape):
			shape[i] = x.shape[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d > 0 && d <= maxElements:
			shape[i] = int(d)
		default:
			return nil, it.fail("reshape of a constant to %v is not supported", spec)
		}
		n *= shape[i]
	}
	if infer >= 0 && n > 0 {
		shape[infer] = x.len() / n
		n *= shape[infer]
	}
	if n != x.len() {
		return nil, it.fail("cannot reshape %d values to %v", x.len(), spec)
	}
	return shape, nil
}

// squeezeShape applies Squeeze's or Unsqueeze's axes to shape.
func (it *interp) squeezeShape(op string, shape []int, axes []int64) ([]int, error) {
	if op == "Unsqueeze" {
		out := append([]int(nil), shape...)
		r := len(shape) + len(axes)
		norm := make([]bool, r)
		for _, a := range axes {
			i, err := it.normAxis(a, r)
			if err != nil {
				return nil, err
			}
			norm[i] = true
		}
		out = out[:0]
		j := 0
		for i := range r {
			if norm[i] {
				out = append(out, 1)
			} else if j < len(shape) {
				out = append(out, shape[j])
				j++
			}
		}
		return out, nil
	}
	drop := make([]bool, len(shape))
	for _, a := range axes {
		i, err := it.normAxis(a, len(shape))
		if err != nil {
			return nil, err
		}
		drop[i] = true
	}
	var out []int
	for i, d := range shape {
		if len(axes) == 0 && d == 1 || drop[i] {
			if d != 1 {
				return nil, it.fail("cannot squeeze axis %d of size %d", i, d)
			}
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// transposeConst permutes x's axes (perm's default reverses them).
func (it *interp) transposeConst(x *konst) (*konst, error) {
	r := len(x.shape)
	perm, ok := nodeInts(it.node, "perm")
	if !ok {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return nil, it.fail("perm %v for rank %d", perm, r)
	}
	shape := make([]int, r)
	stride := make([]int, r) // x's strides
	s := 1
	for i := r - 1; i >= 0; i-- {
		stride[i] = s
		s *= x.shape[i]
	}
	for i, p := range perm {
		if p < 0 || int(p) >= r {
			return nil, it.fail("perm %v for rank %d", perm, r)
		}
		shape[i] = x.shape[p]
	}
	out := &konst{shape: shape}
	n := x.len()
	src := make([]int, n)
	idx := make([]int, r)
	for j := range n {
		off := 0
		for i, p := range perm {
			off += idx[i] * stride[p]
		}
		src[j] = off
		for i := r - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	if x.isInt() {
		out.i = make([]int64, n)
		for j, o := range src {
			out.i[j] = x.i[o]
		}
	} else {
		out.f = make([]float32, n)
		for j, o := range src {
			out.f[j] = x.f[o]
		}
	}
	return out, nil
}

// concatConst joins 1-D (or scalar) integer constants.
func (it *interp) concatConst(ins []*val) (*konst, error) {
	out := &konst{i: []int64{}}
	for _, v := range nonNil(ins) {
		if v.kind != vConst || len(v.k.shape) > 1 {
			return nil, it.fail("only the concatenation of 1-D constants is supported")
		}
		out.i = append(out.i, v.k.ints()...)
	}
	out.shape = []int{len(out.i)}
	return out, nil
}

// gatherConst picks elements of a 1-D constant.
func (it *interp) gatherConst(x *konst, ins []*val) (*konst, error) {
	idx, _, err := it.constInts(ins, 1, "indices")
	if err != nil {
		return nil, err
	}
	if len(x.shape) != 1 || len(idx) == 0 || len(ins[1].k.shape) > 1 {
		return nil, it.fail("only gathering from a 1-D constant is supported")
	}
	out := &konst{shape: ins[1].k.shape}
	for _, j := range idx {
		if j < 0 {
			j += int64(x.len())
		}
		if j < 0 || j >= int64(x.len()) {
			return nil, it.fail("index %d out of range for %d values", j, x.len())
		}
		if x.isInt() {
			out.i = append(out.i, x.i[j])
		} else {
			out.f = append(out.f, x.f[j])
		}
	}
	return out, nil
}

// arith is elementwise arithmetic of two constants of one shape, or of
// one with a scalar.
func (it *interp) arith(op string, x *konst, ins []*val) (*konst, error) {
	if len(ins) < 2 || ins[1] == nil || ins[1].kind != vConst {
		return nil, it.fail("two constants expected")
	}
	y := ins[1].k
	if y.len() != 1 && x.len() != 1 && !slices.Equal(x.shape, y.shape) {
		return nil, it.fail("shapes %v and %v: only equal shapes or a scalar are supported", x.shape, y.shape)
	}
	shape := x.shape
	if x.len() == 1 && y.len() != 1 {
		shape = y.shape
	}
	n := numel(shape)
	at := func(k *konst, j int) int {
		if k.len() == 1 {
			return 0
		}
		return j
	}
	if x.isInt() && y.isInt() {
		out := &konst{shape: shape, i: make([]int64, n)}
		xi, yi := x.ints(), y.ints()
		for j := range n {
			a, b := xi[at(x, j)], yi[at(y, j)]
			switch {
			case op == "Add":
				out.i[j] = a + b
			case op == "Sub":
				out.i[j] = a - b
			case op == "Mul":
				out.i[j] = a * b
			case b != 0:
				out.i[j] = a / b
			}
		}
		return out, nil
	}
	out := &konst{shape: shape, f: make([]float32, n)}
	xf, yf := x.floats(), y.floats()
	for j := range n {
		a, b := xf[at(x, j)], yf[at(y, j)]
		switch op {
		case "Add":
			out.f[j] = a + b
		case "Sub":
			out.f[j] = a - b
		case "Mul":
			out.f[j] = a * b
		default:
			out.f[j] = a / b
		}
	}
	return out, nil
}
