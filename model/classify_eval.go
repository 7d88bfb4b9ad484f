package model

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/metrics"
	"github.com/recur-ml/recur/train"
)

// ClassifyEval is a classifier's score on labelled examples.
type ClassifyEval struct {
	// Loss is the mean cross-entropy (unweighted, unsmoothed).
	Loss, Accuracy float64
	// Confusion counts actual against predicted classes; PerClass and
	// Averages are its precision, recall and F1.
	Confusion *metrics.Confusion
	PerClass  []metrics.ClassScore
	metrics.Averages
	// ROCAUC and PRAUC rank the examples by the probability of the second
	// class, the positive one (two classes only; NaN otherwise).
	ROCAUC, PRAUC float64
	// ECE is the expected calibration error of the predicted class's
	// probability over 15 bins.
	ECE float64
	// MultiLabel scores a multi-label classifier's label sets (nil for
	// one class per example); Loss is then the mean binary cross-entropy
	// per class, Accuracy the subset accuracy, PerClass and Averages its
	// per-class scores, and Confusion nil.
	MultiLabel *metrics.MultiLabel
}

// Metrics returns the scores by name, as the trainer and `recur eval
// --json` report them: loss, accuracy, macro and weighted precision,
// recall and F1, roc_auc and pr_auc (two classes), ece, and
// f1/<class>, precision/<class>, recall/<class>. Undefined values are left
// out.
func (e *ClassifyEval) Metrics() map[string]float64 {
	m := map[string]float64{"loss": e.Loss, "accuracy": e.Accuracy,
		"macro_precision": e.MacroPrecision, "macro_recall": e.MacroRecall, "macro_f1": e.MacroF1,
		"weighted_precision": e.WeightedPrecision, "weighted_recall": e.WeightedRecall, "weighted_f1": e.WeightedF1}
	if !math.IsNaN(e.ECE) {
		m["ece"] = e.ECE
	}
	if ml := e.MultiLabel; ml != nil {
		m["micro_precision"], m["micro_recall"], m["micro_f1"] = ml.MicroPrecision, ml.MicroRecall, ml.MicroF1
		m["subset_accuracy"], m["hamming_loss"] = ml.SubsetAccuracy, ml.HammingLoss
	}
	if !math.IsNaN(e.ROCAUC) {
		m["roc_auc"] = e.ROCAUC
	}
	if !math.IsNaN(e.PRAUC) {
		m["pr_auc"] = e.PRAUC
	}
	for _, s := range e.PerClass {
		m["precision/"+s.Class] = s.Precision
		m["recall/"+s.Class] = s.Recall
		m["f1/"+s.Class] = s.F1
	}
	return m
}

// evaluate scores the classifier over the batches of d.
func (c *Classifier) evaluate(d train.Data) (*ClassifyEval, error) {
	if c.prep != nil && c.prep.MultiLabel {
		return c.evaluateSets(d)
	}
	C := c.spec.Classes
	var sum float64
	var actual, predicted []int
	var conf, positive []float64
	var correct, isPos []bool
	for i := 0; i < d.Len(); i++ {
		tb := d.Batch(i).(*TextBatch)
		logits, _ := c.forward(nil, tb)
		sum += loss.CrossEntropy(nil, logits.Value.Data, tb.Labels, C, loss.ClassOptions{Reduction: loss.Sum})
		for b := range tb.B {
			p := softmax(logits.Value.Data[b*C : (b+1)*C])
			k := argmax(p)
			actual, predicted = append(actual, tb.Labels[b]), append(predicted, k)
			conf, correct = append(conf, float64(p[k])), append(correct, k == tb.Labels[b])
			if C == 2 {
				positive, isPos = append(positive, float64(p[1])), append(isPos, tb.Labels[b] == 1)
			}
		}
	}
	if len(actual) == 0 {
		return nil, fmt.Errorf("model: no examples to evaluate")
	}
	cm, err := metrics.NewConfusion(c.prep.classes(C), actual, predicted)
	if err != nil {
		return nil, err
	}
	e := &ClassifyEval{Loss: sum / float64(len(actual)), Accuracy: cm.Accuracy(), Confusion: cm, PerClass: cm.PerClass(), Averages: cm.Averages(),
		ROCAUC: math.NaN(), PRAUC: math.NaN(), ECE: metrics.ECE(conf, correct, 15)}
	if C == 2 {
		e.ROCAUC, e.PRAUC = metrics.ROCAUC(positive, isPos), metrics.PRAUC(positive, isPos)
	}
	return e, nil
}

// evaluateSets scores a multi-label classifier over the batches of d: a
// class is predicted when its probability is at least 0.5.
func (c *Classifier) evaluateSets(d train.Data) (*ClassifyEval, error) {
	C := c.spec.Classes
	var sum float64
	var actual, predicted [][]int
	for i := 0; i < d.Len(); i++ {
		tb := d.Batch(i).(*TextBatch)
		logits, _ := c.forward(nil, tb)
		sum += loss.BCEWithLogits(nil, logits.Value.Data, tb.Multi, loss.BCEOptions{Reduction: loss.Sum})
		for b := range tb.B {
			var want, got []int
			for k := range C {
				if tb.Multi[b*C+k] == 1 {
					want = append(want, k)
				}
				if logits.Value.Data[b*C+k] >= 0 {
					got = append(got, k)
				}
			}
			actual, predicted = append(actual, want), append(predicted, got)
		}
	}
	if len(actual) == 0 {
		return nil, fmt.Errorf("model: no examples to evaluate")
	}
	ml, err := metrics.NewMultiLabel(c.prep.classes(C), actual, predicted)
	if err != nil {
		return nil, err
	}
	return &ClassifyEval{Loss: sum / float64(len(actual)*C), Accuracy: ml.SubsetAccuracy, PerClass: ml.PerClass, Averages: ml.Averages,
		ROCAUC: math.NaN(), PRAUC: math.NaN(), ECE: math.NaN(), MultiLabel: ml}, nil
}

// classes returns the class names, or numbers for a model built without
// preprocessing.
func (p *TextPrep) classes(C int) []string {
	if p != nil && len(p.Classes) == C {
		return p.Classes
	}
	names := make([]string, C)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names
}
