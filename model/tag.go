package model

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/recur-ml/recur/checkpoint"
	"math"

	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// TagConfig configures a Tagger.
type TagConfig struct {
	// Spec is the architecture, with Inputs (features per step) and either
	// Classes (a label per step) or Targets (values per step); NoHead makes
	// the outputs the top layer's hidden states themselves.
	Spec Spec
	// ClassNames name the classes (saved with the model; nil: numbers).
	ClassNames []string
	// LastStep makes the tagger many-to-one: only each sequence's last
	// step has a target (TagSet.Y[n] holds Targets values, Labels[n] one
	// label) and is scored, as in the adding problem.
	LastStep bool
	// Fit says how to train.
	Fit FitConfig
}

// TagSet is a set of numeric sequences with a target at every step (or,
// for a many-to-one tagger, at the last).
type TagSet struct {
	// X[n] holds example n's steps, Inputs values each, step-major.
	X [][]float32
	// Y[n] holds Targets values per step (regression), or Labels[n] one
	// class per step (labelling); the other is nil. With
	// TagConfig.LastStep they hold the last step's only.
	Y      [][]float32
	Labels [][]int
}

// Tagger maps every step of a numeric sequence to an output: a label
// (sensor states, anomaly flags) or values. It has no preprocessing:
// scale the inputs first.
type Tagger struct {
	core
	cfg      TagConfig
	net      *body
	lossFn   regressionLoss
	lossOpts loss.ClassOptions
	// multi: the values are 0/1 labels learned with the binary
	// cross-entropy of their logits (Loss.Name "bce").
	multi bool
}

// NewTagger validates cfg and builds the network.
func NewTagger(cfg TagConfig) (*Tagger, error) {
	fc, err := cfg.Fit.withDefaults(Tag)
	if err != nil {
		return nil, err
	}
	cfg.Fit = fc
	if err := fc.Loss.validate(cfg.Spec.Classes == 0); err != nil {
		return nil, err
	}
	if cfg.ClassNames != nil && len(cfg.ClassNames) != cfg.Spec.Classes {
		return nil, &FitError{"ClassNames", len(cfg.ClassNames), fmt.Sprintf("one name per class (%d)", cfg.Spec.Classes)}
	}
	t := &Tagger{cfg: cfg, lossFn: fc.Loss.regression(), multi: fc.Loss.multiLabel()}
	if t.multi && cfg.Spec.Classes > 0 {
		return nil, &FitError{"Loss.Name", fc.Loss.Name, "ce for one class per step (bce takes Targets 0/1 labels per step)"}
	}
	s := cfg.Spec
	s.Task = Tag
	return t, t.build(s, fc.Seed)
}

func (t *Tagger) build(s Spec, seed uint64) error {
	s, err := s.withDefaults()
	if err != nil {
		return err
	}
	out := s.Targets
	if s.Classes > 0 {
		out = s.Classes
	}
	if s.NoHead {
		out = 0
	}
	b, err := newBody(s, 0, out, seed)
	if err != nil {
		return err
	}
	t.core = core{spec: s, params: b.params(false), rngs: b.rngs(), built: true}
	t.net = b
	return nil
}

// TagBatch is a padded batch: X (T, B, Inputs) time-major, Lengths (B),
// and Y (T, B, Targets) or Labels (T·B, -1 on padding).
type TagBatch struct {
	X       *tensor.Tensor
	Y       *tensor.Tensor
	Labels  []int
	Lengths []int
	mask    []bool // (T, B) valid steps of a regression batch; nil: all
	steps   int    // valid steps
	xv      *nn.Var
}

// input returns X as a constant input, made once per batch so that a
// step over the same batch allocates nothing.
func (b *TagBatch) input() *nn.Var {
	if b.xv == nil || b.xv.Value != b.X {
		b.xv = nn.Constant(b.X)
	}
	return b.xv
}

// NewTagBatch wraps full-length inputs x (T, B, I) and regression
// targets y (T, B, K) as a batch, for a training loop of one's own.
func NewTagBatch(x, y *tensor.Tensor) *TagBatch {
	return &TagBatch{X: x, Y: y, steps: x.Shape[0] * x.Shape[1]}
}

// batches pads d into batches of bs examples.
func (t *Tagger) batches(d *TagSet, bs int) (*tagData, error) {
	s := t.spec
	if len(d.X) == 0 {
		return nil, fmt.Errorf("model: tagger: no sequences")
	}
	if (s.Classes > 0) != (d.Labels != nil) || len(d.X) != max(len(d.Y), len(d.Labels)) {
		return nil, fmt.Errorf("model: tagger: %d sequences with %d label and %d value sequences, for a model of %d classes", len(d.X), len(d.Labels), len(d.Y), s.Classes)
	}
	td := &tagData{t: t, d: d, bs: bs}
	for from := 0; from < len(d.X); from += bs {
		b, err := t.batch(d, from, min(from+bs, len(d.X)))
		if err != nil {
			return nil, err
		}
		td.b = append(td.b, b)
	}
	return td, nil
}

// batch lays out examples [from, to) of d.
func (t *Tagger) batch(d *TagSet, from, to int) (*TagBatch, error) {
	s, B := t.spec, to-from
	T := 0
	for n := from; n < to; n++ {
		if len(d.X[n]) == 0 || len(d.X[n])%s.Inputs != 0 {
			return nil, fmt.Errorf("model: tagger: sequence %d has %d values, not a positive multiple of %d inputs", n, len(d.X[n]), s.Inputs)
		}
		T = max(T, len(d.X[n])/s.Inputs)
	}
	b := &TagBatch{X: tensor.New(T, B, s.Inputs), Lengths: make([]int, B)}
	if s.Classes > 0 {
		b.Labels = make([]int, T*B)
		for i := range b.Labels {
			b.Labels[i] = -1
		}
	} else {
		b.Y = tensor.New(T, B, s.Targets)
	}
	for j := range B {
		n := from + j
		L := len(d.X[n]) / s.Inputs
		b.Lengths[j] = L
		for st := range L {
			copy(b.X.Data[(st*B+j)*s.Inputs:], d.X[n][st*s.Inputs:(st+1)*s.Inputs])
		}
		if err := t.fillTargets(b, d, n, j); err != nil {
			return nil, err
		}
		b.steps += L
	}
	switch {
	case t.cfg.LastStep && b.Y != nil:
		b.mask, b.steps = make([]bool, T*B), B
		for j, L := range b.Lengths {
			b.mask[(L-1)*B+j] = true
		}
	case t.cfg.LastStep:
		b.steps = B
	case b.steps < T*B && b.Y != nil:
		b.mask = loss.LengthMask(T, b.Lengths)
	}
	return b, nil
}

// fillTargets copies example n's targets into column j of b.
func (t *Tagger) fillTargets(b *TagBatch, d *TagSet, n, j int) error {
	s, B, L := t.spec, len(b.Lengths), b.Lengths[j]
	first, steps := 0, L // the steps that have targets
	if t.cfg.LastStep {
		first, steps = L-1, 1
	}
	if s.Classes > 0 {
		if len(d.Labels[n]) != steps {
			return fmt.Errorf("model: tagger: sequence %d has %d steps and %d labels, want %d", n, L, len(d.Labels[n]), steps)
		}
		for i, l := range d.Labels[n] {
			if l < 0 || l >= s.Classes {
				return fmt.Errorf("model: tagger: sequence %d step %d: label %d outside [0, %d)", n, first+i, l, s.Classes)
			}
			b.Labels[(first+i)*B+j] = l
		}
		return nil
	}
	if len(d.Y[n]) != steps*s.Targets {
		return fmt.Errorf("model: tagger: sequence %d has %d steps and %d target values, want %d", n, L, len(d.Y[n]), steps*s.Targets)
	}
	for i := range steps {
		copy(b.Y.Data[((first+i)*B+j)*s.Targets:], d.Y[n][i*s.Targets:(i+1)*s.Targets])
	}
	return nil
}

// forward maps a batch to outputs (T·B, Out).
func (t *Tagger) forward(tp *nn.Tape, b *TagBatch) *nn.Var {
	out, _ := t.net.recur(tp, b.input(), b.Lengths, nil)
	if t.net.head == nil {
		return out
	}
	T, B, F := out.Value.Shape[0], out.Value.Shape[1], out.Value.Shape[2]
	y := t.net.head.Forward(tp, t.net.dropout(tp, nn.Reshape(tp, out, T*B, F)))
	return y
}

// Fit trains on trainSet, validating on valid (nil: none).
func (t *Tagger) Fit(ctx context.Context, trainSet, valid *TagSet) (*FitReport, error) {
	td, err := t.batches(trainSet, t.cfg.Fit.BatchSize)
	if err != nil {
		return nil, err
	}
	if t.spec.Classes > 0 {
		var labels []int
		for _, l := range trainSet.Labels {
			labels = append(labels, l...)
		}
		if t.lossOpts, err = t.cfg.Fit.Loss.classOptions(t.spec.Classes, labels); err != nil {
			return nil, err
		}
	}
	s := &session{task: &tagTask{t: t}, train: td, shuffle: true, bodies: []*body{t.net}}
	if valid != nil {
		if s.valid, err = t.batches(valid, 64); err != nil {
			return nil, err
		}
	}
	res, err := t.fit(ctx, s, t.cfg.Fit)
	if err != nil {
		return nil, err
	}
	return &FitReport{Result: res, Valid: res.Valid, Examples: len(trainSet.X), Transfer: t.transfer}, nil
}

// Evaluate returns "loss" and, for labels, "accuracy" over the valid steps
// of d.
func (t *Tagger) Evaluate(d *TagSet) (map[string]float64, error) {
	td, err := t.batches(d, 64)
	if err != nil {
		return nil, err
	}
	return (&tagTask{t: t}).Evaluate(td)
}

// Predict returns, for each sequence, its outputs step-major: Targets
// values per step (with the bce loss, each label's probability), or the
// class probabilities per step; a many-to-one tagger's for the last step
// only.
func (t *Tagger) Predict(x [][]float32) ([][]float32, error) {
	d := &TagSet{X: x}
	steps := func(n int) int {
		if t.cfg.LastStep {
			return 1
		}
		return len(x[n]) / max(t.spec.Inputs, 1)
	}
	if t.spec.Classes > 0 {
		d.Labels = make([][]int, len(x))
		for n := range x {
			d.Labels[n] = make([]int, steps(n))
		}
	} else {
		d.Y = make([][]float32, len(x))
		for n := range x {
			d.Y[n] = make([]float32, steps(n)*t.spec.Targets)
		}
	}
	out := make([][]float32, len(x))
	for n := range x {
		b, err := t.batch(d, n, n+1)
		if err != nil {
			return nil, err
		}
		y := t.forward(nil, b).Value.Data
		if t.cfg.LastStep {
			w := max(t.spec.Classes, t.spec.Targets)
			y = y[len(y)-w:] // a batch of one: the last row is the last step
		}
		if t.spec.Classes > 0 {
			C := t.spec.Classes
			for st := 0; st*C < len(y); st++ {
				out[n] = append(out[n], softmax(y[st*C:(st+1)*C])...)
			}
			continue
		}
		out[n] = append([]float32(nil), y...)
		if t.multi {
			for i, v := range out[n] {
				out[n][i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		}
	}
	return out, nil
}

// TagPrep is what a tagger's model file keeps besides its spec.
type TagPrep struct {
	Classes []string `json:"classes,omitempty"`
	// Loss is "bce" for 0/1 labels learned from logits (empty: the
	// outputs are values or classes).
	Loss string `json:"loss,omitempty"`
	// LastStep: many-to-one (TagConfig.LastStep).
	LastStep bool `json:"last_step,omitempty"`
}

func (t *Tagger) prep() *TagPrep {
	p := &TagPrep{Classes: t.cfg.ClassNames, LastStep: t.cfg.LastStep}
	if t.multi {
		p.Loss = "bce"
	}
	return p
}

// ClassNames returns the names of the classes (nil when not given).
func (t *Tagger) ClassNames() []string { return t.cfg.ClassNames }

// Save writes the model file.
func (t *Tagger) Save(path string) error { return t.save(path, t.prep()) }

// File returns the model file's contents in memory: weights, spec,
// preprocessing and metrics (what Save writes).
func (t *Tagger) File() (*checkpoint.File, error) { return t.file(t.prep()) }

// Task returns the tagger's train.Task over *TagBatch batches.
func (t *Tagger) Task() train.Task { return &tagTask{t: t} }

func taggerFrom(s Spec, prep json.RawMessage) (*Tagger, error) {
	var p TagPrep
	if len(prep) > 0 {
		if err := json.Unmarshal(prep, &p); err != nil {
			return nil, fmt.Errorf("model: tagger preprocessing state: %w", err)
		}
	}
	if p.Classes != nil && len(p.Classes) != s.Classes {
		return nil, fmt.Errorf("model: %d class names for %d classes", len(p.Classes), s.Classes)
	}
	lc := LossConfig{Name: p.Loss}
	if p.Loss != "" && !lc.multiLabel() {
		return nil, fmt.Errorf("model: tagger preprocessing state: loss %q, want bce or none", p.Loss)
	}
	t := &Tagger{cfg: TagConfig{Spec: s, ClassNames: p.Classes, LastStep: p.LastStep, Fit: FitConfig{Loss: lc}}, lossFn: lc.regression(), multi: lc.multiLabel()}
	if err := t.build(s, 0); err != nil {
		return nil, err
	}
	t.built = false
	return t, nil
}

// tagData is a list of tag batches.
// tagData is a tagger's batches: examples [i·bs, (i+1)·bs) of d form
// batch i, laid out once.
type tagData struct {
	b       []*TagBatch
	t       *Tagger
	d       *TagSet
	bs      int
	shards  []*TagBatch // this rank's parts of b, laid out once (Shard)
	shardOf [2]int      // the rank and size shards were cut for
}

func (d *tagData) Len() int                { return len(d.b) }
func (d *tagData) Batch(i int) train.Batch { return d.b[i] }

// tagTask trains a tagger: mean squared error over every value of the
// valid steps, or mean cross-entropy over the labelled steps.
type tagTask struct{ t *Tagger }

func (k *tagTask) Params() []*nn.Param { return k.t.params }

func (k *tagTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	tb := b.(*TagBatch)
	y := k.t.forward(tp, tb)
	s := k.t.spec
	if s.Classes > 0 {
		o := &k.t.lossOpts
		L, _ := loss.Record(tp, y, func(g []float32) float64 {
			return loss.CrossEntropy(g, y.Value.Data, tb.Labels, s.Classes, *o)
		})
		return L, len(tb.Labels)
	}
	lf := k.t.lossFn
	L, _ := loss.Record(tp, y, func(g []float32) float64 {
		return lf(g, y.Value.Data, tb.Y.Data, loss.Options{Mask: tb.mask})
	})
	return L, tb.steps * s.Targets
}

// Evaluate returns "loss" and, for labels, "accuracy" over labelled steps;
// for 0/1 labels (bce), also "nll_per_step" (the cross-entropy summed
// over the labels of a step, averaged over steps: the negative
// log-likelihood of polyphonic music models), "frame_accuracy" (Bay et
// al.'s TP/(TP+FP+FN) over all steps at probability 0.5) and "f1" (the
// micro-averaged F1 of the labels).
func (k *tagTask) Evaluate(d train.Data) (map[string]float64, error) {
	s := k.t.spec
	var sum float64
	var n, right, steps int
	var tp, fp, fn float64
	for i := 0; i < d.Len(); i++ {
		tb := d.Batch(i).(*TagBatch)
		y := k.t.forward(nil, tb).Value.Data
		if s.Classes == 0 {
			sum += k.t.lossFn(nil, y, tb.Y.Data, loss.Options{Reduction: loss.Sum, Mask: tb.mask})
			n += tb.steps * s.Targets
			steps += tb.steps
			if k.t.multi {
				a, b, c := labelCounts(y, tb.Y.Data, tb.mask, s.Targets)
				tp, fp, fn = tp+a, fp+b, fn+c
			}
			continue
		}
		sum += loss.CrossEntropy(nil, y, tb.Labels, s.Classes, loss.ClassOptions{Reduction: loss.Sum})
		for r, l := range tb.Labels {
			if l < 0 {
				continue
			}
			n++
			if argmax(y[r*s.Classes:(r+1)*s.Classes]) == l {
				right++
			}
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("model: no steps to evaluate")
	}
	m := map[string]float64{"loss": sum / float64(n)}
	if s.Classes > 0 {
		m["accuracy"] = float64(right) / float64(n)
	}
	if k.t.multi {
		m["nll_per_step"] = sum / float64(steps)
		m["frame_accuracy"] = tp / max(tp+fp+fn, 1)
		m["f1"] = 2 * tp / max(2*tp+fp+fn, 1)
	}
	return m, nil
}

// labelCounts counts the true positives, false positives and false
// negatives of logits against 0/1 targets (K per step) at probability 0.5
// (logit 0), over the steps mask keeps (nil: all).
func labelCounts(logits, targets []float32, mask []bool, K int) (tp, fp, fn float64) {
	for i, x := range logits {
		if mask != nil && !mask[i/K] {
			continue
		}
		on, want := x > 0, targets[i] >= 0.5
		switch {
		case on && want:
			tp++
		case on:
			fp++
		case want:
			fn++
		}
	}
	return tp, fp, fn
}
