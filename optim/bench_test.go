package optim

import (
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// BenchmarkSGDStep is plain SGD over PTB small's 4.65M parameters, on
// the kernel's threads (GOMAXPROCS).
func BenchmarkSGDStep(b *testing.B) {
	p := nn.NewParam("w", 4654002)
	tensor.NewRNG(1).FillUniform(p.Grad, -1, 1)
	opt, err := New("sgd", []*nn.Param{p}, Config{LR: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		opt.Step()
	}
}
