package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/recur-ml/recur/checkpoint"
	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// MaxFileSize bounds the ONNX files Read reads: the protobuf format's
// own limit of 2 GiB.
const MaxFileSize = 2 << 30

// ReadOptions says how Read interprets a graph. The zero value reads a
// file as it is.
type ReadOptions struct {
	// Inputs binds graph inputs to values, which makes them constants:
	// ONNX's operator tests, for one, feed a layer's weights as inputs.
	Inputs map[string]*tensor.Tensor
	// Spec, when not nil, is the model the graph's weights are for: its
	// task and the task's fields (horizon, classes, ...). The recurrent
	// stack's fields are the graph's: those Spec sets must agree with it.
	// Without Spec, Read takes the task from recur's metadata, or derives
	// it from the graph (see the package documentation).
	Spec *model.Spec
}

// Graph is the recur model an ONNX file holds.
type Graph struct {
	// Spec is the model's architecture.
	Spec model.Spec
	// Params are its weights by PyTorch name, as a model file holds them.
	Params map[string]*tensor.Tensor
	// Prep is the model file's preprocessing state (scaler, vocabulary,
	// class names) as JSON: recur's own files carry it (recur.prep); for
	// other graphs it is made where the task needs none from data (class
	// names 0, 1, ... of a classifier of numeric sequences) and nil
	// otherwise.
	Prep json.RawMessage
	// Notes say what the model leaves out of the graph (initial-state
	// inputs, outputs it does not compute) and how the task was chosen.
	Notes []string
}

// Read reads an ONNX model and returns the recur model it holds: a file
// recur exported (its metadata recur.spec and recur.prep, the graph
// checked to be exactly what recur writes for them), or any graph that
// is a recurrent stack (see the package documentation). A graph outside
// that shape is an *UnsupportedGraphError naming the node and operator.
func Read(r io.Reader, o ReadOptions) (*Graph, error) {
	mp, err := decodeModel(r)
	if err != nil {
		return nil, err
	}
	if meta(mp)["recur.spec"] != "" && mp.GetProducerName() == "recur" && o.Spec == nil {
		if meta(mp)["recur.task"] == model.Seq2Seq {
			return nil, errors.New("onnx: a seq2seq model is two files, its encoder and decoder: read them together with ReadParts")
		}
		g, rerr := fromRecur([]*pb.ModelProto{mp})
		if rerr == nil {
			return g, nil
		}
		g, err := readGraph(mp, o)
		if err != nil {
			return nil, fmt.Errorf("%w (as recur's own export: %v)", err, rerr)
		}
		g.Notes = append(g.Notes, "the file's recur.spec does not describe its graph ("+rerr.Error()+"): read as a graph")
		return g, nil
	}
	return readGraph(mp, o)
}

// ReadParts reads the two files of a seq2seq model recur exported, the
// encoder and the decoder (in either order).
func ReadParts(rs ...io.Reader) (*Graph, error) {
	var mps []*pb.ModelProto
	for _, r := range rs {
		mp, err := decodeModel(r)
		if err != nil {
			return nil, err
		}
		mps = append(mps, mp)
	}
	return fromRecur(mps)
}

// Import reads an ONNX model (as Read) and returns it as a recur model,
// ready to predict, train further or save. A graph whose task needs
// preprocessing state the file does not carry (a vocabulary, a
// forecaster's pipeline) is an error: write its weights with
// Graph.File and train from them (model.FitConfig.InitFrom).
func Import(r io.Reader, o ReadOptions) (model.Model, error) {
	g, err := Read(r, o)
	if err != nil {
		return nil, err
	}
	return g.Model()
}

// File returns the model file of g: its weights, spec and preprocessing
// state, checked as model.Check checks a model file.
func (g *Graph) File() (*checkpoint.File, error) {
	f := checkpoint.New()
	for name, t := range g.Params {
		f.Tensors[name] = t
	}
	if err := f.SetJSON(model.MetaSpec, g.Spec); err != nil {
		return nil, err
	}
	if g.Prep != nil {
		f.Metadata[model.MetaPrep] = string(g.Prep)
	}
	if err := model.Check("onnx", f); err != nil {
		return nil, err
	}
	return f, nil
}

// Model returns g as a recur model.
func (g *Graph) Model() (model.Model, error) {
	f, err := g.File()
	if err != nil {
		return nil, err
	}
	if g.Prep == nil && g.Spec.Task != model.Tag {
		return nil, fmt.Errorf("onnx: the graph is a %s model without preprocessing state (vocabulary, pipeline): write its weights (Graph.File, recur import) and train from them with init-from", g.Spec.Task)
	}
	return model.FromFile("onnx", f)
}

// Layer returns g's recurrent stack as an nn layer with g's weights:
// time-major, for running it with initial states and lengths of one's
// own.
func (g *Graph) Layer() (nn.Recurrent, error) {
	s := g.Spec
	in := s.Inputs
	if s.Embed > 0 {
		in = s.Embed
	}
	rng := tensor.NewRNG(1)
	var (
		l   nn.Recurrent
		err error
	)
	switch s.Cell {
	case "gru":
		l, err = nn.NewGRU(nn.GRUConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, ResetBefore: s.ResetBefore}, rng)
	case "rnn", "rnn_relu":
		act := map[bool]string{true: "relu", false: "tanh"}[s.Cell == "rnn_relu"]
		l, err = nn.NewRNN(nn.RNNConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, Nonlinearity: act}, rng)
	default:
		l, err = nn.NewLSTM(nn.LSTMConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, Peephole: s.Peephole}, rng)
	}
	if err != nil {
		return nil, err
	}
	f := checkpoint.New()
	for name, t := range g.Params {
		if len(name) > 4 && name[:4] == "rnn." {
			f.Tensors[name[4:]] = t
		}
	}
	if _, err := f.LoadParams(l.Params(), true); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return l, nil
}

// decodeModel reads and parses an ONNX file.
func decodeModel(r io.Reader) (*pb.ModelProto, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("onnx: the file is larger than %d bytes, the format's limit", MaxFileSize)
	}
	mp := &pb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX model: %w", err)
	}
	if mp.GetGraph() == nil {
		return nil, errors.New("onnx: not an ONNX model: no graph")
	}
	return mp, nil
}

// meta returns the model's metadata_props.
func meta(mp *pb.ModelProto) map[string]string {
	m := map[string]string{}
	for _, p := range mp.GetMetadataProps() {
		m[p.GetKey()] = p.GetValue()
	}
	return m
}

// opset returns the version of the standard operator set the model
// imports.
func opset(mp *pb.ModelProto) (int64, error) {
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			if v := o.GetVersion(); v < 7 {
				return 0, fmt.Errorf("onnx: operator set %d: want 7 or later", v)
			}
			return o.GetVersion(), nil
		}
	}
	if mp.GetIrVersion() < 3 {
		return 7, nil // before operator sets were declared
	}
	return 0, errors.New("onnx: the model imports no version of the standard operators (opset_import)")
}

// readGraph reads a graph that is a recurrent stack.
func readGraph(mp *pb.ModelProto, o ReadOptions) (*Graph, error) {
	v, err := opset(mp)
	if err != nil {
		return nil, err
	}
	it, err := newInterp(mp.GetGraph(), v, o.Inputs)
	if err != nil {
		return nil, err
	}
	if err := it.run(mp.GetGraph()); err != nil {
		return nil, err
	}
	return it.result(mp.GetGraph(), o.Spec)
}

// newInterp sets up the interpreter's values: initializers and bound
// inputs as constants, the other graph inputs as the data flow.
func newInterp(g *pb.GraphProto, opset int64, bound map[string]*tensor.Tensor) (*interp, error) {
	it := &interp{opset: opset, vals: map[string]*val{}, bind: map[string]string{}, inputs: map[string][]int64{}, roles: map[string]psrc{}}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errors.New("onnx: sparse initializers are not supported")
	}
	for _, t := range g.GetInitializer() {
		k, err := decodeTensor(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer: %w", err)
		}
		it.vals[t.GetName()] = &val{kind: vConst, k: k}
	}
	for _, in := range g.GetInput() {
		name := in.GetName()
		if t, ok := bound[name]; ok {
			it.vals[name] = &val{kind: vConst, k: &konst{shape: append([]int(nil), t.Shape...), f: append([]float32(nil), t.Data...)}}
			continue
		}
		if _, ok := it.vals[name]; ok {
			continue // an initializer: its default value
		}
		it.vals[name] = it.inputFlow(in)
	}
	for name := range bound {
		if v, ok := it.vals[name]; !ok || v.kind != vConst {
			return nil, fmt.Errorf("onnx: bound input %q is not an input of the graph", name)
		}
	}
	return it, nil
}

// inputFlow is the data-flow value of a graph input: token ids (an
// integer matrix), lengths (an integer vector), or a float tensor whose
// role its use decides (the sequences, or stacked initial states).
func (it *interp) inputFlow(in *pb.ValueInfoProto) *val {
	name := in.GetName()
	tt := in.GetType().GetTensorType()
	var dims []int64
	for _, d := range tt.GetShape().GetDim() {
		if d.GetDimParam() != "" || d.GetDimValue() <= 0 {
			dims = append(dims, -1)
		} else {
			dims = append(dims, d.GetDimValue())
		}
	}
	it.inputs[name] = dims
	axes := make([]string, len(dims))
	for i := range axes {
		axes[i] = name + "." + strconv.Itoa(i)
	}
	f := &flow{axes: axes, parts: []part{{src: pGraph, input: name}}}
	switch et := pb.TensorProto_DataType(tt.GetElemType()); {
	case (et == pb.TensorProto_INT64 || et == pb.TensorProto_INT32) && len(dims) == 2:
		f.parts[0].src = pIDs
	case (et == pb.TensorProto_INT64 || et == pb.TensorProto_INT32) && len(dims) == 1:
		f.parts[0].src = pLens
	case len(dims) > 0:
		if d := dims[len(dims)-1]; d > 0 {
			f.width = int(d)
		}
	}
	return flowVal(f)
}

// decodeBytes is Read over a byte slice.
func decodeBytes(b []byte) (*pb.ModelProto, error) { return decodeModel(bytes.NewReader(b)) }

// ReadTensor reads a serialized TensorProto (the .pb files of ONNX's
// test data sets) and returns its name and values as float32 (integers
// converted).
func ReadTensor(r io.Reader) (string, *tensor.Tensor, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("onnx: %w", err)
	}
	var tp pb.TensorProto
	if err := proto.Unmarshal(b, &tp); err != nil {
		return "", nil, fmt.Errorf("onnx: not a TensorProto: %w", err)
	}
	k, err := decodeTensor(&tp)
	if err != nil {
		return "", nil, fmt.Errorf("onnx: %w", err)
	}
	return tp.GetName(), k.tensor(), nil
}
