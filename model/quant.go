package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Int8 models
//
// Quantize turns a trained model into one whose recurrent stack and
// output layer run their inference in int8 (nn.Quantize: weights int8 per
// row, activations quantized per row at run time, int32 sums), as
// PyTorch's quantize_dynamic does. Its spec records Quantize = "int8", and
// Save writes each quantized weight W (rnn.weight_ih_lk, rnn.weight_hh_lk
// of each direction, head.weight) as an I8 tensor named W, of W's shape,
// with its row scales as the F32 tensor "W.scale"; the other parameters
// stay F32. Load, Check and so recur predict and recur serve read such a
// file as any other: Check requires exactly these tensors, with these
// shapes, and positive finite scales are checked when the layers take
// them. A quantized model is for inference: Fit, which trains a spec's
// network from scratch, refuses a spec that says int8; InitFrom reads an
// int8 file's weights dequantized, to fine-tune a float32 model from it.
//
// QuantizeAs(m, nn.QuantBF16) makes the same layers run on bfloat16
// weights instead (nn.QuantizeBF16: activations rounded to bfloat16,
// float32 sums; VDPBF16PS where the CPU has AVX512_BF16, an exact but
// slower AVX2 emulation elsewhere). Its spec records Quantize = "bf16"
// and Save writes each such weight as a BF16 tensor (safetensors'
// bfloat16) named W, without scales; the rest of the above holds as for
// int8.

// Spec.Quantize's values: QuantInt8 and QuantBF16.
const (
	QuantInt8 = "int8"
	QuantBF16 = "bf16"
)

// ScaleSuffix names the row scales of a quantized weight W: W + ScaleSuffix.
const ScaleSuffix = ".scale"

// errQuantized is Fit's refusal of a quantized model.
var errQuantized = errors.New("model: a quantized spec (quantize: int8 or bf16) is for inference; train a float32 model, then Quantize it")

// checkQuantize validates Spec.Quantize (called by withDefaults).
func (s *Spec) checkQuantize() error {
	switch {
	case s.Quantize == "":
		return nil
	case s.Quantize != QuantInt8 && s.Quantize != QuantBF16:
		return &SpecError{"quantize", s.Quantize, `"", "int8" or "bf16"`}
	case s.Task == Seq2Seq:
		return &SpecError{"quantize", s.Quantize, `"": a seq2seq model has no quantized form`}
	}
	return nil
}

// quantKind returns the nn format of the spec's Quantize (int8 or bf16).
func (s Spec) quantKind() nn.QuantKind {
	if s.Quantize == QuantBF16 {
		return nn.QuantBF16
	}
	return nn.QuantInt8
}

// quantized reports whether the parameter name is stored quantized (int8
// or bf16) in a model file of spec s.
func (s Spec) quantized(name string) bool {
	if s.Quantize == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(name, "ensemble."); ok {
		// An ensemble member's parameters: ensemble.k.rnn..., ensemble.k.head...
		if _, after, ok := strings.Cut(rest, "."); ok {
			name = after
		}
	}
	return strings.HasPrefix(name, "rnn.weight_ih_l") || strings.HasPrefix(name, "rnn.weight_hh_l") || name == "head.weight"
}

// checkQuantTensor checks, for Check, the quantized tensor of parameter
// p in f (of the spec's format) and its scales, and returns the names it
// accounts for.
func (s Spec) checkQuantTensor(f *checkpoint.File, p paramShape) ([]string, error) {
	if s.Quantize == QuantBF16 {
		return []string{p.name}, checkBF16Tensor(f, p)
	}
	return []string{p.name, p.name + ScaleSuffix}, checkInt8Tensor(f, p)
}

// checkBF16Tensor checks, for Check, the bfloat16 tensor of parameter p
// in f: present, of p's shape, in no other dtype, and finite.
func checkBF16Tensor(f *checkpoint.File, p paramShape) error {
	h, ok := f.BF16[p.name]
	var shape []int
	if ok {
		shape = h.Shape
	}
	if err := checkQuantShape(f, p, QuantBF16, shape, ok); err != nil {
		return err
	}
	for i, v := range h.Data {
		if v&0x7f80 == 0x7f80 {
			return fmt.Errorf("bf16 tensor %q: value %d is not finite", p.name, i)
		}
	}
	return nil
}

// checkQuantShape reports, for the quantized tensor of p in format kind
// (of shape shape, found when ok), that it is missing, of another shape
// than p's, or float32 as well.
func checkQuantShape(f *checkpoint.File, p paramShape, kind string, shape []int, ok bool) error {
	switch {
	case !ok:
		return fmt.Errorf("%s tensor %q is missing: the spec (quantize %s) implies one of shape %v", kind, p.name, kind, p.shape)
	case !slices.Equal(shape, p.shape):
		return fmt.Errorf("%s tensor %q: shape %v but the spec implies %v", kind, p.name, shape, p.shape)
	}
	if _, dup := f.Tensors[p.name]; dup {
		return fmt.Errorf("tensor %q is both %s and float32", p.name, kind)
	}
	return nil
}

// checkQuantExtra reports a quantized tensor of f (int8 or bf16) that is
// not among names, the weights the spec quantizes.
func checkQuantExtra(f *checkpoint.File, names map[string]bool, task string) error {
	for _, n := range f.Int8Names() {
		if !names[n] {
			return fmt.Errorf("int8 tensor %q is not a quantized weight of the spec's %s model", n, task)
		}
	}
	for _, n := range f.BF16Names() {
		if !names[n] {
			return fmt.Errorf("bf16 tensor %q is not a quantized weight of the spec's %s model", n, task)
		}
	}
	return nil
}

// checkInt8Tensor checks, for Check, the int8 tensor of parameter p and
// its scales in f.
func checkInt8Tensor(f *checkpoint.File, p paramShape) error {
	q, ok := f.Int8[p.name]
	var shape []int
	if ok {
		shape = q.Shape
	}
	if err := checkQuantShape(f, p, QuantInt8, shape, ok); err != nil {
		return err
	}
	sc, ok := f.Tensors[p.name+ScaleSuffix]
	if !ok || !slices.Equal(sc.Shape, p.shape[:1]) {
		return fmt.Errorf("tensor %q (the row scales of %q) is missing or not of shape %v", p.name+ScaleSuffix, p.name, p.shape[:1])
	}
	for i, v := range sc.Data {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("tensor %q: scale %d is %v, want positive and finite", p.name+ScaleSuffix, i, v)
		}
	}
	for i, v := range q.Data {
		if v == -128 {
			return fmt.Errorf("int8 tensor %q: value %d is -128, outside the symmetric range [-127, 127]", p.name, i)
		}
	}
	return nil
}

// Quantize returns an int8 copy of m (see the top of this file) for a
// forecaster, classifier, language model or tagger; m is left as it is.
// A language model with a tied head keeps that head (the embedding's
// matrix) in float32.
func Quantize(m Model) (Model, error) { return QuantizeAs(m, nn.QuantInt8) }

// QuantizeAs is Quantize with the weights in format kind (int8 or bf16).
func QuantizeAs(m Model, kind nn.QuantKind) (Model, error) {
	s := m.Spec()
	if s.Quantize != "" {
		return nil, fmt.Errorf("model: Quantize: the model is %s already", s.Quantize)
	}
	s.Quantize = kind.String()
	if err := s.checkQuantize(); err != nil {
		return nil, fmt.Errorf("model: Quantize: %w", err)
	}
	f, err := m.File()
	if err != nil {
		return nil, err
	}
	q, err := FromFile("model", f) // a float32 copy to quantize in place
	if err != nil {
		return nil, err
	}
	c := q.(interface{ base() *core }).base()
	if err := c.quantizeBodies(bodiesOf(q), nil, kind); err != nil {
		return nil, fmt.Errorf("model: Quantize: %w", err)
	}
	return q, nil
}

// bodiesOf returns the layers of a front door with a body (all but
// seq2seq): an ensemble forecaster's every member.
func bodiesOf(m Model) []*body {
	switch x := m.(type) {
	case *Forecaster:
		return x.net.bodies()
	case *GlobalForecaster:
		return x.shared.net.bodies()
	case *Classifier:
		return []*body{x.net}
	case *LanguageModel:
		return []*body{x.net}
	case *Tagger:
		return []*body{x.net}
	}
	return nil
}

// quantizeBodies makes each body's stack and head (not a tied one)
// quantized in format kind, with the weights of given where it has them
// (nn.SetQuantizedAs), and records them and the spec's Quantize in c.
func (c *core) quantizeBodies(bodies []*body, given map[string]*nn.QuantWeight, kind nn.QuantKind) error {
	if bodies == nil {
		return fmt.Errorf("a %s model has no %s form", c.spec.Task, kind)
	}
	c.quant = map[string]*nn.QuantWeight{}
	for _, b := range bodies {
		layers := []nn.Module{b.rnn}
		if b.head != nil && !c.spec.Tie {
			layers = append(layers, b.head)
		}
		for _, l := range layers {
			if err := nn.SetQuantizedAs(l, given, kind); err != nil {
				return err
			}
			for n, q := range nn.QuantWeights(l) {
				c.quant[n] = q
			}
		}
	}
	c.spec.Quantize = kind.String()
	return nil
}

// quantFile replaces, in f (the model's file), each quantized weight by
// its int8 tensor and row scales, or its bf16 tensor.
func (c *core) quantFile(f *checkpoint.File) {
	for n, q := range c.quant {
		delete(f.Tensors, n)
		if q.Kind() == nn.QuantBF16 {
			f.BF16[n] = &checkpoint.BF16Tensor{Shape: []int{q.Rows, q.Cols}, Data: q.BF16}
			continue
		}
		f.Int8[n] = &checkpoint.Int8Tensor{Shape: []int{q.Rows, q.Cols}, Data: q.Q}
		f.Tensors[n+ScaleSuffix] = tensor.FromSlice(q.Scale, q.Rows)
	}
}

// loadQuantized loads a quantized model file (checked by Check) into m's
// layers: the float32 parameters by name, the int8 or bf16 weights as
// they are.
func (c *core) loadQuantized(name string, f *checkpoint.File, m Model) error {
	given := map[string]*nn.QuantWeight{}
	for n, q := range f.Int8 {
		given[n] = &nn.QuantWeight{Rows: q.Shape[0], Cols: q.Shape[1], Q: q.Data, Scale: f.Tensors[n+ScaleSuffix].Data}
	}
	for n, h := range f.BF16 {
		given[n] = &nn.QuantWeight{Rows: h.Shape[0], Cols: h.Shape[1], BF16: h.Data}
	}
	if err := c.loadWeights(name, floatView(f)); err != nil {
		return err
	}
	if err := c.quantizeBodies(bodiesOf(m), given, c.spec.quantKind()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// floatView returns f with each int8 weight W that has its row scales
// (W.scale, one per row of a matrix) as the float32 tensor W of the
// dequantized values, the scales dropped, and each bf16 tensor as its
// float32 values: what the float32 parameters load (a quantized model's
// own, or another model's through InitFrom). A file without int8 or bf16
// tensors is returned as it is.
func floatView(f *checkpoint.File) *checkpoint.File {
	if len(f.Int8) == 0 && len(f.BF16) == 0 {
		return f
	}
	g := &checkpoint.File{Tensors: make(map[string]*tensor.Tensor, len(f.Tensors)), Metadata: f.Metadata}
	for n, t := range f.Tensors {
		g.Tensors[n] = t
	}
	for n, h := range f.BF16 {
		if _, dup := g.Tensors[n]; !dup {
			g.Tensors[n] = h.Float32()
		}
	}
	for n, q := range f.Int8 {
		sc, ok := f.Tensors[n+ScaleSuffix]
		if !ok || len(q.Shape) != 2 || !slices.Equal(sc.Shape, q.Shape[:1]) || len(q.Data) != q.Shape[0]*q.Shape[1] {
			continue
		}
		w := &nn.QuantWeight{Rows: q.Shape[0], Cols: q.Shape[1], Q: q.Data, Scale: sc.Data}
		t := tensor.New(q.Shape...)
		w.Dequantize(t.Data)
		g.Tensors[n] = t
		delete(g.Tensors, n+ScaleSuffix)
	}
	return g
}

// describeNames returns the names of f's float32, int8 and bf16 tensors
// in order, for Describe.
func describeNames(f *checkpoint.File) []string {
	names := append(append(f.Names(), f.Int8Names()...), f.BF16Names()...)
	slices.Sort(names)
	return names
}

// describeTensor returns Describe's entry for tensor n of f, float32,
// int8 or bf16.
func describeTensor(f *checkpoint.File, n string) TensorInfo {
	if q, ok := f.Int8[n]; ok {
		return TensorInfo{Name: n, Shape: q.Shape, Len: len(q.Data), DType: "I8"}
	}
	if h, ok := f.BF16[n]; ok {
		return TensorInfo{Name: n, Shape: h.Shape, Len: len(h.Data), DType: "BF16"}
	}
	t := f.Tensors[n]
	return TensorInfo{Name: n, Shape: t.Shape, Len: t.Len()}
}
