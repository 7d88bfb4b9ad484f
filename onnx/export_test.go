package onnx_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/onnx"
)

func decode(t *testing.T, b []byte) *pb.ModelProto {
	t.Helper()
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatalf("the export does not decode as an ONNX ModelProto: %v", err)
	}
	return &mp
}

func TestRefusesProjection(t *testing.T) {
	m, err := model.Build(model.Spec{Task: model.Classify, Hidden: 8, Proj: 4, Vocab: 10, Classes: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = onnx.Export(&buf, m, onnx.Options{})
	var ue *onnx.UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "proj") {
		t.Fatalf("Export of a projection LSTM: error %v, want an *UnsupportedError naming proj", err)
	}
	if buf.Len() != 0 {
		t.Errorf("a refused export wrote %d bytes", buf.Len())
	}
}

func TestParts(t *testing.T) {
	s2s, err := model.Build(model.Spec{Task: model.Seq2Seq, Hidden: 4, Vocab: 10, TgtVocab: 9}, 1)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := model.Build(model.Spec{Task: model.LM, Hidden: 4, Vocab: 10}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := onnx.Parts(s2s); len(got) != 2 || got[0] != "encoder" || got[1] != "decoder" {
		t.Errorf("Parts(seq2seq) = %q, want encoder, decoder", got)
	}
	if got := onnx.Parts(lm); len(got) != 1 || got[0] != "" {
		t.Errorf("Parts(lm) = %q, want one empty part", got)
	}
	for _, c := range []struct {
		m    model.Model
		part string
	}{{s2s, ""}, {s2s, "middle"}, {lm, "encoder"}} {
		if _, err := onnx.Marshal(c.m, onnx.Options{Part: c.part}); err == nil || !strings.Contains(err.Error(), "part") {
			t.Errorf("Marshal(%s, part %q): error %v, want one about the part", c.m.Spec().Task, c.part, err)
		}
	}
}

func TestUntrained(t *testing.T) {
	c, err := model.NewClassifier(model.ClassifyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Marshal(c, onnx.Options{}); err == nil {
		t.Fatal("Marshal of a classifier without weights: no error")
	}
}

// TestModelHeader checks what every file declares: IR version, opset,
// producer, metadata, and that the same model gives the same bytes.
func TestModelHeader(t *testing.T) {
	m, err := model.Build(model.Spec{Task: model.Classify, Cell: "gru", Hidden: 4, Vocab: 10, Classes: 2, Bidirectional: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnx.Marshal(m, onnx.Options{ProducerVersion: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := onnx.Marshal(m, onnx.Options{ProducerVersion: "v1.2.3"})
	if !bytes.Equal(b, b2) {
		t.Error("two exports of the same model differ")
	}
	mp := decode(t, b)
	if mp.GetIrVersion() != onnx.IRVersion || len(mp.GetOpsetImport()) != 1 || mp.GetOpsetImport()[0].GetVersion() != onnx.Opset {
		t.Errorf("IR version %d, opsets %v; want %d and opset %d", mp.GetIrVersion(), mp.GetOpsetImport(), onnx.IRVersion, onnx.Opset)
	}
	if mp.GetProducerName() != "recur" || mp.GetProducerVersion() != "v1.2.3" {
		t.Errorf("producer %q %q", mp.GetProducerName(), mp.GetProducerVersion())
	}
	meta := map[string]string{}
	for _, kv := range mp.GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if meta["recur.task"] != "classify" || !strings.Contains(meta["recur.spec"], `"cell":"gru"`) {
		t.Errorf("metadata %v: want recur.task classify and the spec", meta)
	}
	var ops []string
	for _, n := range mp.GetGraph().GetNode() {
		ops = append(ops, n.GetOpType())
		if n.GetOpType() == "GRU" {
			attrs := map[string]string{}
			for _, a := range n.GetAttribute() {
				attrs[a.GetName()] = string(a.GetS()) + strings.Repeat("1", int(a.GetI()))
			}
			if attrs["direction"] != "bidirectional" || attrs["linear_before_reset"] != "1" {
				t.Errorf("GRU attributes %v: want bidirectional with linear_before_reset", attrs)
			}
		}
	}
	if !strings.Contains(strings.Join(ops, " "), "Gather") || !strings.Contains(strings.Join(ops, " "), "Gemm") {
		t.Errorf("ops %v: want the embedding as Gather and the head as Gemm", ops)
	}
}
