package onnx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/recur-ml/recur/data/series"
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

// A global forecaster exports its one network with every series'
// pipeline in the metadata, and imports as a global forecaster that
// forecasts each series as the original does.
func TestGlobal(t *testing.T) {
	g := globalForecaster(t)
	b, err := onnx.Marshal(g, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	md := metadata(t, g, "")
	if md["recur.global"] != "true" || !strings.Contains(md["recur.series"], `"name":"s2"`) || md["recur.lookback"] != "6" {
		t.Errorf("metadata: global %q, lookback %q, series %.200s", md["recur.global"], md["recur.lookback"], md["recur.series"])
	}
	m, err := onnx.Import(bytes.NewReader(b), onnx.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, ok := m.(*model.GlobalForecaster)
	if !ok {
		t.Fatalf("imported a %T, want a *model.GlobalForecaster", m)
	}
	f, _ := series.NewFrame([]string{"y"}, [][]float64{{500, 520, 560, 590, 600, 580, 555}})
	for _, name := range []string{"s2", "new"} {
		f.Name = name
		want, err := g.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := back.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Values, want.Values) {
			t.Errorf("series %s: imported model forecasts %v, the original %v", name, got.Values, want.Values)
		}
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

// metadata returns an export's metadata_props.
func metadata(t *testing.T, m model.Model, part string) map[string]string {
	t.Helper()
	b, err := onnx.Marshal(m, onnx.Options{Part: part})
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, kv := range decode(t, b).GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	return meta
}

// TestMetadata checks that what a consumer needs to prepare inputs is in
// the file: a classifier's vocabulary and classes, a forecaster's
// pipeline.
func TestMetadata(t *testing.T) {
	c := trainedClassifier(t, false)
	meta := metadata(t, c, "")
	var vocab, classes []string
	if err := json.Unmarshal([]byte(meta["recur.vocab"]), &vocab); err != nil || len(vocab) != c.Spec().Vocab {
		t.Errorf("recur.vocab = %q (%v): want the %d tokens", meta["recur.vocab"], err, c.Spec().Vocab)
	}
	if err := json.Unmarshal([]byte(meta["recur.classes"]), &classes); err != nil || strings.Join(classes, ",") != "pos,neg" {
		t.Errorf("recur.classes = %q (%v): want pos, neg", meta["recur.classes"], err)
	}
	if unk, _ := strconv.Atoi(meta["recur.unk"]); meta["recur.unk"] == "" || vocab == nil || unk >= len(vocab) {
		t.Errorf("recur.unk = %q", meta["recur.unk"])
	}
	if !json.Valid([]byte(meta["recur.prep"])) || !strings.Contains(meta["recur.prep"], `"encoder"`) {
		t.Errorf("recur.prep = %.80q: want the model file's preprocessing state", meta["recur.prep"])
	}

	fm := metadata(t, pipelineForecaster(t), "")
	for key, want := range map[string]string{"recur.lookback": "5", "recur.horizon": "2", "recur.targets": `["c","a"]`, "recur.quantiles": "[0.2,0.5,0.8]"} {
		if fm[key] != want {
			t.Errorf("forecaster metadata %s = %q, want %q", key, fm[key], want)
		}
	}
	var sc struct {
		Center, Scale []float64
	}
	if err := json.Unmarshal([]byte(fm["recur.scaler"]), &sc); err != nil || len(sc.Center) != 3 || sc.Scale[2] != 6 {
		t.Errorf("recur.scaler = %q (%v)", fm["recur.scaler"], err)
	}
	if !strings.Contains(fm["recur.preprocessing"], "(x - center) / scale") {
		t.Errorf("recur.preprocessing = %q", fm["recur.preprocessing"])
	}
}
