package model

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
)

func TestInitSchemes(t *testing.T) {
	for _, c := range []struct {
		in, canon string
		want      nn.Scheme
	}{
		{"uniform:-0.1,0.1", "uniform:-0.1,0.1", nn.Scheme{Kind: nn.InitUniform, A: -0.1, B: 0.1}},
		{"normal:0, 0.02", "normal:0,0.02", nn.Scheme{Kind: nn.InitNormal, B: 0.02}},
		{"he_normal", "kaiming_normal", nn.Scheme{Kind: nn.InitKaimingNormal}},
		{"orthogonal:1.5", "orthogonal:1.5", nn.Scheme{Kind: nn.InitOrthogonal, A: 1.5}},
		{"constant:0.5", "constant:0.5", nn.Scheme{Kind: nn.InitConstant, A: 0.5}},
		{"zero", "zero", nn.Scheme{Kind: nn.InitZero}},
	} {
		got, canon, err := initScheme(c.in)
		if err != nil || got != c.want || canon != c.canon {
			t.Errorf("initScheme(%q) = %+v, %q, %v; want %+v, %q", c.in, got, canon, err, c.want, c.canon)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"uniform", "uniform:A,B with bounds A < B"},
		{"uniform:0.1,-0.1", "A < B"},
		{"normal:0", "normal:MEAN,STD"},
		{"normal:0,-1", "STD >= 0"},
		{"xavier_uniform:0", "GAIN > 0"},
		{"orthogonal:1,2", "orthogonal:GAIN"},
		{"zero:1", "zero without numbers"},
		{"normal:0,x", "finite numbers"},
		{"lecun", "default, uniform:A,B"},
	} {
		if _, _, err := initScheme(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("initScheme(%q): got %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// Each weight kind takes its own initialization: input weights, the
// recurrent weights and the head, with their numbers.
func TestInitPerWeightKind(t *testing.T) {
	m, err := Build(Spec{Task: Forecast, Inputs: 2, Targets: 1, Horizon: 1, Hidden: 8,
		Init: "uniform:0.2,0.3", InitRecurrent: "orthogonal:2", InitHead: "constant:0.25"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Spec(); s.Init != "uniform:0.2,0.3" || s.InitRecurrent != "orthogonal:2" || s.InitHead != "constant:0.25" {
		t.Errorf("spec keeps %q %q %q", s.Init, s.InitRecurrent, s.InitHead)
	}
	ps, err := nn.ByName(m.Params())
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ps["rnn.weight_ih_l0"].Value.Data {
		if v < 0.2 || v >= 0.3 {
			t.Fatalf("weight_ih[%d] = %v, want in [0.2, 0.3)", i, v)
		}
	}
	// Each gate block of weight_hh is 2 × an orthogonal 8×8 matrix: its
	// rows have norm 2.
	hh := ps["rnn.weight_hh_l0"].Value.Data
	for r := range 32 {
		var n float64
		for _, v := range hh[r*8 : (r+1)*8] {
			n += float64(v * v)
		}
		if math.Abs(math.Sqrt(n)-2) > 1e-4 {
			t.Fatalf("weight_hh row %d has norm %v, want 2", r, math.Sqrt(n))
		}
	}
	for i, v := range ps["head.weight"].Value.Data {
		if v != 0.25 {
			t.Fatalf("head.weight[%d] = %v, want 0.25", i, v)
		}
	}
	lm, err := Build(Spec{Task: LM, Vocab: 5, Hidden: 4, InitEmbed: "uniform:-0.1,0.1"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	lp, _ := nn.ByName(lm.Params())
	for i, v := range lp["embedding.weight"].Value.Data {
		if v < -0.1 || v >= 0.1 {
			t.Fatalf("embedding[%d] = %v, want in [-0.1, 0.1)", i, v)
		}
	}
	if _, err := Build(Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, InitEmbed: "zero"}, 1); err == nil || !strings.Contains(err.Error(), "init_embed") {
		t.Errorf("init_embed on a forecaster: got %v, want an error naming init_embed", err)
	}
	if _, err := Build(Spec{Task: LM, Vocab: 5, Hidden: 4, Embed: 4, Tie: true, InitHead: "zero"}, 1); err == nil || !strings.Contains(err.Error(), "init_head") {
		t.Errorf("init_head with tie: got %v, want an error naming init_head", err)
	}
}

func TestChronoInit(t *testing.T) {
	m, err := Build(Spec{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Hidden: 8, Chrono: 100}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := nn.ByName(m.Params())
	b := ps["rnn.bias_ih_l0"].Value.Data
	for j := range 8 {
		if f := b[8+j]; f < 0 || f > float32(math.Log(99)) || b[j] != -f {
			t.Fatalf("unit %d: b_f %v b_i %v", j, f, b[j])
		}
	}
	if m.Spec().Chrono != 100 {
		t.Errorf("spec chrono %d", m.Spec().Chrono)
	}
	for _, s := range []Spec{
		{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Cell: "gru", Chrono: 10},
		{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Chrono: 10, ForgetBias: 1},
		{Task: Forecast, Inputs: 1, Targets: 1, Horizon: 1, Chrono: 1},
	} {
		if _, err := Build(s, 1); err == nil || !strings.Contains(err.Error(), "chrono") {
			t.Errorf("%+v: %v", s, err)
		}
	}
}
