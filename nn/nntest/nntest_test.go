package nntest_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/nn/nntest"
	"github.com/recur-ml/recur/tensor"
)

// scaleTanh is a toy layer y = tanh(w ⊙ x) with a hand-written backward,
// enough to exercise every sub-check; the flags break it on purpose.
type scaleTanh struct {
	w, extra *nn.Param
	// forgetParamGrad drops the weight gradient; mutate changes the weight
	// during inference.
	forgetParamGrad, mutate bool
	mu                      sync.Mutex // serializes a mutating layer, so -race sees no race, only the mutation
}

func (l *scaleTanh) Params() []*nn.Param {
	if l.extra != nil {
		return []*nn.Param{l.w, l.extra}
	}
	return []*nn.Param{l.w}
}

func (l *scaleTanh) forward(tp *nn.Tape, x *nn.Var) *nn.Var {
	if l.mutate {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	y := nn.NewVar(tensor.New(x.Value.Shape...))
	for i, v := range x.Value.Data {
		y.Value.Data[i] = float32(math.Tanh(float64(l.w.Value.Data[i] * v)))
	}
	if tp == nil && l.mutate {
		l.w.Value.Data[0] += 1e-3
	}
	if tp != nil {
		tp.Add(func() {
			if y.Grad == nil {
				return
			}
			gx := x.G()
			for i, g := range y.Grad.Data {
				d := g * (1 - y.Value.Data[i]*y.Value.Data[i])
				gx.Data[i] += d * l.w.Value.Data[i]
				if !l.forgetParamGrad {
					l.w.Grad.Data[i] += d * x.Value.Data[i]
				}
			}
		})
	}
	return y
}

func toySpec(configure func(l *scaleTanh)) nntest.Spec {
	return nntest.Spec{
		Name: "scaletanh",
		New: func(rng *tensor.RNG) (nn.Module, error) {
			w := nn.NewParam("weight", 2, 3)
			rng.FillUniform(w.Value, -1, 1)
			l := &scaleTanh{w: w}
			if configure != nil {
				configure(l)
			}
			return l, nil
		},
		Inputs: func(rng *tensor.RNG) []*nn.Var { return []*nn.Var{nntest.RandVar(rng, 2, 3)} },
		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
			return []*nn.Var{m.(*scaleTanh).forward(tp, in[0])}
		},
	}
}

func TestCheckToyLayer(t *testing.T) {
	nntest.Check(t, toySpec(nil))
}

// recorder is a Reporter that keeps the messages.
type recorder struct{ errs []string }

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

// TestChecksCatchBrokenLayers makes sure each sub-check can fail.
func TestChecksCatchBrokenLayers(t *testing.T) {
	var counter atomic.Uint64
	cases := []struct {
		name  string
		check func(nntest.Reporter, nntest.Spec)
		spec  nntest.Spec
		want  string
	}{
		{"grad", nntest.CheckGrad, toySpec(func(l *scaleTanh) { l.forgetParamGrad = true }), "d loss/d weight"},
		{"concurrent", nntest.CheckConcurrent, toySpec(func(l *scaleTanh) { l.mutate = true }), "differs"},
		{"saveload", nntest.CheckSaveLoad, toySpec(func(l *scaleTanh) { l.extra = nn.NewParam("weight", 1) }), "duplicate"},
		{"seed", nntest.CheckSeed, toySpec(func(l *scaleTanh) { l.w.Value.Data[0] = float32(counter.Add(1)) }), "same seed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			c.check(r, c.spec)
			if len(r.errs) == 0 {
				t.Fatalf("Check%s passed a broken layer", c.name)
			}
			if !strings.Contains(strings.Join(r.errs, "\n"), c.want) {
				t.Errorf("Check%s errors %q do not mention %q", c.name, r.errs, c.want)
			}
		})
	}
}

// dropToy is y = x ⊙ mask in training (mask from its own RNG), y = x
// otherwise; broken forgets the mask in backward.
type dropToy struct {
	w      *nn.Param // unused weight so the layer has a parameter
	rng    *tensor.RNG
	broken bool
}

func (l *dropToy) Params() []*nn.Param { return []*nn.Param{l.w} }

func (l *dropToy) forward(tp *nn.Tape, x *nn.Var) *nn.Var {
	y := nn.NewVar(x.Value.Clone())
	if !tp.Training() {
		if tp != nil {
			tp.Add(func() { x.G().Add(y.Grad); l.w.Grad.Data[0] += 0 })
		}
		return y
	}
	mask := make([]float32, len(x.Value.Data))
	l.rng.Bernoulli(mask, 0.5)
	for i := range y.Value.Data {
		y.Value.Data[i] *= mask[i]
	}
	tp.Add(func() {
		g := x.G()
		for i, d := range y.Grad.Data {
			if l.broken {
				g.Data[i] += d
			} else {
				g.Data[i] += d * mask[i]
			}
		}
	})
	return y
}

func dropSpec(broken bool) nntest.Spec {
	return nntest.Spec{
		Name: "droptoy",
		New: func(rng *tensor.RNG) (nn.Module, error) {
			return &dropToy{w: nn.NewParam("weight", 1), rng: rng.Split(), broken: broken}, nil
		},
		Inputs: func(rng *tensor.RNG) []*nn.Var { return []*nn.Var{nntest.RandVar(rng, 3, 4)} },
		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
			return []*nn.Var{m.(*dropToy).forward(tp, in[0])}
		},
		TrainRNG: func(m nn.Module) *tensor.RNG { return m.(*dropToy).rng },
	}
}

func TestCheckGradTrainingMode(t *testing.T) {
	nntest.CheckGrad(t, dropSpec(false))
	r := &recorder{}
	nntest.CheckGrad(r, dropSpec(true))
	if !strings.Contains(strings.Join(r.errs, "\n"), "(training): d loss/d input 0") {
		t.Errorf("a dropout layer whose backward ignores the mask passed the training-mode check: %q", r.errs)
	}
}
