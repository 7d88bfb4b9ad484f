package sched

import (
	"math"

	"github.com/recur-ml/recur/optim"
)

// PlateauConfig configures [Plateau] (PyTorch's ReduceLROnPlateau). Zero
// fields mean zero, except where noted.
type PlateauConfig struct {
	// Mode is "min" (the default: lower is better, a loss) or "max".
	Mode string
	// Factor multiplies the LR on a plateau; in (0, 1); zero means 0.1.
	Factor float64
	// Patience is how many checks without improvement are tolerated
	// (PyTorch's default is 10; zero reduces at the first bad check).
	Patience int
	// Threshold is the least improvement that counts, relative to the best
	// value (ThresholdMode "rel", the default) or absolute ("abs").
	Threshold     float64
	ThresholdMode string
	// Cooldown is how many checks to wait after a reduction before
	// counting bad checks again.
	Cooldown int
	// MinLR is the floor of every group's LR.
	MinLR float64
	// Eps: a reduction smaller than Eps is not applied; zero means 1e-8.
	Eps float64
}

// Plateau lowers the learning rate when a monitored metric stops
// improving. It is not a function of the step: feed it the metric after
// each validation with [Plateau.Step]. Its state (PlateauState) goes into
// checkpoints.
type Plateau struct {
	cfg PlateauConfig
	PlateauState
}

// PlateauState is the mutable part of a Plateau.
type PlateauState struct {
	// Best is the best metric seen (±Inf before the first check).
	Best float64
	// Bad counts consecutive checks without improvement; Cooldown counts
	// the checks left in the cooldown.
	Bad, Cooldown int
}

// NewPlateau validates c and returns a Plateau.
func NewPlateau(c PlateauConfig) (*Plateau, error) {
	if c.Mode == "" {
		c.Mode = "min"
	}
	if c.ThresholdMode == "" {
		c.ThresholdMode = "rel"
	}
	if c.Factor == 0 {
		c.Factor = 0.1
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	bad := func(field string, v any, want string) error {
		return &ConfigError{Schedule: "plateau", Field: field, Value: v, Want: want}
	}
	switch {
	case c.Mode != "min" && c.Mode != "max":
		return nil, bad("mode", c.Mode, "min or max")
	case c.ThresholdMode != "rel" && c.ThresholdMode != "abs":
		return nil, bad("threshold_mode", c.ThresholdMode, "rel or abs")
	case !(c.Factor > 0 && c.Factor < 1):
		return nil, bad("factor", c.Factor, "in (0, 1)")
	case c.Patience < 0:
		return nil, bad("patience", c.Patience, ">= 0")
	case !(c.Threshold >= 0) || math.IsInf(c.Threshold, 0):
		return nil, bad("threshold", c.Threshold, ">= 0")
	case c.Cooldown < 0:
		return nil, bad("cooldown", c.Cooldown, ">= 0")
	case !(c.MinLR >= 0):
		return nil, bad("min_lr", c.MinLR, ">= 0")
	case !(c.Eps >= 0):
		return nil, bad("eps", c.Eps, ">= 0")
	}
	p := &Plateau{cfg: c}
	p.Best = math.Inf(1)
	if c.Mode == "max" {
		p.Best = math.Inf(-1)
	}
	return p, nil
}

// better reports whether a improves on the best value.
func (p *Plateau) better(a float64) bool {
	thr, best := p.cfg.Threshold, p.Best
	switch p.cfg.Mode + "/" + p.cfg.ThresholdMode {
	case "min/rel":
		return a < best*(1-thr)
	case "min/abs":
		return a < best-thr
	case "max/rel":
		return a > best*(1+thr)
	}
	return a > best+thr
}

// Observe records one metric value and reports whether the learning rate
// should be reduced now.
func (p *Plateau) Observe(metric float64) bool {
	if p.better(metric) {
		p.Best, p.Bad = metric, 0
	} else {
		p.Bad++
	}
	if p.Cooldown > 0 {
		p.Cooldown--
		p.Bad = 0
	}
	if p.Bad > p.cfg.Patience {
		p.Cooldown, p.Bad = p.cfg.Cooldown, 0
		return true
	}
	return false
}

// Reduce returns the reduced learning rate max(lr·Factor, MinLR), or lr
// itself when the change would be smaller than Eps.
func (p *Plateau) Reduce(lr float64) float64 {
	n := math.Max(lr*p.cfg.Factor, p.cfg.MinLR)
	if lr-n > p.cfg.Eps {
		return n
	}
	return lr
}

// Step records metric (NaN counts as no improvement) and, on a plateau, reduces the LR of every group of
// opt. It reports whether it reduced.
func (p *Plateau) Step(metric float64, opt optim.Optimizer) bool {
	if !p.Observe(metric) {
		return false
	}
	for g := range opt.Groups() {
		opt.SetLR(g, p.Reduce(opt.LR(g)))
	}
	return true
}
