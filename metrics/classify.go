// Package metrics scores predictions: classification (confusion matrix,
// precision, recall and F1 per class and averaged, ROC-AUC and PR-AUC for
// two classes, expected calibration error) and translation (corpus BLEU as
// sacreBLEU computes it, exact match). Forecast errors are in data/series
// (Score: RMSE, MAE, MAPE, sMAPE, MASE).
package metrics

import (
	"fmt"
	"math"
	"sort"
)

// Confusion counts predictions: Counts[actual][predicted].
type Confusion struct {
	Classes []string
	Counts  [][]int
}

// NewConfusion counts the pairs of actual and predicted class indices
// (both in [0, len(classes))). It returns an error for mismatched lengths
// or an index out of range.
func NewConfusion(classes []string, actual, predicted []int) (*Confusion, error) {
	if len(actual) != len(predicted) {
		return nil, fmt.Errorf("metrics: %d actual and %d predicted labels", len(actual), len(predicted))
	}
	C := len(classes)
	c := &Confusion{Classes: classes, Counts: make([][]int, C)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, C)
	}
	for i, a := range actual {
		p := predicted[i]
		if a < 0 || a >= C || p < 0 || p >= C {
			return nil, fmt.Errorf("metrics: example %d: actual %d, predicted %d, want both in [0, %d)", i, a, p, C)
		}
		c.Counts[a][p]++
	}
	return c, nil
}

// ClassScore is one class's precision, recall and F1, and its number of
// actual examples. A ratio with a zero denominator is 0, as
// scikit-learn's zero_division=0 gives.
type ClassScore struct {
	Class                 string
	Precision, Recall, F1 float64
	Support               int
}

// Total returns the number of examples.
func (c *Confusion) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy is the share of examples predicted right.
func (c *Confusion) Accuracy() float64 {
	right := 0
	for i := range c.Counts {
		right += c.Counts[i][i]
	}
	return ratio(float64(right), float64(c.Total()))
}

// PerClass returns each class's precision, recall, F1 and support.
func (c *Confusion) PerClass() []ClassScore {
	out := make([]ClassScore, len(c.Classes))
	for k := range c.Classes {
		tp := float64(c.Counts[k][k])
		var predicted, actual float64
		for i := range c.Counts {
			predicted += float64(c.Counts[i][k])
			actual += float64(c.Counts[k][i])
		}
		p, r := ratio(tp, predicted), ratio(tp, actual)
		out[k] = ClassScore{Class: c.Classes[k], Precision: p, Recall: r, F1: ratio(2*p*r, p+r), Support: int(actual)}
	}
	return out
}

// Averages are the macro averages (each class counts the same) and the
// support-weighted averages of precision, recall and F1.
type Averages struct {
	MacroPrecision, MacroRecall, MacroF1          float64
	WeightedPrecision, WeightedRecall, WeightedF1 float64
}

// Averages averages PerClass.
func (c *Confusion) Averages() Averages { return Average(c.PerClass()) }

// Average returns the macro averages of scores and their averages
// weighted by support.
func Average(scores []ClassScore) Averages {
	var a Averages
	var n float64
	for _, s := range scores {
		n += float64(s.Support)
	}
	for _, s := range scores {
		a.MacroPrecision += s.Precision / float64(len(scores))
		a.MacroRecall += s.Recall / float64(len(scores))
		a.MacroF1 += s.F1 / float64(len(scores))
		w := ratio(float64(s.Support), n)
		a.WeightedPrecision += w * s.Precision
		a.WeightedRecall += w * s.Recall
		a.WeightedF1 += w * s.F1
	}
	return a
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ROCAUC is the area under the ROC curve of scores for the positive class
// (the probability that a random positive scores above a random negative,
// ties counting half), NaN without both positives and negatives.
func ROCAUC(scores []float64, positive []bool) float64 {
	idx := order(scores)
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean 1-based rank of the tie group
		for _, k := range idx[i:j] {
			if positive[k] {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// PRAUC is the area under the precision-recall curve as average precision
// (scikit-learn's average_precision_score: Σ (R_n − R_{n−1}) P_n over the
// thresholds, highest first), NaN without positives.
func PRAUC(scores []float64, positive []bool) float64 {
	idx := order(scores)
	var pos float64
	for _, p := range positive {
		if p {
			pos++
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	var ap, tp, seen, lastRecall float64
	for i := len(idx) - 1; i >= 0; {
		j := i
		for j >= 0 && scores[idx[j]] == scores[idx[i]] {
			if positive[idx[j]] {
				tp++
			}
			seen++
			j--
		}
		recall := tp / pos
		ap += (recall - lastRecall) * tp / seen
		lastRecall = recall
		i = j
	}
	return ap
}

// order returns the indices of scores in increasing order.
func order(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	return idx
}

// ECE is the expected calibration error over bins equal-width bins of
// confidence (the predicted class's probability): Σ_b (n_b/n)·|accuracy_b
// − mean confidence_b|. Zero bins means 15, the usual choice.
func ECE(confidence []float64, correct []bool, bins int) float64 {
	if bins <= 0 {
		bins = 15
	}
	n := make([]float64, bins)
	acc := make([]float64, bins)
	conf := make([]float64, bins)
	for i, c := range confidence {
		b := min(int(c*float64(bins)), bins-1)
		if c <= 0 {
			b = 0
		}
		n[b]++
		conf[b] += c
		if correct[i] {
			acc[b]++
		}
	}
	var e float64
	total := float64(len(confidence))
	for b := range n {
		if n[b] > 0 {
			e += n[b] / total * math.Abs(acc[b]/n[b]-conf[b]/n[b])
		}
	}
	return e
}
