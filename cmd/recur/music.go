package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim/lrfind"
)

// isPianoRoll reports whether --data is a JSON piano-roll file (the JSB
// chorales' {"train", "valid", "test"} format).
func (o *trainOpts) isPianoRoll() bool { return strings.EqualFold(filepath.Ext(o.Data), ".json") }

// nextStep turns chorales into next-step prediction: the input at step t
// is the piano roll of step t-1 (silence at t = 0), the target the 88
// keys sounding at t.
func nextStep(chorales [][][]int) *model.TagSet {
	d := &model.TagSet{}
	for _, c := range chorales {
		roll := dataset.PianoRoll(c).Data
		x := make([]float32, len(roll))
		copy(x[dataset.Pitches:], roll)
		d.X, d.Y = append(d.X, x), append(d.Y, roll)
	}
	return d
}

// musicJob trains a polyphonic music model on piano rolls: 88 keys in,
// 88 independent notes out, the binary cross-entropy of each (the
// frame-level negative log-likelihood the literature reports).
func musicJob(r *runner) (*job, error) {
	o := r.o
	if o.Loss != "" && o.Loss != "bce" {
		return nil, flagErr("loss", o.Loss, "bce (or none) for piano rolls: each of the 88 keys is a 0/1 label")
	}
	c, err := dataset.LoadJSBLimited(o.Data, limits(o.MaxLineBytes, o.MaxFileBytes))
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	tr, va, te := nextStep(c.Train), nextStep(c.Valid), nextStep(c.Test)
	fit, err := r.fitConfig(true)
	if err != nil {
		return nil, err
	}
	fit.Loss.Name = "bce"
	var t *model.Tagger
	info := func() string {
		s := t.Spec()
		return fmt.Sprintf("music %s: %d chorales (train %d, valid %d, test %d), 88 keys per step, next-step prediction; %s %d×%d, %d parameters",
			filepath.Base(o.Data), len(tr.X)+len(va.X)+len(te.X), len(tr.X), len(va.X), len(te.X), s.Cell, s.Layers, s.Hidden, t.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return t }, info)
	spec := o.spec()
	spec.Inputs, spec.Targets, spec.Pool = dataset.Pitches, dataset.Pitches, ""
	if t, err = model.NewTagger(model.TagConfig{Spec: spec, Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := t.Fit(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			out := &outcome{m: t, result: rep.Result, info: info(), metrics: metricsOf(rep.Result, map[string]any{})}
			m, err := t.Evaluate(te)
			if err != nil {
				return nil, err
			}
			out.metrics["test"] = m
			out.human = func(w io.Writer) {
				fmt.Fprintf(w, "test NLL per step %.4f  frame accuracy %.4f  F1 %.4f\n", m["nll_per_step"], m["frame_accuracy"], m["f1"])
			}
			return out, nil
		},
		find: func(context.Context, lrfind.Config) (*lrfind.Result, error) {
			return nil, fmt.Errorf("lr-find: not available for the tag task yet")
		},
	}, nil
}
