package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func stats(x []float32) (mean, std, maxAbs float64) {
	for _, v := range x {
		mean += float64(v)
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(x))), maxAbs
}

func TestInitSchemes(t *testing.T) {
	const I, H = 40, 50 // weight_ih (200, 40), weight_hh (200, 50)
	fanIn, fanOut := float64(I), float64(4*H)
	cases := []struct {
		name     string
		s        Scheme
		mean     float64
		std      float64 // expected std (0: exact zeros/constant)
		maxAbs   float64 // bound on |w| (0: none)
		constant bool
	}{
		{"default", Scheme{}, 0, 1 / math.Sqrt(3*H), 1 / math.Sqrt(H), false},
		{"uniform", Scheme{Kind: InitUniform, A: 1, B: 3}, 2, 2 / math.Sqrt(12), 3, false},
		{"normal", Scheme{Kind: InitNormal, A: 0.5, B: 0.1}, 0.5, 0.1, 0, false},
		{"xavier_uniform", Scheme{Kind: InitXavierUniform}, 0, math.Sqrt(2 / (fanIn + fanOut)), math.Sqrt(6 / (fanIn + fanOut)), false},
		{"xavier_normal", Scheme{Kind: InitXavierNormal, A: 2}, 0, 2 * math.Sqrt(2/(fanIn+fanOut)), 0, false},
		{"kaiming_uniform", Scheme{Kind: InitKaimingUniform}, 0, math.Sqrt(2 / fanIn), math.Sqrt(6 / fanIn), false},
		{"kaiming_normal", Scheme{Kind: InitKaimingNormal}, 0, math.Sqrt(2 / fanIn), 0, false},
		{"zero", Scheme{Kind: InitZero}, 0, 0, 0, true},
		{"constant", Scheme{Kind: InitConstant, A: 0.25}, 0.25, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, Init: Init{Weight: c.s}}, tensor.NewRNG(4))
			if err != nil {
				t.Fatal(err)
			}
			w := l.Params()[0]
			if w.Name != "weight_ih_l0" {
				t.Fatalf("first param %s", w.Name)
			}
			mean, std, maxAbs := stats(w.Value.Data)
			if c.constant {
				for i, v := range w.Value.Data {
					if float64(v) != c.mean {
						t.Fatalf("w[%d] = %v, want %v", i, v, c.mean)
					}
				}
				return
			}
			if math.Abs(mean-c.mean) > 0.1*c.std+1e-3 {
				t.Errorf("mean %.4g, want %.4g", mean, c.mean)
			}
			if math.Abs(std-c.std) > 0.05*c.std {
				t.Errorf("std %.4g, want %.4g", std, c.std)
			}
			if c.maxAbs > 0 && maxAbs > c.maxAbs {
				t.Errorf("max |w| %.4g, want <= %.4g", maxAbs, c.maxAbs)
			}
		})
	}
}

func TestInitOrthogonalPerGate(t *testing.T) {
	for _, gain := range []float64{0, 1.5} {
		const H = 6
		l, err := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: H, Init: Init{Recurrent: Scheme{Kind: InitOrthogonal, A: gain}}}, tensor.NewRNG(5))
		if err != nil {
			t.Fatal(err)
		}
		g := gain
		if g == 0 {
			g = 1
		}
		w := l.Params()[1].Value // weight_hh_l0 (4H, H)
		for b := 0; b < 4; b++ {
			blk := w.Data[b*H*H : (b+1)*H*H]
			for i := 0; i < H; i++ {
				for j := 0; j < H; j++ {
					var dot float64
					for k := 0; k < H; k++ {
						dot += float64(blk[i*H+k]) * float64(blk[j*H+k])
					}
					want := 0.0
					if i == j {
						want = g * g
					}
					if math.Abs(dot-want) > 1e-5 {
						t.Fatalf("gain %v block %d: (W Wᵀ)[%d,%d] = %v, want %v", gain, b, i, j, dot, want)
					}
				}
			}
		}
	}
	// A tall matrix gets orthonormal columns.
	w := tensor.New(8, 3)
	if err := (Scheme{Kind: InitOrthogonal}).Fill(w, 1, 0, tensor.NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			var dot float64
			for k := 0; k < 8; k++ {
				dot += float64(w.Data[k*3+i]) * float64(w.Data[k*3+j])
			}
			if want := map[bool]float64{true: 1, false: 0}[i == j]; math.Abs(dot-want) > 1e-5 {
				t.Errorf("(WᵀW)[%d,%d] = %v, want %v", i, j, dot, want)
			}
		}
	}
}

func TestInitForgetBias(t *testing.T) {
	const H = 3
	l, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: H, NumLayers: 2, Init: Init{Bias: Scheme{Kind: InitZero}}, ForgetBias: 1}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Params() {
		if !strings.HasPrefix(p.Name, "bias") {
			continue
		}
		for i, v := range p.Value.Data {
			want := float32(0)
			if strings.HasPrefix(p.Name, "bias_ih") && i >= H && i < 2*H {
				want = 1
			}
			if v != want {
				t.Errorf("%s[%d] = %v, want %v", p.Name, i, v, want)
			}
		}
	}
}

func TestInitChrono(t *testing.T) {
	const H, T = 50, 200
	l, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: H, Init: Init{Chrono: T}}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := ByName(l.Params())
	ih, hh := ps["bias_ih_l0"].Value.Data, ps["bias_hh_l0"].Value.Data
	lo, hi := 0.0, math.Log(T-1)
	var spread float64
	for j := range H {
		f, i := float64(ih[H+j]), float64(ih[j])
		if f < lo || f > hi || i != -f || hh[j] != 0 || hh[H+j] != 0 {
			t.Fatalf("unit %d: b_f %v b_i %v (hh %v %v), want b_f in [0, log %d], b_i = -b_f, hh 0", j, f, i, hh[j], hh[H+j], T-1)
		}
		spread = max(spread, f)
	}
	if spread < 3 {
		t.Errorf("largest b_f %v: the draws do not span the time scales", spread)
	}
	for _, c := range []struct {
		in  Init
		fb  float64
		gru bool
	}{{Init{Chrono: 1}, 0, false}, {Init{Chrono: 10}, 1, false}, {Init{Chrono: 10}, 0, true}} {
		kind := kindLSTM
		if c.gru {
			kind = kindGRU
		}
		if _, err := newRNNCore(rnnOpts{kind: kind, in: 2, hidden: 3, dirs: 1, init: c.in, forgetBias: c.fb}, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "chrono") {
			t.Errorf("%+v forget bias %v gru %v: %v", c.in, c.fb, c.gru, err)
		}
	}
}

func TestInitErrors(t *testing.T) {
	bad := []Init{
		{Weight: Scheme{Kind: InitUniform, A: 1, B: 1}},
		{Recurrent: Scheme{Kind: InitNormal, B: -1}},
		{Bias: Scheme{Kind: InitXavierUniform, A: -1}},
		{Weight: Scheme{Kind: InitKind(99)}},
	}
	for _, in := range bad {
		if _, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3, Init: in}, tensor.NewRNG(1)); err == nil {
			t.Errorf("NewLSTM with %+v: got no error", in)
		}
	}
	if _, err := newRNNCore(rnnOpts{kind: kindGRU, in: 2, hidden: 3, dirs: 1, forgetBias: 1}, tensor.NewRNG(1)); err == nil {
		t.Error("a GRU with a forget bias: got no error")
	}
}

func TestParseInitKind(t *testing.T) {
	for _, c := range []struct {
		in   string
		want InitKind
	}{{"", InitDefault}, {"orthogonal", InitOrthogonal}, {"Glorot_Uniform", InitXavierUniform}, {"he_normal", InitKaimingNormal}} {
		got, err := ParseInitKind(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseInitKind(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if _, err := ParseInitKind("lecun"); err == nil {
		t.Error(`ParseInitKind("lecun"): got no error`)
	}
}

func TestConfigErrors(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, cfg := range []LSTMConfig{{InputSize: 0, HiddenSize: 3}, {InputSize: 2}, {InputSize: 2, HiddenSize: 3, ProjSize: 3}, {InputSize: 2, HiddenSize: 3, NumLayers: -1}} {
		if _, err := NewLSTM(cfg, rng); err == nil {
			t.Errorf("NewLSTM(%+v): got no error", cfg)
		}
	}
	if _, err := NewRNN(RNNConfig{InputSize: 2, HiddenSize: 3, Nonlinearity: "sigmoid"}, rng); err == nil {
		t.Error("NewRNN with sigmoid: got no error")
	}
	if _, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3}, nil); err == nil {
		t.Error("NewLSTM with a nil RNG: got no error")
	}
}

func FuzzParseInitKind(f *testing.F) {
	for _, s := range initNames {
		f.Add(s)
	}
	f.Add("Glorot_Normal")
	f.Add("he_uniform\x00")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseInitKind(s)
		if err != nil {
			return
		}
		// A kind that parses prints as a name that parses to itself.
		k2, err := ParseInitKind(k.String())
		if err != nil || k2 != k {
			t.Errorf("ParseInitKind(%q) = %v; ParseInitKind(%q) = %v, %v", s, k, k.String(), k2, err)
		}
	})
}
