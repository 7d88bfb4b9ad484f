package onnx

import (
	"slices"
	"strings"
)

// layer is one recurrent node of the stack.
type layer struct {
	cell         string // lstm, gru, rnn or rnn_relu
	dirs, hidden int
	in           int // input features
	w, r, b, p   *konst
	resetBefore  bool
	states       []string // graph inputs holding its initial states
}

// gates is the number of gate blocks of the layer's cell.
func (l *layer) gates() int {
	switch l.cell {
	case "lstm":
		return 4
	case "gru":
		return 3
	}
	return 1
}

// recurrent reads an LSTM, GRU or RNN node: its weights and attributes,
// then its inputs, which must be the stack's input (the first layer) or
// the previous layer's whole output.
func (it *interp) recurrent(ins []*val) ([]*val, error) {
	l, layout, err := it.layerOf(ins)
	if err != nil {
		return nil, err
	}
	if ins[0] == nil || ins[0].kind != vFlow {
		return nil, it.fail("its input X must be the model's input or the previous layer's output")
	}
	k := len(it.layers)
	if err := it.stackInput(l, ins[0].f, layout); err != nil {
		return nil, err
	}
	if err := it.lengths(ins); err != nil {
		return nil, err
	}
	for i, what := range []string{"initial_h", "initial_c"} {
		if 5+i < len(ins) {
			if err := it.initial(l, ins[5+i], what, layout); err != nil {
				return nil, err
			}
		}
	}
	it.layers = append(it.layers, l)
	var ys, hs, cs []part
	for d := range l.dirs {
		ys = append(ys, part{src: pY, layer: k, dir: d})
		hs = append(hs, part{src: pH, layer: k, dir: d})
		cs = append(cs, part{src: pC, layer: k, dir: d})
	}
	y, st := []string{"T", "S", "B", "H"}, []string{"S", "B", "H"}
	if layout == 1 {
		y, st = []string{"B", "T", "S", "H"}, []string{"B", "S", "H"}
	}
	outs := []*val{flowVal(&flow{axes: y, parts: ys, width: l.hidden}), flowVal(&flow{axes: st, parts: hs, width: l.hidden})}
	if l.cell == "lstm" {
		outs = append(outs, flowVal(&flow{axes: st, parts: cs, width: l.hidden}))
	}
	return outs, nil
}

// defaultActs are the activations of each cell's gates, per direction.
var defaultActs = map[string][]string{"LSTM": {"Sigmoid", "Tanh", "Tanh"}, "GRU": {"Sigmoid", "Tanh"}, "RNN": {"Tanh"}}

// layerOf reads the node's attributes and weights.
func (it *interp) layerOf(ins []*val) (*layer, int64, error) {
	n, op := it.node, it.node.GetOpType()
	l := &layer{cell: strings.ToLower(op), hidden: int(attrI(n, "hidden_size", 0)), dirs: 1}
	switch dir := attrS(n, "direction", "forward"); dir {
	case "forward":
	case "bidirectional":
		l.dirs = 2
	default:
		return nil, 0, it.fail("direction %q: recur's layers run forward, or both ways (bidirectional)", dir)
	}
	layout := attrI(n, "layout", 0)
	for _, a := range []string{"clip", "activation_alpha", "activation_beta"} {
		if attr(n, a) != nil {
			return nil, 0, it.fail("attribute %s is not supported", a)
		}
	}
	switch {
	case layout != 0 && layout != 1:
		return nil, 0, it.fail("layout %d: want 0 or 1", layout)
	case attrI(n, "input_forget", 0) != 0:
		return nil, 0, it.fail("attribute input_forget = 1 (coupled input and forget gates) is not supported")
	case l.hidden < 1 || l.hidden > 1<<16:
		return nil, 0, it.fail("hidden_size %d: want 1 to %d", l.hidden, 1<<16)
	}
	if err := it.activations(l, op); err != nil {
		return nil, 0, err
	}
	if op == "GRU" {
		switch lbr := attrI(n, "linear_before_reset", 0); lbr {
		case 0:
			l.resetBefore = true
		case 1:
		default:
			return nil, 0, it.fail("linear_before_reset %d: want 0 or 1", lbr)
		}
	}
	return l, layout, it.weights(l, ins)
}

// activations checks the node's activations: the standard ones of its
// cell (an RNN's tanh or relu).
func (it *interp) activations(l *layer, op string) error {
	acts := attrStringsOf(it.node, "activations")
	if acts == nil {
		return nil
	}
	def := defaultActs[op]
	if op == "RNN" && len(acts) > 0 && acts[0] == "Relu" {
		def, l.cell = []string{"Relu"}, "rnn_relu"
	}
	var want []string
	for range l.dirs {
		want = append(want, def...)
	}
	if !slices.Equal(acts, want) {
		return it.fail("activations %v: recur's %s computes %v", acts, op, want)
	}
	return nil
}

// weights reads W, R, B and P, which must be constants of the shapes
// the attributes imply.
func (it *interp) weights(l *layer, ins []*val) error {
	G, H, D := l.gates()*l.hidden, l.hidden, l.dirs
	get := func(i int, what string) (*konst, error) {
		if i >= len(ins) || ins[i] == nil {
			return nil, nil
		}
		if ins[i].kind != vConst || ins[i].k.isInt() {
			return nil, it.fail("its weights %s must be float constants (initializers), or inputs bound to values", what)
		}
		return ins[i].k, nil
	}
	var err error
	if l.w, err = get(1, "W"); err != nil {
		return err
	}
	if l.r, err = get(2, "R"); err != nil {
		return err
	}
	if l.b, err = get(3, "B"); err != nil {
		return err
	}
	if l.cell == "lstm" {
		if l.p, err = get(7, "P"); err != nil {
			return err
		}
	}
	switch {
	case l.w == nil || len(l.w.shape) != 3 || l.w.shape[0] != D || l.w.shape[1] != G || l.w.shape[2] < 1:
		return it.fail("W must be (%d, %d, input size), not %v", D, G, shapeOf(l.w))
	case l.r == nil || !slices.Equal(l.r.shape, []int{D, G, H}):
		return it.fail("R must be (%d, %d, %d), not %v", D, G, H, shapeOf(l.r))
	case l.b != nil && !slices.Equal(l.b.shape, []int{D, 2 * G}):
		return it.fail("B must be (%d, %d), not %v", D, 2*G, l.b.shape)
	case l.p != nil && !slices.Equal(l.p.shape, []int{D, 3 * H}):
		return it.fail("P must be (%d, %d), not %v", D, 3*H, l.p.shape)
	}
	l.in = l.w.shape[2]
	return nil
}

func shapeOf(k *konst) any {
	if k == nil {
		return "none"
	}
	return k.shape
}

// stackInput checks the layer's input x: the model's input (or the
// embedded ids) for the first layer, the previous layer's output,
// directions side by side, for the others; time-major, or batch-first
// with layout 1.
func (it *interp) stackInput(l *layer, x *flow, layout int64) error {
	k := len(it.layers)
	axes := "TBF"
	if layout == 1 {
		axes = "BTF"
	}
	if k == 0 {
		if len(x.parts) != 1 || x.parts[0].src != pGraph && x.parts[0].src != pEmb && x.parts[0].src != pData {
			return it.fail("the first layer's input must be the model's input or the embedding of its token ids")
		}
		if p := x.parts[0]; p.src == pGraph {
			if it.roles[p.input] == pState {
				return it.fail("input %s is used both as data and as states", p.input)
			}
			it.roles[p.input] = pData
			w := x.width
			if w == 0 {
				w = l.in
			}
			x = &flow{axes: x.axes, parts: []part{{src: pData, input: p.input}}, width: w}
		}
	} else {
		prev := it.layers[k-1]
		var want []part
		for d := range prev.dirs {
			want = append(want, part{src: pY, layer: k - 1, dir: d})
		}
		if !slices.Equal(x.parts, want) {
			return it.fail("its input must be the whole output of the layer below (layer %d), directions side by side", k-1)
		}
	}
	if err := it.want(x, axes, "its input X"); err != nil {
		return err
	}
	if len(x.parts)*x.width != l.in {
		return it.fail("its input has %d features, W %d", len(x.parts)*x.width, l.in)
	}
	if p := x.parts[0]; p.src == pData || p.src == pEmb {
		it.data = p.input
	}
	return nil
}

// lengths checks sequence_lens: a graph input, the same for every layer.
func (it *interp) lengths(ins []*val) error {
	name := ""
	if len(ins) > 4 && ins[4] != nil {
		v := ins[4]
		if v.kind != vFlow || len(v.f.parts) != 1 || v.f.parts[0].src != pLens {
			return it.fail("sequence_lens must be a graph input of lengths")
		}
		if err := it.want(v.f, "B", "sequence_lens"); err != nil {
			return err
		}
		name = v.f.parts[0].input
	}
	if len(it.layers) > 0 && name != it.lens {
		return it.fail("its sequence_lens (%q) differs from the first layer's (%q)", name, it.lens)
	}
	it.lens = name
	return nil
}

// initial checks an initial state v of the layer being read: absent or
// zeros, or its blocks of a graph input of stacked states,
// (layers·directions, batch, hidden) (batch first with layout 1) as
// PyTorch's h0.
func (it *interp) initial(l *layer, v *val, what string, layout int64) error {
	if v == nil || v.kind == vZeros || v.kind == vConst && v.k.allZero() {
		return nil
	}
	k := len(it.layers)
	if v.kind != vFlow {
		return it.fail("%s must be zeros or a graph input of states", what)
	}
	s := 0
	axes := "SBH"
	if layout == 1 {
		s, axes = 1, "BSH"
	}
	f, err := it.expand(v.f, s)
	if err != nil {
		return err
	}
	if err := it.want(f, axes, what); err != nil {
		return err
	}
	var want []part
	for d := range l.dirs {
		want = append(want, part{src: pState, input: f.parts[0].input, dir: k*l.dirs + d})
	}
	if !slices.Equal(f.parts, want) || f.width != 0 && f.width != l.hidden {
		return it.fail("%s must be layer %d's states of a stacked-states input (layers·directions, batch, %d)", what, k, l.hidden)
	}
	l.states = append(l.states, f.parts[0].input)
	return nil
}

// head is the output layer: a linear map of the top layer's final states
// or of its output at every step.
type head struct {
	in      []part
	perStep bool
	w       *konst    // (O, F)
	b       []float32 // (O); nil: none
	probs   string    // "", "softmax" or "sigmoid"
	done    bool      // a bias added, or probabilities taken
}

// linearIn checks the input of the output layer.
func (it *interp) linearIn(a *val, rank2 bool) (*flow, error) {
	if it.head != nil {
		return nil, it.fail("a second output layer: recur's models have one")
	}
	if a == nil || a.kind != vFlow {
		return nil, it.fail("the output layer's input must be the top layer's final states or outputs")
	}
	f := a.f
	switch src := f.parts[0].src; {
	case rank2:
		if err := it.want(f, "BF", "the output layer's input"); err != nil {
			return nil, err
		}
	case src == pY && len(f.axes) == 3 && it.ax(f.axes[2]) == "F" || (src == pH || src == pState) && len(f.axes) == 2 && it.ax(f.axes[1]) == "F":
	default:
		return nil, it.fail("the output layer reads %s: want the top layer's final states (batch, features) or outputs (time, batch, features)", it.axesOf(f))
	}
	return f, nil
}

// gemm is a linear output layer over the final states.
func (it *interp) gemm(ins []*val) (*val, error) {
	f, err := it.linearIn(ins[0], true)
	if err != nil {
		return nil, err
	}
	n := it.node
	if attrI(n, "transA", 0) != 0 || len(ins) < 2 || ins[1] == nil || ins[1].kind != vConst || len(ins[1].k.shape) != 2 {
		return nil, it.fail("want Gemm(states, constant weight, bias) with transA = 0")
	}
	w := ins[1].k
	if attrI(n, "transB", 0) == 0 {
		tw, err := it.transposed(w)
		if err != nil {
			return nil, err
		}
		w = tw
	}
	if alpha := attrF(n, "alpha", 1); alpha != 1 {
		w = scaled(w, alpha)
	}
	h := &head{in: f.parts, w: w}
	if len(ins) > 2 && ins[2] != nil {
		if ins[2].kind != vConst {
			return nil, it.fail("the bias C must be a constant")
		}
		if h.b, err = it.bias(ins[2].k, w.shape[0]); err != nil {
			return nil, err
		}
		for j := range h.b {
			h.b[j] *= attrF(n, "beta", 1)
		}
	}
	return it.setHead(h, f)
}

// matmul is a linear output layer without bias (an Add may follow).
func (it *interp) matmul(ins []*val) (*val, error) {
	f, err := it.linearIn(ins[0], false)
	if err != nil {
		return nil, err
	}
	if len(ins) < 2 || ins[1] == nil || ins[1].kind != vConst || len(ins[1].k.shape) != 2 {
		return nil, it.fail("want MatMul(outputs, constant weight (features, outputs))")
	}
	w, err := it.transposed(ins[1].k)
	if err != nil {
		return nil, err
	}
	return it.setHead(&head{in: f.parts, w: w, perStep: len(f.axes) == 3}, f)
}

// setHead records h, reading f, and returns its output.
func (it *interp) setHead(h *head, f *flow) (*val, error) {
	if F := len(f.parts) * f.width; h.w.shape[1] != F {
		return nil, it.fail("the weight has %d inputs, the states %d features", h.w.shape[1], F)
	}
	it.head = h
	axes := slices.Clone(f.axes)
	return flowVal(&flow{axes: axes, parts: []part{{src: pHead}}, width: h.w.shape[0]}), nil
}

// addBias is the bias of a MatMul output layer.
func (it *interp) addBias(ins []*val) (*val, error) {
	if len(ins) != 2 || ins[0] == nil || ins[1] == nil {
		return nil, it.fail("two inputs expected")
	}
	f, c := ins[0], ins[1]
	if f == nil || c == nil {
		return nil, it.fail("two inputs expected")
	}
	if f.kind != vFlow {
		f, c = c, f
	}
	h := it.head
	if f.kind != vFlow || c.kind != vConst || f.f.parts[0].src != pHead || h == nil || h.b != nil || h.done {
		return nil, it.fail("only adding a constant bias to the output layer's product is supported")
	}
	b, err := it.bias(c.k, h.w.shape[0])
	if err != nil {
		return nil, err
	}
	h.b = b
	return f, nil
}

// bias reads an output layer's bias of O values ((O) or (1, O)).
func (it *interp) bias(k *konst, O int) ([]float32, error) {
	if k.len() != O || len(k.shape) > 2 || len(k.shape) == 2 && k.shape[0] != 1 {
		return nil, it.fail("the bias has shape %v, want (%d)", k.shape, O)
	}
	return append([]float32(nil), k.floats()...), nil
}

// probs is a softmax (or log-softmax) over the output layer's last axis,
// or a sigmoid of each output.
func (it *interp) probs(ins []*val) (*val, error) {
	v := ins[0]
	if v == nil || v.kind != vFlow || v.f.parts[0].src != pHead || it.head.probs != "" {
		return nil, it.fail("probabilities are read only of the output layer's values")
	}
	kind := "sigmoid"
	if op := it.node.GetOpType(); op != "Sigmoid" {
		def := int64(-1)
		if it.opset < 13 {
			def = 1
		}
		a, err := it.normAxis(attrI(it.node, "axis", def), len(v.f.axes))
		if err != nil {
			return nil, err
		}
		if a != len(v.f.axes)-1 {
			return nil, it.fail("a softmax over axis %d: recur's is over the last (the classes)", a)
		}
		kind = "softmax"
	}
	it.head.probs, it.head.done = kind, true
	return flowVal(&flow{axes: v.f.axes, parts: []part{{src: pProb}}, width: v.f.width}), nil
}

// transposed returns the transpose of a matrix constant.
func (it *interp) transposed(k *konst) (*konst, error) {
	r, c := k.shape[0], k.shape[1]
	out := &konst{shape: []int{c, r}, f: make([]float32, r*c)}
	src := k.floats()
	for i := range r {
		for j := range c {
			out.f[j*r+i] = src[i*c+j]
		}
	}
	return out, nil
}

// scaled returns a·k.
func scaled(k *konst, a float32) *konst {
	out := &konst{shape: k.shape, f: make([]float32, k.len())}
	for j, v := range k.floats() {
		out.f[j] = a * v
	}
	return out
}
