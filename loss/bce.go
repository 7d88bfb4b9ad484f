package loss

import (
	"fmt"
	"math"
)

// BCEOptions configures [BCEWithLogits]. The zero value is an unweighted
// mean over every element.
type BCEOptions struct {
	Reduction Reduction
	// Weight, when not nil, rescales each element's loss. Its length is n
	// (one per element) or divides n, and then it repeats over the leading
	// dimensions: Weight[i % len(Weight)] (a (C) weight over (N, C)).
	Weight []float32
	// PosWeight, when not nil, multiplies the positive term; like Weight it
	// broadcasts over the leading dimensions (PyTorch's pos_weight (C)).
	PosWeight []float32
	// Mask is as in [Options].
	Mask []bool
}

func broadcast(fn, what string, w []float32, n int) {
	if w != nil && (len(w) == 0 || n%len(w) != 0) {
		panic(fmt.Sprintf("loss: %s: %s of %d values does not broadcast over %d elements", fn, what, len(w), n))
	}
}

// softplus is log(1+exp(x)) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// sigmoid is 1/(1+exp(-x)) without overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// BCEWithLogits is PyTorch's BCEWithLogitsLoss: element i with logit x,
// target y in [0, 1], weight w and positive weight pw contributes
//
//	−w·[pw·y·log σ(x) + (1−y)·log(1−σ(x))]
//	= w·[pw·y·softplus(−x) + (1−y)·softplus(x)]
//
// which stays finite for any finite logit. logits, targets and grad have
// the same length n.
func BCEWithLogits(grad, logits, targets []float32, o BCEOptions) float64 {
	checkPair("BCEWithLogits", grad, logits, targets)
	n := len(logits)
	broadcast("BCEWithLogits", "weight", o.Weight, n)
	broadcast("BCEWithLogits", "pos_weight", o.PosWeight, n)
	m := newMasker("BCEWithLogits", o.Mask, n)
	at := func(w []float32, i int) float64 {
		if w == nil {
			return 1
		}
		return float64(w[i%len(w)])
	}
	var total float64
	count := 0
	for i := 0; i < n; i++ {
		if !m.on(i) {
			continue
		}
		x, y := float64(logits[i]), float64(targets[i])
		total += at(o.Weight, i) * (at(o.PosWeight, i)*y*softplus(-x) + (1-y)*softplus(x))
		count++
	}
	scale := reduceScale(o.Reduction, float64(count))
	if grad != nil {
		for i := 0; i < n; i++ {
			if !m.on(i) || scale == 0 {
				grad[i] = 0
				continue
			}
			x, y := float64(logits[i]), float64(targets[i])
			// d/dx softplus(−x) = −σ(−x), d/dx softplus(x) = σ(x).
			g := at(o.Weight, i) * (-at(o.PosWeight, i)*y*sigmoid(-x) + (1-y)*sigmoid(x))
			grad[i] = float32(g * scale)
		}
	}
	return total * scale
}
