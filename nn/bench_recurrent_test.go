package nn_test

import (
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// The configurations of bench/torch_bench.py, so the two can be compared
// side by side: training step = forward over the sequence + MSE on the last
// layer's output + backward + Adam.
var lstmBenchConfigs = []struct{ T, B, I, H, L int }{
	{50, 32, 64, 256, 1},
	{100, 64, 128, 512, 1},
	{35, 20, 200, 200, 2},
	{28, 128, 28, 128, 1},
}

func benchName(T, B, I, H, L int) string {
	s := fmt.Sprintf("T%dB%dI%dH%d", T, B, I, H)
	if L > 1 {
		s += fmt.Sprintf("L%d", L)
	}
	return s
}

// lstmFlops is the forward FLOP count 2·T·B·(I_k+H)·4H summed over layers.
func lstmFlops(T, B, I, H, L int) float64 {
	f := 0.0
	for k := 0; k < L; k++ {
		in := I
		if k > 0 {
			in = H
		}
		f += 2 * float64(T*B*(in+H)*4*H)
	}
	return f
}

// adam is a minimal Adam (PyTorch defaults, lr 1e-3) over kernel.Adam; the
// optim package is separate.
type adam struct {
	ps   []*nn.Param
	m, v [][]float32
	t    int
	tp   nn.Tape        // the training loop's tape (see trainStep)
	dy   *tensor.Tensor // the output gradient buffer
}

func newAdam(ps []*nn.Param) *adam {
	a := &adam{ps: ps}
	for _, p := range ps {
		a.m = append(a.m, make([]float32, len(p.Value.Data)))
		a.v = append(a.v, make([]float32, len(p.Value.Data)))
	}
	return a
}

func (a *adam) step() {
	a.t++
	const lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
	stepSize := float32(lr / (1 - math.Pow(b1, float64(a.t))))
	bc2 := float32(math.Sqrt(1 - math.Pow(b2, float64(a.t))))
	for i, p := range a.ps {
		kernel.Adam(p.Value.Data, p.Grad.Data, a.m[i], a.v[i], b1, b2, stepSize, bc2, eps)
	}
}

// trainStep runs one training step of l on x against target y.
//
// The tape and the output gradient are the optimizer's, reused from step
// to step as train.Trainer and recur bench reuse theirs: a fresh tape per
// step would time the allocation and clearing of a step's buffers, which a
// training loop does not pay.
func trainStep(l nn.Recurrent, opt *adam, x *nn.Var, lengths []int, y *tensor.Tensor) {
	nn.ZeroGrad(opt.ps)
	tp := &opt.tp
	out, _ := l.Forward(tp, x, lengths, nil)
	if opt.dy == nil || len(opt.dy.Data) != len(out.Value.Data) {
		opt.dy = tensor.New(out.Value.Shape...)
	}
	// The loss and its gradient, as the trainer computes them.
	loss.MSE(opt.dy.Data, out.Value.Data, y.Data, loss.Options{})
	tp.Backward(out, opt.dy)
	opt.step()
}

func setupLSTM(b *testing.B, T, B, I, H, L int) (*nn.LSTM, *nn.Var, *tensor.Tensor) {
	rng := tensor.NewRNG(1)
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: L}, rng)
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.New(T, B, I)
	rng.FillUniform(x, -1, 1)
	y := tensor.New(T, B, H)
	rng.FillUniform(y, -1, 1)
	return l, nn.Constant(x), y // data: no gradient wanted, as in PyTorch
}

// peakPerCore is the float32 peak of one core of the reference machine
// (AMD EPYC Zen 5, 512-bit FMA: measured 207-218 GFLOP/s by
// BenchmarkFMAPeak in internal/kernel; 104 with 256-bit FMA).
const peakPerCore = 210.0

func reportStep(b *testing.B, start time.Time, flops float64) {
	per := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(per*1e3, "ms/step")
	reportRate(b, flops/per/1e9)
}

// reportRate reports GFLOP/s and the share of the peak of the cores the
// kernel may use.
func reportRate(b *testing.B, gflops float64) {
	b.ReportMetric(gflops, "GFLOP/s")
	b.ReportMetric(100*gflops/(peakPerCore*float64(kernel.Threads())), "%peak")
}

func BenchmarkLSTMTrain(b *testing.B) {
	for _, c := range lstmBenchConfigs {
		b.Run(benchName(c.T, c.B, c.I, c.H, c.L), func(b *testing.B) {
			l, x, y := setupLSTM(b, c.T, c.B, c.I, c.H, c.L)
			opt := newAdam(l.Params())
			trainStep(l, opt, x, nil, y) // warm-up
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				trainStep(l, opt, x, nil, y)
			}
			reportStep(b, start, 3*lstmFlops(c.T, c.B, c.I, c.H, c.L))
		})
	}
}

// BenchmarkLSTMInfer is batch-1 inference, forward only with a nil tape:
// one layer (issue 3's latency target) and two (issue 7's forecast model).
func BenchmarkLSTMInfer(b *testing.B) {
	const T, B, I = 50, 1, 32
	for _, c := range []struct{ H, L int }{{128, 1}, {128, 2}, {256, 1}, {512, 1}} {
		H, L := c.H, c.L
		b.Run(benchName(T, B, I, H, L), func(b *testing.B) {
			l, x, _ := setupLSTM(b, T, B, I, H, L)
			l.Forward(nil, x, nil, nil)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				l.Forward(nil, x, nil, nil)
			}
			per := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(per*1e6, "µs/seq")
			reportRate(b, lstmFlops(T, B, I, H, L)/per/1e9)
		})
	}
}

// BenchmarkLSTMVarLen trains on a batch whose lengths are uniform in
// [1, T] and on the same batch fully padded to T; the ratio of the two
// ms/step is the saving from skipping finished sequences. The interleaved
// sub-benchmark measures that ratio with the two steps taken in turn.
func BenchmarkLSTMVarLen(b *testing.B) {
	const T, B, I, H = 50, 32, 64, 256
	lengths := make([]int, B)
	rng := tensor.NewRNG(3)
	valid := 0
	for i := range lengths {
		lengths[i] = 1 + rng.IntN(T)
		valid += lengths[i]
	}
	for _, c := range []struct {
		name    string
		lengths []int
		steps   int
	}{{"padded", nil, T * B}, {"varlen", lengths, valid}} {
		b.Run(benchName(T, B, I, H, 1)+"/"+c.name, func(b *testing.B) {
			l, x, y := setupLSTM(b, T, B, I, H, 1)
			opt := newAdam(l.Params())
			trainStep(l, opt, x, c.lengths, y)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				trainStep(l, opt, x, c.lengths, y)
			}
			reportStep(b, start, 3*lstmFlops(T, B, I, H, 1)*float64(c.steps)/float64(T*B))
		})
	}
	// The two batches timed in turn, blocks of interleaveSteps steps
	// each (which goes first alternating), and the ratio taken of the
	// median blocks: the separate runs above are a minute apart at most,
	// but on this shared machine the load drifts by 10-20% within that,
	// and a burst of it lands on one of them. Blocks rather than single
	// steps keep what a training loop has, one model's weights and
	// activations warm in the caches.
	b.Run(benchName(T, B, I, H, 1)+"/interleaved", func(b *testing.B) {
		const interleaveSteps = 5
		lp, x, y := setupLSTM(b, T, B, I, H, 1)
		lv, _, _ := setupLSTM(b, T, B, I, H, 1)
		optP, optV := newAdam(lp.Params()), newAdam(lv.Params())
		trainStep(lp, optP, x, nil, y)
		trainStep(lv, optV, x, lengths, y)
		padded := make([]float64, 0, b.N)
		varlen := make([]float64, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for k := range 2 {
				t0 := time.Now()
				if (i+k)%2 == 0 {
					for range interleaveSteps {
						trainStep(lp, optP, x, nil, y)
					}
					padded = append(padded, time.Since(t0).Seconds()*1e3/interleaveSteps)
				} else {
					for range interleaveSteps {
						trainStep(lv, optV, x, lengths, y)
					}
					varlen = append(varlen, time.Since(t0).Seconds()*1e3/interleaveSteps)
				}
			}
		}
		mp, mv := median(padded), median(varlen)
		b.ReportMetric(mp, "padded-ms/step")
		b.ReportMetric(mv, "varlen-ms/step")
		b.ReportMetric(mv/mp, "varlen/padded")
	})
}

// median returns the median of xs (sorting it).
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// BenchmarkGRUTrain and BenchmarkRNNTrain time the first LSTM configuration
// with the other cells (G = 3H and H).
func BenchmarkGRUTrain(b *testing.B) {
	benchOtherCell(b, func(I, H int, rng *tensor.RNG) (nn.Recurrent, error) {
		return nn.NewGRU(nn.GRUConfig{InputSize: I, HiddenSize: H}, rng)
	}, 3)
}

func BenchmarkRNNTrain(b *testing.B) {
	benchOtherCell(b, func(I, H int, rng *tensor.RNG) (nn.Recurrent, error) {
		return nn.NewRNN(nn.RNNConfig{InputSize: I, HiddenSize: H}, rng)
	}, 1)
}

func benchOtherCell(b *testing.B, build func(I, H int, rng *tensor.RNG) (nn.Recurrent, error), gates int) {
	const T, B, I, H = 50, 32, 64, 256
	b.Run(benchName(T, B, I, H, 1), func(b *testing.B) {
		rng := tensor.NewRNG(1)
		l, err := build(I, H, rng)
		if err != nil {
			b.Fatal(err)
		}
		x := tensor.New(T, B, I)
		rng.FillUniform(x, -1, 1)
		y := tensor.New(T, B, H)
		rng.FillUniform(y, -1, 1)
		opt := newAdam(l.Params())
		xv := nn.NewVar(x)
		trainStep(l, opt, xv, nil, y)
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			trainStep(l, opt, xv, nil, y)
		}
		reportStep(b, start, 3*lstmFlops(T, B, I, H, 1)*float64(gates)/4)
	})
}
