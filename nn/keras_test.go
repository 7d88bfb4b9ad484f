package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func randT(rng *tensor.RNG, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	rng.FillUniform(t, -1, 1)
	return t
}

// kerasLSTMStep is Keras' LSTM cell written out: z = x K + h U + b,
// gates i, f, c, o in that column order.
func kerasLSTMStep(x, h, c []float64, K, U, b *tensor.Tensor) ([]float64, []float64) {
	H := len(h)
	G := 4 * H
	z := make([]float64, G)
	for g := 0; g < G; g++ {
		for i, v := range x {
			z[g] += float64(K.Data[i*G+g]) * v
		}
		for i, v := range h {
			z[g] += float64(U.Data[i*G+g]) * v
		}
		z[g] += float64(b.Data[g])
	}
	h1, c1 := make([]float64, H), make([]float64, H)
	for j := 0; j < H; j++ {
		i, f, cc, o := sig64(z[j]), sig64(z[H+j]), math.Tanh(z[2*H+j]), sig64(z[3*H+j])
		c1[j] = f*c[j] + i*cc
		h1[j] = o * math.Tanh(c1[j])
	}
	return h1, c1
}

// kerasGRUStep is Keras' reset_after=True GRU cell: columns z, r, h;
// bias rows [input; recurrent].
func kerasGRUStep(x, h []float64, K, U, b *tensor.Tensor) []float64 {
	H := len(h)
	G := 3 * H
	mx, mh := make([]float64, G), make([]float64, G)
	for g := 0; g < G; g++ {
		for i, v := range x {
			mx[g] += float64(K.Data[i*G+g]) * v
		}
		for i, v := range h {
			mh[g] += float64(U.Data[i*G+g]) * v
		}
		mx[g] += float64(b.Data[g])
		mh[g] += float64(b.Data[G+g])
	}
	h1 := make([]float64, H)
	for j := 0; j < H; j++ {
		z := sig64(mx[j] + mh[j])
		r := sig64(mx[H+j] + mh[H+j])
		hh := math.Tanh(mx[2*H+j] + r*mh[2*H+j])
		h1[j] = z*h[j] + (1-z)*hh
	}
	return h1
}

func TestKerasLSTMConversion(t *testing.T) {
	const I, H, T = 3, 4, 5
	rng := tensor.NewRNG(9)
	K, U, b := randT(rng, I, 4*H), randT(rng, H, 4*H), randT(rng, 4*H)
	w, err := FromKerasLSTM(K, U, b)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetTorchWeights(l.Params(), "_l0", w); err != nil {
		t.Fatal(err)
	}
	x := randT(rng, T, 1, I)
	out, _ := l.Forward(nil, NewVar(x), nil, nil)
	h, c := make([]float64, H), make([]float64, H)
	for tt := 0; tt < T; tt++ {
		h, c = kerasLSTMStep(f64(x.Data[tt*I:(tt+1)*I]), h, c, K, U, b)
		if err := compare64("keras LSTM h", out.Value.Data[tt*H:(tt+1)*H], h, 1e-5); err != nil {
			t.Errorf("step %d: %v", tt, err)
		}
	}
	// Round trip: back to Keras gives the same kernels and the bias sum.
	K2, U2, b2, err := ToKerasLSTM(w)
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, "LSTM", [3]*tensor.Tensor{K2, U2, b2}, [3]*tensor.Tensor{K, U, b})
}

func TestKerasGRUConversion(t *testing.T) {
	const I, H, T = 2, 3, 4
	rng := tensor.NewRNG(10)
	K, U, b := randT(rng, I, 3*H), randT(rng, H, 3*H), randT(rng, 2, 3*H)
	w, err := FromKerasGRU(K, U, b)
	if err != nil {
		t.Fatal(err)
	}
	kerasGRUCase{I: I, H: H, T: T, step: func(x, h []float64) []float64 { return kerasGRUStep(x, h, K, U, b) }}.check(t, w, rng)
	K2, U2, b2, err := ToKerasGRU(w)
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, "GRU", [3]*tensor.Tensor{K2, U2, b2}, [3]*tensor.Tensor{K, U, b})
}

// kerasGRUv1Step is Keras' reset_after=False GRU cell: columns z, r, h,
// one bias, r applied to h before the recurrent kernel.
func kerasGRUv1Step(x, h []float64, K, U, b *tensor.Tensor) []float64 {
	H := len(h)
	G := 3 * H
	mx := make([]float64, G)
	for g := 0; g < G; g++ {
		for i, v := range x {
			mx[g] += float64(K.Data[i*G+g]) * v
		}
		mx[g] += float64(b.Data[g])
	}
	rec := func(g int, hv []float64) float64 {
		s := 0.0
		for i, v := range hv {
			s += float64(U.Data[i*G+g]) * v
		}
		return s
	}
	z, r := make([]float64, H), make([]float64, H)
	for j := 0; j < H; j++ {
		z[j] = sig64(mx[j] + rec(j, h))
		r[j] = sig64(mx[H+j] + rec(H+j, h))
	}
	rh := make([]float64, H)
	for j := range rh {
		rh[j] = r[j] * h[j]
	}
	h1 := make([]float64, H)
	for j := 0; j < H; j++ {
		hh := math.Tanh(mx[2*H+j] + rec(2*H+j, rh))
		h1[j] = z[j]*h[j] + (1-z[j])*hh
	}
	return h1
}

func TestKerasGRUResetBeforeConversion(t *testing.T) {
	const I, H, T = 3, 4, 5
	rng := tensor.NewRNG(12)
	K, U, b := randT(rng, I, 3*H), randT(rng, H, 3*H), randT(rng, 3*H)
	if _, err := FromKerasGRU(K, U, b); err == nil || !strings.Contains(err.Error(), "FromKerasGRUResetBefore") {
		t.Errorf("FromKerasGRU of a (3H) bias: %v, want a pointer to FromKerasGRUResetBefore", err)
	}
	w, err := FromKerasGRUResetBefore(K, U, b)
	if err != nil {
		t.Fatal(err)
	}
	kerasGRUCase{I: I, H: H, T: T, resetBefore: true, step: func(x, h []float64) []float64 { return kerasGRUv1Step(x, h, K, U, b) }}.check(t, w, rng)
}

// kerasGRUCase is a GRU of I inputs and H units run over T random steps,
// compared at each with a Keras cell's step.
type kerasGRUCase struct {
	I, H, T     int
	resetBefore bool
	step        func(x, h []float64) []float64
}

// check runs a GRU with weights w and compares each step's h.
func (c kerasGRUCase) check(t *testing.T, w TorchWeights, rng *tensor.RNG) {
	t.Helper()
	g, err := NewGRU(GRUConfig{InputSize: c.I, HiddenSize: c.H, ResetBefore: c.resetBefore}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetTorchWeights(g.Params(), "_l0", w); err != nil {
		t.Fatal(err)
	}
	x := randT(rng, c.T, 1, c.I)
	out, _ := g.Forward(nil, NewVar(x), nil, nil)
	h := make([]float64, c.H)
	for tt := 0; tt < c.T; tt++ {
		h = c.step(f64(x.Data[tt*c.I:(tt+1)*c.I]), h)
		if err := compare64("keras GRU h", out.Value.Data[tt*c.H:(tt+1)*c.H], h, 1e-5); err != nil {
			t.Errorf("step %d: %v", tt, err)
		}
	}
}

func TestKerasSimpleRNNConversion(t *testing.T) {
	const I, H, T = 3, 4, 5
	rng := tensor.NewRNG(12)
	K, U, b := randT(rng, I, H), randT(rng, H, H), randT(rng, H)
	w, err := FromKerasSimpleRNN(K, U, b)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRNN(RNNConfig{InputSize: I, HiddenSize: H}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetTorchWeights(r.Params(), "_l0", w); err != nil {
		t.Fatal(err)
	}
	x := randT(rng, T, 1, I)
	out, _ := r.Forward(nil, NewVar(x), nil, nil)
	h := make([]float64, H)
	for tt := 0; tt < T; tt++ {
		// Keras SimpleRNN: h = tanh(x K + h U + b).
		nh := make([]float64, H)
		for j := 0; j < H; j++ {
			v := float64(b.Data[j])
			for i := 0; i < I; i++ {
				v += float64(x.Data[tt*I+i]) * float64(K.Data[i*H+j])
			}
			for i := 0; i < H; i++ {
				v += h[i] * float64(U.Data[i*H+j])
			}
			nh[j] = math.Tanh(v)
		}
		h = nh
		if err := compare64("keras SimpleRNN h", out.Value.Data[tt*H:(tt+1)*H], h, 1e-5); err != nil {
			t.Errorf("step %d: %v", tt, err)
		}
	}
	K2, U2, b2, err := ToKerasSimpleRNN(w)
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, "SimpleRNN", [3]*tensor.Tensor{K2, U2, b2}, [3]*tensor.Tensor{K, U, b})
	if _, err := FromKerasSimpleRNN(K, randT(rng, H, H+1), nil); err == nil {
		t.Error("FromKerasSimpleRNN with a (4, 5) recurrent kernel: got no error")
	}
}

func TestKerasConversionErrors(t *testing.T) {
	rng := tensor.NewRNG(1)
	if _, err := FromKerasLSTM(randT(rng, 3, 10), randT(rng, 2, 10), nil); err == nil {
		t.Error("FromKerasLSTM with width 10: got no error")
	}
	if _, err := FromKerasLSTM(randT(rng, 3, 8), randT(rng, 3, 8), nil); err == nil {
		t.Error("FromKerasLSTM with recurrent (3, 8) for 2 units: got no error")
	}
	if _, err := FromKerasGRU(randT(rng, 3, 6), randT(rng, 2, 6), randT(rng, 6)); err == nil {
		t.Error("FromKerasGRU with a reset_after=False bias: got no error")
	}
	l, _ := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: 2}, rng)
	w, _ := FromKerasLSTM(randT(rng, 3, 8), randT(rng, 2, 8), nil)
	if err := SetTorchWeights(l.Params(), "_l0", w); err == nil {
		t.Error("SetTorchWeights without biases into a biased layer: got no error")
	}
	if err := SetTorchWeights(l.Params(), "_l1", w); err == nil {
		t.Error("SetTorchWeights into a missing layer: got no error")
	}
	// A container's prefix does not get in the way.
	c := NewLSTMCell(3, 2, false, rng)
	if err := SetTorchWeights(Prefix("decoder.cell", c.Params()), "", w); err != nil {
		t.Errorf("SetTorchWeights into prefixed cell params: %v", err)
	}
	if !same(c.Params()[0].Value.Data, w.WeightIH.Data) {
		t.Error("SetTorchWeights did not copy weight_ih into the prefixed cell")
	}
}

// checkRoundTrip compares kernel, recurrent kernel and bias after a
// Keras -> PyTorch -> Keras round trip.
func checkRoundTrip(t *testing.T, layer string, got, want [3]*tensor.Tensor) {
	t.Helper()
	for i, name := range []string{"kernel", "recurrent_kernel", "bias"} {
		if !tensor.SameShape(got[i], want[i]) || !same(got[i].Data, want[i].Data) {
			t.Errorf("Keras %s round trip: %s differs", layer, name)
		}
	}
}
