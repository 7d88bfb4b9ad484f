// Command ddp measures data-parallel training: the time of one global
// step and the share of it spent summing gradients over the ranks, for
// PTB-medium (a 2×650 LSTM language model over 10,000 words, 20 streams of
// 35 steps) and an IMDB-style bidirectional classifier (30,000 words,
// 128-wide embedding and LSTM, batches of 32 reviews of 100-400 words), on
// synthetic text of the same shapes.
//
// Built with -tags mpi and started by mpirun it runs on every rank; alone
// it is one rank:
//
//	go build -tags mpi -o ddp ./bench/ddp
//	GOMAXPROCS=2 ./ddp -model lm                       # one rank, two threads
//	mpirun -np 2 -x GOMAXPROCS=1 ./ddp -model lm       # two ranks, one thread each
//
// Rank 0 prints one JSON line: the ranks, threads per rank, the gradient's
// size, the mean time of a step after the warm-up ones, the mean time per
// step inside the gradient sums and the small per-batch sums (both
// including waiting for the slowest rank), and one sum of the gradient's
// size alone, the ranks lined up first.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/internal/mpi"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// timed is a Comm that adds up the time its sums take.
type timed struct {
	*mpi.World
	grads, stats atomic.Int64 // nanoseconds in AllreduceF32 and AllreduceF64
}

func (c *timed) AllreduceF32(buf []float32) error {
	t := time.Now()
	err := c.World.AllreduceF32(buf)
	c.grads.Add(int64(time.Since(t)))
	return err
}

func (c *timed) AllreduceF64(buf []float64) error {
	t := time.Now()
	err := c.World.AllreduceF64(buf)
	c.stats.Add(int64(time.Since(t)))
	return err
}

type result struct {
	Model         string  `json:"model"`
	Ranks         int     `json:"ranks"`
	Threads       int     `json:"threads_per_rank"`
	Params        int     `json:"params"`
	GradMB        float64 `json:"grad_mb"`
	GlobalBatch   int     `json:"global_batch"`
	Steps         int     `json:"steps"`
	StepMS        float64 `json:"step_ms"`
	AllreduceMS   float64 `json:"allreduce_ms"`
	AllreduceFrac float64 `json:"allreduce_share"`
	StatsMS       float64 `json:"small_sums_ms"`
	// AloneMS is one sum of a buffer of the gradient's size with the
	// ranks lined up by a barrier first: the transfer without the wait.
	AloneMS float64 `json:"allreduce_alone_ms"`
}

func main() {
	which := flag.String("model", "lm", "lm (PTB-medium) or classify (IMDB-style bidirectional)")
	steps := flag.Int("steps", 10, "steps timed")
	warm := flag.Int("warmup", 3, "steps run first, not timed")
	flag.Parse()
	w, err := mpi.Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kernel.SetThreads(runtime.GOMAXPROCS(0))
	c := &timed{World: w}
	res, err := run(c, *which, *warm, *steps)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ddp: rank %d: %v\n", w.Rank(), err)
		w.Abort(1)
	}
	if w.Size() > 1 {
		res.AloneMS = alone(w, res.Params)
	}
	if w.Rank() == 0 {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
	w.Finalize()
}

// alone returns the mean time of 5 sums of n float32, in buckets of the
// trainer's size (25 MiB), with the ranks lined up by a barrier before
// each, after one untimed sum (the buffer's pages and MPI's own are
// touched, as a training step's are).
func alone(w *mpi.World, n int) float64 {
	buf := make([]float32, n)
	for i := range buf {
		buf[i] = 1
	}
	sum := func() {
		for off := 0; off < n; off += bucket {
			w.AllreduceF32(buf[off:min(off+bucket, n)])
		}
	}
	sum()
	var total time.Duration
	for range 5 {
		w.Barrier()
		t := time.Now()
		sum()
		total += time.Since(t)
	}
	return float64(total.Microseconds()) / 1e3 / 5
}

// bucket is the trainer's bucket size in float32 (train's bucketElems).
const bucket = 25 << 20 / 4

// words returns n words drawn uniformly from a vocabulary of v.
func words(rng *tensor.RNG, n, v int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("w%d", rng.IntN(v))
	}
	return out
}

// run trains the model for warm+steps steps and times the last steps.
func run(c *timed, which string, warm, steps int) (*result, error) {
	rng := tensor.NewRNG(1)
	res := &result{Model: which, Ranks: c.Size(), Threads: kernel.Threads(), Steps: steps}
	var start time.Time
	var g0, s0 int64
	var params []*nn.Param
	clock := train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind == train.TrainBegin {
			params = ev.Trainer.Params()
		}
		if ev.Kind != train.StepEnd {
			return nil
		}
		if ev.Step == warm {
			start, g0, s0 = time.Now(), c.grads.Load(), c.stats.Load()
		}
		if ev.Step == warm+steps {
			el := time.Since(start)
			res.StepMS = float64(el.Milliseconds()) / float64(steps)
			res.AllreduceMS = float64(c.grads.Load()-g0) / 1e6 / float64(steps)
			res.StatsMS = float64(c.stats.Load()-s0) / 1e6 / float64(steps)
			res.AllreduceFrac = res.AllreduceMS / res.StepMS
			return train.Stop("timed")
		}
		return nil
	})
	fc := model.FitConfig{Seed: 1, Optimizer: "sgd", Optim: optim.Config{LR: 1},
		Train: train.Config{Epochs: 1, ClipNorm: 0.25, Comm: c, Callbacks: []train.Callback{clock}}}
	var err error
	switch which {
	case "lm":
		fc.BatchSize = 20
		res.GlobalBatch = 20
		tokens := (warm + steps + 2) * 20 * 35
		m, e := model.NewLanguageModel(model.LMConfig{Spec: model.Spec{Embed: 650, Hidden: 650, Layers: 2}, SeqLen: 35,
			Text: model.TextConfig{Level: "space"}, Fit: fc})
		if e != nil {
			return nil, e
		}
		_, err = m.Fit(context.Background(), strings.Join(words(rng, max(tokens, 60000), 10000), " "), "")
	case "classify":
		fc.BatchSize = 32
		res.GlobalBatch = 32
		fc.Optimizer, fc.Optim = "adam", optim.Config{LR: 0.002}
		l := &text.Labelled{Classes: []string{"neg", "pos"}}
		for i := range 32 * (warm + steps + 2) {
			l.Texts = append(l.Texts, strings.Join(words(rng, 100+rng.IntN(300), 30000), " "))
			l.Labels = append(l.Labels, i%2)
		}
		m, e := model.NewClassifier(model.ClassifyConfig{Spec: model.Spec{Embed: 128, Hidden: 128, Bidirectional: true, Pool: "max"},
			Text: model.TextConfig{MaxLen: 500}, Fit: fc})
		if e != nil {
			return nil, e
		}
		_, err = m.Fit(context.Background(), l, nil)
	default:
		return nil, fmt.Errorf("-model %q: want lm or classify", which)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		res.Params += len(p.Value.Data)
	}
	res.GradMB = float64(4*res.Params) / 1e6
	return res, nil
}
