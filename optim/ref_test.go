package optim

import (
	"fmt"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/nn"
)

// configFromTorch maps a PyTorch param-group dict (hyper_full) to a
// Config. An unknown key, or maximize=true, is an error.
func configFromTorch(h map[string]any) (Config, error) {
	var c Config
	floats := map[string]*float64{
		"lr": &c.LR, "momentum": &c.Momentum, "dampening": &c.Dampening,
		"weight_decay": &c.WeightDecay, "alpha": &c.Alpha, "eps": &c.Eps,
		"lr_decay": &c.LRDecay, "initial_accumulator_value": &c.InitialAccumulator, "rho": &c.Rho,
	}
	var maximize bool
	bools := map[string]*bool{"nesterov": &c.Nesterov, "centered": &c.Centered, "amsgrad": &c.AMSGrad, "maximize": &maximize}
	for k, v := range h {
		if dst, ok := floats[k]; ok {
			f, ok := v.(float64)
			if !ok {
				return c, fmt.Errorf("hyper %s = %v is not a number", k, v)
			}
			*dst = f
		} else if dst, ok := bools[k]; ok {
			b, ok := v.(bool)
			if !ok {
				return c, fmt.Errorf("hyper %s = %v is not a bool", k, v)
			}
			*dst = b
		} else if k == "betas" {
			l, ok := v.([]any)
			if !ok || len(l) != 2 {
				return c, fmt.Errorf("hyper betas = %v is not a pair", v)
			}
			for _, x := range l {
				f, ok := x.(float64)
				if !ok {
					return c, fmt.Errorf("hyper betas = %v is not a pair of numbers", v)
				}
				c.Betas = append(c.Betas, f)
			}
		} else {
			return c, fmt.Errorf("unknown hyper-parameter %q = %v", k, v)
		}
	}
	if maximize {
		return c, fmt.Errorf("hyper maximize = true is not supported")
	}
	return c, nil
}

// TestTorchReference replays every optim.json trace in float32: after
// each step the parameters must match PyTorch to 1e-6 relative.
func TestTorchReference(t *testing.T) {
	f, err := torchref.Load("optim")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			hyper, ok := c.Config["hyper_full"].(map[string]any)
			if !ok {
				t.Fatalf("case %s: no hyper_full", c.Name)
			}
			cfg, err := configFromTorch(hyper)
			if err != nil {
				t.Fatalf("case %s: %v", c.Name, err)
			}
			steps, err := c.Int("steps")
			if err != nil {
				t.Fatal(err)
			}
			pnames, _ := c.Config["param_names"].([]any)
			if len(pnames) == 0 {
				t.Fatalf("case %s: no param_names", c.Name)
			}
			var params []*nn.Param
			for _, n := range pnames {
				name := fmt.Sprint(n)
				init, err := c.T("init." + name)
				if err != nil {
					t.Fatal(err)
				}
				p := nn.NewParam(name, init.Shape...)
				copy(p.Value.Data, init.F32())
				params = append(params, p)
			}
			opt, err := New(c.String("optimizer"), params, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for k := 1; k <= steps; k++ {
				for _, p := range params {
					g, err := c.T(fmt.Sprintf("grad.%d.%s", k, p.Name))
					if err != nil {
						t.Fatal(err)
					}
					copy(p.Grad.Data, g.F32())
				}
				opt.Step()
				for _, p := range params {
					want, err := c.T(fmt.Sprintf("param.%d.%s", k, p.Name))
					if err != nil {
						t.Fatal(err)
					}
					if err := torchref.Compare(fmt.Sprintf("step %d %s", k, p.Name), p.Value.Data, want.Data, 1e-6, 1e-7); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}
