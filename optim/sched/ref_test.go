package sched

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
)

// configFromTorch maps a PyTorch scheduler's kwargs to a Config; an
// unknown key is an error.
func configFromTorch(h map[string]any) (Config, error) {
	var c Config
	floats := map[string]*float64{
		"gamma": &c.Gamma, "factor": &c.Factor, "start_factor": &c.StartFactor, "end_factor": &c.EndFactor,
		"power": &c.Power, "eta_min": &c.EtaMin, "max_lr": &c.MaxLR, "pct_start": &c.PctStart,
		"div_factor": &c.DivFactor, "final_div_factor": &c.FinalDivFactor,
		"base_momentum": &c.BaseMomentum, "max_momentum": &c.MaxMomentum,
	}
	ints := map[string]*int{"step_size": &c.StepSize, "total_iters": &c.Iters, "T_max": &c.TMax,
		"T_0": &c.T0, "T_mult": &c.TMult, "total_steps": &c.TotalSteps}
	for k, v := range h {
		f, isNum := v.(float64)
		switch {
		case floats[k] != nil && isNum:
			*floats[k] = f
		case ints[k] != nil && isNum && f == math.Trunc(f):
			*ints[k] = int(f)
		case k == "milestones":
			l, _ := v.([]any)
			for _, m := range l {
				f, ok := m.(float64)
				if !ok {
					return c, fmt.Errorf("milestones = %v", v)
				}
				c.Milestones = append(c.Milestones, int(f))
			}
		case k == "anneal_strategy":
			c.Anneal = fmt.Sprint(v)
		case k == "three_phase" || k == "cycle_momentum":
			b, ok := v.(bool)
			if !ok {
				return c, fmt.Errorf("%s = %v is not a bool", k, v)
			}
			if k == "three_phase" {
				c.ThreePhase = b
			} else {
				c.NoCycleMomentum = !b
			}
		case k == "schedulers":
			l, _ := v.([]any)
			for _, s := range l {
				m, ok := s.(map[string]any)
				if !ok {
					return c, fmt.Errorf("schedulers entry %v", s)
				}
				sub := map[string]any{}
				for kk, vv := range m {
					if kk != "type" {
						sub[kk] = vv
					}
				}
				sc, err := configFromTorch(sub)
				if err != nil {
					return c, err
				}
				c.Schedules = append(c.Schedules, Spec{Name: fmt.Sprint(m["type"]), Config: sc})
			}
		default:
			return c, fmt.Errorf("unknown or malformed hyper-parameter %s = %v", k, v)
		}
	}
	return c, nil
}

func plateauFromTorch(h map[string]any) (PlateauConfig, error) {
	var c PlateauConfig
	for k, v := range h {
		f, isNum := v.(float64)
		s, isStr := v.(string)
		switch {
		case k == "mode" && isStr:
			c.Mode = s
		case k == "threshold_mode" && isStr:
			c.ThresholdMode = s
		case k == "factor" && isNum:
			c.Factor = f
		case k == "patience" && isNum:
			c.Patience = int(f)
		case k == "threshold" && isNum:
			c.Threshold = f
		case k == "cooldown" && isNum:
			c.Cooldown = int(f)
		case k == "min_lr" && isNum:
			c.MinLR = f
		case k == "eps" && isNum:
			c.Eps = f
		default:
			return c, fmt.Errorf("unknown or malformed plateau setting %s = %v", k, v)
		}
	}
	return c, nil
}

// TestTorchReference runs every sched.json case: lr[k] (and momentum[k])
// is the value training step k uses.
func TestTorchReference(t *testing.T) {
	f, err := torchref.Load("sched")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			base, err := c.Float("base_lr")
			if err != nil {
				t.Fatal(err)
			}
			steps, err := c.Int("steps")
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.T("lr")
			if err != nil {
				t.Fatal(err)
			}
			hyper, _ := c.Config["hyper"].(map[string]any)
			p := nn.NewParam("w", 2)
			opt, err := optim.New("sgd", []*nn.Param{p}, optim.Config{LR: base, Momentum: 0.9})
			if err != nil {
				t.Fatal(err)
			}
			lr := make([]float64, steps)
			mom := make([]float64, steps)
			if c.String("scheduler") == "ReduceLROnPlateau" {
				pc, err := plateauFromTorch(hyper)
				if err != nil {
					t.Fatal(err)
				}
				pl, err := NewPlateau(pc)
				if err != nil {
					t.Fatal(err)
				}
				metrics, err := c.T("metrics")
				if err != nil {
					t.Fatal(err)
				}
				for k := 0; k < steps; k++ {
					lr[k] = opt.LR(0)
					pl.Step(metrics.Data[k], opt)
				}
			} else {
				sc, err := configFromTorch(hyper)
				if err != nil {
					t.Fatalf("case %s: %v", c.Name, err)
				}
				s, err := New(c.String("scheduler"), sc)
				if err != nil {
					t.Fatal(err)
				}
				bases := BaseLRs(opt)
				for k := 0; k < steps; k++ {
					Apply(opt, s, bases, k)
					lr[k] = opt.LR(0)
					mom[k] = opt.Groups()[0].Momentum
				}
			}
			compare(t, "lr", lr, want.Data)
			if wm, ok := c.Tensors["momentum"]; ok {
				compare(t, "momentum", mom, wm.Data)
			}
		})
	}
}

// compare checks a float64 trace to 1e-6 relative (PyTorch computes some
// schedules recursively; the closed forms agree to rounding).
func compare(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for k := range want {
		if d := math.Abs(got[k] - want[k]); !(d <= 1e-6*math.Abs(want[k])+1e-15) {
			t.Errorf("%s[%d]: got %.12g, want %.12g", what, k, got[k], want[k])
		}
	}
}
