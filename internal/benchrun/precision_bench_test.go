package benchrun

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// BenchmarkPrecision times the training step of each standard training
// configuration in float32 and in bfloat16 (train.Config.Precision)
// side by side: every iteration runs one step of each, alternating, on
// two models built alike, so that a shared machine's load falls on both.
// It reports both times per step (median over the iterations) and their
// ratio, in wall time and, where the process's CPU time can be read, in
// CPU time, which a loaded machine's waits for a core do not inflate (with
// one kernel thread, -cpu 1, it is the step's own work); on a CPU without
// AVX512_BF16 the bf16 side runs float32:
//
//	go test ./internal/benchrun -run '^$' -bench Precision -benchtime 10x -cpu 1
func BenchmarkPrecision(b *testing.B) {
	if nn.BF16.Effective() != nn.BF16 {
		b.Log("no AVX512_BF16 on this CPU: the bf16 side runs float32")
	}
	for _, c := range Standard() {
		if !c.Training() {
			continue
		}
		b.Run(c.Name, func(b *testing.B) {
			var steps [2]func()
			for i, p := range []nn.Precision{nn.FP32, nn.BF16} {
				s, err := precisionStep(c, p)
				if err != nil {
					b.Fatal(err)
				}
				s()
				s()
				steps[i] = s
			}
			var ms, cpu [2][]float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j, s := range steps {
					t0, c0 := time.Now(), cpuTime()
					s()
					ms[j] = append(ms[j], float64(time.Since(t0).Nanoseconds())/1e6)
					cpu[j] = append(cpu[j], float64((cpuTime()-c0).Nanoseconds())/1e6)
				}
			}
			reportPair(b, ms, "")
			if cpuTime() > 0 {
				reportPair(b, cpu, "cpu-")
			}
		})
	}
}

// reportPair reports the median per step of the fp32 and bf16 samples in
// t, their ratio and the ratio of their minima, named with prefix.
func reportPair(b *testing.B, t [2][]float64, prefix string) {
	slices.Sort(t[0])
	slices.Sort(t[1])
	f32, b16 := median(t[0]), median(t[1])
	b.ReportMetric(f32, "fp32-"+prefix+"ms/step")
	b.ReportMetric(b16, "bf16-"+prefix+"ms/step")
	b.ReportMetric(f32/b16, prefix+"speedup")
	b.ReportMetric(t[0][0]/t[1][0], prefix+"speedup-best")
}

// precisionStep builds c as Build does, trained in precision p, and
// returns its step.
func precisionStep(c Config, p nn.Precision) (func(), error) {
	m, err := model.Build(c.spec(), 1)
	if err != nil {
		return nil, err
	}
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 1e-3})
	if err != nil {
		return nil, err
	}
	tr, err := train.New(m.Task(), opt, train.Config{Precision: p})
	if err != nil {
		return nil, err
	}
	batch := c.batch(tensor.NewRNG(2))
	return func() {
		if _, err := tr.Step(batch); err != nil {
			panic(fmt.Sprintf("benchrun: %s: %v", c.Name, err))
		}
	}, nil
}

// cpuTime is the process's user and system CPU time so far (0 where
// getrusage fails).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
