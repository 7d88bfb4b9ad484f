package sched

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Config holds the settings of every schedule; each uses the fields that
// apply to it. Zero fields mean the documented defaults, which are
// PyTorch's unless noted.
type Config struct {
	// Step: StepSize (required) and Gamma (zero: 0.1). MultiStep:
	// Milestones (non-decreasing; a repeated one applies Gamma twice) and
	// Gamma. Exponential: Gamma (required).
	StepSize   int
	Gamma      float64
	Milestones []int
	// Constant: Factor for the first Iters steps (zero Factor: 1, a plain
	// constant LR). Linear: StartFactor (zero: 1/3), EndFactor (zero: 1)
	// over Iters (zero: 5). Polynomial: Power (zero: 1) over Iters (zero: 5).
	Factor                 float64
	StartFactor, EndFactor float64
	Iters                  int
	Power                  float64
	// Cosine: TMax (required), EtaMin. WarmRestarts: T0 (required), TMult
	// (zero: 1), EtaMin.
	TMax   int
	T0     int
	TMult  int
	EtaMin float64
	// OneCycle: MaxLR and TotalSteps (required), PctStart (zero: 0.3),
	// Anneal ("cos" or "linear"; empty: cos), DivFactor (zero: 25),
	// FinalDivFactor (zero: 1e4), ThreePhase, momentum between
	// BaseMomentum (zero: 0.85) and MaxMomentum (zero: 0.95) unless
	// NoCycleMomentum.
	MaxLR                     float64
	TotalSteps                int
	PctStart                  float64
	Anneal                    string
	DivFactor, FinalDivFactor float64
	ThreePhase                bool
	NoCycleMomentum           bool
	BaseMomentum, MaxMomentum float64
	// Sequential: the schedules, switched at Milestones.
	Schedules []Spec
}

// Spec names a schedule and its config, for [Sequential] in a config file.
type Spec struct {
	Name string
	Config
}

// ConfigError reports an out-of-range schedule setting.
type ConfigError struct {
	Schedule string
	Field    string
	Value    any
	Want     string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("sched: %s: %s = %v, want %s", e.Schedule, e.Field, e.Value, e.Want)
}

// aliases maps every accepted name (recur's and PyTorch's class names,
// lower-cased) to recur's.
var aliases = map[string]string{
	"constant": "constant", "constantlr": "constant",
	"step": "step", "steplr": "step",
	"multistep": "multistep", "multisteplr": "multistep",
	"exponential": "exponential", "exponentiallr": "exponential",
	"linear": "linear", "linearlr": "linear", "warmup": "linear",
	"cosine": "cosine", "cosineannealinglr": "cosine",
	"warm_restarts": "warm_restarts", "cosineannealingwarmrestarts": "warm_restarts",
	"onecycle": "onecycle", "onecyclelr": "onecycle",
	"polynomial": "polynomial", "polynomiallr": "polynomial",
	"sequential": "sequential", "sequentiallr": "sequential",
}

// Names returns recur's schedule names.
func Names() []string {
	var n []string
	for _, v := range aliases {
		if !slices.Contains(n, v) {
			n = append(n, v)
		}
	}
	slices.Sort(n)
	return n
}

// New builds the schedule called name (constant, step, multistep,
// exponential, linear, cosine, warm_restarts, onecycle, polynomial,
// sequential, or PyTorch's class name) from c. ReduceLROnPlateau is not a
// pure schedule: see [NewPlateau].
func New(name string, c Config) (Schedule, error) {
	n, ok := aliases[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return nil, fmt.Errorf("sched: unknown schedule %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	bad := func(field string, v any, want string) error {
		return &ConfigError{Schedule: n, Field: field, Value: v, Want: want}
	}
	pos := func(field string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return bad(field, v, "a positive finite number")
		}
		return nil
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.EtaMin < 0 || math.IsNaN(c.EtaMin) {
		return nil, bad("eta_min", c.EtaMin, ">= 0")
	}
	switch n {
	case "constant":
		def(&c.Factor, 1)
		if err := pos("factor", c.Factor); err != nil {
			return nil, err
		}
		if c.Iters < 0 {
			return nil, bad("total_iters", c.Iters, ">= 0")
		}
		return Constant{Factor: c.Factor, Iters: c.Iters}, nil
	case "step":
		def(&c.Gamma, 0.1)
		if c.StepSize <= 0 {
			return nil, bad("step_size", c.StepSize, "> 0")
		}
		if err := pos("gamma", c.Gamma); err != nil {
			return nil, err
		}
		return Step{StepSize: c.StepSize, Gamma: c.Gamma}, nil
	case "multistep":
		def(&c.Gamma, 0.1)
		if err := pos("gamma", c.Gamma); err != nil {
			return nil, err
		}
		if err := increasing("milestones", c.Milestones, false, bad); err != nil {
			return nil, err
		}
		return MultiStep{Milestones: slices.Clone(c.Milestones), Gamma: c.Gamma}, nil
	case "exponential":
		if err := pos("gamma", c.Gamma); err != nil {
			return nil, err
		}
		return Exponential{Gamma: c.Gamma}, nil
	case "linear":
		def(&c.StartFactor, 1.0/3)
		def(&c.EndFactor, 1)
		defInt(&c.Iters, 5)
		if !(c.StartFactor > 0 && c.StartFactor <= 1) {
			return nil, bad("start_factor", c.StartFactor, "in (0, 1]")
		}
		if !(c.EndFactor >= 0 && c.EndFactor <= 1) {
			return nil, bad("end_factor", c.EndFactor, "in [0, 1]")
		}
		if c.Iters < 0 {
			return nil, bad("total_iters", c.Iters, "> 0")
		}
		return Linear{Start: c.StartFactor, End: c.EndFactor, Iters: c.Iters}, nil
	case "cosine":
		if c.TMax <= 0 {
			return nil, bad("T_max", c.TMax, "> 0")
		}
		return Cosine{TMax: c.TMax, EtaMin: c.EtaMin}, nil
	case "warm_restarts":
		defInt(&c.TMult, 1)
		if c.T0 <= 0 {
			return nil, bad("T_0", c.T0, "> 0")
		}
		if c.TMult < 1 {
			return nil, bad("T_mult", c.TMult, ">= 1")
		}
		return WarmRestarts{T0: c.T0, TMult: c.TMult, EtaMin: c.EtaMin}, nil
	case "polynomial":
		def(&c.Power, 1)
		defInt(&c.Iters, 5)
		if c.Iters < 0 {
			return nil, bad("total_iters", c.Iters, "> 0")
		}
		if err := pos("power", c.Power); err != nil {
			return nil, err
		}
		return Polynomial{Iters: c.Iters, Power: c.Power}, nil
	case "onecycle":
		def(&c.PctStart, 0.3)
		def(&c.DivFactor, 25)
		def(&c.FinalDivFactor, 1e4)
		def(&c.BaseMomentum, 0.85)
		def(&c.MaxMomentum, 0.95)
		if c.Anneal == "" {
			c.Anneal = "cos"
		}
		switch {
		case pos("max_lr", c.MaxLR) != nil:
			return nil, pos("max_lr", c.MaxLR)
		case c.TotalSteps <= 0:
			return nil, bad("total_steps", c.TotalSteps, "> 0")
		case !(c.PctStart > 0 && c.PctStart < 1):
			return nil, bad("pct_start", c.PctStart, "in (0, 1)")
		case c.Anneal != "cos" && c.Anneal != "linear":
			return nil, bad("anneal_strategy", c.Anneal, "cos or linear")
		case pos("div_factor", c.DivFactor) != nil:
			return nil, pos("div_factor", c.DivFactor)
		case pos("final_div_factor", c.FinalDivFactor) != nil:
			return nil, pos("final_div_factor", c.FinalDivFactor)
		case !(c.BaseMomentum >= 0 && c.BaseMomentum <= c.MaxMomentum && c.MaxMomentum < 1):
			return nil, bad("base_momentum, max_momentum", [2]float64{c.BaseMomentum, c.MaxMomentum}, "0 <= base <= max < 1")
		}
		return OneCycle{MaxLR: c.MaxLR, TotalSteps: c.TotalSteps, PctStart: c.PctStart, Anneal: c.Anneal,
			DivFactor: c.DivFactor, FinalDivFactor: c.FinalDivFactor, ThreePhase: c.ThreePhase,
			CycleMomentum: !c.NoCycleMomentum, BaseMomentum: c.BaseMomentum, MaxMomentum: c.MaxMomentum}, nil
	case "sequential":
		if len(c.Schedules) != len(c.Milestones)+1 {
			return nil, bad("schedulers", len(c.Schedules), fmt.Sprintf("len(milestones)+1 = %d", len(c.Milestones)+1))
		}
		if err := increasing("milestones", c.Milestones, true, bad); err != nil {
			return nil, err
		}
		seq := Sequential{Milestones: slices.Clone(c.Milestones)}
		for i, sp := range c.Schedules {
			s, err := New(sp.Name, sp.Config)
			if err != nil {
				return nil, fmt.Errorf("sched: sequential: schedule %d: %w", i, err)
			}
			seq.Schedules = append(seq.Schedules, s)
		}
		return seq, nil
	}
	panic("sched: unhandled schedule " + n)
}

// increasing checks that milestones are positive and increasing (strictly
// when strict; MultiStepLR counts a repeated milestone twice, as PyTorch's
// does).
func increasing(field string, m []int, strict bool, bad func(string, any, string) error) error {
	for i, v := range m {
		if v <= 0 || i > 0 && (v < m[i-1] || strict && v == m[i-1]) {
			return bad(field, m, "positive and increasing")
		}
	}
	return nil
}

// Run describes the training run a schedule is built for by [ForRun].
type Run struct {
	// Steps is the number of optimizer steps of the whole run.
	Steps int
	// BaseLR is the learning rate a one-cycle schedule peaks at when its
	// MaxLR is zero.
	BaseLR float64
	// Warmup, when > 0, puts a linear warmup from 1% of the base LR in
	// front of the schedule; the schedule then starts at step Warmup and
	// its run-length fields count the steps after the warmup.
	Warmup int
}

// ForRun builds the schedule called name as [New] does, first filling the
// zero fields that depend on the length of the run from r: cosine's TMax,
// one-cycle's TotalSteps and MaxLR, step's StepSize (a third of the run),
// exponential's Gamma (down to 1% at the end), linear's and polynomial's
// Iters (the whole run) and warm restarts' T0 (a quarter of the run). An
// empty name is the constant schedule.
func ForRun(name string, c Config, r Run) (Schedule, error) {
	if r.Steps < 1 || r.Warmup < 0 {
		return nil, fmt.Errorf("sched: a run of %d steps with %d warmup steps", r.Steps, r.Warmup)
	}
	if name == "" {
		name = "constant"
	}
	steps := max(r.Steps-r.Warmup, 1)
	fill := func(v *int, n int) {
		if *v == 0 {
			*v = max(n, 1)
		}
	}
	switch aliases[strings.ToLower(strings.TrimSpace(name))] {
	case "cosine":
		fill(&c.TMax, steps)
	case "onecycle":
		fill(&c.TotalSteps, steps)
		if c.MaxLR == 0 {
			c.MaxLR = r.BaseLR
		}
	case "step":
		fill(&c.StepSize, steps/3)
	case "exponential":
		if c.Gamma == 0 {
			c.Gamma = math.Pow(0.01, 1/float64(steps))
		}
	case "linear", "polynomial":
		fill(&c.Iters, steps)
	case "warm_restarts":
		fill(&c.T0, steps/4)
	}
	s, err := New(name, c)
	if err != nil || r.Warmup == 0 {
		return s, err
	}
	return Sequential{Schedules: []Schedule{Linear{Start: 0.01, End: 1, Iters: r.Warmup}, s}, Milestones: []int{r.Warmup}}, nil
}
