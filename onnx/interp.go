package onnx

import (
	"fmt"
	"strconv"
	"strings"

	pb "github.com/recur-ml/recur/internal/onnxpb"
)

// Reading a graph that recur did not write
//
// Read walks the nodes in their (topological) order with an abstract
// interpreter: every value is a constant (initializers, Constant nodes,
// bound inputs and what shape operations make of them), zeros of a shape
// known only at run time (the initial states exporters build from the
// input's shape), integers computed from shapes, or part of the model's
// data flow. A data-flow value knows its axes (B batch, T time, S a stack
// of blocks, H one block's features, F features) and what its blocks hold
// (the input, an embedding of token ids, a layer direction's outputs or
// final states, the output layer's values), so the interpreter can check
// that the graph is a recurrent stack: the stack reads the input or the
// embedded ids time-major (or batch-first with layout = 1), each layer
// reads the whole output of the one below, directions side by side, and an
// output layer reads the top layer's final states or its outputs at every
// step. A node outside that shape is an *UnsupportedError naming it.

// vkind is the kind of an abstract value.
type vkind uint8

const (
	vConst vkind = iota + 1 // a known tensor
	vZeros                  // zeros of a shape known at run time
	vShape                  // integers computed from shapes at run time
	vFlow                   // the model's data flow
)

// val is an abstract value.
type val struct {
	kind vkind
	k    *konst
	f    *flow
}

// psrc is what one block of a flow holds.
type psrc uint8

const (
	pGraph psrc = iota + 1 // a float graph input whose role is not known yet
	pData                  // the input sequences' features
	pIDs                   // token ids
	pEmb                   // the embedding of the token ids
	pLens                  // sequence lengths
	pState                 // one block of an initial-state input
	pY                     // a layer direction's output at every step
	pH                     // a layer direction's final hidden state
	pC                     // a layer direction's final cell state
	pHead                  // the output layer's values
	pProb                  // their probabilities (softmax or sigmoid)
)

// part is one block of a flow's stack (S) or feature (F) axis.
type part struct {
	src   psrc
	input string // the graph input (pGraph, pData, pIDs, pEmb, pLens, pState)
	layer int    // pY, pH, pC
	dir   int    // pY, pH, pC; pState: the block's index in its input
}

// flow is a value of the model's data flow: one name per axis (a letter
// of BTSHF, or "name.i", axis i of a graph input whose meaning is not
// known yet) and the blocks of its S axis, or of its F axis without one,
// each width features wide.
type flow struct {
	axes  []string
	parts []part
	width int
}

// UnsupportedGraphError reports a node of an imported graph that recur cannot
// read: its name (or "#index" when it has none), its operator and why.
type UnsupportedGraphError struct {
	Node, Op, Reason string
}

func (e *UnsupportedGraphError) Error() string {
	return fmt.Sprintf("onnx: node %s (%s): %s", e.Node, e.Op, e.Reason)
}

// interp is the interpreter's state over one graph.
type interp struct {
	opset  int64
	vals   map[string]*val
	bind   map[string]string  // an input's axis ("name.i") → its letter
	inputs map[string][]int64 // graph inputs' declared dimensions (-1: free)
	roles  map[string]psrc    // graph inputs' roles, once known
	layers []*layer           // the recurrent nodes, bottom first
	head   *head              // the output layer; nil without one
	emb    *konst             // the embedding table; nil for float inputs
	lens   string             // the lengths input of the stack ("": none)
	data   string             // the data (or ids) input of the stack
	notes  []string           // what the caller should know
	// stateOut are graph outputs of recurrent states.
	stateOut []string
	node     *pb.NodeProto       // the node being read
	index    int                 // its index
	refs     map[string][]string // which nodes read a value (for errors)
}

// fail returns an UnsupportedGraphError for the current node.
func (it *interp) fail(format string, args ...any) error {
	name := it.node.GetName()
	if name == "" {
		name = "#" + strconv.Itoa(it.index)
	}
	return &UnsupportedGraphError{Node: strconv.Quote(name), Op: it.node.GetOpType(), Reason: fmt.Sprintf(format, args...)}
}

// ax returns the letter of axis a (a itself while unknown).
func (it *interp) ax(a string) string {
	if l, ok := it.bind[a]; ok {
		return l
	}
	return a
}

// known reports whether a is a letter.
func known(a string) bool { return len(a) == 1 }

// want checks that f's axes are letters, binding the unknown ones of a
// graph input to them in order.
func (it *interp) want(f *flow, letters string, what string) error {
	if len(f.axes) != len(letters) {
		return it.fail("%s has %d axes, want %d (%s)", what, len(f.axes), len(letters), letters)
	}
	for i, a := range f.axes {
		l := string(letters[i])
		switch got := it.ax(a); {
		case got == l:
		case known(got):
			return it.fail("%s has axes %s, want %s", what, it.axesOf(f), letters)
		default:
			for other, b := range it.bind {
				if b == l && strings.SplitN(other, ".", 2)[0] == strings.SplitN(a, ".", 2)[0] {
					return it.fail("%s: two axes of input %s would both be %s", what, other, l)
				}
			}
			it.bind[a] = l
		}
	}
	return nil
}

// axesOf spells f's axes ("?" for those not known).
func (it *interp) axesOf(f *flow) string {
	var b strings.Builder
	for _, a := range f.axes {
		if l := it.ax(a); known(l) {
			b.WriteString(l)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// axisOf returns the index of f's axis with letter l, or -1.
func (it *interp) axisOf(f *flow, l string) int {
	for i, a := range f.axes {
		if it.ax(a) == l {
			return i
		}
	}
	return -1
}

// normAxis returns axis a (negative from the end) of a rank-r value.
func (it *interp) normAxis(a int64, r int) (int, error) {
	if a < 0 {
		a += int64(r)
	}
	if a < 0 || a >= int64(r) {
		return 0, it.fail("axis %d out of range for rank %d", a, r)
	}
	return int(a), nil
}

// Attributes.

func attr(n *pb.NodeProto, name string) *pb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrI(n *pb.NodeProto, name string, def int64) int64 {
	if a := attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func attrF(n *pb.NodeProto, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func attrS(n *pb.NodeProto, name, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

func nodeInts(n *pb.NodeProto, name string) ([]int64, bool) {
	a := attr(n, name)
	if a == nil {
		return nil, false
	}
	return a.GetInts(), true
}

func attrStringsOf(n *pb.NodeProto, name string) []string {
	a := attr(n, name)
	if a == nil {
		return nil
	}
	out := make([]string, len(a.GetStrings()))
	for i, s := range a.GetStrings() {
		out[i] = string(s)
	}
	return out
}

// constInts returns input i of the node as integers: it must be a
// constant ("" gives nil, false).
func (it *interp) constInts(ins []*val, i int, what string) ([]int64, bool, error) {
	if i >= len(ins) || ins[i] == nil {
		return nil, false, nil
	}
	if ins[i].kind != vConst {
		return nil, false, it.fail("its %s must be a constant", what)
	}
	return ins[i].k.ints(), true, nil
}

// axesInput returns the axes of Squeeze, Unsqueeze and the reductions: an
// attribute before opset 13, the second input from it on.
func (it *interp) axesInput(ins []*val) ([]int64, bool, error) {
	if a, ok := nodeInts(it.node, "axes"); ok {
		return a, true, nil
	}
	return it.constInts(ins, 1, "axes")
}
