package benchrun

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
)

// Options says how long to measure. Zero fields mean the defaults.
type Options struct {
	// Steps is the number of steps timed together in one repeat; 0 means
	// enough steps for about 0.3 s (at least 1), found from the warm-up.
	Steps int
	// Repeat is the number of timed repeats; 0 means 5. The reported time
	// is their median.
	Repeat int
	// Warmup steps run before timing; 0 means 2 (the first step allocates
	// the buffers later steps reuse). Negative means none.
	Warmup int
	// Seed draws weights and data; 0 means 1.
	Seed uint64
	// Peak is the measured float32 peak of one core in GFLOP/s; 0 means
	// CorePeak() is measured on first use.
	Peak float64
	// Precision of the training steps (train.Config.Precision): BF16 runs
	// their large products in bfloat16 where the CPU has AVX512_BF16.
	// PctPeak stays relative to the float32 peak. Inference is float32.
	Precision nn.Precision
}

func (o Options) withDefaults() Options {
	if o.Repeat <= 0 {
		o.Repeat = 5
	}
	if o.Warmup == 0 {
		o.Warmup = 2
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Result is the measurement of one configuration.
type Result struct {
	Config     Config  `json:"config"`
	Describe   string  `json:"describe"`
	Steps      int     `json:"steps"`
	Repeat     int     `json:"repeat"`
	Threads    int     `json:"threads"`
	MsPerStep  float64 `json:"ms_per_step"` // median over repeats
	MsMin      float64 `json:"ms_min"`
	MsMax      float64 `json:"ms_max"`
	SeqPerSec  float64 `json:"seq_per_sec"` // B sequences per step
	GFlops     float64 `json:"gflops"`      // Config.Flops over the median time
	LSTMGFlops float64 `json:"lstm_gflops"` // the recurrent layers' FLOPs over the median time
	PctPeak    float64 `json:"pct_peak"`    // GFlops against Threads × the core peak
	PeakGFlops float64 `json:"core_peak_gflops"`
	PeakRSSMB  float64 `json:"peak_rss_mb"` // VmHWM during this configuration (process-wide)
	MinMB      float64 `json:"min_mb"`      // Config.MinBytes
	Allocs     float64 `json:"allocs_per_step"`
	AllocBytes float64 `json:"alloc_bytes_per_step"`
	NumParams  int     `json:"params"`
	Loss       float64 `json:"loss,omitempty"`
	RSSReset   bool    `json:"rss_reset"` // whether the peak was reset before this configuration
	// Precision is what a training configuration's steps ran in (fp32
	// where bf16 was asked on a CPU without AVX512_BF16).
	Precision string `json:"precision,omitempty"`

	// FreshMs is, for an inference configuration with Session.Fresh, the
	// best ms per step in a fresh process; MsPerStep is then the time in
	// this process after the training configurations TrainedBefore.
	FreshMs       float64  `json:"fresh_ms_per_step,omitempty"`
	TrainedBefore []string `json:"trained_before,omitempty"`

	// Peers holds each peer's best time (or why it has none) in the
	// session's order, each with its speed-up; BestPeer is the fastest
	// peer that ran and SpeedupBest its ms/step over recur's (> 1: recur
	// is faster).
	Peers       []PeerResult `json:"peers,omitempty"`
	BestPeer    string       `json:"best_peer,omitempty"`
	SpeedupBest float64      `json:"speedup_vs_best,omitempty"`
}

// Run builds c and measures it: o.Warmup untimed steps, then o.Repeat
// timings of o.Steps steps each. Allocations are counted over all timed
// steps. The process's peak RSS is reset first where Linux allows it
// (/proc/self/clear_refs), after a GC that returns freed memory to the
// system, so that PeakRSSMB covers this configuration; where the reset is
// not possible it is the process's peak so far.
func Run(c Config, o Options) (Result, error) {
	o = o.withDefaults()
	runtime.GC()
	debug.FreeOSMemory()
	reset := resetPeakRSS()
	m, err := build(c, o.Seed, o.Precision)
	if err != nil {
		return Result{}, err
	}
	for i := 0; i < o.Warmup; i++ {
		m.Step()
	}
	steps := o.Steps
	if steps <= 0 {
		start := time.Now()
		m.Step()
		per := time.Since(start)
		steps = max(1, int(300*time.Millisecond/max(per, time.Microsecond)))
		steps = min(steps, 10000)
	}
	times := make([]float64, o.Repeat)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for r := range times {
		start := time.Now()
		for i := 0; i < steps; i++ {
			m.Step()
		}
		times[r] = time.Since(start).Seconds() * 1e3 / float64(steps)
	}
	runtime.ReadMemStats(&ms1)
	sorted := append([]float64(nil), times...)
	sort.Float64s(sorted)
	med := median(sorted)
	peak := o.Peak
	if peak <= 0 {
		peak = CorePeak()
	}
	total, lstm := c.Flops()
	n := float64(steps * o.Repeat)
	res := Result{
		Config: c, Describe: strings.TrimSpace(c.Describe() + " " + strings.TrimPrefix(c.precision(o.Precision), "fp32")), Steps: steps, Repeat: o.Repeat, Threads: kernel.Threads(),
		MsPerStep: med, MsMin: sorted[0], MsMax: sorted[len(sorted)-1], Precision: c.precision(o.Precision),
		SeqPerSec:  float64(c.B) / (med / 1e3),
		GFlops:     total / (med / 1e3) / 1e9,
		LSTMGFlops: lstm / (med / 1e3) / 1e9,
		PeakGFlops: peak,
		MinMB:      float64(c.MinBytes()) / (1 << 20),
		Allocs:     float64(ms1.Mallocs-ms0.Mallocs) / n,
		AllocBytes: float64(ms1.TotalAlloc-ms0.TotalAlloc) / n,
		NumParams:  m.NumParams(),
		Loss:       m.Loss,
		RSSReset:   reset,
	}
	res.PctPeak = 100 * res.GFlops / (peak * float64(res.Threads))
	res.PeakRSSMB = float64(PeakRSS()) / (1 << 20)
	runtime.KeepAlive(m)
	return res, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// resetPeakRSS resets the kernel's peak-RSS counter of this process
// (Linux ≥ 4.0: write 5 to /proc/self/clear_refs) and reports whether it
// could.
func resetPeakRSS() bool {
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, err = f.WriteString("5")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err == nil
}

// PeakRSS returns the process's peak resident set size in bytes: VmHWM
// from /proc/self/status, or getrusage's maximum RSS where that file is
// missing.
func PeakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if kb, ok := statusField(b, "VmHWM:"); ok {
			return kb << 10
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		return ru.Maxrss << 10 // kilobytes on Linux
	}
	return 0
}

// statusField parses a "Name:   123 kB" line of /proc/self/status.
func statusField(b []byte, name string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		f := strings.Fields(line[len(name):])
		if len(f) == 0 {
			return 0, false
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		return v, err == nil
	}
	return 0, false
}

var (
	peakOnce sync.Once
	peakVal  float64
)

// CorePeak measures, once per process, the float32 GFLOP/s one core
// reaches: the best of several one-thread SGEMMs against a packed,
// cache-resident 256×256 operand with 96 rows, the shape the
// micro-kernel is built for. It is the "measured core peak" that
// Result.PctPeak is relative to.
func CorePeak() float64 {
	peakOnce.Do(func() { peakVal = measurePeak() })
	return peakVal
}

func measurePeak() float64 {
	const m, n, k = 96, 256, 256
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.01
	}
	for i := range b {
		b[i] = float32(i%5) * 0.01
	}
	threads := kernel.Threads()
	kernel.SetThreads(1)
	defer kernel.SetThreads(threads)
	p := kernel.NewPackedB(false, k, n, b, n)
	best := 0.0
	const calls = 40
	for r := 0; r < 7; r++ {
		start := time.Now()
		for i := 0; i < calls; i++ {
			kernel.SgemmPacked(false, m, 1, a, k, p, 0, c, n)
		}
		s := time.Since(start).Seconds()
		if g := calls * 2 * m * n * k / s / 1e9; g > best {
			best = g
		}
	}
	return best
}

// String formats r as one line (for logs).
func (r Result) String() string {
	return fmt.Sprintf("%s %s: %.3f ms/step", r.Config.Name, r.Describe, r.MsPerStep)
}

// precision is what c's steps run in with p asked for: "" for an
// inference configuration.
func (c Config) precision(p nn.Precision) string {
	if !c.Training() {
		return ""
	}
	return p.Effective().String()
}
