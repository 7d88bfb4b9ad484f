// Package lrfind is the learning-rate range test (Smith 2017, popularised
// by fastai): train for a few hundred steps while the learning rate grows
// exponentially from tiny to huge, record the loss, and read a good
// learning rate off the curve.
//
// The caller supplies one training step as a function of the learning
// rate, so the test works with any model, optimizer and data:
//
//	res, err := lrfind.Run(lrfind.Config{}, func(lr float64) (float64, error) {
//		opt.SetLR(0, lr)
//		return trainOneBatch() // forward, backward, opt.Step; the batch loss
//	})
//	fmt.Println(res.Suggested)
//
// Run smooths the loss with a bias-corrected exponential moving average and
// stops once the smoothed loss exceeds DivergeFactor times the best one
// (or the loss is NaN or infinite). The suggestion is the point of steepest
// descent of the smoothed loss against log(lr), before its minimum and
// past the first tenth of the sweep, read over a span of 5% of it; when
// the curve gives none, or gives one more than two decades below the
// minimum, a tenth of the LR at the minimum, never below MinLR. When the
// smoothed loss is lowest in the first tenth of the sweep, Run returns the
// curve with a [NoDescentError]. Save the model
// and optimizer state before the test and restore them after: the test
// trains the model into divergence.
package lrfind

import (
	"fmt"
	"math"
)

// Config sets the range test. Zero fields mean the defaults.
type Config struct {
	// MinLR and MaxLR bound the sweep (zero: 1e-7 and 10).
	MinLR, MaxLR float64
	// Steps is the number of training steps (zero: 100).
	Steps int
	// Smoothing is the moving average's β in [0, 1) (zero: 0.98; use a
	// small positive value to disable smoothing).
	Smoothing float64
	// DivergeFactor stops the test when the smoothed loss exceeds it times
	// the best smoothed loss (zero: 4).
	DivergeFactor float64
}

// Result is the recorded curve and what it suggests.
type Result struct {
	// LRs, Losses and Smoothed have one entry per step run.
	LRs, Losses, Smoothed []float64
	// Diverged reports that the test stopped early.
	Diverged bool
	// MinLR is the LR at the lowest smoothed loss.
	MinLR float64
	// Steepest is the LR where the smoothed loss falls fastest (0 when the
	// curve has no falling part).
	Steepest float64
	// Suggested is Steepest, or MinLR/10 when there is none or it lies
	// more than two decades below MinLR.
	Suggested float64
}

func (c Config) withDefaults() Config {
	if c.MinLR == 0 {
		c.MinLR = 1e-7
	}
	if c.MaxLR == 0 {
		c.MaxLR = 10
	}
	if c.Steps == 0 {
		c.Steps = 100
	}
	if c.Smoothing == 0 {
		c.Smoothing = 0.98
	}
	if c.DivergeFactor == 0 {
		c.DivergeFactor = 4
	}
	return c
}

func (c Config) validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("lrfind: %s = %v, want %s", field, v, want)
	}
	switch {
	case !(c.MinLR > 0) || math.IsInf(c.MinLR, 0):
		return bad("min_lr", c.MinLR, "a positive finite number")
	case !(c.MaxLR > c.MinLR) || math.IsInf(c.MaxLR, 0):
		return bad("max_lr", c.MaxLR, fmt.Sprintf("finite and > min_lr %v", c.MinLR))
	case c.Steps < 2:
		return bad("steps", c.Steps, ">= 2")
	case !(c.Smoothing >= 0 && c.Smoothing < 1):
		return bad("smoothing", c.Smoothing, "in [0, 1)")
	case !(c.DivergeFactor > 1):
		return bad("diverge_factor", c.DivergeFactor, "> 1")
	}
	return nil
}

// LR returns the learning rate of step i of n from min to max:
// min·(max/min)^(i/(n−1)).
func LR(min, max float64, i, n int) float64 {
	return min * math.Pow(max/min, float64(i)/float64(n-1))
}

// Run performs the range test, calling step once per learning rate. An
// error from step ends the test and is returned with the step number.
func Run(c Config, step func(lr float64) (float64, error)) (*Result, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	r := &Result{}
	var avg float64
	best, bestAt := math.Inf(1), -1
	for i := 0; i < c.Steps; i++ {
		lr := LR(c.MinLR, c.MaxLR, i, c.Steps)
		l, err := step(lr)
		if err != nil {
			return nil, fmt.Errorf("lrfind: step %d (lr %g): %w", i, lr, err)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			r.Diverged = true
			break
		}
		avg = c.Smoothing*avg + (1-c.Smoothing)*l
		s := avg / (1 - math.Pow(c.Smoothing, float64(i+1)))
		r.LRs = append(r.LRs, lr)
		r.Losses = append(r.Losses, l)
		r.Smoothed = append(r.Smoothed, s)
		if s < best {
			best, bestAt = s, len(r.Smoothed)-1
		}
		if i > 0 && s > c.DivergeFactor*best {
			r.Diverged = true
			break
		}
	}
	if bestAt < 0 {
		return nil, fmt.Errorf("lrfind: the loss was not finite at the first step (lr %g)", c.MinLR)
	}
	r.MinLR = r.LRs[bestAt]
	if bestAt < max(1, len(r.Smoothed)/10) {
		return r, &NoDescentError{MinLR: c.MinLR, MaxLR: c.MaxLR, LowestAt: r.MinLR, Steps: len(r.Smoothed)}
	}
	// Steepest descent: the most negative slope d(smoothed)/d(log lr) up
	// to the minimum, measured over a span of w points and ignoring the
	// first tenth of the sweep. At the start the moving average rests on a
	// handful of noisy losses, and a slope read there suggests a learning
	// rate far too small to train with.
	w := max(1, len(r.Smoothed)/20)
	steepest := 0.0
	for i := max(w, len(r.Smoothed)/10); i <= bestAt; i++ {
		slope := (r.Smoothed[i] - r.Smoothed[i-w]) / math.Log(r.LRs[i]/r.LRs[i-w])
		if slope < steepest {
			steepest, r.Steepest = slope, r.LRs[i-w/2]
		}
	}
	// A steepest point more than two decades below the minimum is the
	// moving average still settling from noisy first losses, not the
	// descent: fall back to a tenth of the minimum's LR then.
	r.Suggested = r.Steepest
	if r.Suggested == 0 || r.Suggested < r.MinLR/100 {
		r.Suggested = r.MinLR / 10
	}
	// Never suggest a rate the sweep did not try.
	r.Suggested = max(r.Suggested, c.MinLR)
	return r, nil
}

// NoDescentError reports a sweep whose smoothed loss was lowest in its
// first tenth: no learning rate of the range lowered the loss, so there is
// nothing to suggest. Run returns it with the recorded curve.
type NoDescentError struct {
	MinLR, MaxLR float64 // the sweep
	LowestAt     float64 // the LR at the lowest smoothed loss
	Steps        int     // steps run
}

func (e *NoDescentError) Error() string {
	return fmt.Sprintf("lrfind: the smoothed loss was lowest at the start of the sweep (lr %.3g): over %d steps no learning rate in [%g, %g] lowered it; run more steps or check the data and model",
		e.LowestAt, e.Steps, e.MinLR, e.MaxLR)
}
