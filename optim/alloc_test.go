package optim

import (
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// TestStepAllocs checks that after its first update (which allocates the
// state buffers) an optimizer step, with clipping, gradient noise and the
// L1 penalty a training loop may add, allocates nothing.
func TestStepAllocs(t *testing.T) {
	rng := tensor.NewRNG(4)
	newParams := func() []*nn.Param {
		ps := []*nn.Param{nn.NewParam("w", 3, 4), nn.NewParam("b", 3)}
		for _, p := range ps {
			rng.FillUniform(p.Value, -1, 1)
			rng.FillUniform(p.Grad, -1, 1)
		}
		return ps
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"sgd", Config{LR: 0.1}},
		{"sgd", Config{LR: 0.1, Momentum: 0.9, Nesterov: true}},
		{"rmsprop", Config{LR: 0.01, Momentum: 0.5, Centered: true}},
		{"adam", Config{LR: 1e-3}},
		{"adamw", Config{LR: 1e-3, AMSGrad: true}},
		{"adagrad", Config{LR: 0.1}},
		{"adadelta", Config{}},
	} {
		ps := newParams()
		opt, err := New(c.name, ps, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		noise, err := NewGradNoise(0.01, 0.55, 1)
		if err != nil {
			t.Fatal(err)
		}
		step := 0
		update := func() {
			step++
			ClipGradNorm(ps, 1, 2)
			ClipGradValue(ps, 0.5)
			noise.Add(ps, step)
			L1Penalty(ps, 1e-4)
			opt.Step()
		}
		update()
		got := testing.AllocsPerRun(5, update)
		if raceEnabled {
			t.Skipf("allocations not checked under -race (got %v)", got)
		}
		if got != 0 {
			t.Errorf("%s %+v: allocations per step: got %v, want 0", c.name, c.cfg, got)
		}
	}
}
