package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestRegularizerGradients checks the training-mode gradients with every
// recurrent regularizer on against central differences, replaying the same
// masks by restoring the layer's RNG before each forward.
func TestRegularizerGradients(t *testing.T) {
	regs := []struct {
		name string
		cfg  LSTMConfig
	}{
		{"input_dropout", LSTMConfig{InputDropout: 0.3}},
		{"recurrent_dropout", LSTMConfig{RecurrentDropout: 0.3}},
		{"weight_drop", LSTMConfig{WeightDrop: 0.3}},
		{"zoneout", LSTMConfig{Zoneout: 0.3}},
		{"layer_dropout", LSTMConfig{Dropout: 0.4}},
		{"all", LSTMConfig{InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.2, Zoneout: 0.2, Dropout: 0.2}},
	}
	for _, kind := range []cellKind{kindLSTM, kindGRU, kindRNNTanh} {
		for _, rg := range regs {
			t.Run(fmt.Sprintf("%v/%s", kind, rg.name), func(t *testing.T) {
				cfg := rg.cfg
				cfg.InputSize, cfg.HiddenSize, cfg.NumLayers, cfg.Bidirectional = 2, 3, 2, true
				if kind == kindLSTM {
					cfg.ProjSize = 2
				}
				r, err := newRNNCore(cfg.opts(kind), tensor.NewRNG(3))
				if err != nil {
					t.Fatal(err)
				}
				checkTrainingGrad(t, r, 4, 3, []int{4, 2, 3})
			})
		}
	}
}

func checkTrainingGrad(t *testing.T, r *rnnCore, T, B int, lengths []int) {
	rng := tensor.NewRNG(11)
	L, D, H, Ho := r.layers, r.dirs, r.hidden, r.ho()
	x := NewVar(tensor.New(T, B, r.in))
	rng.FillUniform(x.Value, -1, 1)
	h0 := &State{H: NewVar(tensor.New(L*D, B, Ho))}
	rng.FillUniform(h0.H.Value, -1, 1)
	if r.kind == kindLSTM {
		h0.C = NewVar(tensor.New(L*D, B, H))
		rng.FillUniform(h0.C.Value, -1, 1)
	}
	snap, err := r.rng.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	run := func(tp *Tape) []*Var {
		if err := r.rng.UnmarshalBinary(snap); err != nil {
			t.Fatal(err)
		}
		out, st := r.forward(tp, x, lengths, h0)
		vs := []*Var{out, st.H}
		if st.C != nil {
			vs = append(vs, st.C)
		}
		return vs
	}
	// The masks act in training, and Eval equals inference.
	train := run(&Tape{})
	eval := run(&Tape{Eval: true})
	inf := run(nil)
	if same(train[0].Value.Data, eval[0].Value.Data) {
		t.Errorf("training output equals Eval output: regularizers had no effect")
	}
	if !same(eval[0].Value.Data, inf[0].Value.Data) {
		t.Errorf("Eval output differs from inference output")
	}
	wr := tensor.NewRNG(5)
	weights := make([][]float64, len(train))
	for k, v := range train {
		weights[k] = make([]float64, len(v.Value.Data))
		for i := range weights[k] {
			weights[k][i] = wr.Uniform(-1, 1)
		}
	}
	loss := func(vs []*Var) float64 {
		var s float64
		for k, v := range vs {
			for i, e := range v.Value.Data {
				s += float64(e) * weights[k][i]
			}
		}
		return s
	}
	ZeroGrad(r.params)
	tp := &Tape{}
	vs := run(tp)
	for k, v := range vs {
		g := v.G()
		for i := range g.Data {
			g.Data[i] = float32(weights[k][i])
		}
	}
	tp.Backward(vs[0], tensor.New(vs[0].Value.Shape...))
	const eps = 3e-3
	check := func(name string, v *Var) {
		bad := 0
		for i := range v.Value.Data {
			old := v.Value.Data[i]
			v.Value.Data[i] = old + eps
			lp := loss(run(&Tape{}))
			v.Value.Data[i] = old - eps
			lm := loss(run(&Tape{}))
			v.Value.Data[i] = old
			num := (lp - lm) / (2 * eps)
			a := float64(v.Grad.Data[i])
			if math.Abs(a-num) > 3e-3+2e-2*math.Max(math.Abs(a), math.Abs(num)) {
				if bad < 3 {
					t.Errorf("d loss/d %s[%d]: got %.6g (tape) want %.6g (central difference)", name, i, a, num)
				}
				bad++
			}
		}
	}
	check("input", x)
	check("h0", h0.H)
	if h0.C != nil {
		check("c0", h0.C)
	}
	for _, p := range r.params {
		check(p.Name, &p.Var)
	}
}

func same(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestInputDropoutIsVariational checks that the input-dropout mask is one
// per sequence and feature: an input feature of a sequence either gets
// gradient at every valid step or at none.
func TestInputDropoutIsVariational(t *testing.T) {
	const T, B, I = 6, 4, 8
	l, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: 3, InputDropout: 0.5}, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	x := NewVar(tensor.New(T, B, I))
	tensor.NewRNG(3).FillUniform(x.Value, -1, 1)
	tp := &Tape{}
	out, _ := l.Forward(tp, x, nil, nil)
	tp.Backward(out, nil)
	dropped := 0
	for b := 0; b < B; b++ {
		for i := 0; i < I; i++ {
			zeros := 0
			for tt := 0; tt < T; tt++ {
				if x.Grad.Data[(tt*B+b)*I+i] == 0 {
					zeros++
				}
			}
			if zeros != 0 && zeros != T {
				t.Errorf("sequence %d feature %d: gradient zero at %d of %d steps, want 0 or all", b, i, zeros, T)
			}
			if zeros == T {
				dropped++
			}
		}
	}
	if dropped == 0 || dropped == B*I {
		t.Errorf("%d of %d features dropped at p=0.5", dropped, B*I)
	}
}

func TestRegularizerValidation(t *testing.T) {
	for _, cfg := range []LSTMConfig{{InputDropout: -0.1}, {RecurrentDropout: 1}, {WeightDrop: 1.5}, {Zoneout: math.NaN()}} {
		cfg.InputSize, cfg.HiddenSize = 2, 3
		if _, err := NewLSTM(cfg, tensor.NewRNG(1)); err == nil {
			t.Errorf("NewLSTM with %+v: got no error", cfg)
		}
	}
	if _, err := NewGRU(GRUConfig{InputSize: 2, HiddenSize: 3, Dropout: 1}, tensor.NewRNG(1)); err == nil {
		t.Errorf("NewGRU with Dropout 1: got no error")
	}
}
