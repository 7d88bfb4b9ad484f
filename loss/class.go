package loss

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/internal/kernel"
)

// ClassOptions configures the classification losses. The zero value is
// an unweighted mean over every row with no label smoothing; negative
// targets (PyTorch's default ignore_index is −100) are always ignored.
type ClassOptions struct {
	Reduction Reduction
	// Weight, when not nil, holds C class weights.
	Weight []float32
	// IgnoreIndex is a class whose rows are skipped, when UseIgnoreIndex
	// is set (rows with a negative target are skipped regardless).
	IgnoreIndex    int
	UseIgnoreIndex bool
	// LabelSmoothing ε in [0, 1] mixes the one-hot (or probability) target
	// with the uniform distribution: (1−ε)·target + ε/C.
	LabelSmoothing float64
	// Mask, when not nil, has one entry per row; false skips the row like
	// an ignored target.
	Mask []bool
}

func (o *ClassOptions) check(fn string, n, rows, C int, nTargets int) {
	if C <= 0 || n == 0 {
		panic(fmt.Sprintf("loss: %s: empty input (%d values, %d classes)", fn, n, C))
	}
	if n%C != 0 {
		panic(fmt.Sprintf("loss: %s: %d values are not rows of %d classes", fn, n, C))
	}
	if nTargets != rows {
		panic(fmt.Sprintf("loss: %s: %d targets for %d rows", fn, nTargets, rows))
	}
	if o.Weight != nil && len(o.Weight) != C {
		panic(fmt.Sprintf("loss: %s: %d class weights for %d classes", fn, len(o.Weight), C))
	}
	if o.Mask != nil && len(o.Mask) != rows {
		panic(fmt.Sprintf("loss: %s: mask of %d entries for %d rows", fn, len(o.Mask), rows))
	}
	if o.LabelSmoothing < 0 || o.LabelSmoothing > 1 || math.IsNaN(o.LabelSmoothing) {
		panic(fmt.Sprintf("loss: %s: label smoothing %v outside [0, 1]", fn, o.LabelSmoothing))
	}
}

func (o *ClassOptions) w(c int) float64 {
	if o.Weight == nil {
		return 1
	}
	return float64(o.Weight[c])
}

// skip reports whether row i with class target y does not count.
func (o *ClassOptions) skip(fn string, i, y, C int) bool {
	if y < 0 || (o.UseIgnoreIndex && y == o.IgnoreIndex) || (o.Mask != nil && !o.Mask[i]) {
		return true
	}
	if y >= C {
		panic(fmt.Sprintf("loss: %s: target %d of row %d outside [0, %d)", fn, y, i, C))
	}
	return false
}

// Denominator is what CrossEntropy's Mean divides by for these targets
// of C classes: Σ w[y_i] over the rows that count. Data-parallel training
// weights each rank's share of a batch by it.
func (o *ClassOptions) Denominator(targets []int, C int) float64 {
	return o.denominator("Denominator", targets, C)
}

func (o *ClassOptions) denominator(fn string, targets []int, C int) float64 {
	var denom float64
	for i, y := range targets {
		if !o.skip(fn, i, y, C) {
			denom += o.w(y)
		}
	}
	return denom
}

// logSoftmax writes the log-softmax of row x into lp (float64, stable).
func logSoftmax(lp []float64, x []float32) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(s)
	for j, v := range x {
		lp[j] = float64(v) - lse
	}
}

// CrossEntropy is PyTorch's CrossEntropyLoss over logits (N, C) (row-major,
// N = len(logits)/C) with class-index targets (N). With smoothing ε and
// class weights w, row i contributes
//
//	(1−ε)·w[y]·(−lp[i,y]) + (ε/C)·Σ_c w[c]·(−lp[i,c]),  lp = log_softmax(logits)
//
// Mean divides the sum by Σ w[y_i] over the counted rows. grad, when not
// nil, is (N, C) and receives dL/dlogits (zero on skipped rows).
//
// It makes one pass over the logits: the exponentials go through the
// vectorised kernel.Exp (relative error below 4e-7) straight into grad,
// and each row's log-sum-exp is accumulated in float64 around its maximum
// (whose term is exactly 1), so a small loss keeps its relative precision.
func CrossEntropy(grad, logits []float32, targets []int, C int, o ClassOptions) float64 {
	N := len(logits) / max(C, 1)
	o.check("CrossEntropy", len(logits), N, C, len(targets))
	if grad != nil && len(grad) != len(logits) {
		panic(fmt.Sprintf("loss: CrossEntropy: grad has %d elements, logits %d", len(grad), len(logits)))
	}
	// The mean's denominator depends on the targets only.
	denom := o.denominator("CrossEntropy", targets, C)
	scale := reduceScale(o.Reduction, denom)
	eps, fC := o.LabelSmoothing, float64(C)
	var wsum float64 // Σ_c w_c, for the smoothing term
	for c := 0; c < C; c++ {
		wsum += o.w(c)
	}
	rows := func(lo, hi int) float64 {
		var scratch []float32
		if grad == nil {
			scratch = make([]float32, C)
		}
		var total float64
		for i := lo; i < hi; i++ {
			x := logits[i*C : (i+1)*C]
			e := scratch
			if grad != nil {
				e = grad[i*C : (i+1)*C]
			}
			y := targets[i]
			if o.skip("CrossEntropy", i, y, C) {
				clear(e)
				continue
			}
			m := kernel.Max(x)
			sum := kernel.ExpShift(e, x, m) // e = exp(x-m), Σ e in float64
			lse := float64(m) + math.Log(sum)
			wy := o.w(y)
			per := (1 - eps) * wy * (lse - float64(x[y]))
			if eps > 0 {
				var sm float64
				for c, v := range x {
					sm += o.w(c) * (lse - float64(v))
				}
				per += eps / fC * sm
			}
			total += per
			if grad == nil {
				continue
			}
			// d(−lp_k)/dx_j = softmax_j − δ_jk, softmax_j = e_j/sum.
			a := ((1-eps)*wy + eps/fC*wsum) * scale / sum
			if o.Weight == nil && eps == 0 {
				kernel.Scal(float32(a), e)
			} else {
				for j := range e {
					e[j] = float32(float64(e[j])*a - eps/fC*o.w(j)*scale)
				}
			}
			e[y] -= float32((1 - eps) * wy * scale)
		}
		return total
	}
	total := rows(0, N)
	return total * scale
}

// reduceScale is 1 for Sum, 1/denom for Mean (0 when nothing counted).
func reduceScale(r Reduction, denom float64) float64 {
	if r == Sum {
		return 1
	}
	if denom == 0 {
		return 0
	}
	return 1 / denom
}

// CrossEntropyProbs is CrossEntropyLoss with probability targets (N, C):
// row i contributes −Σ_c w[c]·p[i,c]·lp[i,c], where p is the target mixed
// with the uniform distribution by the label smoothing. Mean divides by
// the number of counted rows (PyTorch does not normalise by the weights
// here). UseIgnoreIndex does not apply; Mask does.
func CrossEntropyProbs(grad, logits, probs []float32, C int, o ClassOptions) float64 {
	N := len(logits) / max(C, 1)
	o.check("CrossEntropyProbs", len(logits), N, C, len(probs)/max(C, 1))
	if len(probs) != len(logits) {
		panic(fmt.Sprintf("loss: CrossEntropyProbs: %d target values for %d logits", len(probs), len(logits)))
	}
	if grad != nil && len(grad) != len(logits) {
		panic(fmt.Sprintf("loss: CrossEntropyProbs: grad has %d elements, logits %d", len(grad), len(logits)))
	}
	eps := o.LabelSmoothing
	p := func(i, c int) float64 { return (1-eps)*float64(probs[i*C+c]) + eps/float64(C) }
	lp := make([]float64, C)
	var total float64
	count := 0
	for i := 0; i < N; i++ {
		if o.Mask != nil && !o.Mask[i] {
			continue
		}
		logSoftmax(lp, logits[i*C:(i+1)*C])
		for c := 0; c < C; c++ {
			total -= o.w(c) * p(i, c) * lp[c]
		}
		count++
	}
	scale := reduceScale(o.Reduction, float64(count))
	if grad != nil {
		for i := 0; i < N; i++ {
			g := grad[i*C : (i+1)*C]
			if (o.Mask != nil && !o.Mask[i]) || scale == 0 {
				clear(g)
				continue
			}
			logSoftmax(lp, logits[i*C:(i+1)*C])
			var a float64
			for c := 0; c < C; c++ {
				a += o.w(c) * p(i, c)
			}
			for j := 0; j < C; j++ {
				g[j] = float32((math.Exp(lp[j])*a - o.w(j)*p(i, j)) * scale)
			}
		}
	}
	return total * scale
}

// NLL is PyTorch's NLLLoss over log-probabilities (N, C) with class-index
// targets (N): row i contributes −w[y]·logp[i,y]; Mean divides by Σ w[y_i]
// over the counted rows. LabelSmoothing must be 0. grad, when not nil, is
// (N, C): −w[y]/denominator at the target, 0 elsewhere.
func NLL(grad, logp []float32, targets []int, C int, o ClassOptions) float64 {
	N := len(logp) / max(C, 1)
	o.check("NLL", len(logp), N, C, len(targets))
	if o.LabelSmoothing != 0 {
		panic("loss: NLL: label smoothing applies to CrossEntropy only")
	}
	if grad != nil && len(grad) != len(logp) {
		panic(fmt.Sprintf("loss: NLL: grad has %d elements, input %d", len(grad), len(logp)))
	}
	var total, denom float64
	for i := 0; i < N; i++ {
		y := targets[i]
		if o.skip("NLL", i, y, C) {
			continue
		}
		total -= o.w(y) * float64(logp[i*C+y])
		denom += o.w(y)
	}
	scale := reduceScale(o.Reduction, denom)
	if grad != nil {
		clear(grad)
		for i := 0; i < N; i++ {
			y := targets[i]
			if o.skip("NLL", i, y, C) {
				continue
			}
			grad[i*C+y] = float32(-o.w(y) * scale)
		}
	}
	return total * scale
}
