package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
)

// The versions of the files Export writes: ONNX IR version 8 and the
// default operator set 17 (ONNX 1.12), which every ONNX Runtime since 1.12
// reads.
const (
	IRVersion = 8
	Opset     = 17
)

// Options says what Export writes. The zero value exports the model's
// graph (a seq2seq model needs Part).
type Options struct {
	// Part selects the graph of a seq2seq model, which exports as two
	// files: "encoder" or "decoder" (see Parts). Empty for other tasks.
	Part string
	// ProducerVersion is written as the file's producer_version (recur's
	// version, say); empty: none.
	ProducerVersion string
}

// Parts returns the parts a model exports as: "encoder" and "decoder"
// for a seq2seq model, a single "" for every other task.
func Parts(m model.Model) []string {
	if m.Spec().Task == model.Seq2Seq {
		return []string{"encoder", "decoder"}
	}
	return []string{""}
}

// UnsupportedError reports a feature of a model that the standard ONNX
// operators cannot express, so that Export refuses the model.
type UnsupportedError struct {
	Feature string // the spec field or part of the model
	Reason  string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("onnx: cannot export %s: %s", e.Feature, e.Reason)
}

// Export writes the inference graph of m (of part o.Part for a seq2seq
// model) to w as an ONNX model; see the package documentation for each
// task's inputs, outputs and metadata. A model with a feature ONNX cannot
// express is an *UnsupportedError and nothing is written.
func Export(w io.Writer, m model.Model, o Options) error {
	b, err := Marshal(m, o)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal returns what Export writes.
func Marshal(m model.Model, o Options) ([]byte, error) {
	mp, err := build(m, o)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return b, nil
}

// exportError carries an error out of the graph builders, which panic
// with it; build recovers it.
type exportError struct{ err error }

// fail stops the export with err.
func fail(format string, args ...any) {
	panic(exportError{fmt.Errorf("onnx: "+format, args...)})
}

// exporter builds one graph from a model's spec and parameters (by their
// PyTorch names).
type exporter struct {
	*graph
	spec   model.Spec
	params map[string]*tensor.Tensor
	added  map[string]bool
	meta   []*pb.StringStringEntryProto
}

// build returns the ONNX model of m.
func build(m model.Model, o Options) (mp *pb.ModelProto, err error) {
	s := m.Spec()
	if err := supported(s); err != nil {
		return nil, err
	}
	if err := checkPart(s, o.Part); err != nil {
		return nil, err
	}
	if len(m.Params()) == 0 {
		return nil, errors.New("onnx: the model has no weights yet (train it, or load a model file)")
	}
	e := &exporter{spec: s, params: map[string]*tensor.Tensor{}, added: map[string]bool{}}
	for _, p := range m.Params() {
		e.params[p.Name] = p.Value
	}
	defer func() {
		if r := recover(); r != nil {
			ee, ok := r.(exportError)
			if !ok {
				panic(r)
			}
			mp, err = nil, ee.err
		}
	}()
	e.graph = newGraph(graphName(s, o.Part), graphDoc(s, o.Part))
	prep, err := e.metaCommon(m, o.Part)
	if err != nil {
		return nil, err
	}
	switch s.Task {
	case model.Forecast:
		e.forecast(forecasterOf(m))
	case model.Classify:
		c, _ := m.(*model.Classifier)
		e.classify(c)
	case model.LM:
		e.lm()
	case model.Seq2Seq:
		if o.Part == "encoder" {
			e.encoder()
		} else {
			e.decoder()
		}
	case model.Tag:
		var tp struct {
			Loss string `json:"loss"`
		}
		_ = json.Unmarshal(prep, &tp) // absent: values or classes
		e.tag(tp.Loss == "bce")
	default:
		return nil, &UnsupportedError{"task " + s.Task, "unknown task"}
	}
	return e.model(o), nil
}

func (e *exporter) model(o Options) *pb.ModelProto {
	mp := &pb.ModelProto{
		IrVersion:     proto.Int64(IRVersion),
		OpsetImport:   []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:  proto.String("recur"),
		Domain:        proto.String("ml.recur"),
		ModelVersion:  proto.Int64(1),
		DocString:     e.g.DocString,
		Graph:         e.g,
		MetadataProps: e.meta,
	}
	if o.ProducerVersion != "" {
		mp.ProducerVersion = proto.String(o.ProducerVersion)
	}
	return mp
}

// supported refuses the features the standard operators cannot express.
// Training-time regularizers (dropout kinds, zoneout, weight-drop) are
// off at inference and export as nothing.
func supported(s model.Spec) error {
	if s.Proj > 0 {
		return &UnsupportedError{fmt.Sprintf("proj = %d (an LSTM with a projection of its hidden state, PyTorch's proj_size)", s.Proj),
			"ONNX's LSTM operator has no projection, and unrolling it step by step would not be the standard LSTM operator"}
	}
	return nil
}

func checkPart(s model.Spec, part string) error {
	switch {
	case s.Task == model.Seq2Seq && part != "encoder" && part != "decoder":
		return fmt.Errorf("onnx: a seq2seq model exports as two graphs: part %q, want encoder or decoder", part)
	case s.Task != model.Seq2Seq && part != "":
		return fmt.Errorf("onnx: a %s model exports as one graph: part %q, want none", s.Task, part)
	}
	return nil
}

func graphName(s model.Spec, part string) string {
	if part != "" {
		return "recur_" + s.Task + "_" + part
	}
	return "recur_" + s.Task
}

// param returns the parameter named name.
func (e *exporter) param(name string) *tensor.Tensor {
	t, ok := e.params[name]
	if !ok {
		fail("the model has no parameter %q (a %s model with %d parameters)", name, e.spec.Task, len(e.params))
	}
	return t
}

// has reports whether the model has the parameter.
func (e *exporter) has(name string) bool {
	_, ok := e.params[name]
	return ok
}

// init adds the parameter as an initializer of the same name and shape
// (once) and returns its name.
func (e *exporter) init(name string) string {
	if !e.added[name] {
		t := e.param(name)
		e.floats(name, t.Data, t.Shape...)
		e.added[name] = true
	}
	return name
}

// initT adds the transpose of the 2-D parameter name as an initializer
// named name+"_T" (once) and returns that name.
func (e *exporter) initT(name string) string {
	tn := name + "_T"
	if !e.added[tn] {
		t := e.param(name)
		if len(t.Shape) != 2 {
			fail("parameter %q has shape %v, want a matrix", name, t.Shape)
		}
		r, c := t.Shape[0], t.Shape[1]
		d := make([]float32, r*c)
		for i := range r {
			for j := range c {
				d[j*r+i] = t.Data[i*c+j]
			}
		}
		e.floats(tn, d, c, r)
		e.added[tn] = true
	}
	return tn
}

// linear is PyTorch's Linear with weight w (out, in) and bias b ("": none)
// over the last axis of x of the given rank: Gemm for a matrix, MatMul
// with the transposed weight and Add otherwise.
func (e *exporter) linear(x string, rank int, w, b string) string {
	if rank == 2 {
		ins := []string{x, e.init(w)}
		if b != "" {
			ins = append(ins, e.init(b))
		}
		return e.op("Gemm", ins, attrInt("transB", 1))
	}
	y := e.op("MatMul", []string{x, e.initT(w)})
	if b == "" {
		return y
	}
	return e.op("Add", []string{y, e.init(b)})
}

// head is the output Linear "head.weight", "head.bias" of a body.
func (e *exporter) head(x string, rank int) string {
	b := ""
	if e.has("head.bias") {
		b = "head.bias"
	}
	return e.linear(x, rank, "head.weight", b)
}

// median is the index of the quantile level nearest 0.5 (0 without
// quantiles): a forecaster's point forecast, as model's.
func median(levels []float64) int {
	best := 0
	for q, l := range levels {
		if abs(l-0.5) < abs(levels[best]-0.5) {
			best = q
		}
	}
	return best
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// forecasterOf is the forecaster whose graph m exports: m itself, or for a
// global forecaster the view of its first series (every series shares the
// network and the pipeline's shape; only the scaling differs, and that is
// metadata: recur.series).
func forecasterOf(m model.Model) *model.Forecaster {
	switch x := m.(type) {
	case *model.Forecaster:
		return x
	case *model.GlobalForecaster:
		if names := x.Series(); len(names) > 0 {
			return x.SeriesForecaster(names[0])
		}
	}
	return nil
}

// residualInputs returns, for a residual forecaster, the input index of
// each target (the first Targets inputs without a pipeline).
func residualInputs(f *model.Forecaster, s model.Spec) []int64 {
	var idx []int64
	if f == nil || f.Prep() == nil || f.Prep().Pipeline == nil {
		for k := range s.Targets {
			idx = append(idx, int64(k))
		}
		return idx
	}
	p := f.Prep().Pipeline
	for _, t := range p.Targets {
		i := slices.Index(p.Inputs, t)
		if i < 0 {
			fail("residual forecast: target %q is not an input", t)
		}
		idx = append(idx, int64(i))
	}
	return idx
}
