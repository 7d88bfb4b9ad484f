package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
)

// GradNorm returns the p-norm of the gradients of the trainable (not
// Frozen) params taken together, accumulated in float64: (Σ|g|^p)^(1/p),
// or max |g| for p = +Inf. p must be positive.
func GradNorm(params []*nn.Param, p float64) float64 {
	if !(p > 0) {
		panic(fmt.Sprintf("optim: GradNorm: norm type %v must be positive", p))
	}
	var acc float64
	for _, q := range params {
		if q.Frozen {
			continue
		}
		g := q.Grad.Data
		switch {
		case p == 2:
			acc += kernel.SumSq(g)
		case math.IsInf(p, 1):
			for _, v := range g {
				acc = math.Max(acc, math.Abs(float64(v)))
			}
		case p == 1:
			for _, v := range g {
				acc += math.Abs(float64(v))
			}
		default:
			for _, v := range g {
				acc += math.Pow(math.Abs(float64(v)), p)
			}
		}
	}
	switch {
	case p == 2:
		return math.Sqrt(acc)
	case math.IsInf(p, 1), p == 1:
		return acc
	}
	return math.Pow(acc, 1/p)
}

// ClipGradNorm rescales the gradients of the trainable params so that
// their total p-norm (see [GradNorm]) is at most maxNorm, as PyTorch's
// clip_grad_norm_ does: every gradient is multiplied by
// min(1, maxNorm/(total+1e-6)), so a clipped norm ends slightly below
// maxNorm. It returns the total norm before clipping, for logging. When
// that norm is NaN or infinite the gradients are left unchanged (check
// with [CheckFinite] and skip the step). maxNorm must be >= 0.
func ClipGradNorm(params []*nn.Param, maxNorm, p float64) float64 {
	total := GradNorm(params, p)
	ClipToNorm(params, maxNorm, total)
	return total
}

// ClipToNorm is the second half of [ClipGradNorm] for a caller that has
// the total norm already (from [GradNorms], say): it multiplies the
// gradients of the trainable params by min(1, maxNorm/(total+1e-6)). A
// NaN or infinite total leaves them unchanged.
func ClipToNorm(params []*nn.Param, maxNorm, total float64) {
	if !(maxNorm >= 0) {
		panic(fmt.Sprintf("optim: ClipToNorm: max norm %v must be >= 0", maxNorm))
	}
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return
	}
	if c := maxNorm / (total + 1e-6); c < 1 {
		for _, q := range params {
			if !q.Frozen {
				kernel.Scal(float32(c), q.Grad.Data)
			}
		}
	}
}

// GradNorms writes the L2 norm of each parameter's gradient into dst (one
// per param, frozen ones included, for monitoring) and returns the total
// L2 norm of the trainable params' gradients, the norm [ClipGradNorm]
// clips. Sums are accumulated in float64.
func GradNorms(dst []float64, params []*nn.Param) float64 {
	if len(dst) != len(params) {
		panic(fmt.Sprintf("optim: GradNorms: %d slots for %d params", len(dst), len(params)))
	}
	var total float64
	for i, q := range params {
		s := kernel.SumSq(q.Grad.Data)
		dst[i] = math.Sqrt(s)
		if !q.Frozen {
			total += s
		}
	}
	return math.Sqrt(total)
}

// ClipGradValue clamps every gradient element of the trainable params to
// [−v, v] (PyTorch's clip_grad_value_). v must be >= 0.
func ClipGradValue(params []*nn.Param, v float64) {
	if !(v >= 0) {
		panic(fmt.Sprintf("optim: ClipGradValue: clip value %v must be >= 0", v))
	}
	hi := float32(v)
	for _, q := range params {
		if q.Frozen {
			continue
		}
		for i, g := range q.Grad.Data {
			q.Grad.Data[i] = max(-hi, min(hi, g))
		}
	}
}

// ParseNormType reads a norm type as written in configs: a positive
// number ("2", "1", "0.5") or "inf".
func ParseNormType(s string) (float64, error) {
	if strings.EqualFold(strings.TrimSpace(s), "inf") {
		return math.Inf(1), nil
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(p > 0) {
		return 0, fmt.Errorf("optim: norm type %q: want a positive number or inf", s)
	}
	return p, nil
}

// CheckFinite returns an error naming the first parameter whose gradient
// holds a NaN or an infinity, and where.
func CheckFinite(params []*nn.Param) error {
	for _, q := range params {
		for i, g := range q.Grad.Data {
			if f := float64(g); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("optim: gradient of %q is %v at element %d of %v", q.Name, g, i, q.Grad.Shape)
			}
		}
	}
	return nil
}
