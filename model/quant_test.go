package model

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/nn"
)

// TestQuantizeClassifier quantizes a trained bidirectional classifier,
// saves and loads it, and checks: the file holds int8 weights with row
// scales and the spec says int8; the loaded model predicts the same bits
// as the quantized one in memory; the probabilities stay near the float
// model's; Fit refuses it; the original is unchanged.
func TestQuantizeClassifier(t *testing.T) {
	cl, l := trainedClassifier(t)
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
	if n, params := describeDType(f, "I8"); n != 9 || params != cl.NumParams() {
		t.Errorf("Describe: %d I8 tensors (want 9), %d parameters (the float32 model has %d)", n, params, cl.NumParams())
	}
	got := checkQuantCopy(t, cl, qm, l, 0.02)
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

// TestQuantizeBF16Classifier makes a bf16 copy of a trained bidirectional
// two-layer classifier and checks: the file holds the nine weights as
// BF16 tensors without scales and the spec says bf16; Describe lists
// them; the loaded model predicts the same bits as the copy in memory;
// the probabilities stay near the float model's; InitFrom reads the file
// into a float32 model; Fit refuses it.
func TestQuantizeBF16Classifier(t *testing.T) {
	cl, l := trainedClassifier(t)
	qm, err := QuantizeAs(cl, nn.QuantBF16)
	if err != nil {
		t.Fatal(err)
	}
	f, err := qm.File()
	if err != nil {
		t.Fatal(err)
	}
	if qm.Spec().Quantize != QuantBF16 || len(f.BF16) != 9 || len(f.Int8) != 0 || f.Tensors["head.weight"+ScaleSuffix] != nil {
		t.Fatalf("spec %q, %d bf16 tensors %v, %d int8, scales %v", qm.Spec().Quantize, len(f.BF16), f.BF16Names(), len(f.Int8), f.Tensors["head.weight"+ScaleSuffix])
	}
	if n, params := describeDType(f, "BF16"); n != 9 || params != cl.NumParams() {
		t.Errorf("Describe: %d BF16 tensors (want 9), %d parameters (want %d)", n, params, cl.NumParams())
	}
	checkQuantCopy(t, cl, qm, l, 0.01)
}

// trainedClassifier returns a bidirectional two-layer classifier trained
// for three epochs on its sentiment texts, and the texts.
func trainedClassifier(t *testing.T) (*Classifier, *text.Labelled) {
	t.Helper()
	cl, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 16, Bidirectional: true, Layers: 2}, Fit: fit(3)})
	if err != nil {
		t.Fatal(err)
	}
	l := sentiment(60, 1)
	if _, err := cl.Fit(context.Background(), l, nil); err != nil {
		t.Fatal(err)
	}
	return cl, l
}

// describeDType returns the number of tensors of dtype that Describe
// lists for f, and its count of parameters.
func describeDType(f *checkpoint.File, dtype string) (n, params int) {
	d := Describe(f)
	for _, ti := range d.Tensors {
		if ti.DType == dtype {
			n++
		}
	}
	return n, d.Parameters
}

// checkQuantCopy checks qm, a quantized copy of the trained classifier
// cl, on l's texts: a reload of its file predicts the same bits as qm;
// the probabilities differ from cl's, by at most tol; InitFrom its file
// gives a float32 model qm's (dequantized) values; Fit refuses the
// reloaded model, which it returns.
func checkQuantCopy(t *testing.T, cl *Classifier, qm Model, l *text.Labelled, tol float64) *Classifier {
	t.Helper()
	want, _ := cl.Predict(context.Background(), l.Texts)
	mem, _ := qm.(*Classifier).Predict(context.Background(), l.Texts)
	got := reload[*Classifier](t, qm)
	back, err := got.Predict(context.Background(), l.Texts)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range want {
		for k, p := range back[i].Probabilities {
			if p != mem[i].Probabilities[k] {
				t.Fatalf("text %d: loaded %s model %v, in memory %v", i, qm.Spec().Quantize, back[i].Probabilities, mem[i].Probabilities)
			}
			worst = max(worst, math.Abs(float64(p-want[i].Probabilities[k])))
		}
	}
	if worst > tol || worst == 0 {
		t.Errorf("%s probabilities differ from float32 by up to %g, want in (0, %g]", qm.Spec().Quantize, worst, tol)
	}
	f, err := qm.File()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := NewClassifier(ClassifyConfig{Spec: cl.Spec(), Fit: fit(1)})
	if err := fresh.build(cl.Spec(), 5); err != nil {
		t.Fatal(err)
	}
	if tr, err := fresh.InitFrom(f); err != nil || len(tr.Fresh) != 0 {
		t.Fatalf("InitFrom a %s file: %v, fresh %v", qm.Spec().Quantize, err, tr)
	}
	for i, p := range fresh.Params() {
		if d := maxDiff(p.Value.Data, qm.Params()[i].Value.Data); d != 0 {
			t.Errorf("InitFrom: %s differs from the %s model's value by %g", p.Name, qm.Spec().Quantize, d)
		}
	}
	got.cfg.Fit = cl.cfg.Fit // a loaded model has no training configuration
	if _, err := got.Fit(context.Background(), l, nil); !errors.Is(err, errQuantized) {
		t.Errorf("Fit of a %s model: %v", qm.Spec().Quantize, err)
	}
	return got
}

// TestBF16FileChecked checks that Check refuses a bf16 file whose
// tensors are missing, misshapen, not finite or also float32, and a
// float or int8 spec over bf16 tensors.
func TestBF16FileChecked(t *testing.T) {
	cl, _ := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 4, Hidden: 8}, Fit: fit(1)})
	if _, err := cl.Fit(context.Background(), sentiment(20, 2), nil); err != nil {
		t.Fatal(err)
	}
	qm, err := QuantizeAs(cl, nn.QuantBF16)
	if err != nil {
		t.Fatal(err)
	}
	if good, _ := qm.File(); Check("q", good) != nil {
		t.Fatalf("a good bf16 file: %v", Check("q", good))
	}
	respec := func(to string) func(f *checkpoint.File) {
		return func(f *checkpoint.File) {
			f.Metadata[MetaSpec] = strings.Replace(f.Metadata[MetaSpec], `"quantize":"bf16"`, to, 1)
		}
	}
	for _, c := range []struct {
		name string
		edit func(f *checkpoint.File)
		want string
	}{
		{"missing", func(f *checkpoint.File) { delete(f.BF16, "rnn.weight_ih_l0") }, `bf16 tensor "rnn.weight_ih_l0" is missing`},
		{"misshapen", func(f *checkpoint.File) { f.BF16["head.weight"].Shape = []int{1, 16} }, `bf16 tensor "head.weight": shape`},
		{"not finite", func(f *checkpoint.File) {
			f.BF16["head.weight"] = &checkpoint.BF16Tensor{Shape: f.BF16["head.weight"].Shape, Data: append([]uint16{0xff80}, f.BF16["head.weight"].Data[1:]...)}
		}, "value 0 is not finite"},
		{"also float32", func(f *checkpoint.File) { f.Tensors["head.weight"] = f.BF16["head.weight"].Float32() }, "both bf16 and float32"},
		{"float spec", respec(`"quantize":""`), `tensor "rnn.weight_ih_l0" is missing`},
		{"int8 spec", respec(`"quantize":"int8"`), `int8 tensor`},
	} {
		f, _ := qm.File()
		c.edit(f)
		if err := Check("q", f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
