package kernel

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// Vector-kernel benchmarks. Each reports elem/ns (elements processed per
// nanosecond, one thread) for the assembly as dispatched ("asm": the ZMM
// kernels where the CPU has AVX-512), the AVX2 assembly forced ("ymm",
// only on AVX-512 CPUs) and the pure-Go twin ("twin"). For the gate
// kernels an element is one (b, j) cell: B·H per call. On Linux each also
// reports ns/op-cpu, the time per call in the thread's CPU time, which
// leaves out time spent descheduled on a shared machine.
//
//	go test -run '^$' -bench 'Sigmoid|Tanh|Exp|LSTMGates|GRUGates|SoftmaxRows|Adam|SqDiff' ./internal/kernel

func benchImpls(b *testing.B, name string, elems int, f func()) {
	saved, saved512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = saved, saved512 }()
	type impl struct {
		name        string
		asm, avx512 bool
	}
	var impls []impl
	if saved {
		impls = append(impls, impl{"asm", true, saved512})
	}
	if saved && saved512 {
		impls = append(impls, impl{"ymm", true, false})
	}
	impls = append(impls, impl{"twin", false, false})
	for _, im := range impls {
		b.Run(name+"/"+im.name, func(b *testing.B) {
			useAVX2, useAVX512 = im.asm, im.avx512
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := vecCPU()
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(elems)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
			if cpu := vecCPU() - start; cpu > 0 {
				b.ReportMetric(cpu*1e9/float64(b.N), "ns/op-cpu")
			}
		})
	}
}

func benchVec(rng *rand.Rand, n int, lo, hi float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float32()
	}
	return x
}

func benchActivation(b *testing.B, f func(dst, x []float32)) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1024, 32768} {
		x, dst := benchVec(rng, n, -8, 8), make([]float32, n)
		benchImpls(b, fmt.Sprintf("n%d", n), n, func() { f(dst, x) })
	}
}

func BenchmarkSigmoid(b *testing.B) { benchActivation(b, Sigmoid) }
func BenchmarkTanh(b *testing.B)    { benchActivation(b, Tanh) }
func BenchmarkExp(b *testing.B)     { benchActivation(b, Exp) }

// gateBenchShapes are the (B, H) of recurrent layers in training (and
// B = 1 inference).
var gateBenchShapes = [][2]int{{1, 128}, {20, 200}, {32, 256}, {128, 128}, {64, 512}}

func BenchmarkLSTMGates(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, sh := range gateBenchShapes {
		B, H := sh[0], sh[1]
		pre, cPrev := benchVec(rng, B*4*H, -4, 4), benchVec(rng, B*H, -2, 2)
		act, c, h := make([]float32, B*4*H), make([]float32, B*H), make([]float32, B*H)
		benchImpls(b, fmt.Sprintf("forward/B%dH%d", B, H), B*H, func() { LSTMForward(act, c, h, pre, cPrev, B, H) })
		dpre, dcPrev := make([]float32, B*4*H), make([]float32, B*H)
		dh, dc := benchVec(rng, B*H, -1, 1), benchVec(rng, B*H, -1, 1)
		LSTMForward(act, c, h, pre, cPrev, B, H)
		benchImpls(b, fmt.Sprintf("backward/B%dH%d", B, H), B*H, func() { LSTMBackward(dpre, dcPrev, act, c, cPrev, dh, dc, B, H) })
	}
}

func BenchmarkGRUGates(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range gateBenchShapes {
		B, H := sh[0], sh[1]
		xg, hg, hPrev := benchVec(rng, B*3*H, -4, 4), benchVec(rng, B*3*H, -4, 4), benchVec(rng, B*H, -1, 1)
		act, h := make([]float32, B*3*H), make([]float32, B*H)
		benchImpls(b, fmt.Sprintf("forward/B%dH%d", B, H), B*H, func() { GRUForward(act, h, xg, hg, hPrev, B, H) })
		dxg, dhg, dhPrev, dh := make([]float32, B*3*H), make([]float32, B*3*H), make([]float32, B*H), benchVec(rng, B*H, -1, 1)
		GRUForward(act, h, xg, hg, hPrev, B, H)
		benchImpls(b, fmt.Sprintf("backward/B%dH%d", B, H), B*H, func() { GRUBackward(dxg, dhg, dhPrev, act, hg, hPrev, dh, B, H) })
	}
}

func BenchmarkSoftmaxRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	// 64×1000, and a word-level language model's 700 rows × 10000 classes.
	for _, sh := range [][2]int{{64, 1000}, {700, 10000}} {
		rows, cols := sh[0], sh[1]
		x, dst := benchVec(rng, rows*cols, -10, 10), make([]float32, rows*cols)
		benchImpls(b, fmt.Sprintf("softmax/r%dc%d", rows, cols), rows*cols, func() { SoftmaxRows(dst, x, rows, cols) })
		benchImpls(b, fmt.Sprintf("logsoftmax/r%dc%d", rows, cols), rows*cols, func() { LogSoftmaxRows(dst, x, rows, cols) })
	}
}

func BenchmarkAdam(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1 << 18, 1 << 21} {
		p, g, m, v := benchVec(rng, n, -1, 1), benchVec(rng, n, -1, 1), make([]float32, n), make([]float32, n)
		benchImpls(b, fmt.Sprintf("n%d", n), n, func() { Adam(p, g, m, v, 0.9, 0.999, 1e-3, 0.03, 1e-8) })
		h := AdamHyper{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3, BC2Sqrt: 0.03, Eps: 1e-8, Shrink: 1 - 1e-5}
		benchImpls(b, fmt.Sprintf("f64/n%d", n), n, func() { Adam64(p, g, m, v, nil, h) })
	}
}

// BenchmarkSqDiff is an MSE and its gradient over a sequence model's
// output (T50 B32 H256: 409,600 values), and a small one.
func BenchmarkSqDiff(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{4096, 409600} {
		p, t, g := benchVec(rng, n, -1, 1), benchVec(rng, n, -1, 1), make([]float32, n)
		benchImpls(b, fmt.Sprintf("n%d", n), n, func() { SqDiff(g, p, t, 2/float32(n)) })
	}
}

// BenchmarkAdamTeam is Adam on one and two threads with the worker team
// awake, as after a backward pass (a no-op parallel call before each
// step keeps it so): wall time per step.
func BenchmarkAdamTeam(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1 << 16, 1 << 18, 1 << 21} {
		p, g, m, v := benchVec(rng, n, -1, 1), benchVec(rng, n, -1, 1), make([]float32, n), make([]float32, n)
		benchTeamAwake(b, fmt.Sprintf("n%d", n), "µs/step", func() { Adam(p, g, m, v, 0.9, 0.999, 1e-3, 0.03, 1e-8) })
	}
}

// benchTeamAwake runs fn as name/threads<P> for each team size P with the
// worker team awake before each call (a no-op parallel call), reporting
// the wall time of fn alone per call as unit.
func benchTeamAwake(b *testing.B, name, unit string, fn func()) {
	defer SetThreads(0)
	for _, th := range benchThreads() {
		b.Run(fmt.Sprintf("%s/threads%d", name, th), func(b *testing.B) {
			SetThreads(th)
			var d time.Duration
			for b.Loop() {
				parallel(2, func(int) {})
				t0 := time.Now()
				fn()
				d += time.Since(t0)
			}
			b.ReportMetric(float64(d.Microseconds())/float64(b.N), unit)
		})
	}
}

// BenchmarkSqDiffTeam is SqDiff over a T50 B32 H256 output (409,600 values)
// and a T100 B64 H512 one (3.3M) on one and two threads with the worker
// team awake, as after a forward pass: wall time per call.
func BenchmarkSqDiffTeam(b *testing.B) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{409600, 3276800} {
		p, t, g := benchVec(rng, n, -1, 1), benchVec(rng, n, -1, 1), make([]float32, n)
		benchTeamAwake(b, fmt.Sprintf("n%d", n), "µs/call", func() { SqDiff(g, p, t, 2/float32(n)) })
	}
}
