package onnx

import (
	"slices"
	"strconv"
	"strings"
)

// Layout operations on the data flow.

func flowVal(f *flow) *val { return &val{kind: vFlow, f: f} }

// transpose permutes f's axes.
func (it *interp) transpose(f *flow) (*val, error) {
	perm, ok := nodeInts(it.node, "perm")
	r := len(f.axes)
	if !ok {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return nil, it.fail("perm %v for rank %d", perm, r)
	}
	out := &flow{parts: f.parts, width: f.width, axes: make([]string, r)}
	seen := make([]bool, r)
	for i, p := range perm {
		if p < 0 || int(p) >= r || seen[p] {
			return nil, it.fail("perm %v is not a permutation of %d axes", perm, r)
		}
		seen[p] = true
		out.axes[i] = f.axes[p]
	}
	return flowVal(out), nil
}

// expand makes the parts of a graph input's flow explicit along its axis
// a, the stack of an initial-state input: one block per index.
func (it *interp) expand(f *flow, a int) (*flow, error) {
	if len(f.parts) != 1 || f.parts[0].src != pGraph {
		return f, nil
	}
	name := f.parts[0].input
	dims := it.inputs[name]
	if a >= len(f.axes) {
		return nil, it.fail("input %s has %d axes", name, len(f.axes))
	}
	ax := f.axes[a]
	if !strings.HasPrefix(ax, name+".") {
		return nil, it.fail("input %s's axes are mixed with another's", name)
	}
	i, err := strconv.Atoi(ax[len(name)+1:])
	if err != nil || i >= len(dims) || dims[i] <= 0 || dims[i] > 1<<16 {
		return nil, it.fail("input %s must have a fixed size on the axis of the stacked states", name)
	}
	it.bind[ax] = "S"
	if it.roles[name] != 0 && it.roles[name] != pState {
		return nil, it.fail("input %s is used both as data and as states", name)
	}
	it.roles[name] = pState
	out := &flow{axes: f.axes, width: f.width}
	for j := range int(dims[i]) {
		out.parts = append(out.parts, part{src: pState, input: name, dir: j})
	}
	return out, nil
}

// stackAxis returns the index of f's stack axis when the node works on
// axis a of f: an S axis, or an input's axis that becomes one.
func (it *interp) stackAxis(f *flow, a int64) (*flow, int, error) {
	i, err := it.normAxis(a, len(f.axes))
	if err != nil {
		return nil, 0, err
	}
	switch l := it.ax(f.axes[i]); {
	case l == "S":
		return f, i, nil
	case !known(l):
		g, err := it.expand(f, i)
		return g, i, err
	}
	return nil, 0, it.fail("only the stack of directions or layers (S) can be split or picked from; axis %d is %s", i, it.ax(f.axes[i]))
}

// unstack drops f's S axis once it holds one block: its H axis becomes F.
func unstack(f *flow, s int) *flow {
	out := &flow{parts: f.parts, width: f.width}
	for i, a := range f.axes {
		switch {
		case i == s:
		case a == "H":
			out.axes = append(out.axes, "F")
		default:
			out.axes = append(out.axes, a)
		}
	}
	return out
}

// squeeze drops S axes of one block.
func (it *interp) squeeze(ins []*val) (*val, error) {
	f := ins[0].f
	axes, _, err := it.axesInput(ins)
	if err != nil {
		return nil, err
	}
	if len(axes) != 1 {
		return nil, it.fail("only squeezing one stack axis is supported, got axes %v", axes)
	}
	g, s, err := it.stackAxis(f, axes[0])
	if err != nil {
		return nil, err
	}
	if len(g.parts) != 1 {
		return nil, it.fail("cannot squeeze a stack of %d blocks", len(g.parts))
	}
	return flowVal(unstack(g, s)), nil
}

// reshape merges the last two axes S, H into features F: the directions
// (or states) side by side.
func (it *interp) reshape(ins []*val) (*val, error) {
	f := ins[0].f
	spec, ok, err := it.constInts(ins, 1, "shape")
	if err != nil || !ok {
		return nil, it.fail("the shape must be a constant")
	}
	r := len(f.axes)
	if attrI(it.node, "allowzero", 0) != 0 || len(spec) != r-1 || r < 2 || it.ax(f.axes[r-2]) != "S" || it.ax(f.axes[r-1]) != "H" {
		return nil, it.fail("only merging the last two axes (stack, features) into features is supported: %s to %v", it.axesOf(f), spec)
	}
	for i, d := range spec {
		last := i == r-2
		if !(d == 0 && !last || last && (d == -1 || d == int64(len(f.parts)*f.width))) {
			return nil, it.fail("shape %v: want 0 for the leading axes and -1 (or %d) for the merged one", spec, len(f.parts)*f.width)
		}
	}
	out := &flow{axes: append(slices.Clone(f.axes[:r-2]), "F"), parts: f.parts, width: f.width}
	return flowVal(out), nil
}

// concat joins flows of the same axes along their S or F axis.
func (it *interp) concat(ins []*val) (*val, error) {
	fs := nonNil(ins)
	for _, v := range fs {
		if v.kind != vFlow {
			return nil, it.fail("only joining blocks of the data flow is supported")
		}
	}
	first := fs[0].f
	a, err := it.normAxis(attrI(it.node, "axis", 0), len(first.axes))
	if err != nil {
		return nil, err
	}
	l := it.ax(first.axes[a])
	if l != "S" && l != "F" {
		return nil, it.fail("only joining along the stack or feature axis is supported, not %s", l)
	}
	out := &flow{axes: first.axes, width: first.width}
	for _, v := range fs {
		if v.kind != vFlow || it.axesOf(v.f) != it.axesOf(first) || v.f.width != first.width {
			return nil, it.fail("its inputs must be blocks of the same layout and width")
		}
		out.parts = append(out.parts, v.f.parts...)
	}
	return flowVal(out), nil
}

// gather is an embedding lookup (a constant table, token ids) or picks
// blocks of a stack by constant indices.
func (it *interp) gather(ins []*val) (*val, error) {
	if len(ins) != 2 || ins[0] == nil {
		return nil, it.fail("want two inputs")
	}
	if ins[0].kind == vConst && ins[1] != nil && ins[1].kind == vFlow {
		return it.embed(ins[0].k, ins[1].f)
	}
	if ins[0].kind != vFlow || ins[1] == nil || ins[1].kind != vConst {
		return nil, it.fail("only an embedding lookup or picking stacked states by constant indices is supported")
	}
	f, s, err := it.stackAxis(ins[0].f, attrI(it.node, "axis", 0))
	if err != nil {
		return nil, err
	}
	idx := ins[1].k
	picked, err := it.pick(f.parts, idx.ints())
	if err != nil {
		return nil, err
	}
	out := &flow{axes: f.axes, parts: picked, width: f.width}
	if len(idx.shape) == 0 {
		out = unstack(out, s)
	}
	return flowVal(out), nil
}

// pick returns the blocks at indices (negative from the end).
func (it *interp) pick(parts []part, indices []int64) ([]part, error) {
	if len(indices) == 0 {
		return nil, it.fail("no indices")
	}
	var out []part
	for _, j := range indices {
		if j < 0 {
			j += int64(len(parts))
		}
		if j < 0 || j >= int64(len(parts)) {
			return nil, it.fail("index %d out of range for a stack of %d", j, len(parts))
		}
		out = append(out, parts[j])
	}
	return out, nil
}

// embed is the lookup of token ids f in the (V, E) table t.
func (it *interp) embed(t *konst, f *flow) (*val, error) {
	if len(f.parts) != 1 || f.parts[0].src != pIDs || len(t.shape) != 2 || t.isInt() || attrI(it.node, "axis", 0) != 0 {
		return nil, it.fail("an embedding is a (vocabulary, width) float table gathered along axis 0 by the token ids input")
	}
	if it.emb != nil {
		return nil, it.fail("a second embedding")
	}
	it.emb = t
	out := &flow{axes: append(slices.Clone(f.axes), "F"), parts: []part{{src: pEmb, input: f.parts[0].input}}, width: t.shape[1]}
	return flowVal(out), nil
}

// slice picks a range of blocks of a stack (step 1).
func (it *interp) slice(ins []*val) (*val, error) {
	starts, _, err := it.constInts(ins, 1, "starts")
	if err != nil {
		return nil, err
	}
	ends, _, err := it.constInts(ins, 2, "ends")
	if err != nil {
		return nil, err
	}
	axes, hasAxes, err := it.constInts(ins, 3, "axes")
	if err != nil {
		return nil, err
	}
	steps, _, err := it.constInts(ins, 4, "steps")
	if err != nil {
		return nil, err
	}
	if !hasAxes {
		axes = []int64{0}
	}
	if len(starts) != 1 || len(ends) != 1 || len(axes) != 1 || len(steps) > 1 || len(steps) == 1 && steps[0] != 1 {
		return nil, it.fail("only a slice of one axis with step 1 is supported")
	}
	f, _, err := it.stackAxis(ins[0].f, axes[0])
	if err != nil {
		return nil, err
	}
	n := int64(len(f.parts))
	clamp := func(v int64) int64 {
		if v < 0 {
			v += n
		}
		return min(max(v, 0), n)
	}
	lo, hi := clamp(starts[0]), clamp(ends[0])
	if lo >= hi {
		return nil, it.fail("an empty slice")
	}
	return flowVal(&flow{axes: f.axes, parts: f.parts[lo:hi], width: f.width}), nil
}

// split cuts a stack into pieces.
func (it *interp) split(ins []*val) ([]*val, error) {
	f, _, err := it.stackAxis(ins[0].f, attrI(it.node, "axis", 0))
	if err != nil {
		return nil, err
	}
	sizes, ok, err := it.constInts(ins, 1, "split")
	if err != nil {
		return nil, err
	}
	if !ok {
		sizes, ok = nodeInts(it.node, "split")
	}
	nout := len(it.node.GetOutput())
	if !ok {
		if nout == 0 || len(f.parts)%nout != 0 {
			return nil, it.fail("%d blocks do not split evenly into %d", len(f.parts), nout)
		}
		for range nout {
			sizes = append(sizes, int64(len(f.parts)/nout))
		}
	}
	var outs []*val
	at := 0
	for _, n := range sizes {
		if n < 1 || at+int(n) > len(f.parts) {
			return nil, it.fail("split sizes %v for a stack of %d", sizes, len(f.parts))
		}
		outs = append(outs, flowVal(&flow{axes: f.axes, parts: f.parts[at : at+int(n)], width: f.width}))
		at += int(n)
	}
	if at != len(f.parts) {
		return nil, it.fail("split sizes %v for a stack of %d", sizes, len(f.parts))
	}
	return outs, nil
}
