package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// bf16Tol is the largest difference allowed between a bf16 layer's
// outputs and states and the float32 layer's at quantCases' sizes (inputs
// in [-1, 1], PyTorch's initialization): rounding weights and activations
// to bfloat16 (8 significant bits) perturbs each pre-activation by about
// 2⁻⁸·sqrt(K) of its terms' size; the largest differences seen are about
// a third of it.
const bf16Tol = 0.01

// forwardAll runs l on x (with lengths) and returns its output and final
// states, one slice after another.
func forwardAll(l Recurrent, x *Var, lengths []int) []float32 {
	y, s := l.Forward(nil, x, lengths, nil)
	out := append(append([]float32(nil), y.Value.Data...), s.H.Value.Data...)
	if s.C != nil {
		out = append(out, s.C.Value.Data...)
	}
	return out
}

// TestBF16RecurrentMatchesFloat runs each layer kind (stacked,
// bidirectional, projection and peephole) and its bf16 copy on the same
// input (eachQuantRun: from 4 rows the input projections run the GEMM)
// and compares outputs and final states
// with the float32 layer's, within bf16Tol and not equal; then again with
// the AVX512_BF16 kernels off (the AVX2 emulation a Zen 3 runs), which
// must give the same bits.
func TestBF16RecurrentMatchesFloat(t *testing.T) {
	eachQuantRun(t, QuantBF16, func(r quantRun) {
		yf, yq := forwardAll(r.l, r.x, r.lengths), forwardAll(r.q, r.x, r.lengths)
		if d := maxAbsDiff(yf, yq); d > bf16Tol || d == 0 {
			t.Errorf("%s B=%d: bf16 differs from float32 by %g, want in (0, %g]", r.name, r.B, d, bf16Tol)
		}
		was := kernel.SetBF16(false)
		ye := forwardAll(r.q, r.x, r.lengths)
		kernel.SetBF16(was)
		if i := firstDiffBits(yq, ye); i >= 0 {
			t.Errorf("%s B=%d: output %d is %v with AVX512_BF16, %v without", r.name, r.B, i, yq[i], ye[i])
		}
	})
}

// firstDiffBits returns the first index where a and b differ in bits, or -1.
func firstDiffBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestBF16Weights checks that a bf16 copy's float weights are its
// bfloat16 weights' values, within 2⁻⁸ of the originals (relative), that
// a fresh layer given those weights (a model file's reader) computes the
// same bits, and that the other parameters are copied unchanged.
func TestBF16Weights(t *testing.T) {
	rng := tensor.NewRNG(5)
	cfg := GRUConfig{InputSize: 6, HiddenSize: 20, NumLayers: 2, Bidirectional: true}
	l, _ := NewGRU(cfg, rng)
	q, err := QuantizeBF16(l)
	if err != nil {
		t.Fatal(err)
	}
	ws := QuantWeights(q)
	if len(ws) != 8 {
		t.Fatalf("QuantWeights: %d weights, want 8", len(ws))
	}
	fresh, _ := NewGRU(cfg, tensor.NewRNG(99))
	for i, p := range q.Params() {
		orig := l.Params()[i].Value.Data
		w, isQ := ws[p.Name]
		switch {
		case !isQ && maxAbsDiff(p.Value.Data, orig) != 0:
			t.Errorf("%s: float parameter changed", p.Name)
		case isQ && w.Kind() != QuantBF16:
			t.Errorf("%s: kind %v", p.Name, w.Kind())
		}
		if !isQ {
			copy(fresh.Params()[i].Value.Data, p.Value.Data)
			continue
		}
		for j, v := range p.Value.Data {
			if v != kernel.FromBF16(w.BF16[j]) || math.Abs(float64(v-orig[j])) > math.Abs(float64(orig[j]))/256 {
				t.Fatalf("%s[%d] = %v: bf16 %#04x, original %v", p.Name, j, v, w.BF16[j], orig[j])
			}
		}
	}
	if err := SetQuantizedAs(fresh, ws, QuantBF16); err != nil {
		t.Fatal(err)
	}
	x := randVar(rng, 7, 2, 6)
	if d := maxAbsDiff(forwardAll(q, x, nil), forwardAll(fresh, x, nil)); d != 0 {
		t.Errorf("a layer given the bf16 weights differs by %g", d)
	}
}

// TestBF16Linear compares a bf16 Linear with the float one, with and
// without bias, on a (T, B, In) input, on both kernel paths.
func TestBF16Linear(t *testing.T) {
	rng := tensor.NewRNG(11)
	for _, bias := range []bool{true, false} {
		l := NewLinear(33, 21, bias, rng)
		q, err := QuantizeBF16(l)
		if err != nil {
			t.Fatal(err)
		}
		x := randVar(rng, 4, 3, 33)
		yf, yq := l.Forward(nil, x), q.Forward(nil, x)
		if d := maxAbsDiff(yf.Value.Data, yq.Value.Data); d > bf16Tol || d == 0 {
			t.Errorf("bias %v: bf16 Linear differs by %g, want in (0, %g]", bias, d, bf16Tol)
		}
		was := kernel.SetBF16(false)
		ye := q.Forward(nil, x)
		kernel.SetBF16(was)
		if i := firstDiffBits(yq.Value.Data, ye.Value.Data); i >= 0 {
			t.Errorf("bias %v: y[%d] is %v with AVX512_BF16, %v without", bias, i, yq.Value.Data[i], ye.Value.Data[i])
		}
	}
}

// TestBF16Errors checks the errors for given weights of the other format,
// of the wrong length, or not finite, a non-finite weight to round, and
// an unknown format name.
func TestBF16Errors(t *testing.T) {
	rng := tensor.NewRNG(1)
	l := NewLinear(4, 3, true, rng)
	q8, _ := Quantize(l)
	if err := SetQuantizedAs(NewLinear(4, 3, true, rng), QuantWeights(q8), QuantBF16); err == nil || !strings.Contains(err.Error(), "is int8") {
		t.Errorf("int8 weights for a bf16 layer: %v", err)
	}
	for _, c := range []struct {
		w    *QuantWeight
		want string
	}{
		{&QuantWeight{Rows: 3, Cols: 4, BF16: make([]uint16, 11)}, "11 values"},
		{&QuantWeight{Rows: 3, Cols: 4, BF16: append(make([]uint16, 11), 0x7f80)}, "value 11 is +Inf"},
		{&QuantWeight{Rows: 3, Cols: 5, BF16: make([]uint16, 15)}, "(3, 5)"},
	} {
		if err := SetQuantizedAs(l, map[string]*QuantWeight{"weight": c.w}, QuantBF16); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.w, err, c.want)
		}
	}
	l.Weight.Value.Data[2] = float32(math.NaN())
	if _, err := QuantizeBF16(l); err == nil || !strings.Contains(err.Error(), "weight 2 is NaN") {
		t.Errorf("NaN weight: %v", err)
	}
	if _, err := ParseQuantKind("fp8"); err == nil || !strings.Contains(err.Error(), `"fp8"`) {
		t.Errorf("ParseQuantKind(fp8): %v", err)
	}
}
