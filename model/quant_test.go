package model

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
)

// TestQuantizeClassifier quantizes a trained bidirectional classifier,
// saves and loads it, and checks: the file holds int8 weights with row
// scales and the spec says int8; the loaded model predicts the same bits
// as the quantized one in memory; the probabilities stay near the float
// model's; Fit refuses it; the original is unchanged.
func TestQuantizeClassifier(t *testing.T) {
	cl, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 16, Bidirectional: true, Layers: 2}, Fit: fit(3)})
	if err != nil {
		t.Fatal(err)
	}
	l := sentiment(60, 1)
	if _, err := cl.Fit(context.Background(), l, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := cl.Predict(context.Background(), l.Texts)
	qm, err := Quantize(cl)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Spec().Quantize != "" || qm.Spec().Quantize != QuantInt8 {
		t.Fatalf("spec quantize: original %q, copy %q", cl.Spec().Quantize, qm.Spec().Quantize)
	}
	f, err := qm.File()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Int8) != 9 { // 2 layers × 2 directions × (ih, hh) + head
		t.Errorf("file has %d int8 tensors %v, want 9", len(f.Int8), f.Int8Names())
	}
	if _, ok := f.Tensors["rnn.weight_hh_l1_reverse"+ScaleSuffix]; !ok {
		t.Errorf("no scales for rnn.weight_hh_l1_reverse: %v", f.Names())
	}
	// Describe (recur inspect) lists the int8 weights and counts the
	// same parameters as for the float32 model, row scales aside.
	d := Describe(f)
	if d.Parameters != cl.NumParams() {
		t.Errorf("Describe: %d parameters in the int8 file, the float32 model has %d", d.Parameters, cl.NumParams())
	}
	i8 := 0
	for _, ti := range d.Tensors {
		if ti.DType == "I8" {
			i8++
		}
	}
	if i8 != 9 {
		t.Errorf("Describe lists %d I8 tensors, want 9", i8)
	}
	got := reload[*Classifier](t, qm)
	mem, _ := qm.(*Classifier).Predict(context.Background(), l.Texts)
	back, err := got.Predict(context.Background(), l.Texts)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range want {
		for k, p := range back[i].Probabilities {
			if p != mem[i].Probabilities[k] {
				t.Fatalf("text %d: loaded int8 model %v, in memory %v", i, back[i].Probabilities, mem[i].Probabilities)
			}
			worst = max(worst, math.Abs(float64(p-want[i].Probabilities[k])))
		}
	}
	if worst > 0.02 || worst == 0 {
		t.Errorf("int8 probabilities differ from float32 by up to %g, want in (0, 0.02]", worst)
	}
	// InitFrom an int8 file (fine-tuning from it) copies the dequantized
	// weights into a float32 model.
	fresh, err := NewClassifier(ClassifyConfig{Spec: cl.Spec(), Fit: fit(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.build(cl.Spec(), 5); err != nil {
		t.Fatal(err)
	}
	tr, err := fresh.InitFrom(f)
	if err != nil || len(tr.Fresh) != 0 {
		t.Fatalf("InitFrom an int8 file: %v, fresh %v", err, tr)
	}
	for i, p := range fresh.Params() {
		if d := maxDiff(p.Value.Data, qm.Params()[i].Value.Data); d != 0 {
			t.Errorf("InitFrom: %s differs from the int8 model's dequantized value by %g", p.Name, d)
		}
	}
	got.cfg.Fit = cl.cfg.Fit // a loaded model has no training configuration
	if _, err := got.Fit(context.Background(), l, nil); !errors.Is(err, errQuantized) {
		t.Errorf("Fit of an int8 model: %v", err)
	}
	if _, err := Quantize(got); err == nil || !strings.Contains(err.Error(), "int8 already") {
		t.Errorf("Quantize twice: %v", err)
	}
}

// TestQuantizedFileChecked checks that Check refuses a quantized file
// whose int8 tensors or scales are missing or misshapen, or a float file
// carrying an int8 tensor.
func TestQuantizedFileChecked(t *testing.T) {
	cl, _ := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 4, Hidden: 8}, Fit: fit(1)})
	if _, err := cl.Fit(context.Background(), sentiment(20, 2), nil); err != nil {
		t.Fatal(err)
	}
	qm, err := Quantize(cl)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := qm.File()
	if err := Check("q", good); err != nil {
		t.Fatalf("a good int8 file: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(f *checkpoint.File)
		want string
	}{
		{"missing int8", func(f *checkpoint.File) { delete(f.Int8, "rnn.weight_ih_l0") }, `int8 tensor "rnn.weight_ih_l0" is missing`},
		{"misshapen int8", func(f *checkpoint.File) { f.Int8["head.weight"].Shape = []int{1, 16} }, `int8 tensor "head.weight": shape`},
		{"missing scales", func(f *checkpoint.File) { delete(f.Tensors, "head.weight.scale") }, `"head.weight.scale"`},
		{"float spec", func(f *checkpoint.File) {
			f.Metadata[MetaSpec] = strings.Replace(f.Metadata[MetaSpec], `"quantize":"int8"`, `"quantize":""`, 1)
		}, "tensor"},
		{"bad quantize", func(f *checkpoint.File) {
			f.Metadata[MetaSpec] = strings.Replace(f.Metadata[MetaSpec], `"int8"`, `"int4"`, 1)
		}, "quantize"},
	} {
		f, _ := qm.File()
		c.edit(f)
		if err := Check("q", f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		edit func(f *checkpoint.File)
		want string
	}{
		{"negative scale", func(f *checkpoint.File) {
			f.Tensors["head.weight.scale"] = f.Tensors["head.weight.scale"].Clone() // not the model's own
			f.Tensors["head.weight.scale"].Data[0] = -1
		}, `"head.weight.scale": scale 0 is -1`},
		{"value -128", func(f *checkpoint.File) { f.Int8["rnn.weight_hh_l0"].Data[3] = -128 }, "value 3 is -128"},
	} {
		bad := filepath.Join(t.TempDir(), "bad.safetensors")
		f, _ := qm.File()
		f.Int8["rnn.weight_hh_l0"].Data = append([]int8(nil), f.Int8["rnn.weight_hh_l0"].Data...) // not the model's own
		c.edit(f)
		if err := checkpoint.Write(bad, f); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
