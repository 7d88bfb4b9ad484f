package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/report"
	"github.com/recur-ml/recur/tensor"
)

// mnistFiles returns the IDX files of an MNIST directory (gzipped or
// raw), or false when dir is not one.
func mnistFiles(dir string) (files [4]string, ok bool) {
	for i, base := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		for _, name := range []string{base + ".gz", base} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				files[i] = filepath.Join(dir, name)
			}
		}
		if files[i] == "" {
			return files, false
		}
	}
	return files, true
}

// numericData reports whether --data holds numeric sequences: an MNIST
// directory, or a CSV file with --sequences.
func (o *trainOpts) numericData() bool {
	if o.Sequences {
		return true
	}
	_, ok := mnistFiles(o.Data)
	return ok
}

// mnistSets reads the MNIST images as sequences: row by row (28 steps of
// 28 pixels), or pixel by pixel (784 steps of one) with --pixel, the
// pixels in one fixed random order with --permute.
func (o *trainOpts) mnistSets() (tr, va, te *model.SeqSet, err error) {
	files, _ := mnistFiles(o.Data)
	train, err := dataset.LoadMNIST(files[0], files[1])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--data: %w", err)
	}
	test, err := dataset.LoadMNIST(files[2], files[3])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--data: %w", err)
	}
	var valid *dataset.MNIST
	if n := int(o.ValFraction * float64(train.Len())); n > 0 {
		if train, valid, err = train.HoldOut(n); err != nil {
			return nil, nil, nil, fmt.Errorf("--val-fraction: %w", err)
		}
	}
	var perm []int
	if o.Permute {
		perm = tensor.NewRNG(o.Seed ^ 0x9e37).Perm(784)
	}
	return o.mnistSet(train, perm), o.mnistSet(valid, perm), o.mnistSet(test, perm), nil
}

// mnistSet turns images into sequences sharing their memory (copied only
// when permuted).
func (o *trainOpts) mnistSet(m *dataset.MNIST, perm []int) *model.SeqSet {
	if m == nil {
		return nil
	}
	rows, cols := m.Images.Shape[1], m.Images.Shape[2]
	s := &model.SeqSet{Inputs: cols, Labels: m.Labels, Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	if o.Pixel || o.Permute {
		s.Inputs = 1
	}
	n := rows * cols
	for i := range m.Len() {
		x := m.Images.Data[i*n : (i+1)*n]
		if perm != nil {
			p := make([]float32, n)
			for j, k := range perm {
				p[j] = x[k]
			}
			x = p
		}
		s.X = append(s.X, x)
	}
	return s
}

// csvSets reads a CSV of numeric sequences and cuts it.
func (o *trainOpts) csvSets() (tr, va, te *model.SeqSet, err error) {
	s, err := series.ReadSequencesFile(o.Data, series.SequenceConfig{Label: o.LabelColumn, ID: o.IDColumn, Limits: limits(o.MaxLineBytes, o.MaxFileBytes)})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--data: %w", err)
	}
	test := o.TestFraction
	if test == 0 {
		test = 0.2
	}
	perm := tensor.NewRNG(o.Seed ^ 0x5eed).Perm(len(s.X))
	b := len(perm) - int(float64(len(perm))*test+0.5)
	a := b - int(float64(len(perm))*o.ValFraction)
	if a < 1 {
		return nil, nil, nil, fmt.Errorf("--data %s: %d sequences leave none for training", o.Data, len(perm))
	}
	part := func(idx []int) *model.SeqSet {
		if len(idx) == 0 {
			return nil
		}
		p := &model.SeqSet{Inputs: s.Inputs, Classes: s.Classes}
		for _, i := range idx {
			p.X, p.Labels = append(p.X, s.X[i]), append(p.Labels, s.Labels[i])
		}
		return p
	}
	return part(perm[:a]), part(perm[a:b]), part(perm[b:]), nil
}

// sequenceJob trains a classifier of numeric sequences.
func sequenceJob(r *runner) (*job, error) {
	o := r.o
	sets := o.csvSets
	if !o.Sequences {
		sets = o.mnistSets
	}
	tr, va, te, err := sets()
	if err != nil {
		return nil, err
	}
	fit, err := r.fitConfig(va != nil)
	if err != nil {
		return nil, err
	}
	var c *model.Classifier
	info := func() string {
		s := c.Spec()
		return fmt.Sprintf("classify %s: %d sequences (train %d), %d classes, %d inputs per step; %s %d×%d, %d parameters",
			filepath.Base(o.Data), len(tr.X)+sizeOf(va)+sizeOf(te), len(tr.X), len(tr.Classes), tr.Inputs, s.Cell, s.Layers, s.Hidden, c.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return c }, info)
	spec := o.spec()
	spec.Pool, spec.Embed = o.Pool, 0
	if c, err = model.NewClassifier(model.ClassifyConfig{Spec: spec, Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := c.FitSequences(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			return sequenceOutcome(c, rep, te, info())
		},
		find: func(context.Context, lrfind.Config) (*lrfind.Result, error) {
			return nil, fmt.Errorf("lr-find: not available for numeric sequences yet")
		},
	}, nil
}

func sizeOf(s *model.SeqSet) int {
	if s == nil {
		return 0
	}
	return len(s.X)
}

// sequenceOutcome scores the test sequences.
func sequenceOutcome(c *model.Classifier, rep *model.FitReport, te *model.SeqSet, info string) (*outcome, error) {
	out := &outcome{m: c, result: rep.Result, info: info, metrics: metricsOf(rep.Result, map[string]any{})}
	var test *model.ClassifyEval
	if te != nil {
		var err error
		if test, err = c.EvaluateSequences(te); err != nil {
			return nil, err
		}
		out.metrics["test"] = test.Metrics()
		if f, err := report.Confusion(test.Confusion); err == nil {
			out.figs = append(out.figs, f)
		}
	}
	out.human = func(w io.Writer) {
		if test != nil {
			fmt.Fprintf(w, "test accuracy %.4f  loss %.4f\n", test.Accuracy, test.Loss)
			printClassifyEval(w, test)
		}
	}
	return out, nil
}

// tagSets reads a CSV with a label per step (long format) and cuts its
// sequences.
func (o *trainOpts) tagSets() (tr, va, te *model.TagSet, classes []string, err error) {
	if o.Data == "" || o.IDColumn == "" {
		return nil, nil, nil, nil, usagef("train: --task tag needs --data (a CSV with one row per step) and --id-column (the sequence of each row)")
	}
	s, err := series.ReadSequencesFile(o.Data, series.SequenceConfig{Label: o.LabelColumn, ID: o.IDColumn, PerStep: true, Limits: limits(o.MaxLineBytes, o.MaxFileBytes)})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("--data: %w", err)
	}
	test := o.TestFraction
	if test == 0 {
		test = 0.2
	}
	perm := tensor.NewRNG(o.Seed ^ 0x5eed).Perm(len(s.X))
	b := len(perm) - int(float64(len(perm))*test+0.5)
	a := b - int(float64(len(perm))*o.ValFraction)
	if a < 1 {
		return nil, nil, nil, nil, fmt.Errorf("--data %s: %d sequences leave none for training", o.Data, len(perm))
	}
	part := func(idx []int) *model.TagSet {
		if len(idx) == 0 {
			return nil
		}
		p := &model.TagSet{}
		for _, i := range idx {
			p.X, p.Labels = append(p.X, s.X[i]), append(p.Labels, s.StepLabels[i])
		}
		return p
	}
	o.tagInputs = s.Inputs
	return part(perm[:a]), part(perm[a:b]), part(perm[b:]), s.Classes, nil
}

// tagJob trains a tagger: a class at every step of numeric sequences.
func tagJob(r *runner) (*job, error) {
	o := r.o
	if g, ok, err := parseGen(o.Data); ok {
		if err != nil {
			return nil, err
		}
		if g.kind != "adding" {
			return nil, flagErr("data", o.Data, "gen:adding for --task tag (gen:addition is a seq2seq task)")
		}
		return addingJob(r, g)
	}
	if o.isPianoRoll() {
		return musicJob(r)
	}
	tr, va, te, classes, err := o.tagSets()
	if err != nil {
		return nil, err
	}
	fit, err := r.fitConfig(va != nil)
	if err != nil {
		return nil, err
	}
	var t *model.Tagger
	info := func() string {
		s := t.Spec()
		return fmt.Sprintf("tag %s: %d sequences (train %d), %d classes %q, %d inputs per step; %s %d×%d, %d parameters",
			filepath.Base(o.Data), len(tr.X)+tagSize(va)+tagSize(te), len(tr.X), len(classes), classes, s.Inputs, s.Cell, s.Layers, s.Hidden, t.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return t }, info)
	spec := o.spec()
	spec.Inputs, spec.Classes, spec.Pool = o.tagInputs, len(classes), ""
	if t, err = model.NewTagger(model.TagConfig{Spec: spec, ClassNames: classes, Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := t.Fit(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			out := &outcome{m: t, result: rep.Result, info: info(), metrics: metricsOf(rep.Result, map[string]any{})}
			if te != nil {
				if out.metrics["test"], err = t.Evaluate(te); err != nil {
					return nil, err
				}
			}
			out.human = func(w io.Writer) {
				if m, ok := out.metrics["test"].(map[string]float64); ok {
					fmt.Fprintf(w, "test accuracy per step %.4f  loss %.4f\n", m["accuracy"], m["loss"])
				}
			}
			return out, nil
		},
		find: func(context.Context, lrfind.Config) (*lrfind.Result, error) {
			return nil, fmt.Errorf("lr-find: not available for the tag task yet")
		},
	}, nil
}

func tagSize(s *model.TagSet) int {
	if s == nil {
		return 0
	}
	return len(s.X)
}
