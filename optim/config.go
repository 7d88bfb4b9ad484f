package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Config holds the hyperparameters of every optimizer; each uses the
// fields that apply to it and ignores the rest. The zero value of a field
// means the documented default (PyTorch's where it has one).
type Config struct {
	// LR is the learning rate. Zero means the optimizer's default: 0.01 for
	// SGD, RMSprop and Adagrad, 0.001 for Adam and AdamW, 1 for Adadelta.
	LR float64
	// WeightDecay is the L2 coefficient: added to the gradient (wd·p) by
	// every optimizer but AdamW, which decays the weights directly
	// (p *= 1 − lr·wd). Zero means none (PyTorch's AdamW defaults to 0.01;
	// set it explicitly).
	WeightDecay float64
	// Momentum (SGD, RMSprop), Dampening and Nesterov (SGD). PyTorch's SGD
	// sets the momentum buffer to the gradient on the first step.
	Momentum  float64
	Dampening float64
	Nesterov  bool
	// Alpha is RMSprop's smoothing constant (zero: 0.99); Centered
	// normalises by the gradient's estimated variance.
	Alpha    float64
	Centered bool
	// Betas are Adam's (β1, β2); nil means (0.9, 0.999). AMSGrad keeps the
	// running maximum of the second moment.
	Betas   []float64
	AMSGrad bool
	// Eps is added to the denominator. Zero means 1e-8 (RMSprop, Adam,
	// AdamW), 1e-10 (Adagrad), 1e-6 (Adadelta), unused by SGD.
	Eps float64
	// LRDecay and InitialAccumulator are Adagrad's lr_decay and
	// initial_accumulator_value.
	LRDecay            float64
	InitialAccumulator float64
	// Rho is Adadelta's decay (zero: 0.9).
	Rho float64
}

// Names of the optimizers [New] knows, in the order of increasing state.
var names = []string{"sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw"}

// Names returns the optimizer names [New] accepts.
func Names() []string { return append([]string(nil), names...) }

// withDefaults returns c with the zero fields filled for optimizer name.
func (c Config) withDefaults(name string) Config {
	if c.LR == 0 {
		c.LR = map[string]float64{"sgd": 0.01, "rmsprop": 0.01, "adagrad": 0.01, "adam": 0.001, "adamw": 0.001, "adadelta": 1}[name]
	}
	if c.Eps == 0 {
		c.Eps = map[string]float64{"rmsprop": 1e-8, "adam": 1e-8, "adamw": 1e-8, "adagrad": 1e-10, "adadelta": 1e-6}[name]
	}
	if c.Alpha == 0 {
		c.Alpha = 0.99
	}
	if c.Rho == 0 {
		c.Rho = 0.9
	}
	if c.Betas == nil {
		c.Betas = []float64{0.9, 0.999}
	}
	return c
}

// ConfigError reports an out-of-range hyperparameter.
type ConfigError struct {
	Optimizer string
	Field     string
	Value     any
	Want      string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("optim: %s: %s = %v, want %s", e.Optimizer, e.Field, e.Value, e.Want)
}

// validate checks a filled-in config for optimizer name.
func (c Config) validate(name string) error {
	bad := func(field string, v any, want string) error {
		return &ConfigError{Optimizer: name, Field: field, Value: v, Want: want}
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !(c.LR > 0) || !finite(c.LR):
		return bad("lr", c.LR, "a positive finite number")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return bad("weight_decay", c.WeightDecay, ">= 0")
	case !(c.Momentum >= 0) || !finite(c.Momentum):
		return bad("momentum", c.Momentum, ">= 0")
	case !(c.Dampening >= 0 && c.Dampening <= 1):
		return bad("dampening", c.Dampening, "in [0, 1]")
	case c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0):
		return bad("nesterov", c.Nesterov, "momentum > 0 and dampening = 0")
	case name != "sgd" && !(c.Eps > 0) || !finite(c.Eps):
		return bad("eps", c.Eps, "> 0")
	case !(c.Alpha >= 0 && c.Alpha < 1):
		return bad("alpha", c.Alpha, "in [0, 1)")
	case len(c.Betas) != 2:
		return bad("betas", c.Betas, "two values")
	case !(c.Betas[0] >= 0 && c.Betas[0] < 1):
		return bad("betas[0]", c.Betas[0], "in [0, 1)")
	case !(c.Betas[1] >= 0 && c.Betas[1] < 1):
		return bad("betas[1]", c.Betas[1], "in [0, 1)")
	case !(c.LRDecay >= 0) || !finite(c.LRDecay):
		return bad("lr_decay", c.LRDecay, ">= 0")
	case !(c.InitialAccumulator >= 0) || !finite(c.InitialAccumulator):
		return bad("initial_accumulator_value", c.InitialAccumulator, ">= 0")
	case !(c.Rho >= 0 && c.Rho <= 1):
		return bad("rho", c.Rho, "in [0, 1]")
	}
	return nil
}

// normName maps PyTorch's class names (SGD, AdamW, ...) and recur's
// lower-case names to recur's.
func normName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if slices.Contains(names, n) {
		return n, nil
	}
	return "", fmt.Errorf("optim: unknown optimizer %q (want one of %s)", name, strings.Join(names, ", "))
}
