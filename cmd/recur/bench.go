package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/internal/benchrun"
	"github.com/recur-ml/recur/internal/kernel"
)

var cmdBench = &command{
	Name:      "bench",
	UsageLine: "recur bench [flags]",
	Short:     "time whole-model training steps and inference; compare with PyTorch",
	Long: `Bench builds the standard configurations in-process and times them: a
training step is forward + loss + backward + Adam in float32, an inference
configuration is one batch-1 forward pass. It prints, per configuration, the
median ms per step over --repeat timings of --steps steps, sequences per
second, GFLOP/s (recurrent layers 2·T·B·(I+H)·4H per layer and direction plus
the Linear heads, training 3x) and its share of the measured core peak
(threads × one core's SGEMM peak), the peak RSS while it ran, a lower bound on
the memory it needs (parameters, gradients, Adam state, saved activations) and
heap allocations per step.

--compare-pytorch runs bench/torch_models.py (found from the current directory
upwards) with /usr/bin/python3 after each recur run, with the same steps and
repeats, at 1 and 2 threads, and prints PyTorch's better time and the speedup.
--rounds N alternates N recur and N PyTorch runs per configuration and keeps
the fastest of each side, which evens out a shared machine's load.
--isolate measures each configuration in a fresh process (this binary again),
so that its peak RSS excludes what earlier configurations left in the heap.

--sweep times the first LSTM configuration (T50 B32 I64 H256) as T, B, H and
the number of layers grow and writes sweep.csv and sweep.png under --out.

Configurations: ` + strings.Join(benchrun.Names(), ", ") + `; "all" (the default)
is every standard one, and a comma-separated list picks several.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := benchOptions{}
		fs.StringVar(&o.config, "config", "all", "configuration `name`, a comma-separated list, or all")
		fs.IntVar(&o.repeat, "repeat", 5, "timed repeats; the median is reported")
		fs.IntVar(&o.steps, "steps", 0, "steps per repeat; 0 means about 0.3 s worth")
		fs.IntVar(&o.warmup, "warmup", 2, "untimed steps before timing")
		fs.IntVar(&o.rounds, "rounds", 1, "rounds per configuration, recur then PyTorch in each; the fastest of each side is kept")
		fs.IntVar(&o.threads, "threads", 0, "kernel threads; 0 means GOMAXPROCS")
		fs.BoolVar(&o.json, "json", false, "print one JSON object per configuration instead of a table")
		fs.BoolVar(&o.torch, "compare-pytorch", false, "also run bench/torch_models.py and print the speedup")
		fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter for --compare-pytorch")
		fs.StringVar(&o.script, "torch-script", "", "PyTorch script; empty means bench/torch_models.py found from the current directory upwards")
		fs.StringVar(&o.torchThreads, "torch-threads", "1,2", "PyTorch thread counts to try; the better is reported")
		fs.BoolVar(&o.isolate, "isolate", false, "run each configuration in a fresh process (this binary again), so that peak RSS is that configuration's alone")
		fs.BoolVar(&o.sweep, "sweep", false, "time the scaling sweep and write sweep.csv and sweep.png")
		fs.StringVar(&o.out, "out", ".", "`directory` for the --sweep outputs")
		fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed runs to `file`")
		return noArgs("bench", func(ctx context.Context, stdout, stderr io.Writer) error {
			return runBench(ctx, o, stdout, stderr)
		})
	},
}

type benchOptions struct {
	config, python, script, torchThreads, out, cpuprofile string
	repeat, steps, warmup, threads, rounds                int
	json, torch, sweep, isolate                           bool
}

func (o benchOptions) validate() error {
	switch {
	case o.repeat < 1:
		return flagErr("repeat", o.repeat, ">= 1")
	case o.steps < 0:
		return flagErr("steps", o.steps, ">= 0 (0: about 0.3 s worth)")
	case o.rounds < 1:
		return flagErr("rounds", o.rounds, ">= 1")
	case o.warmup < 0:
		return flagErr("warmup", o.warmup, ">= 0")
	case o.threads < 0:
		return flagErr("threads", o.threads, ">= 0 (0: GOMAXPROCS)")
	case o.isolate && o.sweep:
		return usagef("bench: -isolate runs named configurations; it does not combine with -sweep")
	}
	return nil
}

func runBench(ctx context.Context, o benchOptions, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	cfgs, err := benchrun.Select(o.config)
	if err != nil {
		return usagef("bench: -config: %v", err)
	}
	s, err := o.session()
	if err != nil {
		return err
	}
	if o.threads > 0 {
		prev := kernel.Threads()
		kernel.SetThreads(o.threads)
		defer kernel.SetThreads(prev)
	}
	if o.cpuprofile != "" {
		stop, err := startProfile(o.cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var rs []benchrun.Result
	if o.sweep {
		if rs, err = sweep(ctx, s, o.out, stderr); err != nil {
			return err
		}
	} else {
		for _, c := range cfgs {
			r, err := s.Measure(ctx, c)
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			if o.json {
				// one line per configuration as it completes, so that an
				// interrupted run keeps what it measured
				if err := benchrun.WriteJSON(stdout, []benchrun.Result{r}); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(stderr, "%s: %.3f ms/step\n", c.Name, r.MsPerStep)
			rs = append(rs, r)
		}
	}
	if o.json {
		if o.sweep {
			return benchrun.WriteJSON(stdout, rs)
		}
		return nil
	}
	return benchrun.WriteTable(stdout, rs)
}

// session is the benchrun.Session the options describe.
func (o benchOptions) session() (*benchrun.Session, error) {
	warm := o.warmup
	if warm == 0 {
		warm = -1 // benchrun's zero means its default
	}
	s := &benchrun.Session{Options: benchrun.Options{Steps: o.steps, Repeat: o.repeat, Warmup: warm, Peak: benchrun.CorePeak()},
		Rounds: o.rounds, TorchWarmup: o.warmup}
	if o.isolate {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		s.Run = benchrun.Isolated(exe, o.threads)
	}
	if o.torch {
		t, err := newTorch(o)
		if err != nil {
			return nil, err
		}
		s.Torch = t
	}
	return s, nil
}

// sweep times the scaling sweep and writes sweep.csv and sweep.png under
// dir.
func sweep(ctx context.Context, s *benchrun.Session, dir string, stderr io.Writer) ([]benchrun.Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: -out: %w", err)
	}
	ps, err := s.Sweep(ctx, dir, func(p benchrun.SweepPoint) {
		fmt.Fprintf(stderr, "sweep %s=%d: %.3f ms/step\n", p.Axis, p.Value, p.Result.MsPerStep)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	rs := make([]benchrun.Result, len(ps))
	for i, p := range ps {
		rs[i] = p.Result
	}
	fmt.Fprintf(stderr, "wrote %s and %s\n", filepath.Join(dir, "sweep.csv"), filepath.Join(dir, "sweep.png"))
	return rs, nil
}

// startProfile starts a CPU profile into path and returns its stop.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: -cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: -cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func newTorch(o benchOptions) (*benchrun.Torch, error) {
	t := &benchrun.Torch{Python: o.python, Script: o.script}
	for _, s := range strings.Split(o.torchThreads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, usagef("bench: -torch-threads=%q: want positive integers separated by commas", o.torchThreads)
		}
		t.Threads = append(t.Threads, n)
	}
	if t.Script == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if t.Script, err = benchrun.FindScript(wd, "bench/torch_models.py"); err != nil {
			return nil, fmt.Errorf("bench: -compare-pytorch: %w (give -torch-script)", err)
		}
	}
	return t, nil
}
