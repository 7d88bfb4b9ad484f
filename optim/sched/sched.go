package sched

import (
	"math"
	"sort"

	"github.com/recur-ml/recur/optim"
)

// Schedule gives the learning rate of training step k (k >= 0 scheduler
// steps taken) for a parameter group whose base learning rate is base.
type Schedule interface {
	LR(base float64, k int) float64
}

// Func adapts a function to a Schedule.
type Func func(base float64, k int) float64

// LR calls f.
func (f Func) LR(base float64, k int) float64 { return f(base, k) }

// MomentumSchedule is implemented by schedules that may also set the
// momentum (SGD's momentum, Adam's β1) of step k; ok is false when this one
// does not.
type MomentumSchedule interface {
	Schedule
	Momentum(k int) (m float64, ok bool)
}

// BaseLRs returns the current learning rate of each group of opt, to be
// kept as the bases of a schedule.
func BaseLRs(opt optim.Optimizer) []float64 {
	b := make([]float64, len(opt.Groups()))
	for g := range b {
		b[g] = opt.LR(g)
	}
	return b
}

// Apply sets the learning rate of every group g of opt to
// s.LR(bases[g], k), and the momentum when s is a [MomentumSchedule].
func Apply(opt optim.Optimizer, s Schedule, bases []float64, k int) {
	ms, _ := s.(MomentumSchedule)
	for g, b := range bases {
		opt.SetLR(g, s.LR(b, k))
		if ms != nil {
			if m, ok := ms.Momentum(k); ok {
				opt.SetMomentum(g, m)
			}
		}
	}
}

// Constant is PyTorch's ConstantLR: base·Factor for k < Iters, then base.
type Constant struct {
	Factor float64
	Iters  int
}

// LR implements Schedule.
func (s Constant) LR(base float64, k int) float64 {
	if k < s.Iters {
		return base * s.Factor
	}
	return base
}

// Step is StepLR: base·Gamma^⌊k/StepSize⌋.
type Step struct {
	StepSize int
	Gamma    float64
}

// LR implements Schedule.
func (s Step) LR(base float64, k int) float64 {
	return base * math.Pow(s.Gamma, float64(k/s.StepSize))
}

// MultiStep is MultiStepLR: base·Gamma^(number of milestones <= k).
type MultiStep struct {
	Milestones []int
	Gamma      float64
}

// LR implements Schedule.
func (s MultiStep) LR(base float64, k int) float64 {
	n := 0
	for _, m := range s.Milestones {
		if m <= k {
			n++
		}
	}
	return base * math.Pow(s.Gamma, float64(n))
}

// Exponential is ExponentialLR: base·Gamma^k.
type Exponential struct{ Gamma float64 }

// LR implements Schedule.
func (s Exponential) LR(base float64, k int) float64 { return base * math.Pow(s.Gamma, float64(k)) }

// Linear is LinearLR (linear warmup): the factor moves from Start to End
// over Iters steps, then stays at End: base·(Start + (End−Start)·min(k,Iters)/Iters).
type Linear struct {
	Start, End float64
	Iters      int
}

// LR implements Schedule.
func (s Linear) LR(base float64, k int) float64 {
	return base * (s.Start + (s.End-s.Start)*float64(min(k, s.Iters))/float64(s.Iters))
}

// Cosine is CosineAnnealingLR: EtaMin + (base−EtaMin)·(1+cos(πk/TMax))/2.
// Past TMax it keeps following the cosine (the LR rises again), as
// PyTorch's does.
type Cosine struct {
	TMax   int
	EtaMin float64
}

// LR implements Schedule.
func (s Cosine) LR(base float64, k int) float64 {
	return cosine(s.EtaMin, base, float64(k)/float64(s.TMax))
}

// cosine anneals from hi (frac 0) to lo (frac 1).
func cosine(lo, hi, frac float64) float64 {
	return lo + (hi-lo)*(1+math.Cos(math.Pi*frac))/2
}

// WarmRestarts is CosineAnnealingWarmRestarts: a cosine from base to
// EtaMin over a period that starts at T0 steps and is multiplied by TMult
// at each restart.
type WarmRestarts struct {
	T0, TMult int
	EtaMin    float64
}

// LR implements Schedule.
func (s WarmRestarts) LR(base float64, k int) float64 {
	cur, period := k, s.T0
	for cur >= period {
		cur -= period
		period *= s.TMult
	}
	return cosine(s.EtaMin, base, float64(cur)/float64(period))
}

// Polynomial is PolynomialLR: base·(1 − min(k,Iters)/Iters)^Power.
type Polynomial struct {
	Iters int
	Power float64
}

// LR implements Schedule.
func (s Polynomial) LR(base float64, k int) float64 {
	return base * math.Pow(1-float64(min(k, s.Iters))/float64(s.Iters), s.Power)
}

// Sequential is SequentialLR: Schedules[i] runs from Milestones[i−1] (0 for
// the first) and restarts from its own step 0 there. len(Schedules) =
// len(Milestones)+1, milestones increasing.
type Sequential struct {
	Schedules  []Schedule
	Milestones []int
}

// LR implements Schedule.
func (s Sequential) LR(base float64, k int) float64 {
	i := sort.SearchInts(s.Milestones, k+1) // milestones <= k
	start := 0
	if i > 0 {
		start = s.Milestones[i-1]
	}
	return s.Schedules[i].LR(base, k-start)
}

// OneCycle is OneCycleLR. The LR rises from MaxLR/DivFactor to MaxLR over
// the first PctStart of TotalSteps, then falls to
// MaxLR/DivFactor/FinalDivFactor; ThreePhase goes back down to the initial
// LR symmetrically before the final decay. Anneal is "cos" or "linear".
// When CycleMomentum is set the momentum moves inversely between
// MaxMomentum and BaseMomentum. It ignores the base LR.
type OneCycle struct {
	MaxLR                     float64
	TotalSteps                int
	PctStart                  float64
	Anneal                    string
	DivFactor, FinalDivFactor float64
	ThreePhase                bool
	CycleMomentum             bool
	BaseMomentum, MaxMomentum float64
}

type phase struct{ end, lr0, lr1, m0, m1 float64 }

func (s OneCycle) phases() []phase {
	initial := s.MaxLR / s.DivFactor
	minLR := initial / s.FinalDivFactor
	n := float64(s.TotalSteps)
	if s.ThreePhase {
		return []phase{
			{s.PctStart*n - 1, initial, s.MaxLR, s.MaxMomentum, s.BaseMomentum},
			{2*s.PctStart*n - 2, s.MaxLR, initial, s.BaseMomentum, s.MaxMomentum},
			{n - 1, initial, minLR, s.MaxMomentum, s.MaxMomentum},
		}
	}
	return []phase{
		{s.PctStart*n - 1, initial, s.MaxLR, s.MaxMomentum, s.BaseMomentum},
		{n - 1, s.MaxLR, minLR, s.BaseMomentum, s.MaxMomentum},
	}
}

// at returns the LR and momentum of step k.
func (s OneCycle) at(k int) (lr, mom float64) {
	start := 0.0
	ph := s.phases()
	for i, p := range ph {
		if float64(k) <= p.end || i == len(ph)-1 {
			pct := (float64(k) - start) / (p.end - start)
			if s.Anneal == "linear" {
				return (p.lr1-p.lr0)*pct + p.lr0, (p.m1-p.m0)*pct + p.m0
			}
			return cosine(p.lr1, p.lr0, pct), cosine(p.m1, p.m0, pct)
		}
		start = p.end
	}
	panic("unreachable")
}

// LR implements Schedule.
func (s OneCycle) LR(_ float64, k int) float64 { lr, _ := s.at(k); return lr }

// Momentum implements MomentumSchedule; ok is CycleMomentum.
func (s OneCycle) Momentum(k int) (float64, bool) {
	_, m := s.at(k)
	return m, s.CycleMomentum
}

var _ MomentumSchedule = OneCycle{}
