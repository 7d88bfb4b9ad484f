// Package nntest is the conformance check every recur layer passes.
//
// A layer's test describes how to build the layer, make its inputs and run
// it, then calls [Check] in one line:
//
//	nntest.Check(t, nntest.Spec{
//		Name:    "lstm",
//		New:     func(rng *tensor.RNG) (nn.Module, error) { return nn.NewLSTM(cfg, rng) },
//		Inputs:  func(rng *tensor.RNG) []*nn.Var { return []*nn.Var{nntest.RandVar(rng, 3, 2, 4)} },
//		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var { ... },
//	})
//
// Check runs these sub-checks, each a subtest:
//
//   - grad: the analytic gradients recorded on a tape (in Eval mode, so
//     dropout and friends are off) of the scalar loss L = Σ_k Σ out_k ⊙ R_k
//     (R_k fixed random weights) with respect to every input Var and every
//     parameter agree with central differences computed from float64 sums of
//     the float32 forward; with Spec.TrainRNG, the same in training mode
//     with the random masks replayed.
//   - saveload: copying the parameters by name into a layer built with a
//     different seed reproduces the outputs exactly; names are unique and
//     non-empty.
//   - concurrent: several goroutines running inference (nil tape) on one
//     layer get identical outputs, and inference mutates neither inputs nor
//     parameters nor gradients (run the test with -race).
//   - seed: the same seed gives the same parameters and outputs.
//   - threads: the outputs do not depend on the kernel worker count
//     (kernel.SetThreads 1 against GOMAXPROCS).
//
// Keep layers tiny (sizes below 10): the gradient check costs two forwards
// per scalar.
package nntest

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Spec describes a layer to Check.
type Spec struct {
	// Name labels failures.
	Name string
	// New builds the layer; parameters must be drawn from rng only.
	New func(rng *tensor.RNG) (nn.Module, error)
	// Inputs returns the differentiable inputs (fresh Vars each call, drawn
	// from rng only). Non-differentiable inputs (token ids, lengths) are
	// captured by Forward instead. May be nil for a layer without inputs.
	Inputs func(rng *tensor.RNG) []*nn.Var
	// Forward runs the layer. tp may be nil (inference) or an Eval tape.
	// It returns every output whose gradient matters (for a recurrent layer:
	// the sequence output and the final states).
	Forward func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var
	// Seed seeds New, Inputs and the loss weights; 0 means 1.
	Seed uint64
	// Eps is the central-difference step; 0 means 3e-3.
	Eps float64
	// RTol and ATol bound |analytic-numeric| <= ATol + RTol*max(|a|,|n|);
	// zero values mean 2e-2 and 2e-3.
	RTol, ATol float64
	// Goroutines for the concurrency check; 0 means 4.
	Goroutines int
	// SkipGrad disables the gradient check, for a layer with no gradient
	// (say why in the test).
	SkipGrad bool
	// TrainRNG, when set, returns the RNG the layer draws its training-time
	// randomness (dropout masks) from; the gradient check then also runs on
	// a training tape, restoring this RNG before every forward so that all
	// of them see the same masks. Leave nil for a layer without any.
	TrainRNG func(m nn.Module) *tensor.RNG
}

func (s *Spec) defaults() {
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.Eps == 0 {
		s.Eps = 3e-3
	}
	if s.RTol == 0 {
		s.RTol = 2e-2
	}
	if s.ATol == 0 {
		s.ATol = 2e-3
	}
	if s.Goroutines == 0 {
		s.Goroutines = 4
	}
}

// RandVar returns a Var of the given shape with values uniform in [-1, 1).
func RandVar(rng *tensor.RNG, shape ...int) *nn.Var {
	t := tensor.New(shape...)
	rng.FillUniform(t, -1, 1)
	return nn.NewVar(t)
}

// Reporter is the part of testing.TB the checks use (*testing.T and
// *testing.B satisfy it); the suite's own tests pass a recorder.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// Check runs every sub-check of the conformance suite on s.
func Check(t *testing.T, s Spec) {
	t.Helper()
	s.defaults()
	t.Run(s.Name+"/grad", func(t *testing.T) {
		if s.SkipGrad {
			t.Log("gradient check disabled by the Spec")
			return
		}
		CheckGrad(t, s)
	})
	t.Run(s.Name+"/saveload", func(t *testing.T) { CheckSaveLoad(t, s) })
	t.Run(s.Name+"/concurrent", func(t *testing.T) { CheckConcurrent(t, s) })
	t.Run(s.Name+"/seed", func(t *testing.T) { CheckSeed(t, s) })
	t.Run(s.Name+"/threads", func(t *testing.T) { CheckThreads(t, s) })
}

func (s *Spec) build(t Reporter, seed uint64) (nn.Module, []*nn.Var, bool) {
	t.Helper()
	m, err := s.New(tensor.NewRNG(seed))
	if err != nil {
		t.Errorf("%s: New: %v", s.Name, err)
		return nil, nil, false
	}
	var in []*nn.Var
	if s.Inputs != nil {
		in = s.Inputs(tensor.NewRNG(seed + 1000))
	}
	return m, in, true
}

func cloneVals(vs []*nn.Var) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		if v != nil && v.Value != nil {
			out[i] = append([]float32(nil), v.Value.Data...)
		}
	}
	return out
}

func sameVals(a, b [][]float32) (int, int, bool) {
	if len(a) != len(b) {
		return -1, -1, false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return i, -1, false
		}
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return i, j, false
			}
		}
	}
	return 0, 0, true
}

// lossWeights returns fixed random weights shaped like outs.
func lossWeights(seed uint64, outs []*nn.Var) [][]float64 {
	rng := tensor.NewRNG(seed + 2000)
	r := make([][]float64, len(outs))
	for k, o := range outs {
		if o == nil {
			continue
		}
		r[k] = make([]float64, len(o.Value.Data))
		for i := range r[k] {
			r[k][i] = rng.Uniform(-1, 1)
		}
	}
	return r
}

func loss(outs []*nn.Var, r [][]float64) float64 {
	var s float64
	for k, o := range outs {
		if o == nil {
			continue
		}
		for i, v := range o.Value.Data {
			s += float64(v) * r[k][i]
		}
	}
	return s
}

// CheckGrad compares tape gradients with central differences: on an Eval
// tape against inference forwards, and, when the Spec has TrainRNG, also on
// a training tape against training forwards that replay the same random
// masks (the RNG is restored before every forward).
func CheckGrad(t Reporter, s Spec) {
	t.Helper()
	s.defaults()
	gradCheck(t, s, false)
	if s.TrainRNG != nil {
		gradCheck(t, s, true)
	}
}

func gradCheck(t Reporter, s Spec, training bool) {
	t.Helper()
	m, in, ok := s.build(t, s.Seed)
	if !ok {
		return
	}
	mode := "eval"
	var rng *tensor.RNG
	var snap []byte
	if training {
		mode = "training"
		rng = s.TrainRNG(m)
		var err error
		if snap, err = rng.MarshalBinary(); err != nil {
			t.Errorf("%s: TrainRNG state: %v", s.Name, err)
			return
		}
	}
	// forward runs the layer on a recording tape (rec) or for the numeric
	// side: nil tape in eval mode, a throwaway training tape otherwise.
	forward := func(rec *nn.Tape) []*nn.Var {
		if training {
			if err := rng.UnmarshalBinary(snap); err != nil {
				panic(err)
			}
			if rec == nil {
				rec = &nn.Tape{}
			}
		}
		return s.Forward(m, rec, in)
	}
	params := m.Params()
	nn.ZeroGrad(params)
	tp := &nn.Tape{Eval: !training}
	outs := forward(tp)
	if len(outs) == 0 {
		t.Errorf("%s: Forward returned no outputs", s.Name)
		return
	}
	r := lossWeights(s.Seed, outs)
	// Seed every output's gradient with its weights and run the tape once.
	var first *nn.Var
	for k, o := range outs {
		if o == nil {
			continue
		}
		g := o.G()
		for i := range g.Data {
			g.Data[i] += float32(r[k][i])
		}
		if first == nil {
			first = o
		}
	}
	zero := tensor.New(first.Value.Shape...)
	tp.Backward(first, zero)

	f := func() float64 { return loss(forward(nil), r) }
	check := func(what string, v *nn.Var) {
		if v.Grad == nil {
			t.Errorf("%s (%s): %s received no gradient", s.Name, mode, what)
			return
		}
		grad := append([]float32(nil), v.Grad.Data...)
		bad := 0
		for i := range v.Value.Data {
			old := v.Value.Data[i]
			v.Value.Data[i] = old + float32(s.Eps)
			hi := float64(v.Value.Data[i])
			lp := f()
			v.Value.Data[i] = old - float32(s.Eps)
			lo := float64(v.Value.Data[i])
			lm := f()
			v.Value.Data[i] = old
			num := (lp - lm) / (hi - lo)
			a := float64(grad[i])
			if d := math.Abs(a - num); d > s.ATol+s.RTol*math.Max(math.Abs(a), math.Abs(num)) {
				if bad < 5 {
					t.Errorf("%s (%s): d loss/d %s[%d]: got %.6g (tape) want %.6g (central difference)", s.Name, mode, what, i, a, num)
				}
				bad++
			}
		}
		if bad > 5 {
			t.Errorf("%s (%s): %s: %d of %d gradient elements off", s.Name, mode, what, bad, len(grad))
		}
	}
	for i, v := range in {
		check(fmt.Sprintf("input %d", i), v)
	}
	for _, p := range params {
		check(p.Name, &p.Var)
	}
}

// CheckSaveLoad copies parameters by name into a layer built with another
// seed and checks the outputs are bitwise equal.
func CheckSaveLoad(t Reporter, s Spec) {
	t.Helper()
	s.defaults()
	m, in, ok := s.build(t, s.Seed)
	if !ok {
		return
	}
	m2, _, ok := s.build(t, s.Seed+7)
	if !ok {
		return
	}
	src, err := nn.ByName(m.Params())
	if err != nil {
		t.Errorf("%s: %v", s.Name, err)
		return
	}
	dst := m2.Params()
	if len(dst) != len(src) {
		t.Errorf("%s: fresh layer has %d params, want %d", s.Name, len(dst), len(src))
		return
	}
	for _, p := range dst {
		if p.Name == "" {
			t.Errorf("%s: parameter with an empty name", s.Name)
			return
		}
		q, ok := src[p.Name]
		if !ok {
			t.Errorf("%s: fresh layer has parameter %q the original lacks", s.Name, p.Name)
			return
		}
		if !tensor.SameShape(p.Value, q.Value) {
			t.Errorf("%s: %s: shape %v, want %v", s.Name, p.Name, p.Value.Shape, q.Value.Shape)
			return
		}
		if p.Grad == nil || !tensor.SameShape(p.Grad, p.Value) {
			t.Errorf("%s: %s: gradient not allocated with the value's shape", s.Name, p.Name)
		}
		p.Value.CopyFrom(q.Value)
	}
	want := cloneVals(s.Forward(m, nil, in))
	got := cloneVals(s.Forward(m2, nil, in))
	if i, j, ok := sameVals(got, want); !ok {
		t.Errorf("%s: after copying parameters by name, output %d differs at %d", s.Name, i, j)
	}
}

// CheckConcurrent runs inference from several goroutines and checks that
// they agree with a serial run and that nothing was mutated.
func CheckConcurrent(t Reporter, s Spec) {
	t.Helper()
	s.defaults()
	m, in, ok := s.build(t, s.Seed)
	if !ok {
		return
	}
	params := m.Params()
	pv := cloneVals(paramVars(params))
	pg := cloneGrads(params)
	iv := cloneVals(in)
	want := cloneVals(s.Forward(m, nil, in))
	var wg sync.WaitGroup
	res := make([][][]float32, s.Goroutines)
	for g := 0; g < s.Goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 3; rep++ {
				res[g] = cloneVals(s.Forward(m, nil, in))
			}
		}()
	}
	wg.Wait()
	for g := range res {
		if i, j, ok := sameVals(res[g], want); !ok {
			t.Errorf("%s: goroutine %d: output %d differs from the serial run at %d", s.Name, g, i, j)
		}
	}
	if i, j, ok := sameVals(cloneVals(in), iv); !ok {
		t.Errorf("%s: inference mutated input %d at %d", s.Name, i, j)
	}
	if i, j, ok := sameVals(cloneVals(paramVars(params)), pv); !ok {
		t.Errorf("%s: inference mutated parameter %s at %d", s.Name, params[i].Name, j)
	}
	if i, j, ok := sameVals(cloneGrads(params), pg); !ok {
		t.Errorf("%s: inference changed the gradient of %s at %d", s.Name, params[i].Name, j)
	}
	for i, v := range in {
		if v.Grad != nil {
			t.Errorf("%s: inference gave input %d a gradient", s.Name, i)
		}
	}
}

// CheckSeed builds the layer twice from the same seed and checks the
// parameters and outputs are bitwise equal (and logs when another seed
// gives the same parameters).
func CheckSeed(t Reporter, s Spec) {
	t.Helper()
	s.defaults()
	m1, in1, ok1 := s.build(t, s.Seed)
	m2, in2, ok2 := s.build(t, s.Seed)
	if !ok1 || !ok2 {
		return
	}
	if i, j, ok := sameVals(cloneVals(paramVars(m1.Params())), cloneVals(paramVars(m2.Params()))); !ok {
		t.Errorf("%s: same seed, parameter %d differs at %d", s.Name, i, j)
	}
	if i, j, ok := sameVals(cloneVals(s.Forward(m1, nil, in1)), cloneVals(s.Forward(m2, nil, in2))); !ok {
		t.Errorf("%s: same seed, output %d differs at %d", s.Name, i, j)
	}
	if m3, _, ok := s.build(t, s.Seed+1); ok && len(m3.Params()) > 0 {
		if _, _, ok := sameVals(cloneVals(paramVars(m1.Params())), cloneVals(paramVars(m3.Params()))); ok && anyNonZero(m1.Params()) {
			// Not an error: a layer may have a fixed initialization.
			t.Logf("%s: seeds %d and %d give identical parameters (is the RNG used?)", s.Name, s.Seed, s.Seed+1)
		}
	}
}

func anyNonZero(ps []*nn.Param) bool {
	for _, p := range ps {
		for _, v := range p.Value.Data {
			if v != 0 {
				return true
			}
		}
	}
	return false
}

func paramVars(ps []*nn.Param) []*nn.Var {
	out := make([]*nn.Var, len(ps))
	for i, p := range ps {
		out[i] = &p.Var
	}
	return out
}

func cloneGrads(ps []*nn.Param) [][]float32 {
	out := make([][]float32, len(ps))
	for i, p := range ps {
		if p.Grad != nil {
			out[i] = append([]float32(nil), p.Grad.Data...)
		}
	}
	return out
}

// CheckThreads checks that the outputs do not depend on the number of
// kernel worker threads: one thread against every thread GOMAXPROCS allows
// (kernel.SetThreads), restoring the setting afterwards.
func CheckThreads(t Reporter, s Spec) {
	t.Helper()
	s.defaults()
	m, in, ok := s.build(t, s.Seed)
	if !ok {
		return
	}
	old := kernel.Threads()
	defer kernel.SetThreads(old)
	kernel.SetThreads(1)
	want := cloneVals(s.Forward(m, nil, in))
	kernel.SetThreads(runtime.GOMAXPROCS(0))
	many := kernel.Threads()
	got := cloneVals(s.Forward(m, nil, in))
	if i, j, ok := sameVals(got, want); !ok {
		t.Errorf("%s: with %d kernel threads output %d differs at %d from 1 thread", s.Name, many, i, j)
	}
	if many == 1 {
		t.Logf("%s: GOMAXPROCS is 1, so only one thread count was tried", s.Name)
	}
}
