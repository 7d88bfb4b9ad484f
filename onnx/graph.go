package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
)

// negInf fills the masked entries of a softmax or a maximum.
var negInf = math.Inf(-1)

// Element types of the graphs' inputs, outputs and initializers.
const (
	tFloat = int32(pb.TensorProto_FLOAT)
	tInt64 = int32(pb.TensorProto_INT64)
	tInt32 = int32(pb.TensorProto_INT32)
	tBool  = int32(pb.TensorProto_BOOL)
)

// graph builds one ONNX graph: nodes appended in topological order (each
// op's inputs exist before it), initializers, inputs and outputs. Node
// outputs get fresh names (op_n); initializers keep the names given.
type graph struct {
	g      *pb.GraphProto
	n      int
	consts map[string]string // constant initializers by value, made once
}

func newGraph(name, doc string) *graph {
	return &graph{g: &pb.GraphProto{Name: proto.String(name), DocString: proto.String(doc)}, consts: map[string]string{}}
}

// dim is a tensor dimension of a graph input or output: a size, or a
// symbolic name (batch, time) that the consumer binds.
type dim struct {
	n   int64
	sym string
}

func fixed(n int) dim     { return dim{n: int64(n)} }
func sym(name string) dim { return dim{sym: name} }

func valueInfo(name string, elem int32, doc string, dims []dim) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		pd := &pb.TensorShapeProto_Dimension{}
		if d.sym != "" {
			pd.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: d.sym}
		} else {
			pd.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d.n}
		}
		shape.Dim = append(shape.Dim, pd)
	}
	typ := &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(elem), Shape: shape}}}
	return &pb.ValueInfoProto{Name: proto.String(name), Type: typ, DocString: proto.String(doc)}
}

// input declares a graph input and returns its name.
func (b *graph) input(name string, elem int32, doc string, dims ...dim) string {
	b.g.Input = append(b.g.Input, valueInfo(name, elem, doc, dims))
	return name
}

// output declares a graph output named name holding the value from.
func (b *graph) output(name, from string, elem int32, doc string, dims ...dim) {
	b.g.Node = append(b.g.Node, &pb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(name), Input: []string{from}, Output: []string{name}})
	b.g.Output = append(b.g.Output, valueInfo(name, elem, doc, dims))
}

// op appends a node with one output and returns the output's name.
func (b *graph) op(op string, ins []string, attrs ...*pb.AttributeProto) string {
	return b.opN(op, ins, 1, attrs...)[0]
}

// opN appends a node with n outputs and returns their names.
func (b *graph) opN(op string, ins []string, n int, attrs ...*pb.AttributeProto) []string {
	b.n++
	name := fmt.Sprintf("%s_%d", op, b.n)
	outs := make([]string, n)
	for i := range outs {
		outs[i] = name
		if n > 1 {
			outs[i] += "_" + strconv.Itoa(i)
		}
	}
	b.g.Node = append(b.g.Node, &pb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: ins, Output: outs, Attribute: attrs})
	return outs
}

// floats adds a float32 initializer of the given shape and returns name.
func (b *graph) floats(name string, data []float32, shape ...int) string {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(tFloat), Dims: int64s(shape), RawData: raw})
	return name
}

// int64s adds an int64 initializer of the given shape (a scalar when
// shape is empty) and returns name.
func (b *graph) int64s(name string, data []int64, shape ...int) string {
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(tInt64), Dims: int64s(shape), Int64Data: data})
	return name
}

// constant returns the constant initializer of key, made by add under a
// fresh name the first time.
func (b *graph) constant(key string, add func(name string) string) string {
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := add(fmt.Sprintf("const_%d", len(b.consts)))
	b.consts[key] = name
	return name
}

// ints returns a constant 1-D int64 tensor holding v (shapes, axes,
// indices).
func (b *graph) ints(v ...int64) string {
	return b.constant(fmt.Sprint("i", v), func(name string) string { return b.int64s(name, v, len(v)) })
}

// scalar returns a constant int64 scalar.
func (b *graph) scalar(v int64) string {
	return b.constant(fmt.Sprint("s", v), func(name string) string { return b.int64s(name, []int64{v}) })
}

// scalarF returns a constant float32 scalar.
func (b *graph) scalarF(v float32) string {
	return b.constant(fmt.Sprint("f", v), func(name string) string { return b.floats(name, []float32{v}) })
}

func int64s(shape []int) []int64 {
	out := make([]int64, len(shape))
	for i, d := range shape {
		out[i] = int64(d)
	}
	return out
}

// Attributes.

func attrInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrInts(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
}

func attrString(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func attrStrings(name string, v ...string) *pb.AttributeProto {
	a := &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRINGS.Enum()}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

// Common subgraphs.

// transpose permutes x's axes.
func (b *graph) transpose(x string, perm ...int64) string {
	return b.op("Transpose", []string{x}, attrInts("perm", perm...))
}

// reshape reshapes x to shape (0 copies the input's dimension, -1 is
// inferred).
func (b *graph) reshape(x string, shape ...int64) string {
	return b.op("Reshape", []string{x, b.ints(shape...)})
}

func (b *graph) unsqueeze(x string, axes ...int64) string {
	return b.op("Unsqueeze", []string{x, b.ints(axes...)})
}

func (b *graph) squeeze(x string, axes ...int64) string {
	return b.op("Squeeze", []string{x, b.ints(axes...)})
}

// dimOf returns dimension axis of x as an int64 scalar.
func (b *graph) dimOf(x string, axis int64) string {
	return b.op("Gather", []string{b.op("Shape", []string{x}), b.scalar(axis)})
}

// lengthMask returns the (B, T) boolean mask of the valid steps t <
// lens[b], for T an int64 scalar and lens (B) int32.
func (b *graph) lengthMask(T, lens string) string {
	steps := b.op("Range", []string{b.scalar(0), T, b.scalar(1)})
	l := b.op("Cast", []string{lens}, attrInt("to", int64(tInt64)))
	return b.op("Less", []string{b.unsqueeze(steps, 0), b.unsqueeze(l, 1)})
}

// maskedSoftmax is the softmax over the last axis of s over the entries
// where mask is true; masked entries get probability 0.
func (b *graph) maskedSoftmax(s, mask string) string {
	low := b.scalarF(float32(negInf))
	return b.op("Softmax", []string{b.op("Where", []string{mask, s, low})}, attrInt("axis", -1))
}
