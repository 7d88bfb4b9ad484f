package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// quantCase is one recurrent layer configuration for the int8 tests.
type quantCase struct {
	name string
	make func(rng *tensor.RNG) (Recurrent, error)
}

func quantCases() []quantCase {
	const I, H = 24, 40
	return []quantCase{
		{"lstm", func(rng *tensor.RNG) (Recurrent, error) {
			return NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H}, rng)
		}},
		{"lstm-stacked-bidirectional", func(rng *tensor.RNG) (Recurrent, error) {
			return NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: 2, Bidirectional: true}, rng)
		}},
		{"lstm-proj-peephole", func(rng *tensor.RNG) (Recurrent, error) {
			return NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, ProjSize: 16, Peephole: true, NumLayers: 2}, rng)
		}},
		{"gru-stacked", func(rng *tensor.RNG) (Recurrent, error) {
			return NewGRU(GRUConfig{InputSize: I, HiddenSize: H, NumLayers: 2}, rng)
		}},
		{"gru-bidirectional", func(rng *tensor.RNG) (Recurrent, error) {
			return NewGRU(GRUConfig{InputSize: I, HiddenSize: H, Bidirectional: true}, rng)
		}},
		{"rnn-tanh", func(rng *tensor.RNG) (Recurrent, error) {
			return NewRNN(RNNConfig{InputSize: I, HiddenSize: H, NumLayers: 2}, rng)
		}},
		{"rnn-relu", func(rng *tensor.RNG) (Recurrent, error) {
			return NewRNN(RNNConfig{InputSize: I, HiddenSize: H, Nonlinearity: "relu"}, rng)
		}},
	}
}

// quantTol is the largest difference allowed between an int8 layer's
// outputs and states and the float32 layer's at these sizes (inputs in
// [-1, 1], PyTorch's initialization): per-row 8-bit quantization of
// weights and activations keeps the pre-activations to 2-3 significant
// digits; the largest differences seen are about half of it (an RNN,
// whose h is its pre-activation).
const quantTol = 0.015

// maxAbsDiff is the largest |a − b| over equal-length slices.
func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// quantRun is one run of a layer of quantCases and its quantized copy q
// on input x (with lengths, or nil).
type quantRun struct {
	name    string
	B       int
	l, q    Recurrent
	x       *Var
	lengths []int
}

// eachQuantRun quantizes each layer of quantCases in format kind and
// calls f with the same random input on a batch of one, a small batch
// with lengths, and a batch large enough for two row groups.
func eachQuantRun(t *testing.T, kind QuantKind, f func(r quantRun)) {
	t.Helper()
	for _, c := range quantCases() {
		rng := tensor.NewRNG(7)
		l, err := c.make(rng)
		if err != nil {
			t.Fatal(err)
		}
		q, err := QuantizeAs(l, kind)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, B := range []int{1, 3, 9} {
			r := quantRun{name: c.name, B: B, l: l, q: q, x: randVar(rng, 11, B, 24)}
			if B == 3 {
				r.lengths = []int{11, 4, 9}
			}
			f(r)
		}
	}
}

// TestQuantizedRecurrentMatchesFloat runs each layer and its int8 copy on
// the same input (eachQuantRun) and compares outputs and final states;
// the int8 path must also differ from float (it is not the float path in
// disguise).
func TestQuantizedRecurrentMatchesFloat(t *testing.T) {
	eachQuantRun(t, QuantInt8, func(r quantRun) {
		yf, sf := r.l.Forward(nil, r.x, r.lengths, nil)
		yq, sq := r.q.Forward(nil, r.x, r.lengths, nil)
		d := max(maxAbsDiff(yf.Value.Data, yq.Value.Data), maxAbsDiff(sf.H.Value.Data, sq.H.Value.Data))
		if sf.C != nil {
			d = max(d, maxAbsDiff(sf.C.Value.Data, sq.C.Value.Data))
		}
		if d > quantTol || d == 0 {
			t.Errorf("%s B=%d: int8 differs from float32 by %g, want in (0, %g]", r.name, r.B, d, quantTol)
		}
	})
}

// TestQuantizedRoundTrip checks that the copy's float weights are the
// dequantized int8 ones, within scale/2 of the originals, that the other
// parameters are copied unchanged, and that the original is untouched.
func TestQuantizedRoundTrip(t *testing.T) {
	rng := tensor.NewRNG(3)
	l, _ := NewLSTM(LSTMConfig{InputSize: 5, HiddenSize: 8, NumLayers: 2, Bidirectional: true}, rng)
	before := make([][]float32, len(l.Params()))
	for i, p := range l.Params() {
		before[i] = append([]float32(nil), p.Value.Data...)
	}
	q, err := Quantize(l)
	if err != nil {
		t.Fatal(err)
	}
	ws := QuantWeights(q)
	if len(ws) != 8 || QuantWeights(l) != nil {
		t.Fatalf("QuantWeights: %d int8 weights in the copy (want 8), %d in the original (want 0)", len(ws), len(QuantWeights(l)))
	}
	for i, p := range q.Params() {
		orig := l.Params()[i]
		if p.Name != orig.Name || maxAbsDiff(orig.Value.Data, before[i]) != 0 {
			t.Fatalf("param %d: name %q vs %q, or the original changed", i, p.Name, orig.Name)
		}
		w, isQ := ws[p.Name]
		if !isQ {
			if maxAbsDiff(p.Value.Data, orig.Value.Data) != 0 {
				t.Errorf("%s: float parameter changed by Quantize", p.Name)
			}
			continue
		}
		for j, v := range p.Value.Data {
			n := j / w.Cols
			if v != w.Scale[n]*float32(w.Q[j]) {
				t.Fatalf("%s[%d] = %v, not the dequantized %v·%d", p.Name, j, v, w.Scale[n], w.Q[j])
			}
			if d := math.Abs(float64(v) - float64(orig.Value.Data[j])); d > float64(w.Scale[n])/2*(1+1e-6) {
				t.Fatalf("%s[%d]: |%v − %v| = %g > scale/2 = %g", p.Name, j, v, orig.Value.Data[j], d, w.Scale[n]/2)
			}
		}
	}
}

// TestSetQuantizedGiven loads a quantized layer's int8 weights into a
// fresh layer (what a model file's reader does) and checks the outputs
// are the same bits.
func TestSetQuantizedGiven(t *testing.T) {
	rng := tensor.NewRNG(5)
	l, _ := NewGRU(GRUConfig{InputSize: 6, HiddenSize: 20, NumLayers: 2}, rng)
	q, _ := Quantize(l)
	fresh, _ := NewGRU(GRUConfig{InputSize: 6, HiddenSize: 20, NumLayers: 2}, tensor.NewRNG(99))
	for i, p := range fresh.Params() {
		if !IsQuantWeight(p.Name) {
			copy(p.Value.Data, q.Params()[i].Value.Data)
		}
	}
	if err := SetQuantized(fresh, QuantWeights(q)); err != nil {
		t.Fatal(err)
	}
	x := randVar(rng, 7, 2, 6)
	a, _ := q.Forward(nil, x, nil, nil)
	b, _ := fresh.Forward(nil, x, nil, nil)
	if d := maxAbsDiff(a.Value.Data, b.Value.Data); d != 0 {
		t.Errorf("a layer given the int8 weights differs by %g", d)
	}
}

// TestQuantizedLinear compares an int8 Linear with the float one, with
// and without bias, on a (T, B, In) input; with a tape the copy computes
// in float32 on the dequantized weights.
func TestQuantizedLinear(t *testing.T) {
	rng := tensor.NewRNG(11)
	for _, bias := range []bool{true, false} {
		l := NewLinear(33, 21, bias, rng)
		q, err := Quantize(l)
		if err != nil {
			t.Fatal(err)
		}
		x := randVar(rng, 4, 3, 33)
		yf := l.Forward(nil, x)
		yq := q.Forward(nil, x)
		if d := maxAbsDiff(yf.Value.Data, yq.Value.Data); d > quantTol || d == 0 {
			t.Errorf("bias %v: int8 Linear differs by %g, want in (0, %g]", bias, d, quantTol)
		}
		if fmt.Sprint(yq.Value.Shape) != "[4 3 21]" {
			t.Errorf("shape %v", yq.Value.Shape)
		}
		var tp Tape
		yt := q.Forward(&tp, x)
		if d := maxAbsDiff(yt.Value.Data, yq.Value.Data); d > quantTol || d == 0 {
			t.Errorf("bias %v: the taped (float) forward differs from int8 by %g", bias, d)
		}
	}
}

// TestQuantizeErrors checks the errors for a layer with no int8 form, a
// given weight of the wrong shape, a bad scale and a non-finite weight.
func TestQuantizeErrors(t *testing.T) {
	rng := tensor.NewRNG(1)
	if _, err := Quantize(NewEmbedding(5, 3, -1, rng)); err == nil || !strings.Contains(err.Error(), "no int8 form") {
		t.Errorf("Embedding: %v", err)
	}
	l := NewLinear(4, 3, true, rng)
	bad := map[string]*QuantWeight{"weight": {Rows: 3, Cols: 5, Q: make([]int8, 15), Scale: []float32{1, 1, 1}}}
	if err := SetQuantized(l, bad); err == nil || !strings.Contains(err.Error(), "(3, 5)") {
		t.Errorf("wrong shape: %v", err)
	}
	bad["weight"] = &QuantWeight{Rows: 3, Cols: 4, Q: make([]int8, 12), Scale: []float32{1, 0, 1}}
	if err := SetQuantized(l, bad); err == nil || !strings.Contains(err.Error(), "scale[1]") {
		t.Errorf("zero scale: %v", err)
	}
	l.Weight.Value.Data[2] = float32(math.Inf(1))
	if _, err := Quantize(l); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("infinite weight: %v", err)
	}
}

// TestQuantizedConcurrent runs one int8 and one bf16 layer from several
// goroutines at once (the server's case); each call must give the serial
// call's bits.
func TestQuantizedConcurrent(t *testing.T) {
	for _, kind := range []QuantKind{QuantInt8, QuantBF16} {
		rng := tensor.NewRNG(13)
		l, _ := NewLSTM(LSTMConfig{InputSize: 8, HiddenSize: 32, Bidirectional: true}, rng)
		q, _ := QuantizeAs(l, kind)
		if err := concurrentSameBits(q, rng); err != nil {
			t.Errorf("%v: %v", kind, err)
		}
	}
}

// concurrentSameBits runs q on four inputs from as many goroutines, 20
// times each, and reports a call that differs from the serial one.
func concurrentSameBits(q Recurrent, rng *tensor.RNG) error {
	xs := make([]*Var, 4)
	want := make([][]float32, len(xs))
	for i := range xs {
		xs[i] = randVar(rng, 9, 1+i, 8)
		y, _ := q.Forward(nil, xs[i], nil, nil)
		want[i] = y.Value.Data
	}
	done := make(chan error, len(xs))
	for i := range xs {
		go func() {
			for range 20 {
				y, _ := q.Forward(nil, xs[i], nil, nil)
				if d := maxAbsDiff(y.Value.Data, want[i]); d != 0 {
					done <- fmt.Errorf("input %d: a concurrent call differs by %g", i, d)
					return
				}
			}
			done <- nil
		}()
	}
	var first error
	for range xs {
		if err := <-done; err != nil && first == nil {
			first = err
		}
	}
	return first
}
