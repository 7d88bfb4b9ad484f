package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
)

// result checks the stack the interpreter found and the graph's outputs,
// and returns the model: its spec (derived, or s's) and weights.
func (it *interp) result(g *pb.GraphProto, s *model.Spec) (*Graph, error) {
	if len(it.layers) == 0 {
		return nil, errors.New("onnx: the graph has no LSTM, GRU or RNN node: not a recurrent model")
	}
	if err := it.checkStack(); err != nil {
		return nil, err
	}
	if err := it.checkHead(); err != nil {
		return nil, err
	}
	if err := it.checkOutputs(g); err != nil {
		return nil, err
	}
	spec := it.stackSpec()
	gr := &Graph{Params: it.params()}
	var err error
	if s != nil {
		gr.Spec, err = withStack(*s, spec)
		it.stateNotes(gr.Spec.Task)
	} else {
		gr.Spec, gr.Prep, err = it.taskSpec(spec)
	}
	if err != nil {
		return nil, err
	}
	gr.Notes = it.notes
	if it.head != nil && it.head.b == nil {
		gr.Params["head.bias"] = tensor.New(it.head.w.shape[0])
	}
	return gr, nil
}

// checkStack checks that the layers form one stack: the same cell,
// width, directions and variant, the same lengths and state inputs.
func (it *interp) checkStack() error {
	first := it.layers[0]
	for k, l := range it.layers[1:] {
		switch {
		case l.cell != first.cell, l.hidden != first.hidden, l.dirs != first.dirs, l.resetBefore != first.resetBefore:
			return fmt.Errorf("onnx: recurrent layer %d (%s, hidden %d, %d directions) differs from layer 0 (%s, hidden %d, %d directions): a recur stack has one kind of layer",
				k+1, l.cell, l.hidden, l.dirs, first.cell, first.hidden, first.dirs)
		case len(l.states) != len(first.states):
			return fmt.Errorf("onnx: recurrent layer %d's initial states are inputs where layer 0's are not (or the reverse)", k+1)
		}
	}
	return nil
}

// topParts are the top layer's blocks of src (pY, pH), directions in order.
func (it *interp) topParts(src psrc) []part {
	L := len(it.layers)
	var ps []part
	for d := range it.layers[L-1].dirs {
		ps = append(ps, part{src: src, layer: L - 1, dir: d})
	}
	return ps
}

// checkHead checks that the output layer reads the top layer's final
// states (both directions, in order) or its outputs at every step.
func (it *interp) checkHead() error {
	h := it.head
	if h == nil {
		return nil
	}
	switch {
	case !h.perStep && slices.Equal(h.in, it.topParts(pH)):
	case h.perStep && slices.Equal(h.in, it.topParts(pY)):
	default:
		return errors.New("onnx: the output layer must read the top recurrent layer's final states, or its outputs at every step, all directions side by side")
	}
	return nil
}

// checkOutputs checks the graph's outputs: the output layer's values or
// probabilities (or, without one, the top layer's outputs or final
// states), and states; it notes the others.
func (it *interp) checkOutputs(g *pb.GraphProto) error {
	main := false
	for _, o := range g.GetOutput() {
		v, ok := it.vals[o.GetName()]
		if !ok || v.kind != vFlow {
			return fmt.Errorf("onnx: graph output %q is not computed from the model's input", o.GetName())
		}
		src := v.f.parts[0].src
		L := len(it.layers)
		switch {
		case src == pHead || src == pProb:
			main = true
		case it.head == nil && (src == pY || src == pH) && v.f.parts[0].layer == L-1:
			main = true
		case src == pH || src == pC || src == pY:
			it.stateOut = append(it.stateOut, o.GetName())
		default:
			return fmt.Errorf("onnx: graph output %q is not the output layer's values nor recurrent states", o.GetName())
		}
	}
	if !main {
		return errors.New("onnx: no graph output is the output layer's values or the top recurrent layer's outputs")
	}
	return nil
}

// note records a note once.
func (it *interp) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !slices.Contains(it.notes, s) {
		it.notes = append(it.notes, s)
	}
}

// stackSpec is the spec of the stack alone: cell, sizes, variants.
func (it *interp) stackSpec() model.Spec {
	l := it.layers[0]
	s := model.Spec{Cell: l.cell, Hidden: l.hidden, Layers: len(it.layers), Bidirectional: l.dirs == 2, ResetBefore: l.resetBefore}
	for _, l := range it.layers {
		s.Peephole = s.Peephole || l.p != nil
	}
	if it.emb != nil {
		s.Vocab, s.Embed = it.emb.shape[0], it.emb.shape[1]
	} else {
		s.Inputs = l.in
	}
	return s
}

// withStack returns s with the stack's fields of g, which s must agree
// with where it sets them.
func withStack(s, g model.Spec) (model.Spec, error) {
	for _, f := range []struct {
		name      string
		got, want any
		set       bool
	}{
		{"cell", s.Cell, g.Cell, s.Cell != ""}, {"hidden", s.Hidden, g.Hidden, s.Hidden != 0}, {"layers", s.Layers, g.Layers, s.Layers != 0},
		{"bidirectional", s.Bidirectional, g.Bidirectional, s.Bidirectional}, {"peephole", s.Peephole, g.Peephole, s.Peephole},
		{"reset_before", s.ResetBefore, g.ResetBefore, s.ResetBefore}, {"vocab", s.Vocab, g.Vocab, s.Vocab != 0 && g.Vocab != 0},
		{"embed", s.Embed, g.Embed, s.Embed != 0 && g.Embed != 0}, {"inputs", s.Inputs, g.Inputs, s.Inputs != 0 && g.Inputs != 0},
	} {
		if f.set && fmt.Sprint(f.got) != fmt.Sprint(f.want) {
			return s, fmt.Errorf("onnx: the spec's %s is %v, the graph's %v", f.name, f.got, f.want)
		}
	}
	s.Cell, s.Hidden, s.Layers, s.Bidirectional, s.Peephole, s.ResetBefore = g.Cell, g.Hidden, g.Layers, g.Bidirectional, g.Peephole, g.ResetBefore
	if g.Vocab > 0 {
		s.Vocab, s.Embed = g.Vocab, g.Embed
	} else if s.Task != model.LM && s.Task != model.Seq2Seq {
		s.Inputs = g.Inputs
	}
	return s, nil
}

// taskSpec derives the task from the graph's shape: token ids with an
// output layer on the final states classify, on every step they are a
// language model; numeric sequences with probabilities of the final
// states classify, without them forecast (one step of the outputs as
// targets, or a horizon of one target when there are more outputs than
// inputs), and an output layer at every step (or none) tags.
func (it *interp) taskSpec(s model.Spec) (model.Spec, json.RawMessage, error) {
	h := it.head
	var prep json.RawMessage
	switch {
	case h == nil && it.emb != nil:
		return s, nil, errors.New("onnx: an embedding and a recurrent stack without an output layer: no recur task reads token ids without one (give the model's spec)")
	case h == nil:
		s.Task, s.NoHead, s.Targets = model.Tag, true, s.Hidden*map[bool]int{true: 2, false: 1}[s.Bidirectional]
		it.note("no output layer: a tagger without head, whose outputs are the top layer's outputs at every step (its final states are the outputs at each sequence's last step)")
		prep = json.RawMessage(`{}`)
	case it.emb != nil && h.perStep:
		s.Task = model.LM
	case it.emb != nil || h.probs != "" && !h.perStep:
		s.Task, s.Classes = model.Classify, h.w.shape[0]
		if s.Vocab == 0 {
			prep = classNames(s.Classes, h.probs == "sigmoid")
		}
	case h.perStep:
		s.Task, s.Targets = model.Tag, h.w.shape[0]
		prep = json.RawMessage(`{}`)
		if h.probs == "softmax" {
			s.Targets, s.Classes = 0, h.w.shape[0]
			prep = classNames(s.Classes, false)
		} else if h.probs == "sigmoid" {
			prep = json.RawMessage(`{"loss":"bce"}`)
		}
	default:
		O := h.w.shape[0]
		s.Task, s.Targets, s.Horizon = model.Forecast, O, 1
		if O > s.Inputs {
			s.Targets, s.Horizon = 1, O
		}
	}
	it.note("the task %s was read from the graph's shape (give a spec to choose another)", s.Task)
	it.stateNotes(s.Task)
	return s, prep, nil
}

// stateNotes notes the graph's state inputs and outputs, which only a
// language model has as well.
func (it *interp) stateNotes(task string) {
	if task == model.LM {
		return
	}
	for _, name := range it.layers[0].states {
		it.note("input %s holds initial states: recur's %s model starts every sequence from zeros", name, task)
	}
	for _, name := range it.stateOut {
		it.note("output %s (recurrent states) is not an output of recur's %s model", name, task)
	}
}

// classNames is a numeric classifier's preprocessing state with classes
// named by their index.
func classNames(n int, multi bool) json.RawMessage {
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	b, _ := json.Marshal(map[string]any{"classes": names, "multi_label": multi})
	return b
}

// params returns the weights by PyTorch name.
func (it *interp) params() map[string]*tensor.Tensor {
	ps := map[string]*tensor.Tensor{}
	if it.emb != nil {
		ps["embedding.weight"] = it.emb.tensor()
	}
	peep := false
	for _, l := range it.layers {
		peep = peep || l.p != nil
	}
	for k, l := range it.layers {
		torchWeights(ps, l, peep, func(kind string, d int) string {
			name := fmt.Sprintf("rnn.%s_l%d", kind, k)
			if d == 1 {
				name += "_reverse"
			}
			return name
		})
	}
	if h := it.head; h != nil {
		ps["head.weight"] = h.w.tensor()
		if h.b != nil {
			ps["head.bias"] = tensor.FromSlice(h.b, len(h.b))
		}
	}
	return ps
}

// torchWeights converts one node's W, R, B (nil: zeros) and P (nil:
// zeros when peephole, else none) to PyTorch's layout: name(kind, d)
// names direction d's weight_ih, weight_hh, bias_ih, bias_hh and
// weight_peephole.
func torchWeights(dst map[string]*tensor.Tensor, l *layer, peephole bool, name func(kind string, d int) string) {
	order := gateOrder(l.cell)
	H, G := l.hidden, l.gates()*l.hidden
	for d := range l.dirs {
		w := l.w.floats()[d*G*l.in : (d+1)*G*l.in]
		r := l.r.floats()[d*G*H : (d+1)*G*H]
		dst[name("weight_ih", d)] = tensor.FromSlice(unreorder(w, order), G, l.in)
		dst[name("weight_hh", d)] = tensor.FromSlice(unreorder(r, order), G, H)
		bi, bh := make([]float32, G), make([]float32, G)
		if l.b != nil {
			b := l.b.floats()[d*2*G : (d+1)*2*G]
			bi, bh = unreorder(b[:G], order), unreorder(b[G:], order)
		}
		dst[name("bias_ih", d)] = tensor.FromSlice(bi, G)
		dst[name("bias_hh", d)] = tensor.FromSlice(bh, G)
		if peephole {
			p := make([]float32, 3*H)
			if l.p != nil {
				p = unreorder(l.p.floats()[d*3*H:(d+1)*3*H], peepOrder)
			}
			dst[name("weight_peephole", d)] = tensor.FromSlice(p, 3*H)
		}
	}
}

// unreorder is the inverse of reorder: w stacks len(order) gate blocks in
// ONNX's order, the result in PyTorch's (a new slice).
func unreorder(w []float32, order []int) []float32 {
	n := len(w) / len(order)
	out := make([]float32, len(w))
	for b, g := range order {
		copy(out[g*n:(g+1)*n], w[b*n:(b+1)*n])
	}
	return out
}
