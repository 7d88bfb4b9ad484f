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
	k := check{n}
	if c.EtaMin < 0 || math.IsNaN(c.EtaMin) {
		return nil, k.bad("eta_min", c.EtaMin, ">= 0")
	}
	return builders[n](c, k)
}

// check makes the errors of one schedule's settings.
type check struct{ schedule string }

func (k check) bad(field string, v any, want string) error {
	return &ConfigError{Schedule: k.schedule, Field: field, Value: v, Want: want}
}

// pos reports a setting that is not a positive finite number.
func (k check) pos(field string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return k.bad(field, v, "a positive finite number")
	}
	return nil
}

func def(v *float64, d float64) {
	if *v == 0 {
		*v = d
	}
}

func defInt(v *int, d int) {
	if *v == 0 {
		*v = d
	}
}

// builders make each schedule from a Config, defaults filled and values
// checked.
var builders map[string]func(Config, check) (Schedule, error)

func init() {
	builders = map[string]func(Config, check) (Schedule, error){
		"constant": newConstant, "step": newStep, "multistep": newMultiStep, "exponential": newExponential,
		"linear": newLinear, "cosine": newCosine, "warm_restarts": newWarmRestarts, "polynomial": newPolynomial,
		"onecycle": newOneCycle, "sequential": newSequential,
	}
}

func newConstant(c Config, k check) (Schedule, error) {
	def(&c.Factor, 1)
	if err := k.pos("factor", c.Factor); err != nil {
		return nil, err
	}
	if c.Iters < 0 {
		return nil, k.bad("total_iters", c.Iters, ">= 0")
	}
	return Constant{Factor: c.Factor, Iters: c.Iters}, nil
}

func newStep(c Config, k check) (Schedule, error) {
	def(&c.Gamma, 0.1)
	if c.StepSize <= 0 {
		return nil, k.bad("step_size", c.StepSize, "> 0")
	}
	if err := k.pos("gamma", c.Gamma); err != nil {
		return nil, err
	}
	return Step{StepSize: c.StepSize, Gamma: c.Gamma}, nil
}

func newMultiStep(c Config, k check) (Schedule, error) {
	def(&c.Gamma, 0.1)
	if err := k.pos("gamma", c.Gamma); err != nil {
		return nil, err
	}
	if err := increasing("milestones", c.Milestones, false, k.bad); err != nil {
		return nil, err
	}
	return MultiStep{Milestones: slices.Clone(c.Milestones), Gamma: c.Gamma}, nil
}

func newExponential(c Config, k check) (Schedule, error) {
	if err := k.pos("gamma", c.Gamma); err != nil {
		return nil, err
	}
	return Exponential{Gamma: c.Gamma}, nil
}

func newLinear(c Config, k check) (Schedule, error) {
	def(&c.StartFactor, 1.0/3)
	def(&c.EndFactor, 1)
	defInt(&c.Iters, 5)
	switch {
	case !(c.StartFactor > 0 && c.StartFactor <= 1):
		return nil, k.bad("start_factor", c.StartFactor, "in (0, 1]")
	case !(c.EndFactor >= 0 && c.EndFactor <= 1):
		return nil, k.bad("end_factor", c.EndFactor, "in [0, 1]")
	case c.Iters < 0:
		return nil, k.bad("total_iters", c.Iters, "> 0")
	}
	return Linear{Start: c.StartFactor, End: c.EndFactor, Iters: c.Iters}, nil
}

func newCosine(c Config, k check) (Schedule, error) {
	if c.TMax <= 0 {
		return nil, k.bad("T_max", c.TMax, "> 0")
	}
	return Cosine{TMax: c.TMax, EtaMin: c.EtaMin}, nil
}

func newWarmRestarts(c Config, k check) (Schedule, error) {
	defInt(&c.TMult, 1)
	if c.T0 <= 0 {
		return nil, k.bad("T_0", c.T0, "> 0")
	}
	if c.TMult < 1 {
		return nil, k.bad("T_mult", c.TMult, ">= 1")
	}
	return WarmRestarts{T0: c.T0, TMult: c.TMult, EtaMin: c.EtaMin}, nil
}

func newPolynomial(c Config, k check) (Schedule, error) {
	def(&c.Power, 1)
	defInt(&c.Iters, 5)
	if c.Iters < 0 {
		return nil, k.bad("total_iters", c.Iters, "> 0")
	}
	if err := k.pos("power", c.Power); err != nil {
		return nil, err
	}
	return Polynomial{Iters: c.Iters, Power: c.Power}, nil
}

func newOneCycle(c Config, k check) (Schedule, error) {
	def(&c.PctStart, 0.3)
	def(&c.DivFactor, 25)
	def(&c.FinalDivFactor, 1e4)
	def(&c.BaseMomentum, 0.85)
	def(&c.MaxMomentum, 0.95)
	if c.Anneal == "" {
		c.Anneal = "cos"
	}
	switch {
	case k.pos("max_lr", c.MaxLR) != nil:
		return nil, k.pos("max_lr", c.MaxLR)
	case c.TotalSteps <= 0:
		return nil, k.bad("total_steps", c.TotalSteps, "> 0")
	case !(c.PctStart > 0 && c.PctStart < 1):
		return nil, k.bad("pct_start", c.PctStart, "in (0, 1)")
	case c.Anneal != "cos" && c.Anneal != "linear":
		return nil, k.bad("anneal_strategy", c.Anneal, "cos or linear")
	case k.pos("div_factor", c.DivFactor) != nil:
		return nil, k.pos("div_factor", c.DivFactor)
	case k.pos("final_div_factor", c.FinalDivFactor) != nil:
		return nil, k.pos("final_div_factor", c.FinalDivFactor)
	case !(c.BaseMomentum >= 0 && c.BaseMomentum <= c.MaxMomentum && c.MaxMomentum < 1):
		return nil, k.bad("base_momentum, max_momentum", [2]float64{c.BaseMomentum, c.MaxMomentum}, "0 <= base <= max < 1")
	}
	return OneCycle{MaxLR: c.MaxLR, TotalSteps: c.TotalSteps, PctStart: c.PctStart, Anneal: c.Anneal,
		DivFactor: c.DivFactor, FinalDivFactor: c.FinalDivFactor, ThreePhase: c.ThreePhase,
		CycleMomentum: !c.NoCycleMomentum, BaseMomentum: c.BaseMomentum, MaxMomentum: c.MaxMomentum}, nil
}

func newSequential(c Config, k check) (Schedule, error) {
	if len(c.Schedules) != len(c.Milestones)+1 {
		return nil, k.bad("schedulers", len(c.Schedules), fmt.Sprintf("len(milestones)+1 = %d", len(c.Milestones)+1))
	}
	if err := increasing("milestones", c.Milestones, true, k.bad); err != nil {
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
