package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim/lrfind"
)

// generated is a --data of the form gen:KIND:key=value,...: a task that
// recur generates itself.
type generated struct {
	kind   string
	params map[string]int
}

// genKinds are the generators, each with its parameters and defaults.
var genKinds = map[string]map[string]int{
	"adding":   {"T": 200, "n": 20000},
	"addition": {"digits": 3, "n": 50000},
}

// parseGen reads --data gen:KIND:k=v,... (ok false for any other --data).
func parseGen(data string) (g generated, ok bool, err error) {
	rest, ok := strings.CutPrefix(data, "gen:")
	if !ok {
		return g, false, nil
	}
	kind, args, _ := strings.Cut(rest, ":")
	defaults, known := genKinds[kind]
	if !known {
		return g, true, flagErr("data", strconv.Quote(data), "gen:adding[:T=200,n=20000] or gen:addition[:digits=3,n=50000]")
	}
	g = generated{kind: kind, params: map[string]int{}}
	for k, v := range defaults {
		g.params[k] = v
	}
	for _, kv := range splitList(args) {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if _, known := defaults[k]; !known || err != nil || n < 1 {
			return g, true, flagErr("data", strconv.Quote(data), fmt.Sprintf("%s's parameters as key=positive integer, keys %v", kind, keys(defaults)))
		}
		g.params[k] = n
	}
	return g, true, nil
}

func keys(m map[string]int) []string { return sortedKeys(m) }

// additionPairs generates the addition task's pairs.
func additionPairs(g generated, seed uint64) ([]text.Pair, error) {
	src, tgt, err := dataset.Addition(g.params["digits"], g.params["n"], seed)
	if err != nil {
		return nil, flagErr("data", "gen:addition", err.Error())
	}
	pairs := make([]text.Pair, len(src))
	for i := range src {
		pairs[i] = text.Pair{Src: src[i], Tgt: tgt[i]}
	}
	return pairs, nil
}

// addingSet generates n sequences of the adding problem.
func addingSet(T, n int, seed uint64) (*model.TagSet, error) {
	x, y, err := dataset.AddingProblem(T, n, seed)
	if err != nil {
		return nil, flagErr("data", "gen:adding", err.Error())
	}
	d := &model.TagSet{X: x, Y: make([][]float32, n)}
	for i, v := range y {
		d.Y[i] = []float32{v}
	}
	return d, nil
}

// addingJob trains a many-to-one regressor on the adding problem: n
// training sequences, and a tenth as many for validation and for test,
// each from its own seed.
func addingJob(r *runner, g generated) (*job, error) {
	o := r.o
	T, n := g.params["T"], g.params["n"]
	tr, err := addingSet(T, n, o.Seed)
	if err != nil {
		return nil, err
	}
	va, _ := addingSet(T, max(n/10, 1), o.Seed+1)
	te, _ := addingSet(T, max(n/10, 1), o.Seed+2)
	fit, err := r.fitConfig(true)
	if err != nil {
		return nil, err
	}
	var t *model.Tagger
	info := func() string {
		s := t.Spec()
		return fmt.Sprintf("adding problem, T=%d: %d training sequences (valid %d, test %d), 2 inputs per step, the sum at the last; %s %d×%d, %d parameters",
			T, n, len(va.X), len(te.X), s.Cell, s.Layers, s.Hidden, t.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return t }, info)
	spec := o.spec()
	spec.Inputs, spec.Targets, spec.Pool = 2, 1, ""
	if t, err = model.NewTagger(model.TagConfig{Spec: spec, LastStep: true, Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := t.Fit(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			m, err := t.Evaluate(te)
			if err != nil {
				return nil, err
			}
			out := &outcome{m: t, result: rep.Result, info: info(), metrics: metricsOf(rep.Result, map[string]any{"test": m}),
				baselines: map[string]any{"always_one": map[string]float64{"loss": 1.0 / 6}}}
			out.human = func(w io.Writer) {
				fmt.Fprintf(w, "test MSE %.5f  (always answering 1: 0.167)\n", m["loss"])
			}
			return out, nil
		},
		find: func(context.Context, lrfind.Config) (*lrfind.Result, error) {
			return nil, fmt.Errorf("lr-find: not available for the tag task yet")
		},
	}, nil
}
