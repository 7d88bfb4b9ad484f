package model

import (
	"fmt"
	"math"
	"strings"

	"github.com/recur-ml/recur/loss"
)

// LossConfig chooses the training loss; the zero value is the task's own:
// the mean squared error for forecasts and a tagger's values, the
// cross-entropy for classes and tokens.
type LossConfig struct {
	// Name is, for forecasts and a tagger's values: "mse" (zero), "mae"
	// (or "l1"), "huber" or "smooth_l1"; for a tagger's values also "bce":
	// each value is a 0/1 label and the output its logit (several labels
	// per step: notes of a piano roll, tags of a frame); for classes:
	// "ce" (zero), or for a classifier "bce": multi-label, each class
	// decided on its own from its logit (text.Labelled.Sets).
	Name string
	// Delta is Huber's delta and smooth L1's beta (zero: 1), as in
	// torch.nn.HuberLoss and SmoothL1Loss.
	Delta float64
	// ClassWeights weights each class's cross-entropy (classify; one per
	// class, in the order of the classes); AutoClassWeights sets them from
	// the training labels to n / (classes · count), PyTorch users' usual
	// "balanced" weights.
	ClassWeights     []float32
	AutoClassWeights bool
	// LabelSmoothing ε in [0, 1) mixes the one-hot target with the uniform
	// distribution (cross-entropy; torch's label_smoothing).
	LabelSmoothing float64
}

// regressionNames are the losses of value targets.
var regressionNames = map[string]bool{"": true, "mse": true, "mae": true, "l1": true, "huber": true, "smooth_l1": true}

// validate checks lc for a task whose targets are values (regression) or
// classes.
func (lc LossConfig) validate(regression bool) error {
	name := strings.ToLower(lc.Name)
	if name == "bce" && regression {
		name = "" // checked by the tagger, the one task that takes it
	}
	switch {
	case regression && !regressionNames[name]:
		return &FitError{"Loss.Name", lc.Name, "mse, mae, huber or smooth_l1"}
	case !regression && name != "" && name != "ce" && name != "bce":
		return &FitError{"Loss.Name", lc.Name, "ce (cross-entropy) or, for a classifier of label sets, bce"}
	case !(lc.Delta >= 0) || math.IsInf(lc.Delta, 0):
		return &FitError{"Loss.Delta", lc.Delta, "> 0 (0: 1)"}
	case !(lc.LabelSmoothing >= 0 && lc.LabelSmoothing < 1):
		return &FitError{"Loss.LabelSmoothing", lc.LabelSmoothing, "in [0, 1)"}
	case regression && (lc.ClassWeights != nil || lc.AutoClassWeights || lc.LabelSmoothing != 0):
		return &FitError{"Loss", "class weights or label smoothing", "a task with classes"}
	}
	for i, w := range lc.ClassWeights {
		if !(w >= 0) || math.IsInf(float64(w), 0) {
			return &FitError{fmt.Sprintf("Loss.ClassWeights[%d]", i), w, ">= 0 and finite"}
		}
	}
	return nil
}

// multiLabel reports whether lc is the binary cross-entropy of 0/1 labels.
func (lc LossConfig) multiLabel() bool { return strings.ToLower(lc.Name) == "bce" }

// regressionLoss is a value loss: it writes dL/dpred into g (when not
// nil) and returns the loss.
type regressionLoss func(g, pred, target []float32, o loss.Options) float64

// regression returns the configured value loss.
func (lc LossConfig) regression() regressionLoss {
	delta := lc.Delta
	if delta == 0 {
		delta = 1
	}
	switch strings.ToLower(lc.Name) {
	case "mae", "l1":
		return loss.L1
	case "huber":
		return func(g, p, t []float32, o loss.Options) float64 { return loss.Huber(g, p, t, delta, o) }
	case "smooth_l1":
		return func(g, p, t []float32, o loss.Options) float64 { return loss.SmoothL1(g, p, t, delta, o) }
	case "bce":
		return func(g, p, t []float32, o loss.Options) float64 {
			return loss.BCEWithLogits(g, p, t, loss.BCEOptions{Reduction: o.Reduction, Mask: o.Mask})
		}
	}
	return loss.MSE
}

// classOptions returns the cross-entropy options for C classes, with the
// class weights of lc or, with AutoClassWeights, of labels.
func (lc LossConfig) classOptions(C int, labels []int) (loss.ClassOptions, error) {
	o := loss.ClassOptions{LabelSmoothing: lc.LabelSmoothing}
	switch {
	case lc.ClassWeights != nil && len(lc.ClassWeights) != C:
		return o, &FitError{"Loss.ClassWeights", len(lc.ClassWeights), fmt.Sprintf("one weight per class (%d)", C)}
	case lc.ClassWeights != nil:
		o.Weight = lc.ClassWeights
	case lc.AutoClassWeights:
		o.Weight = balanced(C, labels)
	}
	return o, nil
}

// balanced returns n / (C · count_c) for each class c (0 for a class with
// no example).
func balanced(C int, labels []int) []float32 {
	counts := make([]int, C)
	n := 0
	for _, l := range labels {
		if l >= 0 && l < C {
			counts[l]++
			n++
		}
	}
	w := make([]float32, C)
	for c, k := range counts {
		if k > 0 {
			w[c] = float32(float64(n) / float64(C*k))
		}
	}
	return w
}
