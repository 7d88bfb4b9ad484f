package onnx

import (
	"fmt"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
)

// rnnOp is one ONNX LSTM, GRU or RNN node: the PyTorch names of its
// parameters per direction (the reverse direction second) and the name
// its ONNX initializers get.
type rnnOp struct {
	cell               string // lstm, gru, rnn or rnn_relu
	hidden             int
	wih, whh, bih, bhh []string
	ph                 []string // an LSTM's peepholes (p_i, p_f, p_o); nil: none
	resetBefore        bool     // a GRU's linear_before_reset = 0
	name               string
}

// peepOrder is where each of ONNX's peephole blocks (i, o, f) comes from
// in recur's (i, f, o).
var peepOrder = []int{0, 2, 1}

// gateOrder is where each of ONNX's gate blocks comes from in PyTorch's
// order: ONNX's LSTM stacks i, o, f, c where PyTorch stacks i, f, g, o,
// and its GRU z, r, h where PyTorch stacks r, z, n.
func gateOrder(cell string) []int {
	switch cell {
	case "lstm":
		return []int{0, 3, 1, 2}
	case "gru":
		return []int{1, 0, 2}
	}
	return []int{0}
}

// reorder appends w, a stack of len(order) equal gate blocks in PyTorch's
// order, to dst in ONNX's order.
func reorder(dst, w []float32, order []int) []float32 {
	n := len(w) / len(order)
	for _, g := range order {
		dst = append(dst, w[g*n:(g+1)*n]...)
	}
	return dst
}

// rnnNode appends op over x (T, B, I) time-major with optional sequence
// lengths lens (B, int32) and initial states h0, c0 (D, B, H) ("" for
// none) and returns its outputs Y (T, D, B, H), Y_h and, for an LSTM, Y_c
// (D, B, H).
func (e *exporter) rnnNode(op rnnOp, x, lens, h0, c0 string) (y, h, c string) {
	D := len(op.wih)
	order := gateOrder(op.cell)
	var W, R, B []float32
	var in int
	withBias := e.has(op.bih[0])
	for d := range D {
		wih := e.param(op.wih[d])
		in = wih.Shape[1]
		W = reorder(W, wih.Data, order)
		R = reorder(R, e.param(op.whh[d]).Data, order)
		if withBias {
			B = reorder(B, e.param(op.bih[d]).Data, order)
			B = reorder(B, e.param(op.bhh[d]).Data, order)
		}
	}
	G := len(order) * op.hidden
	ins := []string{x, e.floats(op.name+".W", W, D, G, in), e.floats(op.name+".R", R, D, G, op.hidden), "", lens, h0, c0, ""}
	if withBias {
		ins[3] = e.floats(op.name+".B", B, D, 2*G)
	}
	if op.ph != nil {
		var P []float32
		for d := range D {
			P = reorder(P, e.param(op.ph[d]).Data, peepOrder)
		}
		ins[7] = e.floats(op.name+".P", P, D, 3*op.hidden)
	}
	for len(ins) > 3 && ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1] // trailing optional inputs are left out
	}
	dir := "forward"
	if D == 2 {
		dir = "bidirectional"
	}
	attrs := []*pb.AttributeProto{attrInt("hidden_size", int64(op.hidden)), attrString("direction", dir)}
	var outs []string
	switch op.cell {
	case "lstm":
		outs = e.opN("LSTM", ins, 3, attrs...)
		return outs[0], outs[1], outs[2]
	case "gru":
		// PyTorch applies r to (W_hn h + b_hn): ONNX's linear_before_reset.
		// (A ResetBefore GRU applies it before: linear_before_reset = 0.)
		lbr := int64(1)
		if op.resetBefore {
			lbr = 0
		}
		outs = e.opN("GRU", ins, 2, append(attrs, attrInt("linear_before_reset", lbr))...)
	default:
		act := "Tanh"
		if op.cell == "rnn_relu" {
			act = "Relu"
		}
		acts := []string{act, act}[:D]
		outs = e.opN("RNN", ins, 2, append(attrs, attrStrings("activations", acts...))...)
	}
	return outs[0], outs[1], ""
}

// stack is a recurrent stack of PyTorch-named layers
// (prefix+"weight_ih_l0", ..., "_reverse" for the reverse direction).
type stack struct {
	prefix                string
	cell                  string
	hidden                int
	layers                int
	bidir                 bool
	peephole, resetBefore bool
}

func stackOf(s model.Spec, prefix string) stack {
	return stack{prefix: prefix, cell: s.Cell, hidden: s.Hidden, layers: s.Layers, bidir: s.Bidirectional, peephole: s.Peephole, resetBefore: s.ResetBefore}
}

// op returns layer k's node.
func (st stack) op(k int) rnnOp {
	o := rnnOp{cell: st.cell, hidden: st.hidden, name: fmt.Sprintf("%sl%d", st.prefix, k), resetBefore: st.resetBefore}
	sufs := []string{""}
	if st.bidir {
		sufs = append(sufs, "_reverse")
	}
	for _, suf := range sufs {
		o.wih = append(o.wih, fmt.Sprintf("%sweight_ih_l%d%s", st.prefix, k, suf))
		o.whh = append(o.whh, fmt.Sprintf("%sweight_hh_l%d%s", st.prefix, k, suf))
		o.bih = append(o.bih, fmt.Sprintf("%sbias_ih_l%d%s", st.prefix, k, suf))
		o.bhh = append(o.bhh, fmt.Sprintf("%sbias_hh_l%d%s", st.prefix, k, suf))
		if st.peephole {
			o.ph = append(o.ph, fmt.Sprintf("%sweight_peephole_l%d%s", st.prefix, k, suf))
		}
	}
	return o
}

// stackOut is what a recurrent stack returns: the top layer's output
// (T, B, D·H) and every layer's final states (D, B, H), c nil without a
// cell state.
type stackOut struct {
	y    string
	h, c []string
}

// stack runs st over x (T, B, I) time-major with optional lengths lens
// and per-layer initial states h0, c0 (nil: zeros). Between layers the
// output (T, D, B, H) becomes the next input (T, B, D·H), directions side
// by side as PyTorch concatenates them.
func (e *exporter) stack(st stack, x, lens string, h0, c0 []string) stackOut {
	var out stackOut
	for k := range st.layers {
		var hk, ck string
		if h0 != nil {
			hk = h0[k]
		}
		if c0 != nil {
			ck = c0[k]
		}
		y, h, c := e.rnnNode(st.op(k), x, lens, hk, ck)
		out.h = append(out.h, h)
		if c != "" {
			out.c = append(out.c, c)
		}
		if st.bidir {
			x = e.reshape(e.transpose(y, 0, 2, 1, 3), 0, 0, -1)
		} else {
			x = e.squeeze(y, 1)
		}
	}
	out.y = x
	return out
}

// final returns a final state (D, B, H) as (B, D·H): the forward and
// reverse directions side by side.
func (e *exporter) final(h string, bidir bool) string {
	if !bidir {
		return e.squeeze(h, 0)
	}
	return e.reshape(e.transpose(h, 1, 0, 2), 0, -1)
}
