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
	num := func(k string, v any) (float64, error) {
		f, ok := v.(float64)
		if !ok {
			return 0, fmt.Errorf("hyper %s = %v is not a number", k, v)
		}
		return f, nil
	}
	for k, v := range h {
		var err error
		switch k {
		case "lr":
			c.LR, err = num(k, v)
		case "momentum":
			c.Momentum, err = num(k, v)
		case "dampening":
			c.Dampening, err = num(k, v)
		case "weight_decay":
			c.WeightDecay, err = num(k, v)
		case "alpha":
			c.Alpha, err = num(k, v)
		case "eps":
			c.Eps, err = num(k, v)
		case "lr_decay":
			c.LRDecay, err = num(k, v)
		case "initial_accumulator_value":
			c.InitialAccumulator, err = num(k, v)
		case "rho":
			c.Rho, err = num(k, v)
		case "nesterov", "centered", "amsgrad", "maximize":
			b, ok := v.(bool)
			if !ok {
				return c, fmt.Errorf("hyper %s = %v is not a bool", k, v)
			}
			switch k {
			case "nesterov":
				c.Nesterov = b
			case "centered":
				c.Centered = b
			case "amsgrad":
				c.AMSGrad = b
			case "maximize":
				if b {
					return c, fmt.Errorf("hyper maximize = true is not supported")
				}
			}
		case "betas":
			l, ok := v.([]any)
			if !ok || len(l) != 2 {
				return c, fmt.Errorf("hyper betas = %v is not a pair", v)
			}
			for _, x := range l {
				f, err := num(k, x)
				if err != nil {
					return c, err
				}
				c.Betas = append(c.Betas, f)
			}
		default:
			return c, fmt.Errorf("unknown hyper-parameter %q = %v", k, v)
		}
		if err != nil {
			return c, err
		}
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
