package nn

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// bf16Step runs one training forward and backward of a two-layer
// bidirectional LSTM (variable lengths, batch 16) under a Linear head on a
// tape of precision p, from parameters seeded alike, and returns the loss
// Σ y·c and every parameter's gradient, concatenated.
func bf16Step(t *testing.T, p Precision) (loss float64, grads []float32) {
	t.Helper()
	const T, B, I, H, O = 12, 16, 24, 40, 10
	rng := tensor.NewRNG(7)
	l, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: 2, Bidirectional: true}, rng)
	if err != nil {
		t.Fatal(err)
	}
	head := NewLinear(2*H, O, true, rng)
	x := tensor.New(T, B, I)
	rng.FillUniform(x, -1, 1)
	c := tensor.New(T, B, O)
	rng.FillUniform(c, -1, 1)
	lengths := []int{12, 3, 12, 7, 12, 12, 1, 9, 12, 12, 5, 12, 11, 12, 2, 12}
	tp := &Tape{Precision: p}
	y, _ := l.Forward(tp, NewVar(x), lengths, nil)
	out := head.Forward(tp, y)
	for i, v := range out.Value.Data {
		loss += float64(v) * float64(c.Data[i])
	}
	tp.Backward(out, c)
	for _, q := range append(l.Params(), head.Params()...) {
		grads = append(grads, q.Grad.Data...)
	}
	return loss, grads
}

// TestBF16TrainingStepCloseToFP32: a BF16 tape's loss is within 1% of the
// float32 one's and its gradients within 1% (relative L2 norm), and on a
// CPU with AVX512_BF16 it does compute something else (the bfloat16
// products run).
func TestBF16TrainingStepCloseToFP32(t *testing.T) {
	l32, g32 := bf16Step(t, FP32)
	l16, g16 := bf16Step(t, BF16)
	if d := math.Abs(l16-l32) / math.Abs(l32); d > 0.01 {
		t.Errorf("loss %g with bf16, %g with fp32: relative difference %.3g > 1%%", l16, l32, d)
	}
	var num, den float64
	same := true
	for i := range g32 {
		d := float64(g16[i] - g32[i])
		num += d * d
		den += float64(g32[i]) * float64(g32[i])
		same = same && g16[i] == g32[i]
	}
	if r := math.Sqrt(num / den); r > 0.01 {
		t.Errorf("gradients: relative L2 difference %.3g between bf16 and fp32 > 1%%", r)
	} else {
		t.Logf("loss difference %.2e relative, gradients %.2e relative L2", math.Abs(l16-l32)/math.Abs(l32), r)
	}
	if kernel.HasBF16() && same {
		t.Error("a BF16 tape gave the float32 gradients bit for bit on a CPU with AVX512_BF16: the bfloat16 products did not run")
	}
}

// TestBF16FallsBackToFP32: without AVX512_BF16 (forced off) a BF16 tape
// says it runs FP32 and gives the float32 results bit for bit.
func TestBF16FallsBackToFP32(t *testing.T) {
	was := kernel.SetBF16(false)
	defer kernel.SetBF16(was)
	if got := BF16.Effective(); got != FP32 {
		t.Fatalf("BF16.Effective() = %v without AVX512_BF16, want fp32", got)
	}
	l32, g32 := bf16Step(t, FP32)
	l16, g16 := bf16Step(t, BF16)
	if l16 != l32 {
		t.Errorf("loss %g on a BF16 tape without AVX512_BF16, %g on an FP32 one", l16, l32)
	}
	for i := range g32 {
		if math.Float32bits(g16[i]) != math.Float32bits(g32[i]) {
			t.Fatalf("gradient %d: %g on a BF16 tape without AVX512_BF16, %g on an FP32 one", i, g16[i], g32[i])
		}
	}
}

func TestParsePrecision(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Precision
		ok   bool
	}{{"", FP32, true}, {"fp32", FP32, true}, {"float32", FP32, true}, {"bf16", BF16, true}, {"bfloat16", BF16, true}, {"fp16", FP32, false}} {
		got, err := ParsePrecision(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParsePrecision(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	if BF16.String() != "bf16" || FP32.String() != "fp32" {
		t.Errorf("String: %q %q", BF16, FP32)
	}
}
