package sched

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
)

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"step", Config{}, "step_size = 0"},
		{"StepLR", Config{StepSize: 2, Gamma: -1}, "gamma = -1"},
		{"multistep", Config{Milestones: []int{5, 3}}, "milestones = [5 3]"},
		{"sequential", Config{Schedules: []Spec{{Name: "constant"}, {Name: "constant"}, {Name: "constant"}}, Milestones: []int{3, 3}}, "milestones = [3 3]"},
		{"exponential", Config{}, "gamma = 0"},
		{"cosine", Config{TMax: -3}, "T_max = -3"},
		{"cosine", Config{TMax: 3, EtaMin: -1}, "eta_min = -1"},
		{"warm_restarts", Config{T0: 4, TMult: -2}, "T_mult = -2"},
		{"onecycle", Config{TotalSteps: 10}, "max_lr = 0"},
		{"onecycle", Config{MaxLR: 1, TotalSteps: 10, PctStart: 1.5}, "pct_start = 1.5"},
		{"onecycle", Config{MaxLR: 1, TotalSteps: 10, Anneal: "cubic"}, "anneal_strategy = cubic"},
		{"linear", Config{StartFactor: 2}, "start_factor = 2"},
		{"sequential", Config{Schedules: []Spec{{Name: "constant"}}, Milestones: []int{3}}, "schedulers = 1"},
		{"sequential", Config{Schedules: []Spec{{Name: "constant"}, {Name: "bogus"}}, Milestones: []int{3}}, `"bogus"`},
		{"noam", Config{}, `"noam"`},
	} {
		_, err := New(tc.name, tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %+v): got %v, want an error containing %q", tc.name, tc.c, err, tc.want)
		}
	}
	if _, err := NewPlateau(PlateauConfig{Mode: "up"}); err == nil || !strings.Contains(err.Error(), "mode = up") {
		t.Errorf("NewPlateau(mode up): got %v", err)
	}
	if _, err := NewPlateau(PlateauConfig{Factor: 1.5}); err == nil || !strings.Contains(err.Error(), "factor = 1.5") {
		t.Errorf("NewPlateau(factor 1.5): got %v", err)
	}
}

func TestEveryNameBuildsWithMinimalConfig(t *testing.T) {
	c := Config{StepSize: 3, Gamma: 0.5, TMax: 10, T0: 4, MaxLR: 1, TotalSteps: 20,
		Schedules: []Spec{{Name: "linear"}, {Name: "cosine", Config: Config{TMax: 15}}}, Milestones: []int{5}}
	for _, n := range Names() {
		s, err := New(n, c)
		if err != nil {
			t.Errorf("New(%q): %v", n, err)
			continue
		}
		for k := 0; k < 20; k++ {
			if lr := s.LR(0.1, k); !(lr >= 0) || math.IsInf(lr, 0) {
				t.Errorf("%s: LR(0.1, %d) = %v", n, k, lr)
			}
		}
	}
}

func TestMultiStepRepeatedMilestone(t *testing.T) {
	s, err := New("multistep", Config{Milestones: []int{2, 2, 4}, Gamma: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range []float64{1, 1, 0.25, 0.25, 0.125} {
		if got := s.LR(1, k); got != want {
			t.Errorf("LR(1, %d): got %v, want %v", k, got, want)
		}
	}
}

func TestSequentialRestartsEachSchedule(t *testing.T) {
	s := Sequential{Schedules: []Schedule{Constant{Factor: 0.5, Iters: 100}, Exponential{Gamma: 0.5}}, Milestones: []int{3}}
	want := []float64{0.5, 0.5, 0.5, 1, 0.5, 0.25}
	for k, w := range want {
		if got := s.LR(1, k); got != w {
			t.Errorf("LR(1, %d): got %v, want %v", k, got, w)
		}
	}
}

func TestApplySetsEveryGroupFromItsBase(t *testing.T) {
	a, b := nn.NewParam("a", 1), nn.NewParam("b", 1)
	opt, err := optim.NewGroups("adam", []optim.Group{{Params: []*nn.Param{a}, Config: optim.Config{LR: 0.1}}, {Params: []*nn.Param{b}, Config: optim.Config{LR: 0.01}}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := New("onecycle", Config{MaxLR: 1, TotalSteps: 10})
	bases := BaseLRs(opt)
	Apply(opt, s, bases, 3)
	lr := s.LR(0, 3)
	m, _ := s.(MomentumSchedule).Momentum(3)
	if opt.LR(0) != lr || opt.LR(1) != lr || opt.Groups()[1].Betas[0] != m {
		t.Errorf("after Apply: LRs %v %v, β1 %v; want %v, %v", opt.LR(0), opt.LR(1), opt.Groups()[1].Betas[0], lr, m)
	}
	Apply(opt, Exponential{Gamma: 0.5}, bases, 1)
	if opt.LR(0) != 0.05 || opt.LR(1) != 0.005 {
		t.Errorf("Exponential: got %v %v, want 0.05 0.005", opt.LR(0), opt.LR(1))
	}
}

func TestPlateauStateRoundTrip(t *testing.T) {
	p, _ := NewPlateau(PlateauConfig{Patience: 1})
	p.Observe(1)
	p.Observe(2)
	st := p.PlateauState
	q, _ := NewPlateau(PlateauConfig{Patience: 1})
	q.PlateauState = st
	if got := q.Observe(3); !got {
		t.Errorf("restored plateau: third bad check did not reduce")
	}
	if got := p.Observe(0.5); got {
		t.Errorf("improvement reduced the LR")
	}
}
