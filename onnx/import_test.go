package onnx_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/onnx"
)

// TestImportRoundTrip exports every model of the consumer tests (each
// task, cell, variant, depth and direction count, with and without
// preprocessing state), imports the file and exports the import again:
// the files must be byte for byte the same, so the imported model is the
// exported one, weights bit for bit.
func TestImportRoundTrip(t *testing.T) {
	cases := allCases(t, t.TempDir())
	done := map[string]bool{}
	for _, c := range cases {
		name, part := strings.TrimSuffix(strings.TrimSuffix(c.name, "_encoder"), "_decoder"), ""
		if name != c.name {
			part = "encoder"
		}
		if done[name] {
			continue
		}
		done[name] = true
		t.Run(name, func(t *testing.T) {
			paths := []string{c.path}
			parts := []string{part}
			if part != "" {
				paths = []string{name + "_encoder.onnx", name + "_decoder.onnx"}
				for i := range paths {
					paths[i] = strings.TrimSuffix(c.path, c.name+".onnx") + paths[i]
				}
				parts = []string{"encoder", "decoder"}
			}
			g := readPaths(t, paths)
			m := importedModel(t, g)
			for i, p := range paths {
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				got, err := onnx.Marshal(m, onnx.Options{Part: parts[i], ProducerVersion: "test"})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: exporting the imported model gives another file (%d bytes, %d before)", p, len(got), len(want))
				}
			}
		})
	}
}

// readPaths reads one file, or the two parts of a seq2seq model.
func readPaths(t *testing.T, paths []string) *onnx.Graph {
	t.Helper()
	var rs []*os.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rs = append(rs, f)
	}
	var (
		g   *onnx.Graph
		err error
	)
	if len(rs) == 1 {
		g, err = onnx.Read(rs[0], onnx.ReadOptions{})
	} else {
		g, err = onnx.ReadParts(rs[0], rs[1])
	}
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// importedModel is g as a model: loaded with its preprocessing state,
// or built from its spec and weights when the file had none.
func importedModel(t *testing.T, g *onnx.Graph) model.Model {
	t.Helper()
	m, err := g.Model()
	if err != nil {
		return weightsModel(t, g)
	}
	return m
}

// TestImportPredicts checks that an imported trained classifier, with the
// vocabulary its file carries, predicts exactly as the original.
func TestImportPredicts(t *testing.T) {
	for _, multi := range []bool{false, true} {
		c := trainedClassifier(t, multi)
		b, err := onnx.Marshal(c, onnx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := onnx.Import(bytes.NewReader(b), onnx.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{"a good film", "bad plot", "unknown words here", "good"}
		want, err := c.Predict(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.(*model.Classifier).Predict(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("multi %v: predictions %+v, want %+v", multi, got, want)
		}
	}
}

// graphOf builds a model of one graph: inputs, initializers, nodes and
// outputs.
func graphOf(inputs []*pb.ValueInfoProto, inits []*pb.TensorProto, nodes []*pb.NodeProto, outputs ...string) []byte {
	g := &pb.GraphProto{Name: proto.String("g"), Input: inputs, Initializer: inits, Node: nodes}
	for _, o := range outputs {
		g.Output = append(g.Output, &pb.ValueInfoProto{Name: proto.String(o)})
	}
	mp := &pb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}}}
	b, err := proto.Marshal(mp)
	if err != nil {
		panic(err)
	}
	return b
}

func floatInput(name string, dims ...int64) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)), Shape: shape}}}}
}

func floatInit(name string, dims ...int64) *pb.TensorProto {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(i%7)/10 - 0.3
	}
	return &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: dims, FloatData: data}
}

func node(op, name string, ins []string, outs []string, attrs ...*pb.AttributeProto) *pb.NodeProto {
	return &pb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: ins, Output: outs, Attribute: attrs}
}

func intAttr(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func stringAttr(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// lstmGraph is x (T, B, 2) → LSTM (hidden 3) → then: the nodes given,
// reading "y" (T, 1, B, 3) and "h" (1, B, 3).
func lstmGraph(then []*pb.NodeProto, outputs ...string) []byte {
	nodes := append([]*pb.NodeProto{node("LSTM", "lstm", []string{"x", "W", "R", "B"}, []string{"y", "h"}, intAttr("hidden_size", 3))}, then...)
	return graphOf([]*pb.ValueInfoProto{floatInput("x", 5, 2, 2)},
		[]*pb.TensorProto{floatInit("W", 1, 12, 2), floatInit("R", 1, 12, 3), floatInit("B", 1, 24), floatInit("Wo", 3, 2)}, nodes, outputs...)
}

// TestReadRefuses checks that graphs recur cannot compute are errors that
// name the node and the operator, or say what is wrong.
func TestReadRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		file  []byte
		nodes string // the node and operator named, or the message
	}{
		{"relu after the stack", lstmGraph([]*pb.NodeProto{node("Squeeze", "sq", []string{"h", "ax"}, []string{"hs"}), node("Relu", "act", []string{"hs"}, []string{"r"})}, "r"), `node "sq" (Squeeze)`},
		{"mean pooling", lstmGraph([]*pb.NodeProto{node("ReduceMean", "pool", []string{"y"}, []string{"p"})}, "p"), `node "pool" (ReduceMean)`},
		{"reverse direction", graphOf([]*pb.ValueInfoProto{floatInput("x", 5, 2, 2)}, []*pb.TensorProto{floatInit("W", 1, 12, 2), floatInit("R", 1, 12, 3)},
			[]*pb.NodeProto{node("LSTM", "rev", []string{"x", "W", "R"}, []string{"y"}, intAttr("hidden_size", 3), stringAttr("direction", "reverse"))}, "y"), `node "rev" (LSTM): direction "reverse"`},
		{"clip", graphOf([]*pb.ValueInfoProto{floatInput("x", 5, 2, 2)}, []*pb.TensorProto{floatInit("W", 1, 9, 2), floatInit("R", 1, 9, 3)},
			[]*pb.NodeProto{node("GRU", "g", []string{"x", "W", "R"}, []string{"y"}, intAttr("hidden_size", 3),
				&pb.AttributeProto{Name: proto.String("clip"), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(1)})}, "y"), `node "g" (GRU): attribute clip`},
		{"weights from data", graphOf([]*pb.ValueInfoProto{floatInput("x", 5, 2, 2), floatInput("W", 1, 4, 2)}, []*pb.TensorProto{floatInit("R", 1, 4, 4)},
			[]*pb.NodeProto{node("RNN", "r", []string{"x", "W", "R"}, []string{"y"}, intAttr("hidden_size", 4))}, "y"), `node "r" (RNN): its weights W must be float constants`},
		{"custom domain", graphOf([]*pb.ValueInfoProto{floatInput("x", 5, 2, 2)}, nil,
			[]*pb.NodeProto{{OpType: proto.String("Foo"), Name: proto.String("f"), Domain: proto.String("com.example"), Input: []string{"x"}, Output: []string{"y"}}}, "y"), `node "f" (Foo)`},
		{"no recurrent layer", graphOf([]*pb.ValueInfoProto{floatInput("x", 5, 2, 2)}, nil,
			[]*pb.NodeProto{node("Identity", "i", []string{"x"}, []string{"y"})}, "y"), "no LSTM, GRU or RNN node"},
		{"not onnx", []byte("PK\x03\x04 a zip"), "not an ONNX model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := onnx.Read(bytes.NewReader(c.file), onnx.ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.nodes) {
				t.Fatalf("Read: %v, want an error with %q", err, c.nodes)
			}
			var ue *onnx.UnsupportedGraphError
			if strings.HasPrefix(c.nodes, "node ") && !errors.As(err, &ue) {
				t.Errorf("%v is not an *UnsupportedGraphError", err)
			}
		})
	}
}

// TestReadSpec checks that a spec chooses the task of a graph's weights
// and must agree with its stack.
func TestReadSpec(t *testing.T) {
	file := lstmGraph([]*pb.NodeProto{node("Squeeze", "sq", []string{"h", "ax"}, []string{"hs"}), node("MatMul", "head", []string{"hs", "Wo"}, []string{"o"})}, "o")
	file = withInit(t, file, &pb.TensorProto{Name: proto.String("ax"), DataType: proto.Int32(int32(pb.TensorProto_INT64)), Dims: []int64{1}, Int64Data: []int64{0}})
	g, err := onnx.Read(bytes.NewReader(file), onnx.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Spec.Task != model.Forecast || g.Spec.Targets != 2 || g.Spec.Hidden != 3 {
		t.Errorf("derived spec %+v, want a forecaster of 2 targets, hidden 3", g.Spec)
	}
	if _, ok := g.Params["head.bias"]; !ok {
		t.Error("no head.bias: a MatMul head without Add gets a zero bias")
	}
	s := model.Spec{Task: model.Forecast, Horizon: 2, Targets: 1}
	g, err = onnx.Read(bytes.NewReader(file), onnx.ReadOptions{Spec: &s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.File(); err != nil {
		t.Errorf("a forecaster of horizon 2: %v", err)
	}
	s.Hidden = 4
	if _, err := onnx.Read(bytes.NewReader(file), onnx.ReadOptions{Spec: &s}); err == nil || !strings.Contains(err.Error(), "hidden is 4, the graph's 3") {
		t.Errorf("a spec of hidden 4: %v", err)
	}
}

// withInit adds an initializer to a model file.
func withInit(t *testing.T, file []byte, init *pb.TensorProto) []byte {
	var mp pb.ModelProto
	if err := proto.Unmarshal(file, &mp); err != nil {
		t.Fatal(err)
	}
	mp.Graph.Initializer = append(mp.Graph.Initializer, init)
	b, err := proto.Marshal(&mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadEditedExport changes a node of a file recur exported: the file
// no longer is what its recur.spec describes, so it is read as a graph,
// with a note, and computes what the edited graph computes (here a
// sigmoid instead of a softmax: a multi-label classifier).
func TestReadEditedExport(t *testing.T) {
	m := build(t, model.Spec{Task: model.Classify, Cell: "gru", Hidden: 4, Inputs: 3, Classes: 3}, 5)
	b, err := onnx.Marshal(m, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	edited := false
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Softmax" {
			n.OpType, n.Attribute, edited = proto.String("Sigmoid"), nil, true
		}
	}
	if !edited {
		t.Fatal("no Softmax in the export")
	}
	if b, err = proto.Marshal(&mp); err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Read(bytes.NewReader(b), onnx.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(g.Notes, "\n"), "does not describe its graph") {
		t.Errorf("notes %q: want one that the file was read as a graph", g.Notes)
	}
	if !strings.Contains(string(g.Prep), `"multi_label":true`) {
		t.Errorf("prep %s: want a multi-label classifier", g.Prep)
	}
	for _, p := range m.Params() {
		if got := g.Params[p.Name]; got == nil || !slices.Equal(got.Data, p.Value.Data) {
			t.Errorf("%s differs from the exported model's", p.Name)
		}
	}
}
