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
	rows, err := c.evalRows(d, nil)
	if err != nil {
		return nil, err
	}
	return c.score(rows)
}

// evalRows are a classifier's logits over an evaluation set and the
// targets, batch by batch.
type evalRows struct {
	sizes  []int     // examples per batch
	logits []float32 // (examples, C)
	labels []int     // (examples), single-label
	multi  []float32 // (examples, C) multi-hot targets, multi-label
}

// evalRows runs the classifier over the batches of d: all of them, or,
// with comm, those whose index is the rank modulo the size, and then every
// rank gets every batch's logits and targets (summed over the ranks, where
// each is zero but on one).
func (c *Classifier) evalRows(d train.Data, comm train.Comm) (*evalRows, error) {
	rank, size := 0, 1
	if comm != nil {
		rank, size = comm.Rank(), comm.Size()
	}
	C := c.spec.Classes
	multi := c.prep != nil && c.prep.MultiLabel
	batches := make([]*TextBatch, d.Len())
	logits := make([][]float32, d.Len())
	counts := make([]float64, d.Len())
	for i := rank; i < d.Len(); i += size {
		tb := d.Batch(i).(*TextBatch)
		l, _ := c.forward(nil, tb)
		batches[i], logits[i], counts[i] = tb, l.Value.Data, float64(tb.B)
	}
	if size > 1 {
		if err := comm.AllreduceF64(counts); err != nil {
			return nil, fmt.Errorf("model: evaluating: %w", err)
		}
	}
	r := &evalRows{sizes: make([]int, len(counts))}
	N := 0
	for i, n := range counts {
		r.sizes[i] = int(n)
		N += int(n)
	}
	if N == 0 {
		return nil, fmt.Errorf("model: no examples to evaluate")
	}
	// One buffer: logits (N, C), then labels (N) or multi-hot targets (N, C).
	width := 1
	if multi {
		width = C
	}
	buf := make([]float32, N*(C+width))
	off := 0
	for i, tb := range batches {
		if tb != nil {
			copy(buf[off*C:], logits[i])
			if multi {
				copy(buf[N*C+off*C:], tb.Multi)
			} else {
				for b, y := range tb.Labels {
					buf[N*C+off+b] = float32(y)
				}
			}
		}
		off += r.sizes[i]
	}
	if size > 1 {
		if err := comm.AllreduceF32(buf); err != nil {
			return nil, fmt.Errorf("model: evaluating: %w", err)
		}
	}
	r.logits = buf[:N*C]
	if multi {
		r.multi = buf[N*C:]
	} else {
		r.labels = make([]int, N)
		for i, v := range buf[N*C:] {
			r.labels[i] = int(v)
		}
	}
	return r, nil
}

// score computes the metrics of the classifier's logits.
func (c *Classifier) score(r *evalRows) (*ClassifyEval, error) {
	if r.multi != nil {
		return c.scoreSets(r)
	}
	C := c.spec.Classes
	var sum float64
	var actual, predicted []int
	var conf, positive []float64
	var correct, isPos []bool
	off := 0
	for _, n := range r.sizes {
		logits, labels := r.logits[off*C:(off+n)*C], r.labels[off:off+n]
		off += n
		if n == 0 {
			continue
		}
		sum += loss.CrossEntropy(nil, logits, labels, C, loss.ClassOptions{Reduction: loss.Sum})
		for b := range n {
			p := softmax(logits[b*C : (b+1)*C])
			k := argmax(p)
			actual, predicted = append(actual, labels[b]), append(predicted, k)
			conf, correct = append(conf, float64(p[k])), append(correct, k == labels[b])
			if C == 2 {
				positive, isPos = append(positive, float64(p[1])), append(isPos, labels[b] == 1)
			}
		}
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

// scoreSets scores a multi-label classifier: a class is predicted when
// its probability is at least 0.5.
func (c *Classifier) scoreSets(r *evalRows) (*ClassifyEval, error) {
	C := c.spec.Classes
	var sum float64
	var actual, predicted [][]int
	off := 0
	for _, n := range r.sizes {
		logits, multi := r.logits[off*C:(off+n)*C], r.multi[off*C:(off+n)*C]
		off += n
		if n == 0 {
			continue
		}
		sum += loss.BCEWithLogits(nil, logits, multi, loss.BCEOptions{Reduction: loss.Sum})
		for b := range n {
			var want, got []int
			for k := range C {
				if multi[b*C+k] == 1 {
					want = append(want, k)
				}
				if logits[b*C+k] >= 0 {
					got = append(got, k)
				}
			}
			actual, predicted = append(actual, want), append(predicted, got)
		}
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
