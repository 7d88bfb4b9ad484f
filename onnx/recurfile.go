package onnx

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
)

// fromRecur reads the file (or a seq2seq model's two files) that recur
// exported: the spec and preprocessing state from the metadata, the
// weights from the initializers by their names (Export names them after
// the parameters: name, name_T for a transposed matrix, and a recurrent
// node's W, R, B and P), then checks that exporting the model again
// gives the same graph, so that the model computes what the file does.
func fromRecur(mps []*pb.ModelProto) (*Graph, error) {
	first := meta(mps[0])
	spec, err := model.ParseSpec("recur.spec.json", []byte(first["recur.spec"]))
	if err != nil {
		return nil, fmt.Errorf("onnx: metadata %w", err)
	}
	g := &Graph{Spec: spec, Params: map[string]*tensor.Tensor{}}
	if p, ok := first["recur.prep"]; ok {
		if !json.Valid([]byte(p)) {
			return nil, fmt.Errorf("onnx: metadata recur.prep is not valid JSON")
		}
		g.Prep = json.RawMessage(p)
	}
	parts := map[string]*pb.ModelProto{}
	for _, mp := range mps {
		m := meta(mp)
		if m["recur.spec"] != first["recur.spec"] || m["recur.prep"] != first["recur.prep"] || mp.GetProducerName() != "recur" {
			return nil, fmt.Errorf("onnx: the files are not the parts of one model recur exported")
		}
		if _, dup := parts[m["recur.part"]]; dup {
			return nil, fmt.Errorf("onnx: two files of part %q", m["recur.part"])
		}
		parts[m["recur.part"]] = mp
		if err := recurParams(g.Params, mp.GetGraph()); err != nil {
			return nil, err
		}
	}
	want := []string{""}
	if spec.Task == model.Seq2Seq {
		want = []string{"encoder", "decoder"}
	}
	for _, p := range want {
		if parts[p] == nil || len(parts) != len(want) {
			return nil, fmt.Errorf("onnx: a %s model is %d file(s), parts %q; got %d", spec.Task, len(want), want, len(mps))
		}
	}
	m, err := g.built()
	if err != nil {
		return nil, err
	}
	for p, mp := range parts {
		if err := sameGraph(m, p, mp); err != nil {
			return nil, err
		}
	}
	g.Spec = m.Spec()
	return g, nil
}

// built returns g as a model: from its model file, or, when its
// preprocessing state is missing or incomplete (a model that Build made
// and nothing trained), as model.Build makes it with g's weights.
func (g *Graph) built() (model.Model, error) {
	f, err := g.File()
	if err != nil {
		return nil, err
	}
	if m, err := model.FromFile("onnx", f); err == nil {
		return m, nil
	}
	m, err := model.Build(g.Spec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := f.LoadParams(m.Params(), true); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// sameGraph checks that m exports part as the graph of mp.
func sameGraph(m model.Model, part string, mp *pb.ModelProto) error {
	b, err := Marshal(m, Options{Part: part})
	if err != nil {
		return err
	}
	again, err := decodeBytes(b)
	if err != nil {
		return err
	}
	g0, g1 := mp.GetGraph(), again.GetGraph()
	if proto.Equal(g0, g1) {
		return nil
	}
	for i, n := range g0.GetNode() {
		if i >= len(g1.GetNode()) || !proto.Equal(n, g1.GetNode()[i]) {
			return fmt.Errorf("onnx: node %q (%s) is not what recur writes for the file's recur.spec", n.GetName(), n.GetOpType())
		}
	}
	return fmt.Errorf("onnx: the graph (its nodes, initializers, inputs or outputs) is not what recur writes for the file's recur.spec")
}

// recurNode matches the name of a stack layer's initializers
// (prefix + "l" + layer), as opposed to a single cell's (seq2seq's
// decoder).
var recurNode = regexp.MustCompile(`^(.*)l([0-9]+)$`)

// recurParams adds the parameters held by the initializers of a graph
// recur exported: recurrent nodes' W, R, B, P converted to PyTorch's
// layout, name_T transposed back to name, others as they are. Constants
// (const_N), the forecaster's widening and local mask are not parameters.
func recurParams(dst map[string]*tensor.Tensor, g *pb.GraphProto) error {
	inits := map[string]*konst{}
	for _, t := range g.GetInitializer() {
		k, err := decodeTensor(t)
		if err != nil {
			return fmt.Errorf("onnx: initializer: %w", err)
		}
		inits[t.GetName()] = k
	}
	used := map[string]bool{}
	for _, n := range g.GetNode() {
		switch n.GetOpType() {
		case "LSTM", "GRU", "RNN":
			if err := recurLayer(dst, n, inits, used); err != nil {
				return err
			}
		}
	}
	for name, k := range inits {
		switch {
		case used[name] || strings.HasPrefix(name, "const_") || name == "widen" || name == "local_mask" || name == "ensemble_mean" || k.isInt():
		case strings.HasSuffix(name, "_T") && len(k.shape) == 2:
			t, _ := (&interp{}).transposed(k)
			dst[strings.TrimSuffix(name, "_T")] = t.tensor()
		default:
			dst[name] = k.tensor()
		}
	}
	return nil
}

// recurLayer adds the parameters of one recurrent node recur exported.
func recurLayer(dst map[string]*tensor.Tensor, n *pb.NodeProto, inits map[string]*konst, used map[string]bool) error {
	in := n.GetInput()
	get := func(i int) *konst {
		if i < len(in) && in[i] != "" {
			used[in[i]] = true
			return inits[in[i]]
		}
		return nil
	}
	l := &layer{cell: strings.ToLower(n.GetOpType()), hidden: int(attrI(n, "hidden_size", 0)), w: get(1), r: get(2), b: get(3), p: get(7)}
	if acts := attrStringsOf(n, "activations"); len(acts) > 0 && acts[0] == "Relu" {
		l.cell = "rnn_relu"
	}
	G := l.gates() * l.hidden
	if l.w == nil || l.r == nil || len(l.w.shape) != 3 || l.w.shape[1] != G || !slices.Equal(l.r.shape, []int{l.w.shape[0], G, l.hidden}) ||
		l.b != nil && !slices.Equal(l.b.shape, []int{l.w.shape[0], 2 * G}) || l.p != nil && !slices.Equal(l.p.shape, []int{l.w.shape[0], 3 * l.hidden}) {
		return fmt.Errorf("onnx: node %q (%s): its weights are not initializers of the shapes recur writes", n.GetName(), n.GetOpType())
	}
	l.dirs, l.in = l.w.shape[0], l.w.shape[2]
	base := strings.TrimSuffix(in[1], ".W")
	name := func(kind string, d int) string { return base + "." + kind }
	if m := recurNode.FindStringSubmatch(base); m != nil {
		k, _ := strconv.Atoi(m[2])
		name = func(kind string, d int) string {
			s := fmt.Sprintf("%s%s_l%d", m[1], kind, k)
			if d == 1 {
				s += "_reverse"
			}
			return s
		}
	}
	lb := l.b
	torchWeights(dst, l, l.p != nil, name)
	if lb == nil { // no biases: torchWeights made zeros, which the model has not
		for d := range l.dirs {
			delete(dst, name("bias_ih", d))
			delete(dst, name("bias_hh", d))
		}
	}
	return nil
}
