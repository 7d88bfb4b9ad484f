package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/internal/benchrun"
	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
)

var cmdBench = &command{
	Name:      "bench",
	UsageLine: "recur bench [flags]",
	Short:     "time whole-model training steps and inference; compare with oneDNN, ONNX Runtime and PyTorch",
	Long: `Bench builds the standard configurations in-process and times them: a
training step is forward + loss + backward + Adam in float32, an inference
configuration is one forward pass (of batch 1 in the standard ones). It prints, per configuration, the
median ms per step over --repeat timings of --steps steps, sequences per
second, GFLOP/s (recurrent layers 2·T·B·(I+H)·4H per layer and direction plus
the Linear heads, training 3x) and its share of the measured core peak
(threads × one core's SGEMM peak), the peak RSS while it ran, a lower bound on
the memory it needs (parameters, gradients, Adam state, saved activations) and
heap allocations per step.

--compare onednn,ort,pytorch times peers after each recur run, with the same
steps and repeats, each at 1 and 2 threads (--peer-threads) with its better
time kept, and prints a second table: each peer's time and recur's speed-up
against each and against the best. The peers, found from the current
directory upwards:
  onednn   bench/onednn/recur-onednn, oneDNN's LSTM primitive (the LSTM layers
           alone: forward + backward for the lstm configurations, forward for
           forecast and classify; build it as bench/onednn/README.md says);
  ort      bench/ort/bench.js in node with onnxruntime-node, on recur export's
           model (inference configurations only; per call, Node's overhead
           measured on an Identity model);
  pytorch  bench/torch_models.py with --python (every configuration).
A peer that cannot run is named with the reason and its column shows —.
--compare-pytorch is --compare pytorch. --rounds N alternates N recur runs
and N runs of every peer per configuration and keeps the fastest of each
side, which evens out a shared machine's load.
--after-train also times each inference configuration in a fresh process
(this binary again) beside its time in this process, which follows the
training configurations (lstm-t50 is trained first when none ran yet):
the "fresh ms" column shows what earlier work in the process costs it.
--isolate measures each configuration in a fresh process (this binary again),
so that its peak RSS excludes what earlier configurations left in the heap.

--sweep times the first LSTM configuration (T50 B32 I64 H256) as T, B, H and
the number of layers grow and writes sweep.csv and sweep.png under --out.

Configurations: ` + strings.Join(benchrun.Names(), ", ") + `; "all" (the default)
is every standard one, and a comma-separated list picks several (the batched
inference configurations forecast-b64 and classify-b32 are not in "all").`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := benchOptions{}
		fs.StringVar(&o.config, "config", "all", "configuration `name`, a comma-separated list, or all")
		fs.IntVar(&o.repeat, "repeat", 5, "timed repeats; the median is reported")
		fs.IntVar(&o.steps, "steps", 0, "steps per repeat; 0 means about 0.3 s worth")
		fs.IntVar(&o.warmup, "warmup", 2, "untimed steps before timing")
		fs.IntVar(&o.rounds, "rounds", 1, "rounds per configuration, recur then every peer in each; the fastest of each side is kept")
		fs.IntVar(&o.threads, "threads", 0, "kernel threads; 0 means GOMAXPROCS")
		fs.BoolVar(&o.json, "json", false, "print one JSON object per configuration instead of a table")
		fs.StringVar(&o.compare, "compare", "", "peers to time beside recur, comma-separated: onednn, ort, pytorch")
		fs.BoolVar(&o.torch, "compare-pytorch", false, "the same as --compare pytorch")
		fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter for the pytorch peer")
		fs.StringVar(&o.script, "torch-script", "", "PyTorch script; empty means bench/torch_models.py found from the current directory upwards")
		fs.StringVar(&o.onednn, "onednn", "", "oneDNN peer program; empty means bench/onednn/recur-onednn found from the current directory upwards")
		fs.StringVar(&o.node, "node", "node", "node executable for the ort peer")
		fs.StringVar(&o.peerThreads, "peer-threads", "1,2", "thread counts every peer tries; the better is reported")
		fs.StringVar(&o.peerThreads, "torch-threads", "1,2", "the same as --peer-threads")
		fs.StringVar(&o.precision, "precision", "fp32", "precision of the training steps: fp32, or bf16 (bfloat16 products with float32 weights and sums, where the CPU has AVX512_BF16; the peers stay float32)")
		fs.BoolVar(&o.afterTrain, "after-train", false, "also time inference configurations in a fresh process, beside their time after training in this one")
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
	config, python, script, peerThreads, out, cpuprofile string
	compare, onednn, node, precision                     string
	repeat, steps, warmup, threads, rounds               int
	json, torch, sweep, isolate, afterTrain              bool
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
	case o.isolate && o.afterTrain:
		return usagef("bench: -isolate measures every configuration fresh; -after-train compares fresh with in-process")
	}
	if _, err := nn.ParsePrecision(o.precision); err != nil {
		return flagErr("precision", strconv.Quote(o.precision), "fp32 or bf16")
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
	defer s.Close()
	if p := s.Options.Precision; p != p.Effective() {
		fmt.Fprintln(stderr, "recur: bench: this CPU has no AVX512_BF16: the training steps run in fp32")
	}
	for _, u := range s.Unavailable() {
		fmt.Fprintln(stderr, u)
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
	prec, _ := nn.ParsePrecision(o.precision) // checked by validate
	s := &benchrun.Session{Options: benchrun.Options{Steps: o.steps, Repeat: o.repeat, Warmup: warm, Peak: benchrun.CorePeak(), Precision: prec},
		Rounds: o.rounds, PeerWarmup: o.warmup}
	if o.isolate || o.afterTrain {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		if o.isolate {
			s.Run = benchrun.Isolated(exe, o.threads)
		} else {
			s.Fresh = benchrun.Isolated(exe, o.threads)
			cs, _ := benchrun.Select("lstm-t50")
			s.AfterTrain = cs[0]
		}
	}
	peers, err := o.peers()
	if err != nil {
		return nil, err
	}
	s.Peers = peers
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

// peers builds the peers --compare (and --compare-pytorch) name, in the
// order named.
func (o benchOptions) peers() ([]benchrun.Peer, error) {
	names := o.compare
	if o.torch && !slices.Contains(strings.Split(names, ","), "pytorch") {
		names = strings.TrimPrefix(names+",pytorch", ",")
	}
	if names == "" {
		return nil, nil
	}
	var threads []int
	for _, s := range strings.Split(o.peerThreads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, usagef("bench: -peer-threads=%q: want positive integers separated by commas", o.peerThreads)
		}
		threads = append(threads, n)
	}
	var ps []benchrun.Peer
	seen := map[string]bool{}
	for _, name := range strings.Split(names, ",") {
		name = strings.TrimSpace(name)
		if seen[name] {
			continue
		}
		seen[name] = true
		var p benchrun.Peer
		switch name {
		case "onednn":
			p = &benchrun.OneDNN{Binary: findFile(o.onednn, "bench/onednn/recur-onednn"), Threads: threads}
		case "ort":
			p = &benchrun.ORT{Node: o.node, Script: findFile("", "bench/ort/bench.js"), Threads: threads}
		case "pytorch":
			script := findFile(o.script, "bench/torch_models.py")
			if script == "" {
				return nil, fmt.Errorf("bench: -compare pytorch: bench/torch_models.py not found from the current directory upwards (give -torch-script)")
			}
			p = &benchrun.PyTorch{Torch: benchrun.Torch{Python: o.python, Script: script, Threads: threads}}
		default:
			return nil, usagef("bench: -compare: unknown peer %s (want onednn, ort or pytorch)", strconv.Quote(name))
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// findFile returns path when given, else rel found from the current
// directory upwards, else "".
func findFile(path, rel string) string {
	if path != "" {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	p, err := benchrun.FindScript(wd, rel)
	if err != nil {
		return ""
	}
	return p
}
