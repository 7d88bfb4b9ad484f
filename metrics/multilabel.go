package metrics

import "fmt"

// MultiLabel scores predictions of label sets (several classes per
// example, each decided on its own): per class precision, recall and F1
// with their averages, the micro-averaged scores that pool every decision,
// the subset accuracy (the predicted set exactly right) and the Hamming
// loss (the share of wrong decisions), as scikit-learn defines them.
type MultiLabel struct {
	Classes  []string
	PerClass []ClassScore
	Averages
	MicroPrecision, MicroRecall, MicroF1 float64
	SubsetAccuracy, HammingLoss          float64
	Examples                             int
}

// NewMultiLabel scores predicted against actual label sets (class
// indices into classes, any order, no repeats).
func NewMultiLabel(classes []string, actual, predicted [][]int) (*MultiLabel, error) {
	if len(actual) != len(predicted) || len(actual) == 0 {
		return nil, fmt.Errorf("metrics: %d actual and %d predicted label sets", len(actual), len(predicted))
	}
	C := len(classes)
	tp, fp, fn := make([]float64, C), make([]float64, C), make([]float64, C)
	exact := 0
	for i := range actual {
		want := make([]bool, C)
		for _, k := range actual[i] {
			if k < 0 || k >= C {
				return nil, fmt.Errorf("metrics: example %d: class %d outside [0, %d)", i, k, C)
			}
			want[k] = true
		}
		got := make([]bool, C)
		for _, k := range predicted[i] {
			if k < 0 || k >= C {
				return nil, fmt.Errorf("metrics: example %d: predicted class %d outside [0, %d)", i, k, C)
			}
			got[k] = true
		}
		same := true
		for k := range C {
			switch {
			case got[k] && want[k]:
				tp[k]++
			case got[k]:
				fp[k]++
				same = false
			case want[k]:
				fn[k]++
				same = false
			}
		}
		if same {
			exact++
		}
	}
	m := &MultiLabel{Classes: classes, PerClass: make([]ClassScore, C), Examples: len(actual)}
	var TP, FP, FN float64
	for k := range C {
		p, r := ratio(tp[k], tp[k]+fp[k]), ratio(tp[k], tp[k]+fn[k])
		m.PerClass[k] = ClassScore{Class: classes[k], Precision: p, Recall: r, F1: ratio(2*p*r, p+r), Support: int(tp[k] + fn[k])}
		TP, FP, FN = TP+tp[k], FP+fp[k], FN+fn[k]
	}
	m.Averages = Average(m.PerClass)
	m.MicroPrecision, m.MicroRecall = ratio(TP, TP+FP), ratio(TP, TP+FN)
	m.MicroF1 = ratio(2*TP, 2*TP+FP+FN)
	m.SubsetAccuracy = float64(exact) / float64(len(actual))
	m.HammingLoss = (FP + FN) / float64(len(actual)*C)
	return m, nil
}
