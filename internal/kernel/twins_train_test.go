package kernel_test

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// twinRun is a short training run built from a seed: its parameters, one
// step (forward, loss, backward, clipping, update) returning the loss.
type twinRun struct {
	params []*nn.Param
	step   func() float64
}

// twinModels are the runs of TestTrainingTwinsIdentical, chosen to go
// through every kind of kernel a training step uses: the recurrent GEMMs
// (batch 3 to 5, and batch 1 through the GEMV kernels), an input product
// over two k-blocks, the fused LSTM and GRU gates, cross-entropy (Max,
// ExpShift), MSE (SqDiff), gradient clipping (SumSq, Scal), Axpy, and
// Adam, AdamW and AMSGrad (Adam64).
var twinModels = []struct {
	name  string
	build func(t *testing.T, rng *tensor.RNG) twinRun
}{
	{"lstm-lm", func(t *testing.T, rng *tensor.RNG) twinRun {
		const T, B, I, H, V = 7, 5, 9, 37, 13
		emb := nn.NewEmbedding(V, I, -1, rng)
		l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: 2}, rng)
		if err != nil {
			t.Fatal(err)
		}
		dec := nn.NewLinear(H, V, true, rng)
		ids, targets := randIDs(rng, T*B, V), randIDs(rng, T*B, V)
		params := append(append(nn.Prefix("embedding", emb.Params()), l.Params()...), nn.Prefix("decoder", dec.Params())...)
		return trainer(t, params, "adam", optim.Config{LR: 1e-2}, func(tp *nn.Tape) (*nn.Var, func(g []float32) float64) {
			out, _ := l.Forward(tp, emb.Forward(tp, ids, T, B), nil, nil)
			logits := dec.Forward(tp, out)
			return logits, func(g []float32) float64 {
				return loss.CrossEntropy(g, logits.Value.Data, targets, V, loss.ClassOptions{})
			}
		})
	}},
	{"gru-bidirectional-b1", func(t *testing.T, rng *tensor.RNG) twinRun {
		const T, B, I, H = 6, 1, 300, 20
		g, err := nn.NewGRU(nn.GRUConfig{InputSize: I, HiddenSize: H, Bidirectional: true}, rng)
		if err != nil {
			t.Fatal(err)
		}
		return trainer(t, g.Params(), "adamw", optim.Config{LR: 3e-3, WeightDecay: 0.01}, regression(g, input(rng, T, B, I), rng))
	}},
	{"lstm-h70-amsgrad", func(t *testing.T, rng *tensor.RNG) twinRun {
		const T, B, I, H = 5, 3, 40, 70
		l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H}, rng)
		if err != nil {
			t.Fatal(err)
		}
		return trainer(t, l.Params(), "adam", optim.Config{LR: 1e-2, AMSGrad: true}, regression(l, input(rng, T, B, I), rng))
	}},
	{"lstm-b1", func(t *testing.T, rng *tensor.RNG) twinRun {
		const T, B, I, H = 8, 1, 5, 33
		l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: 2}, rng)
		if err != nil {
			t.Fatal(err)
		}
		return trainer(t, l.Params(), "adam", optim.Config{LR: 1e-2}, regression(l, input(rng, T, B, I), rng))
	}},
}

func randIDs(rng *tensor.RNG, n, V int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(V)
	}
	return ids
}

// input returns random inputs (T, B, I) in [-1, 1).
func input(rng *tensor.RNG, T, B, I int) *nn.Var {
	x := tensor.New(T, B, I)
	rng.FillUniform(x, -1, 1)
	return nn.NewVar(x)
}

// regression is the forward of a fit of the outputs of the recurrent
// layer l on x to random targets with MSE.
func regression(l nn.Recurrent, x *nn.Var, rng *tensor.RNG) func(tp *nn.Tape) (*nn.Var, func(g []float32) float64) {
	var y *tensor.Tensor
	return func(tp *nn.Tape) (*nn.Var, func(g []float32) float64) {
		out, _ := l.Forward(tp, x, nil, nil)
		if y == nil {
			y = tensor.New(out.Value.Shape...)
			rng.FillUniform(y, -1, 1)
		}
		return out, func(g []float32) float64 { return loss.MSE(g, out.Value.Data, y.Data, loss.Options{}) }
	}
}

// trainer returns the run whose step records forward on a tape, takes the
// loss, runs backward, clips the gradient norm to 0.5 (so that the
// clipping scales) and steps the optimizer.
func trainer(t *testing.T, params []*nn.Param, opt string, c optim.Config, forward func(tp *nn.Tape) (*nn.Var, func(g []float32) float64)) twinRun {
	t.Helper()
	o, err := optim.New(opt, params, c)
	if err != nil {
		t.Fatal(err)
	}
	var tp nn.Tape
	return twinRun{params: params, step: func() float64 {
		nn.ZeroGrad(params)
		pred, lossOf := forward(&tp)
		L, v := loss.Record(&tp, pred, lossOf)
		tp.Backward(L, nil)
		optim.ClipGradNorm(params, 0.5, 2)
		o.Step()
		return v
	}}
}

// trainTwin builds a model from a fixed seed and trains it for steps
// steps with the twins (twins) or the assembly, returning the losses and
// the final parameters.
func trainTwin(t *testing.T, build func(*testing.T, *tensor.RNG) twinRun, twins bool, steps int) ([]float64, [][]float32) {
	t.Helper()
	defer kernel.UseTwins(twins)()
	r := build(t, tensor.NewRNG(7))
	losses := make([]float64, steps)
	for i := range losses {
		losses[i] = r.step()
	}
	var ps [][]float32
	for _, p := range r.params {
		ps = append(ps, append([]float32(nil), p.Value.Data...))
	}
	return losses, ps
}

// TestTrainingTwinsIdentical trains small models for a few steps through
// the public packages, once on the assembly kernels and once on their
// pure-Go twins, and requires the same bits in every loss and weight: the
// twins follow the assembly's operations and summation order exactly, so
// a noasm build trains the same model.
func TestTrainingTwinsIdentical(t *testing.T) {
	if !kernel.HasAsm() {
		t.Skip("no assembly in this build: the twins run either way")
	}
	const steps = 5
	widths := []string{kernel.ISA()}
	if kernel.ISA() == "AVX-512" {
		widths = append(widths, "AVX2/FMA") // as on the hosts without AVX-512
	}
	for _, width := range widths {
		for _, m := range twinModels {
			t.Run(width+"/"+m.name, func(t *testing.T) {
				if width != kernel.ISA() {
					defer kernel.UseYMM()()
				}
				trainTwins(t, m.name, m.build, steps)
			})
		}
	}
}

// trainTwins trains build's model with the assembly and with the twins and
// compares the losses and weights bit for bit.
func trainTwins(t *testing.T, name string, build func(*testing.T, *tensor.RNG) twinRun, steps int) {
	t.Helper()
	la, pa := trainTwin(t, build, false, steps)
	lt, pt := trainTwin(t, build, true, steps)
	for i := range la {
		if math.Float64bits(la[i]) != math.Float64bits(lt[i]) {
			t.Errorf("step %d: loss %.17g with the assembly, %.17g with the twins", i, la[i], lt[i])
		}
	}
	if !(la[steps-1] < la[0]) {
		t.Errorf("loss %g after %d steps, from %g: the run does not train", la[steps-1], steps, la[0])
	}
	weights := 0
	for k := range pa {
		for i := range pa[k] {
			if math.Float32bits(pa[k][i]) != math.Float32bits(pt[k][i]) {
				t.Fatalf("parameter %d [%d]: %.9g with the assembly, %.9g with the twins", k, i, pa[k][i], pt[k][i])
			}
		}
		weights += len(pa[k])
	}
	t.Logf("%s (%s): %d weights bit for bit equal after %d steps, loss %.6g -> %.6g", name, kernel.ISA(), weights, steps, la[0], la[steps-1])
}
