package model

import (
	"context"
	"fmt"
	"slices"

	"github.com/recur-ml/recur/data/batch"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// SeqSet is a set of numeric sequences with a class each: sensor windows,
// images read row by row.
type SeqSet struct {
	// X[n] holds example n's steps, Inputs values each, step-major.
	X      [][]float32
	Inputs int
	// Labels[n] is the index in Classes of example n's class.
	Labels  []int
	Classes []string
}

// check reports a malformed set.
func (d *SeqSet) check() error {
	switch {
	case d == nil || len(d.X) == 0:
		return fmt.Errorf("model: no sequences")
	case d.Inputs < 1:
		return fmt.Errorf("model: sequences of %d inputs per step", d.Inputs)
	case d.Labels != nil && len(d.Labels) != len(d.X):
		return fmt.Errorf("model: %d labels for %d sequences", len(d.Labels), len(d.X))
	}
	for n, x := range d.X {
		if len(x) == 0 || len(x)%d.Inputs != 0 {
			return fmt.Errorf("model: sequence %d has %d values, not a positive multiple of %d inputs", n, len(x), d.Inputs)
		}
	}
	for n, l := range d.Labels {
		if l < 0 || l >= len(d.Classes) {
			return fmt.Errorf("model: sequence %d: label %d outside the %d classes", n, l, len(d.Classes))
		}
	}
	return nil
}

// FitSequences trains a classifier of numeric sequences (its Spec's Vocab
// zero; Inputs comes from the data), validating on valid (nil: none).
func (c *Classifier) FitSequences(ctx context.Context, trainSet, valid *SeqSet) (*FitReport, error) {
	s, err := c.prepareSequences(trainSet, valid)
	if err != nil {
		return nil, err
	}
	res, err := c.fit(ctx, s, c.cfg.Fit)
	if err != nil {
		return nil, err
	}
	rep := &FitReport{Result: res, Valid: res.Valid, Examples: len(trainSet.X), Transfer: c.transfer}
	if rep.Valid != nil {
		return rep, c.setMetrics(map[string]any{"valid": rep.Valid})
	}
	return rep, nil
}

func (c *Classifier) prepareSequences(trainSet, valid *SeqSet) (*session, error) {
	if err := trainSet.check(); err != nil {
		return nil, err
	}
	if len(trainSet.Classes) < 2 {
		return nil, fmt.Errorf("model: classifier: %d class(es) %q; want at least 2", len(trainSet.Classes), trainSet.Classes)
	}
	if c.cfg.Fit.Loss.multiLabel() {
		return nil, &FitError{"Loss.Name", c.cfg.Fit.Loss.Name, "ce: numeric sequences have one label each"}
	}
	if c.cfg.Embeddings != (Pretrained{}) {
		return nil, &FitError{"Embeddings", c.cfg.Embeddings.File, "none for numeric sequences (no embedding)"}
	}
	c.prep = &TextPrep{Classes: slices.Clone(trainSet.Classes), MaxLen: c.cfg.Text.MaxLen}
	s := c.cfg.Spec
	s.Task, s.Vocab, s.Inputs, s.Classes = Classify, 0, trainSet.Inputs, len(trainSet.Classes)
	if err := c.build(s, c.cfg.Fit.Seed); err != nil {
		return nil, err
	}
	var err error
	if c.lossOpts, err = c.cfg.Fit.Loss.classOptions(s.Classes, trainSet.Labels); err != nil {
		return nil, err
	}
	sess := &session{task: &classifyTask{c: c}, shuffle: true, prep: c.prep, bodies: []*body{c.net}}
	if sess.train, err = c.seqData(trainSet, c.cfg.Fit.BatchSize, true); err != nil {
		return nil, err
	}
	if valid != nil {
		if sess.valid, err = c.seqData(valid, 64, false); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

// numeric reports whether the classifier reads numeric sequences.
func (c *Classifier) numeric() bool { return c.spec.Vocab == 0 }

// seqData batches d, checked against the model's inputs and classes.
func (c *Classifier) seqData(d *SeqSet, bs int, training bool) (*seqData, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if !c.numeric() || d.Inputs != c.spec.Inputs {
		return nil, fmt.Errorf("model: sequences of %d inputs for a classifier of %d inputs per step (vocab %d)", d.Inputs, c.spec.Inputs, c.spec.Vocab)
	}
	labels := d.Labels
	if d.Labels != nil && !slices.Equal(d.Classes, c.prep.Classes) {
		labels = make([]int, len(d.Labels))
		for i, l := range d.Labels {
			if labels[i] = slices.Index(c.prep.Classes, d.Classes[l]); labels[i] < 0 {
				return nil, fmt.Errorf("model: label %q (sequence %d) is not one of the model's classes %q", d.Classes[l], i, c.prep.Classes)
			}
		}
	}
	cfg := loaderConfig(bs, c.prep.MaxLen, c.cfg.Fit.Seed, training)
	sd := &seqData{d: d, labels: labels, cfg: cfg, maxLen: c.prep.MaxLen}
	sd.SetEpoch(0)
	return sd, nil
}

// seqData serves batches of numeric sequences, re-planned each epoch as a
// batch.Loader plans token sequences; it implements train.EpochData.
type seqData struct {
	d      *SeqSet
	labels []int
	cfg    batch.Config
	maxLen int
	plan   [][]int
}

func (s *seqData) steps(i int) int {
	n := len(s.d.X[i]) / s.d.Inputs
	if s.maxLen > 0 {
		n = min(n, s.maxLen)
	}
	return n
}

func (s *seqData) Len() int       { return len(s.plan) }
func (s *seqData) SetEpoch(e int) { s.plan = batch.Plan(len(s.d.X), s.steps, s.cfg, e) }

// Batch lays out batch i time-major, (T, B, Inputs), zero-padded.
func (s *seqData) Batch(i int) train.Batch { return s.layout(s.plan[i]) }

// layout lays out the examples idx as one batch.
func (s *seqData) layout(idx []int) *TextBatch {
	I, B := s.d.Inputs, len(idx)
	T := 0
	for _, n := range idx {
		T = max(T, s.steps(n))
	}
	b := &TextBatch{X: tensor.New(T, B, I), T: T, B: B, Lengths: make([]int, B)}
	for j, n := range idx {
		L := s.steps(n)
		b.Lengths[j] = L
		for t := range L {
			copy(b.X.Data[(t*B+j)*I:(t*B+j+1)*I], s.d.X[n][t*I:(t+1)*I])
		}
		if s.labels != nil {
			b.Labels = append(b.Labels, s.labels[n])
		}
	}
	return b
}

// EvaluateSequences scores a classifier of numeric sequences on d (see
// Evaluate).
func (c *Classifier) EvaluateSequences(d *SeqSet) (*ClassifyEval, error) {
	if err := c.needBuilt("EvaluateSequences"); err != nil {
		return nil, err
	}
	sd, err := c.seqData(d, 64, false)
	if err != nil {
		return nil, err
	}
	return c.evaluate(sd)
}

// PredictSequences classifies each numeric sequence (Inputs values per
// step, step-major), each as a batch of its own.
func (c *Classifier) PredictSequences(ctx context.Context, x [][]float32) ([]Prediction, error) {
	if err := c.needBuilt("PredictSequences"); err != nil {
		return nil, err
	}
	sd, err := c.seqData(&SeqSet{X: x, Inputs: c.spec.Inputs}, 1, false)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(x))
	for i := range x {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := sd.batchOf([]int{i})
		out[i] = c.predictBatch(b)
		out[i].Tokens = b.T
	}
	return out, nil
}

// batchOf lays out the given examples as one batch.
func (s *seqData) batchOf(idx []int) *TextBatch {
	return s.layout(idx)
}
