package optim

import (
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// TestSplitStepExact checks that a large parameter's update split over
// two or three threads gives bit-identical parameters and state to one
// thread, for every rule and its variants, over three steps, and that a
// split step allocates nothing once the state exists.
func TestSplitStepExact(t *testing.T) {
	t.Cleanup(kernel.AllowThreads(3))
	n := stepSplitMin + 1000 // a last part shorter than the others
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"sgd", Config{LR: 0.1}},
		{"sgd", Config{LR: 0.1, WeightDecay: 0.01}},
		{"sgd", Config{LR: 0.1, Momentum: 0.9, Nesterov: true}},
		{"rmsprop", Config{LR: 0.01, Momentum: 0.5, Centered: true}},
		{"adagrad", Config{LR: 0.1, LRDecay: 0.01}},
		{"adadelta", Config{WeightDecay: 0.1}},
		{"adamw", Config{LR: 1e-3, WeightDecay: 0.1}},
	} {
		run := func(threads int) (*tensor.Tensor, *State) {
			kernel.SetThreads(threads)
			rng := tensor.NewRNG(9)
			p := nn.NewParam("w", n)
			rng.FillUniform(p.Value, -1, 1)
			opt, err := New(c.name, []*nn.Param{p}, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				rng.FillUniform(p.Grad, -1, 1)
				opt.Step()
			}
			st, v := opt.State(), p.Value.Clone()
			if threads > 1 {
				if got := testing.AllocsPerRun(3, opt.Step); got != 0 && !raceEnabled {
					t.Errorf("%s %+v on %d threads: %v allocations per step, want 0", c.name, c.cfg, threads, got)
				}
			}
			return v, st
		}
		one, oneState := run(1)
		for _, threads := range []int{2, 3} {
			p, st := run(threads)
			for i, v := range one.Data {
				if p.Data[i] != v {
					t.Fatalf("%s %+v: element %d on %d threads %v, on one %v", c.name, c.cfg, i, threads, p.Data[i], v)
				}
			}
			for slot, buf := range oneState.Buffers["w"] {
				for i, v := range buf {
					if st.Buffers["w"][slot][i] != v {
						t.Fatalf("%s %+v: %s[%d] on %d threads %v, on one %v", c.name, c.cfg, slot, i, threads, st.Buffers["w"][slot][i], v)
					}
				}
			}
		}
	}
}
