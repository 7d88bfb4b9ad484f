package loss

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/internal/kernel"
)

// Reduction says how per-element losses are combined.
type Reduction int

const (
	// Mean divides the sum by the number of counted elements (by the summed
	// class weights for weighted classification losses). It is the zero value.
	Mean Reduction = iota
	// Sum adds the per-element losses.
	Sum
)

func (r Reduction) String() string {
	switch r {
	case Mean:
		return "mean"
	case Sum:
		return "sum"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// ParseReduction maps "mean" and "sum" (PyTorch's names) to a Reduction.
func ParseReduction(s string) (Reduction, error) {
	switch s {
	case "mean", "":
		return Mean, nil
	case "sum":
		return Sum, nil
	}
	return 0, fmt.Errorf("loss: unknown reduction %q (want mean or sum)", s)
}

// Options configures the elementwise losses. The zero value is a mean over
// every element.
type Options struct {
	Reduction Reduction
	// Mask, when not nil, has one entry per group of n/len(Mask)
	// consecutive elements; false excludes the group from the loss, from
	// the mean's denominator and from the gradient. len(Mask) must divide n.
	Mask []bool
}

// LengthMask returns the time-major (T, B) mask of sequences with the given
// lengths: entry t·B+b is t < lengths[b]. It panics if a length is outside
// [0, T].
func LengthMask(T int, lengths []int) []bool {
	B := len(lengths)
	m := make([]bool, T*B)
	for b, l := range lengths {
		if l < 0 || l > T {
			panic(fmt.Sprintf("loss: length %d of sequence %d outside [0, %d]", l, b, T))
		}
		for t := 0; t < l; t++ {
			m[t*B+b] = true
		}
	}
	return m
}

// masker answers whether element i counts.
type masker struct {
	mask  []bool
	group int
}

func newMasker(fn string, mask []bool, n int) masker {
	if mask == nil {
		return masker{}
	}
	if len(mask) == 0 || n%len(mask) != 0 {
		panic(fmt.Sprintf("loss: %s: mask of %d entries does not divide %d elements", fn, len(mask), n))
	}
	return masker{mask: mask, group: n / len(mask)}
}

func (m masker) on(i int) bool { return m.mask == nil || m.mask[i/m.group] }

func checkPair(fn string, grad, pred, target []float32) {
	if len(pred) == 0 {
		panic("loss: " + fn + ": empty input")
	}
	if len(target) != len(pred) {
		panic(fmt.Sprintf("loss: %s: target has %d elements, prediction %d", fn, len(target), len(pred)))
	}
	if grad != nil && len(grad) != len(pred) {
		panic(fmt.Sprintf("loss: %s: grad has %d elements, prediction %d", fn, len(grad), len(pred)))
	}
}

// elementwise evaluates a loss whose per-element value and derivative
// depend only on d = pred-target: f returns (loss, dloss/dd).
func elementwise(fn string, grad, pred, target []float32, o Options, f func(d float64) (float64, float64)) float64 {
	checkPair(fn, grad, pred, target)
	m := newMasker(fn, o.Mask, len(pred))
	var sum float64
	count := 0
	for i := range pred {
		if !m.on(i) {
			continue
		}
		v, _ := f(float64(pred[i]) - float64(target[i]))
		sum += v
		count++
	}
	scale, ok := meanScale(o.Reduction, count, grad)
	if !ok {
		return 0
	}
	if grad != nil {
		for i := range pred {
			if !m.on(i) {
				grad[i] = 0
				continue
			}
			_, g := f(float64(pred[i]) - float64(target[i]))
			grad[i] = float32(g * scale)
		}
	}
	return sum * scale
}

// meanScale is what a reduction multiplies the sum of count elements'
// losses by: 1/count for Mean, 1 for Sum. With nothing counted under Mean
// (PyTorch would return NaN) a fully padded batch contributes nothing
// instead: grad is cleared and ok is false.
func meanScale(r Reduction, count int, grad []float32) (scale float64, ok bool) {
	if r != Mean {
		return 1, true
	}
	if count == 0 {
		if grad != nil {
			clear(grad)
		}
		return 0, false
	}
	return 1 / float64(count), true
}

// MSE is the mean squared error Σ (pred-target)², reduced by o.
// pred, target and grad have the same length n (any shape). As PyTorch's
// mse_loss, each difference is a float32 and the gradient is its product
// with the float32 2/count (2 for a sum); the squares add up in float64.
func MSE(grad, pred, target []float32, o Options) float64 {
	if o.Reduction != Mean && o.Reduction != Sum {
		return elementwise("MSE", grad, pred, target, o, func(d float64) (float64, float64) {
			return d * d, 2 * d
		})
	}
	checkPair("MSE", grad, pred, target)
	m := newMasker("MSE", o.Mask, len(pred))
	count := len(pred)
	if o.Mask != nil {
		count = 0
		for _, on := range o.Mask {
			if on {
				count += m.group
			}
		}
	}
	scale, ok := meanScale(o.Reduction, count, grad)
	if !ok {
		return 0
	}
	g2 := float32(2 * scale)
	target = target[:len(pred)]
	if o.Mask == nil {
		// One vectorized pass (a sequence model's MSE runs over T·B·H
		// values: 3.3M for T100 B64 H512).
		return kernel.SqDiff(grad, pred, target, g2) * scale
	}
	var sum float64
	for j, on := range o.Mask {
		lo, hi := j*m.group, (j+1)*m.group
		var g []float32
		if grad != nil {
			g = grad[lo:hi]
		}
		if on {
			sum += kernel.SqDiff(g, pred[lo:hi], target[lo:hi], g2)
		} else {
			clear(g)
		}
	}
	return sum * scale
}

// L1 is the mean absolute error Σ |pred-target|, reduced by o. Its
// gradient is sign(pred-target), and 0 at an exact tie (as in PyTorch).
func L1(grad, pred, target []float32, o Options) float64 {
	return elementwise("L1", grad, pred, target, o, func(d float64) (float64, float64) {
		switch {
		case d > 0:
			return d, 1
		case d < 0:
			return -d, -1
		}
		return 0, 0
	})
}

// Huber is PyTorch's HuberLoss: 0.5·d² where |d| < delta, else
// delta·(|d| − 0.5·delta), with d = pred-target. delta must be positive.
func Huber(grad, pred, target []float32, delta float64, o Options) float64 {
	if !(delta > 0) {
		panic(fmt.Sprintf("loss: Huber: delta %v must be positive", delta))
	}
	return elementwise("Huber", grad, pred, target, o, func(d float64) (float64, float64) {
		if math.Abs(d) < delta {
			return 0.5 * d * d, d
		}
		return delta * (math.Abs(d) - 0.5*delta), delta * sign(d)
	})
}

// SmoothL1 is PyTorch's SmoothL1Loss: 0.5·d²/beta where |d| < beta, else
// |d| − 0.5·beta. beta = 0 is L1.
func SmoothL1(grad, pred, target []float32, beta float64, o Options) float64 {
	if beta < 0 || math.IsNaN(beta) {
		panic(fmt.Sprintf("loss: SmoothL1: beta %v must be non-negative", beta))
	}
	return elementwise("SmoothL1", grad, pred, target, o, func(d float64) (float64, float64) {
		if math.Abs(d) < beta {
			return 0.5 * d * d / beta, d / beta
		}
		return math.Abs(d) - 0.5*beta, sign(d)
	})
}

func sign(d float64) float64 {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	}
	return 0
}

// Pinball is the quantile (pinball) loss of predictions of several
// quantile levels: pred holds len(levels) values per target value, level
// q's prediction of target i at pred[i·Q+q]. Each contributes
// max(τ·(y−p), (τ−1)·(y−p)) for its level τ, averaged over every
// prediction (Mean) or summed. Its minimizer is the τ-quantile of y, so a
// model trained on it forecasts intervals (MQ-RNN, DeepAR's quantile
// variants). grad is pred's size; o.Mask has one entry per target value
// (or a divisor of their number).
func Pinball(grad, pred, target []float32, levels []float64, o Options) float64 {
	Q := len(levels)
	if Q == 0 || len(pred) != Q*len(target) || grad != nil && len(grad) != len(pred) {
		panic(fmt.Sprintf("loss: Pinball: %d predictions, %d gradients for %d targets and %d levels", len(pred), len(grad), len(target), Q))
	}
	for _, tau := range levels {
		if !(tau > 0 && tau < 1) {
			panic(fmt.Sprintf("loss: Pinball: level %v outside (0, 1)", tau))
		}
	}
	m := newMasker("Pinball", o.Mask, len(target))
	var sum float64
	count := 0
	for i, y := range target {
		if !m.on(i) {
			continue
		}
		for q, tau := range levels {
			d := float64(y) - float64(pred[i*Q+q])
			sum += max(tau*d, (tau-1)*d)
			count++
		}
	}
	scale, ok := meanScale(o.Reduction, count, grad)
	if !ok || grad == nil {
		return sum * scale
	}
	for i, y := range target {
		for q, tau := range levels {
			g := 0.0
			if m.on(i) {
				// d(loss)/d(pred): −τ below the target, 1−τ above it.
				g = 1 - tau
				if float64(y) > float64(pred[i*Q+q]) {
					g = -tau
				}
			}
			grad[i*Q+q] = float32(g * scale)
		}
	}
	return sum * scale
}
