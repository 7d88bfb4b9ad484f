package nn

import (
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// ptbHead returns the PTB-small output layer, an input (35, 20, 200) and
// an output gradient (35, 20, 10000).
func ptbHead() (*Linear, *Var, *tensor.Tensor) {
	rng := tensor.NewRNG(1)
	l := NewLinear(200, 10000, true, rng)
	x := randVar(rng, 35, 20, 200)
	dy := tensor.New(35, 20, 10000)
	rng.FillUniform(dy, -1, 1)
	return l, x, dy
}

// BenchmarkLinearHeadPTB is the PTB-small output layer: (T·B = 700, 200) →
// 10k logits, forward and backward.
func BenchmarkLinearHeadPTB(b *testing.B) {
	l, x, dy := ptbHead()
	b.ReportAllocs()
	for b.Loop() {
		tp := &Tape{}
		y := l.Forward(tp, x)
		tp.Backward(y, dy)
	}
	b.ReportMetric(3*2*700*200*10000/1e9/(b.Elapsed().Seconds()/float64(b.N)), "GFLOP/s")
}

// BenchmarkBahdanauStep is one decoder step of attention over a (32, 50,
// 256) encoder output, forward and backward.
func BenchmarkBahdanauStep(b *testing.B) {
	rng := tensor.NewRNG(1)
	a := NewBahdanau(256, 256, 128, rng)
	q, keys := randVar(rng, 32, 256), randVar(rng, 32, 50, 256)
	proj := a.ProjectKeys(nil, keys)
	b.ReportAllocs()
	for b.Loop() {
		tp := &Tape{}
		c, _ := a.Attend(tp, q, keys, proj, nil)
		tp.Backward(c, c.Value)
	}
}

// BenchmarkLinearHeadPTBReused is BenchmarkLinearHeadPTB on one tape
// reused across steps, as a trainer does: its buffers come from the arena.
func BenchmarkLinearHeadPTBReused(b *testing.B) {
	l, x, dy := ptbHead()
	var tp Tape
	b.ReportAllocs()
	for b.Loop() {
		y := l.Forward(&tp, x)
		tp.Grad(y)
		tp.Backward(y, dy)
	}
	b.ReportMetric(3*2*700*200*10000/1e9/(b.Elapsed().Seconds()/float64(b.N)), "GFLOP/s")
}
