package optim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// testParams returns two parameters with fixed values and gradients.
func testParams(seed uint64) []*nn.Param {
	rng := tensor.NewRNG(seed)
	w, b := nn.NewParam("w", 3, 2), nn.NewParam("b", 2)
	for _, p := range []*nn.Param{w, b} {
		rng.FillNormal(p.Value, 0, 1)
		rng.FillNormal(p.Grad, 0, 1)
	}
	return []*nn.Param{w, b}
}

func TestConfigErrorsNameFieldAndValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"sgd", Config{LR: -0.1}, "lr = -0.1"},
		{"adam", Config{Betas: []float64{0.9, 1}}, "betas[1] = 1"},
		{"adam", Config{Betas: []float64{-0.1, 0.9}}, "betas[0] = -0.1"},
		{"adam", Config{Betas: []float64{0.9}}, "betas = [0.9]"},
		{"rmsprop", Config{Eps: -1}, "eps = -1"},
		{"sgd", Config{Momentum: -0.5}, "momentum = -0.5"},
		{"sgd", Config{Nesterov: true}, "nesterov = true"},
		{"sgd", Config{Momentum: 0.9, Dampening: 0.1, Nesterov: true}, "nesterov = true"},
		{"adagrad", Config{LRDecay: -1}, "lr_decay = -1"},
		{"adamw", Config{WeightDecay: -0.01}, "weight_decay = -0.01"},
		{"rmsprop", Config{Alpha: 1}, "alpha = 1"},
		{"lion", Config{}, `"lion"`},
	} {
		_, err := New(tc.name, testParams(1), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s, %+v): got error %v, want one containing %q", tc.name, tc.cfg, err, tc.want)
		}
	}
	var ce *ConfigError
	if _, err := New("Adam", testParams(1), Config{LR: -1}); !errors.As(err, &ce) || ce.Field != "lr" {
		t.Errorf("New: got %v, want a *ConfigError for lr", err)
	}
	for _, n := range append(Names(), "SGD", "AdamW", "RMSprop", "Adagrad", "Adadelta") {
		if _, err := New(n, testParams(1), Config{}); err != nil {
			t.Errorf("New(%q, defaults): %v", n, err)
		}
	}
	ps := testParams(1)
	if _, err := New("sgd", append(ps, ps[0]), Config{}); err == nil {
		t.Errorf("New with a repeated parameter: got nil error")
	}
}

func values(ps []*nn.Param) []float32 {
	var v []float32
	for _, p := range ps {
		v = append(v, p.Value.Data...)
	}
	return v
}

func TestFrozenParamsAndGroups(t *testing.T) {
	ps := testParams(2)
	extra := nn.NewParam("x", 2)
	extra.Grad.Fill(1)
	ps[1].Frozen = true
	opt, err := NewGroups("adam", []Group{
		{Params: ps, Config: Config{LR: 0.1}},
		{Params: []*nn.Param{extra}, Config: Config{LR: 0.1}, Frozen: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := values(append(ps, extra))
	opt.Step()
	after := values(append(ps, extra))
	for i := range before {
		changed := before[i] != after[i]
		if want := i < 6; changed != want {
			t.Errorf("value %d changed = %v, want %v (only w is trainable)", i, changed, want)
		}
	}
	if s := opt.State(); s.Steps["w"] != 1 || s.Steps["b"] != 0 || s.Steps["x"] != 0 {
		t.Errorf("steps after one update: got %v, want w:1 b:0 x:0", s.Steps)
	}
}

func TestGroupsHaveOwnLR(t *testing.T) {
	a, b := testParams(3), testParams(3)
	for _, p := range b {
		p.Name += "2"
	}
	opt, err := NewGroups("sgd", []Group{{Params: a, Config: Config{LR: 0.1}}, {Params: b, Config: Config{LR: 0.2}}})
	if err != nil {
		t.Fatal(err)
	}
	v0 := values(a)
	opt.Step()
	opt.SetLR(0, 0.3)
	if opt.LR(0) != 0.3 || opt.LR(1) != 0.2 {
		t.Errorf("LR after SetLR(0, 0.3): got %v, %v, want 0.3, 0.2", opt.LR(0), opt.LR(1))
	}
	va, vb := values(a), values(b)
	for i := range v0 {
		da, db := v0[i]-va[i], v0[i]-vb[i]
		if d := db - 2*da; d > 1e-6 || d < -1e-6 {
			t.Errorf("element %d: group 2 moved %v, want twice group 1's %v", i, db, da)
		}
	}
}

// TestStateRoundTrip interrupts training, exports the state, restores it
// into a fresh optimizer and checks the result equals uninterrupted
// training bit for bit.
func TestStateRoundTrip(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			cfg := Config{LR: 0.05, Momentum: 0.9, Centered: true, AMSGrad: true, InitialAccumulator: 0.1}
			if name == "sgd" {
				cfg.Centered = false
			}
			ref := testParams(4)
			refOpt, err := New(name, ref, cfg)
			if err != nil {
				t.Fatal(err)
			}
			run := testParams(4)
			opt, err := New(name, run, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 2; k++ {
				refOpt.Step()
				opt.Step()
			}
			st := opt.State()
			// Changing the exported state must not touch the optimizer.
			for _, bufs := range st.Buffers {
				for _, b := range bufs {
					b[0] = 1e9
				}
			}
			st = opt.State()
			resumed := testParams(4)
			copy(resumed[0].Value.Data, run[0].Value.Data)
			copy(resumed[1].Value.Data, run[1].Value.Data)
			opt2, err := New(name, resumed, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := opt2.LoadState(st); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 3; k++ {
				refOpt.Step()
				opt2.Step()
			}
			if got, want := values(resumed), values(ref); !slices.Equal(got, want) {
				t.Errorf("resumed: got %v, want %v", got, want)
			}
		})
	}
}

func TestLoadStateRejectsMismatch(t *testing.T) {
	opt, _ := New("adam", testParams(5), Config{})
	opt.Step()
	good := opt.State()
	other, _ := New("sgd", testParams(5), Config{Momentum: 0.9})
	if err := other.LoadState(good); err == nil || !strings.Contains(err.Error(), `"adam"`) {
		t.Errorf("adam state into sgd: got %v", err)
	}
	for name, mutate := range map[string]func(s *State){
		"missing param": func(s *State) { delete(s.Steps, "b") },
		"missing slot":  func(s *State) { delete(s.Buffers["w"], "exp_avg") },
		"short buffer":  func(s *State) { s.Buffers["w"]["exp_avg"] = []float32{1} },
		"no buffers":    func(s *State) { delete(s.Buffers, "w") },
	} {
		s := opt.State()
		mutate(s)
		fresh, _ := New("adam", testParams(5), Config{})
		before := fmt.Sprint(fresh.State())
		if err := fresh.LoadState(s); err == nil {
			t.Errorf("%s: got nil error", name)
		}
		if after := fmt.Sprint(fresh.State()); after != before {
			t.Errorf("%s: a failed LoadState changed the state", name)
		}
	}
}

func TestStepDoesNotTouchGradients(t *testing.T) {
	ps := testParams(6)
	g := slices.Clone(ps[0].Grad.Data)
	opt, _ := New("adam", ps, Config{WeightDecay: 0.1})
	opt.Step()
	if !slices.Equal(g, ps[0].Grad.Data) {
		t.Errorf("Step changed the gradient: got %v, want %v", ps[0].Grad.Data, g)
	}
}

// BenchmarkStep times one update of a 1M-element parameter.
func BenchmarkStep(b *testing.B) {
	for _, name := range []string{"sgd", "adam", "adamw"} {
		b.Run(name, func(b *testing.B) {
			p := nn.NewParam("w", 1<<20)
			p.Grad.Fill(0.5)
			opt, err := New(name, []*nn.Param{p}, Config{Momentum: 0.9, WeightDecay: 0.01})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(4 << 20)
			for b.Loop() {
				opt.Step()
			}
		})
	}
}
