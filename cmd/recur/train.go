package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// trainOpts are the options of "recur train"; every field is a flag and a
// key of --config files.
type trainOpts struct {
	Task   string
	Data   string
	Valid  string
	Test   string
	Config string
	Out    string
	Name   string
	JSON   bool
	Quiet  bool
	Resume string

	// forecast
	Target       string
	Inputs       string
	Time         string
	Lookback     int
	Horizon      int
	TestFraction float64
	ValFraction  float64
	Season       int
	Log          bool
	Residual     bool
	Scale        string

	// text
	TextColumn  string
	LabelColumn string
	Level       string
	BPESize     int
	MinFreq     int
	MaxVocab    int
	MaxLen      int
	SeqLen      int
	Embed       int
	Pool        string
	Tie         bool
	Attention   string

	// architecture
	Cell          string
	Hidden        int
	Layers        int
	Bidirectional bool
	Dropout       float64

	InputDropout     float64
	RecurrentDropout float64
	WeightDrop       float64
	Zoneout          float64
	EmbedDropout     float64
	Init             string
	InitRecurrent    string
	ForgetBias       float64

	// optimization
	Optimizer   string
	LR          float64
	WeightDecay float64
	Clip        float64
	BatchSize   int
	Epochs      int
	Patience    int
	Seed        uint64

	Schedule  string
	L1        float64
	EvalEvery int
	Monitor   int
	Warmup    int
	Accum     int

	NoReport  bool
	FindSteps int
	hist      *history // filled by fit
	info      string
	lrFind    bool // run the LR range test instead of training (recur lr-find)

	// transfer learning
	InitFrom      string
	Freeze        string
	LRBackbone    float64
	UnfreezeAfter int
}

func (o *trainOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Task, "task", "forecast", "task: forecast, classify, lm or seq2seq")
	fs.StringVar(&o.Data, "data", "", "training data `file` (forecast: CSV/TSV, default the embedded AirPassengers series; classify: TSV/CSV/JSONL with text and label columns; lm: plain text)")
	fs.StringVar(&o.Valid, "valid", "", "validation data `file` (classify, lm; default: split off --val-fraction of --data)")
	fs.StringVar(&o.Test, "test", "", "test data `file` (classify, lm; default: split off --test-fraction of --data)")
	fs.StringVar(&o.Config, "config", "", "YAML `file` whose keys are these flags' names; flags given on the command line override it")
	fs.StringVar(&o.Out, "out", "", "output `dir`ectory (default runs/<name>)")
	fs.StringVar(&o.Name, "name", "", "run name for the default output directory (default: the UTC time)")
	fs.BoolVar(&o.JSON, "json", false, "print the final result as one JSON line on stdout")
	fs.BoolVar(&o.Quiet, "quiet", false, "print no progress")
	fs.BoolVar(&o.NoReport, "no-report", false, "write no plots and no HTML report")
	fs.StringVar(&o.Resume, "resume", "", "resume training from this checkpoint `file` (runs/<name>/last.safetensors)")

	fs.StringVar(&o.Target, "target", "", "forecast: target column(s), comma-separated names or indices (default: the last column)")
	fs.StringVar(&o.Inputs, "inputs", "", "forecast: extra input columns besides the targets, comma-separated")
	fs.StringVar(&o.Time, "time", "", "forecast: time column (default: detected; \"-\" for none)")
	fs.IntVar(&o.Lookback, "lookback", 24, "forecast: input window length")
	fs.IntVar(&o.Horizon, "horizon", 1, "forecast: number of future steps predicted")
	fs.Float64Var(&o.TestFraction, "test-fraction", 0, "share of the data held out for testing, at the end (0: forecast 0.33, classify 0.2, lm 0.1)")
	fs.Float64Var(&o.ValFraction, "val-fraction", 0, "share of the data before the test part used for validation, best-epoch selection and early stopping (0: none)")
	fs.IntVar(&o.Season, "season", 12, "forecast: season length of the seasonal-naive baseline")
	fs.BoolVar(&o.Log, "log", false, "forecast: model the log of the targets")
	fs.BoolVar(&o.Residual, "residual", true, "forecast: predict the change from the last observed value")
	fs.StringVar(&o.Scale, "scale", "minmax", "forecast: scaling fitted on the training rows: minmax, zscore or robust")

	fs.StringVar(&o.TextColumn, "text-column", "text", "classify: column (header name or index) holding the text")
	fs.StringVar(&o.LabelColumn, "label-column", "label", "classify: column holding the label")
	fs.StringVar(&o.Level, "level", "", "tokens: char, word or bpe (default: lm char, classify word)")
	fs.IntVar(&o.BPESize, "bpe-size", 1000, "bpe: number of symbols to learn")
	fs.IntVar(&o.MinFreq, "min-freq", 1, "drop tokens seen fewer times from the vocabulary")
	fs.IntVar(&o.MaxVocab, "max-vocab", 0, "keep at most this many tokens (0: all)")
	fs.IntVar(&o.MaxLen, "max-len", 400, "classify: cut texts to this many tokens")
	fs.IntVar(&o.SeqLen, "seq-len", 35, "lm: truncated-BPTT length (time steps per chunk)")
	fs.IntVar(&o.Embed, "embed", 0, "embedding width (classify, lm; 0: the hidden size)")
	fs.StringVar(&o.Pool, "pool", "last", "classify: last, mean, max or attention (learned attention pooling)")
	fs.BoolVar(&o.Tie, "tie", false, "lm: tie the output layer to the embedding")
	fs.StringVar(&o.Attention, "attention", "general", "seq2seq: attention kind: general, dot, concat or bahdanau")

	fs.StringVar(&o.Cell, "cell", "lstm", "recurrent cell: lstm or gru")
	fs.IntVar(&o.Hidden, "hidden", 0, "hidden size (0: forecast 64, classify 64, lm 128, seq2seq 64)")
	fs.IntVar(&o.Layers, "layers", 1, "number of stacked recurrent layers")
	fs.BoolVar(&o.Bidirectional, "bidirectional", false, "add a reverse direction (classify)")
	fs.Float64Var(&o.Dropout, "dropout", 0, "dropout between layers and before the head, in [0,1)")
	fs.Float64Var(&o.InputDropout, "input-dropout", 0, "variational dropout on the recurrent stack's input, one mask per sequence for all steps, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.RecurrentDropout, "recurrent-dropout", 0, "dropout of h where it enters W_hh·h, one mask per sequence, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.WeightDrop, "weight-drop", 0, "DropConnect on the recurrent weights W_hh, one mask per forward pass (AWD-LSTM), in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.Zoneout, "zoneout", 0, "probability that a unit keeps its previous state at a step, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.EmbedDropout, "embed-dropout", 0, "drop whole words of the embedding per forward pass, in [0,1) (classify, lm)")
	fs.StringVar(&o.Init, "init", "default", "recurrent weight initialization: default (PyTorch's U(-1/√H, 1/√H)), xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal or orthogonal")
	fs.StringVar(&o.InitRecurrent, "init-recurrent", "", "initialization of the recurrent weights W_hh alone (default: --init), e.g. orthogonal")
	fs.Float64Var(&o.ForgetBias, "forget-bias", 0, "LSTM forget-gate bias at initialization, e.g. 1 (0: the --init draw)")

	fs.StringVar(&o.Optimizer, "optimizer", "adam", "optimizer: "+strings.Join(optim.Names(), ", "))
	fs.Float64Var(&o.LR, "lr", 0, "learning rate (0: forecast 0.003, others 0.01)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", 0, "L2 weight decay (decoupled for adamw)")
	fs.Float64Var(&o.Clip, "clip", 1, "clip the global gradient norm to this value (0: off)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "batch size (0: forecast 8, classify 32, lm 20 streams)")
	fs.IntVar(&o.Epochs, "epochs", 0, "training epochs (0: forecast 150, classify 10, lm 10)")
	fs.StringVar(&o.Schedule, "schedule", "constant", "learning-rate schedule over the run: constant, cosine, onecycle, linear (warmup over --warmup steps), step (×0.1 every third of the run), exponential, plateau (halve when the validation loss stalls for 2 evaluations; needs validation data)")
	fs.Float64Var(&o.L1, "l1", 0, "L1 penalty coefficient on the weights (0: off)")
	fs.IntVar(&o.EvalEvery, "eval-every", 0, "also validate every this many steps (0: at epoch ends only)")
	fs.IntVar(&o.Monitor, "monitor", 0, "every this many epochs, print per-layer gradient norms (flagging vanishing and exploding ones) and the LSTM gate saturation (0: off)")
	fs.IntVar(&o.Warmup, "warmup", 0, "linear schedule: warmup steps")
	fs.IntVar(&o.Accum, "accum", 1, "accumulate gradients over this many batches per optimizer step")
	fs.IntVar(&o.Patience, "patience", 0, "stop after this many epochs without validation improvement (0: never)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of every random choice (same seed, same result)")

	fs.StringVar(&o.InitFrom, "init-from", "", "transfer learning: start from the parameters of this trained `model` that match by name and shape (a text model also lends its vocabulary)")
	fs.StringVar(&o.Freeze, "freeze", "", "comma-separated parameter `patterns` to freeze (e.g. embedding,rnn)")
	fs.Float64Var(&o.LRBackbone, "lr-backbone", 0, "learning rate of everything but the head (0: --lr)")
	fs.IntVar(&o.UnfreezeAfter, "unfreeze-after", 0, "unfreeze the --freeze parameters after this many epochs (0: never)")
}

var cmdTrain = &command{
	Name:      "train",
	UsageLine: "recur train [flags]",
	Short:     "train a model (with no flags: a forecaster on AirPassengers)",
	Long: `Train trains a model, evaluates it on held-out data against simple
baselines and saves it.

With no flags it trains an LSTM forecaster on the embedded AirPassengers
series (monthly airline passengers 1949-1960): the first 67% of the months
train for 150 epochs and the last 33% test (--val-fraction holds out rows
before the test rows to keep the best epoch and stop early).
It prints the test RMSE next to the persistence and seasonal-naive
baselines and where it saved the model.

The output directory (--out, default runs/<name>) receives model.safetensors
(the final model: weights under PyTorch names, spec and preprocessing state),
best.safetensors and last.safetensors (checkpoints with optimizer and
training state, for --resume), and metrics.csv / metrics.jsonl (one row per
epoch).

Keys of a --config YAML file are the flag names (for example "hidden: 64"
or "target: [a, b]"); flags on the command line override the file.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &trainOpts{}
		o.register(fs)
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) > 0 {
				return usagef("train: unexpected argument %q (data files are given with --data)", args[0])
			}
			if o.Config != "" {
				if err := applyConfig(fs, o.Config); err != nil {
					return err
				}
			}
			return runTrain(ctx, o, stdout, stderr)
		}
	},
}

// trainResult is the final JSON line of "recur train --json".
type trainResult struct {
	Task      string                        `json:"task"`
	Metrics   map[string]map[string]float64 `json:"metrics"`
	Baselines map[string]map[string]float64 `json:"baselines,omitempty"`
	Model     string                        `json:"model"`
	Epochs    int                           `json:"epochs"`
	Seconds   float64                       `json:"seconds"`
}

// taskDefaults fills the options whose zero value means a per-task
// default.
func (o *trainOpts) taskDefaults() {
	type d struct {
		test   float64
		hidden int
		batch  int
		epochs int
		level  string
	}
	def := map[string]d{
		model.Forecast: {0.33, 64, 8, 150, ""},
		model.Classify: {0.2, 64, 32, 10, "word"},
		model.LM:       {0.1, 128, 20, 10, "char"},
		model.Seq2Seq:  {0.1, 64, 32, 10, "word"},
	}[o.Task]
	if o.TestFraction == 0 {
		o.TestFraction = def.test
	}
	if o.Hidden == 0 {
		o.Hidden = def.hidden
	}
	if o.BatchSize == 0 {
		o.BatchSize = def.batch
	}
	if o.Epochs == 0 {
		o.Epochs = def.epochs
	}
	if o.Level == "" {
		o.Level = def.level
	}
	if o.LR == 0 {
		o.LR = 0.01
		if o.Task == model.Forecast {
			o.LR = 0.003
		}
	}
}

func runTrain(ctx context.Context, o *trainOpts, stdout, stderr io.Writer) error {
	o.taskDefaults()
	switch o.Task {
	case model.Forecast:
		return trainForecast(ctx, o, stdout, stderr)
	case model.Classify:
		return trainClassify(ctx, o, stdout, stderr)
	case model.LM:
		return trainLM(ctx, o, stdout, stderr)
	case model.Seq2Seq:
		return trainSeq2Seq(ctx, o, stdout, stderr)
	default:
		return usagef("train: --task %q: want forecast, classify, lm or seq2seq", o.Task)
	}
}

func (o *trainOpts) outDir() (string, error) {
	dir := o.Out
	if dir == "" {
		name := o.Name
		if name == "" {
			name = time.Now().UTC().Format("20060102-150405")
		}
		dir = filepath.Join("runs", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	return dir, nil
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func trainForecast(ctx context.Context, o *trainOpts, stdout, stderr io.Writer) error {
	start := time.Now()
	var (
		frame *series.Frame
		err   error
	)
	if o.Data == "" {
		frame, err = dataset.AirPassengers()
	} else {
		frame, err = series.ReadFile(o.Data, series.CSVOptions{TimeColumn: o.Time})
	}
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	targets := splitList(o.Target)
	for _, t := range targets {
		if _, err := frame.Index(t); err != nil {
			return fmt.Errorf("--target %q: %s has columns %q", t, frame.Name, frame.Columns)
		}
	}
	inputs := splitList(o.Inputs)
	for _, t := range inputs {
		if _, err := frame.Index(t); err != nil {
			return fmt.Errorf("--inputs %q: %s has columns %q", t, frame.Name, frame.Columns)
		}
	}
	val := o.ValFraction
	if val == 0 {
		val = -1
	}
	sp, err := model.PrepareForecast(frame, model.ForecastOptions{
		Targets: targets, Inputs: inputs, Lookback: o.Lookback, Horizon: o.Horizon,
		TestFraction: o.TestFraction, ValFraction: val, Season: o.Season, Log: o.Log,
		Scale: series.ScaleMethod(o.Scale),
	}, o.BatchSize)
	if err != nil {
		return err
	}
	spec := sp.Prep.SpecFor(o.arch(model.Spec{Residual: o.Residual}))
	m, err := model.Build(spec, o.Seed)
	if err != nil {
		return specError(err)
	}
	if err := m.SetForecastPrep(sp.Prep); err != nil {
		return err
	}
	task := &model.ForecastTask{M: m, Prep: sp.Prep}
	var valid train.Data
	if sp.Val != nil {
		valid = sp.Val
	}
	dir, err := o.outDir()
	if err != nil {
		return err
	}
	info := fmt.Sprintf("forecast %s: %d rows (train %d, validation %d, test %d), target %q, lookback %d, horizon %d; %s %d×%d, %d parameters",
		frame.Name, frame.Len(), sp.Split.Train.Len(), sp.Split.Val.Len(), sp.Split.Test.Len(), sp.Prep.Targets, o.Lookback, o.Horizon,
		spec.Cell, spec.Layers, spec.Hidden, m.NumParams())
	res, err := fit(ctx, o, task, m, sp.Train, valid, true, dir, info, stdout, stderr)
	if err != nil {
		return err
	}
	test, err := task.Evaluate(sp.Test)
	if err != nil {
		return err
	}
	delete(test, "loss")
	base := map[string]map[string]float64{"persistence": model.Errors(sp.Persistence, sp.Test.Actual)}
	if sp.Seas != nil {
		base["seasonal_naive"] = model.Errors(sp.Seas, sp.Test.Actual)
	}
	metrics := map[string]map[string]float64{"test": test}
	if res.Valid != nil {
		metrics["valid"] = res.Valid
	}
	var figs []*figure
	if !o.NoReport {
		pred, err := task.Predict(sp.Test)
		if err != nil {
			return err
		}
		hk := pred.Len() / sp.Test.W.Len()
		var act, fc, sn plotter.XYs
		for n, origin := range sp.Test.W.Origin {
			x := float64(origin)
			if frame.Time != nil {
				x = frame.Time[origin]
			}
			act = append(act, plotter.XY{X: x, Y: float64(sp.Test.Actual.Data[n*hk])})
			fc = append(fc, plotter.XY{X: x, Y: float64(pred.Data[n*hk])})
			if sp.Seas != nil {
				sn = append(sn, plotter.XY{X: x, Y: float64(sp.Seas.Data[n*hk])})
			}
		}
		series := []any{"actual", act, "LSTM", fc}
		if sn != nil {
			series = append(series, "seasonal naive", sn)
		}
		p, err := linePlot(fmt.Sprintf("Test forecast of %s (step 1)", sp.Prep.Targets[0]), "time", sp.Prep.Targets[0], series...)
		if err != nil {
			return err
		}
		figs = append(figs, &figure{Name: "forecast", Title: "Forecast vs actual", plot: p})
	}
	return finish(o, m, dir, model.Forecast, metrics, base, res, start, stdout, figs, func() {
		fmt.Fprintf(stdout, "test RMSE %.2f  MAE %.2f  (%d windows of %s)\n", test["rmse"], test["mae"], sp.Test.W.Len(), frame.Name)
		fmt.Fprintf(stdout, "baselines: persistence RMSE %.2f", base["persistence"]["rmse"])
		if s, ok := base["seasonal_naive"]; ok {
			fmt.Fprintf(stdout, ", seasonal-naive (season %d) RMSE %.2f", o.Season, s["rmse"])
		}
		fmt.Fprintln(stdout)
	})
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// fit runs the trainer with the options' optimizer, clipping, early
// stopping, logs and checkpoints, resuming when asked.
func fit(ctx context.Context, o *trainOpts, task train.Task, m *model.Model, trainData, valid train.Data, shuffle bool, dir, info string, stdout, stderr io.Writer) (*train.Result, error) {
	progress := stdout
	if o.JSON {
		progress = stderr // keep stdout for the JSON line
	}
	if o.InitFrom != "" {
		path, err := modelPath(o.InitFrom)
		if err != nil {
			return nil, fmt.Errorf("--init-from: %w", err)
		}
		f, err := checkpoint.Read(path)
		if err != nil {
			return nil, fmt.Errorf("--init-from: %w", err)
		}
		tr, err := m.InitFrom(f)
		if err != nil {
			return nil, fmt.Errorf("--init-from %s: %w", path, err)
		}
		if !o.Quiet {
			fmt.Fprintf(progress, "init-from %s: %v\n", path, tr)
		}
	}
	frozen := splitList(o.Freeze)
	if len(frozen) > 0 {
		n, err := m.Freeze(true, frozen...)
		if err != nil {
			return nil, fmt.Errorf("--freeze: %w", err)
		}
		if !o.Quiet {
			fmt.Fprintf(progress, "froze %d parameters matching %q\n", n, frozen)
		}
	}
	opt, err := m.NewOptimizer(o.Optimizer, optim.Config{LR: o.LR, WeightDecay: o.WeightDecay}, o.LRBackbone)
	if err != nil {
		return nil, fmt.Errorf("--optimizer/--lr/--lr-backbone/--weight-decay: %w", err)
	}
	csvFile, err := os.Create(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		return nil, err
	}
	defer csvFile.Close()
	jsonFile, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	defer jsonFile.Close()
	o.hist, o.info = &history{}, info
	cbs := train.Callbacks{&train.CSVLog{W: csvFile}, train.JSONLog{W: jsonFile}, o.hist}
	var es *train.EarlyStopping
	if valid != nil {
		es = &train.EarlyStopping{Patience: o.Patience, RestoreBest: true}
		if o.Patience == 0 {
			es.Patience = o.Epochs + 1 // keep the best epoch, never stop early
		}
		cbs = append(cbs, es)
	}
	if len(frozen) > 0 && o.UnfreezeAfter > 0 {
		cbs = append(cbs, train.CallbackFunc(func(ev *train.Event) error {
			if ev.Kind == train.EpochEnd && ev.Epoch == o.UnfreezeAfter {
				m.Freeze(false, frozen...)
				if !o.Quiet {
					fmt.Fprintf(progress, "epoch %d: unfroze %q\n", ev.Epoch, frozen)
				}
			}
			return nil
		}))
	}
	if o.Schedule == "plateau" {
		if valid == nil {
			return nil, usagef("--schedule plateau needs validation data (--val-fraction or --valid)")
		}
		cbs = append(cbs, &train.ReduceLROnPlateau{Factor: 0.5, Patience: 2})
	}
	if o.Monitor > 0 {
		cbs = append(cbs, monitor(progress, o.Monitor, m, trainData))
	}
	if !o.Quiet {
		fmt.Fprintln(progress, info)
		cbs = append(cbs, newProgress(progress, o.Epochs, isTerminal(progress)))
	}
	if o.lrFind {
		return nil, lrFind(o, task, m, opt, trainData, stdout)
	}
	if o.Accum < 1 {
		return nil, usagef("--accum %d must be at least 1", o.Accum)
	}
	total := o.Epochs * ((trainData.Len() + o.Accum - 1) / o.Accum)
	schedule, err := newSchedule(o, total)
	if err != nil {
		return nil, err
	}
	tr, err := train.New(task, opt, train.Config{
		Epochs: o.Epochs, ClipNorm: o.Clip, Shuffle: shuffle, Seed: o.Seed, Dir: dir, Accum: o.Accum, Schedule: schedule, L1: o.L1, EvalEvery: o.EvalEvery,
		RNGs: m.RNGs(), Callbacks: cbs,
		Extra: func(f *checkpoint.File) error { return m.AddMeta(f) },
	})
	if err != nil {
		return nil, err
	}
	if o.Resume != "" {
		f, err := checkpoint.Read(o.Resume)
		if err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		if err := tr.Resume(f); err != nil {
			return nil, fmt.Errorf("--resume %s: %w", o.Resume, err)
		}
		st := tr.State()
		fmt.Fprintf(progress, "resumed from %s at epoch %d, step %d\n", o.Resume, st.Epoch+1, st.Step)
	}
	res, err := tr.Fit(ctx, trainData, valid)
	if err != nil {
		var nf *train.NonFiniteError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w (try a smaller --lr or --clip)", err)
		}
		return nil, err
	}
	return res, nil
}

// arch copies the architecture flags shared by every task into s.
func (o *trainOpts) arch(s model.Spec) model.Spec {
	s.Cell, s.Hidden, s.Layers, s.Dropout = o.Cell, o.Hidden, o.Layers, o.Dropout
	s.InputDropout, s.RecurrentDropout, s.WeightDrop, s.Zoneout = o.InputDropout, o.RecurrentDropout, o.WeightDrop, o.Zoneout
	s.EmbedDropout, s.ForgetBias, s.InitRecurrent = o.EmbedDropout, o.ForgetBias, o.InitRecurrent
	if o.Init != "default" {
		s.Init = o.Init
	}
	return s
}

// specError turns a model.SpecError into one that names the flag.
func specError(err error) error {
	var se *model.SpecError
	if errors.As(err, &se) {
		return usagef("--%s %v: %s", strings.ReplaceAll(se.Field, "_", "-"), se.Value, se.Want)
	}
	return err
}

// newSchedule builds --schedule over a run of total optimizer steps.
func newSchedule(o *trainOpts, total int) (func(base float64, step int) float64, error) {
	var c sched.Config
	switch o.Schedule {
	case "", "constant", "plateau":
		return nil, nil
	case "cosine":
		c.TMax = total
	case "onecycle":
		c.MaxLR, c.TotalSteps = o.LR, total
	case "linear":
		c.StartFactor, c.Iters = 0.01, max(o.Warmup, 1)
	case "step":
		c.StepSize = max(total/3, 1)
	case "exponential":
		c.Gamma = math.Pow(0.01, 1/float64(max(total, 1))) // down to 1% at the end
	default:
		return nil, usagef("--schedule %q: want constant, cosine, onecycle, linear, step, exponential or plateau", o.Schedule)
	}
	s, err := sched.New(o.Schedule, c)
	if err != nil {
		return nil, fmt.Errorf("--schedule: %w", err)
	}
	return s.LR, nil
}

// errLRFindDone ends a "recur lr-find" run after the range test.
var errLRFindDone = errors.New("lr-find done")

// lrFind runs the learning-rate range test on the prepared task and prints
// the curve's suggestion.
func lrFind(o *trainOpts, task train.Task, m *model.Model, opt optim.Optimizer, d train.Data, stdout io.Writer) error {
	rng := tensor.NewRNG(o.Seed)
	i := 0
	res, err := lrfind.Run(lrfind.Config{Steps: o.FindSteps}, func(lr float64) (float64, error) {
		for g := range opt.Groups() {
			opt.SetLR(g, lr)
		}
		if i%d.Len() == 0 {
			if r, ok := task.(train.Resetter); ok {
				r.Reset()
			}
		}
		b := d.Batch(rng.IntN(d.Len()))
		if _, ok := task.(train.Resetter); ok {
			b = d.Batch(i % d.Len()) // stateful tasks keep the order
		}
		i++
		nn.ZeroGrad(m.Params())
		tp := &nn.Tape{}
		l, _ := task.Loss(tp, b)
		tp.Backward(l, nil)
		if o.Clip > 0 {
			optim.ClipGradNorm(m.Params(), o.Clip, 2)
		}
		opt.Step()
		return float64(l.Value.Data[0]), nil
	})
	if err != nil {
		return fmt.Errorf("lr-find: %w", err)
	}
	if o.JSON {
		if err := writeJSON(stdout, map[string]any{"suggested": res.Suggested, "min_loss_lr": res.MinLR, "steepest": res.Steepest, "diverged": res.Diverged, "lrs": res.LRs, "losses": res.Smoothed}); err != nil {
			return err
		}
		return errLRFindDone
	}
	fmt.Fprintln(stdout, "lr          smoothed loss")
	step := max(1, len(res.LRs)/20)
	for k := 0; k < len(res.LRs); k += step {
		fmt.Fprintf(stdout, "%-11.3g %.5g\n", res.LRs[k], res.Smoothed[k])
	}
	fmt.Fprintf(stdout, "suggested --lr %.3g (steepest descent %.3g, lowest loss at %.3g)\n", res.Suggested, res.Steepest, res.MinLR)
	return errLRFindDone
}

var cmdLRFind = &command{
	Name:      "lr-find",
	UsageLine: "recur lr-find [train flags]",
	Short:     "find a learning rate with the range test",
	Long: `Lr-find prepares the model and data exactly as "recur train" would with
the same flags, then trains for --find-steps steps while the learning rate
grows exponentially from 1e-7 to 10, and prints the smoothed loss curve and
the suggested learning rate (the steepest descent of the loss). Nothing is
saved; pass the suggestion to "recur train --lr".`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &trainOpts{lrFind: true}
		o.register(fs)
		fs.IntVar(&o.FindSteps, "find-steps", 100, "steps of the range test")
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) > 0 {
				return usagef("lr-find: unexpected argument %q", args[0])
			}
			if o.Config != "" {
				if err := applyConfig(fs, o.Config); err != nil {
					return err
				}
			}
			o.Quiet = true
			o.Out = filepath.Join(os.TempDir(), fmt.Sprintf("recur-lr-find-%d", os.Getpid()))
			defer os.RemoveAll(o.Out)
			if err := runTrain(ctx, o, stdout, stderr); !errors.Is(err, errLRFindDone) {
				return err
			}
			return nil
		}
	},
}

// monitor reports gradient norms per parameter and gate saturation every
// `every` epochs: the vanishing/exploding gradient problem made visible.
func monitor(w io.Writer, every int, m *model.Model, d train.Data) train.Callback {
	return train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind != train.EpochEnd || ev.Epoch%every != 0 {
			return nil
		}
		ps, norms := ev.Trainer.Params(), ev.Trainer.GradNorms()
		lo, hi := 0, 0
		var vanishing, exploding []string
		for i, n := range norms {
			if n < norms[lo] {
				lo = i
			}
			if n > norms[hi] {
				hi = i
			}
			if !ps[i].Frozen && n < 1e-7 {
				vanishing = append(vanishing, ps[i].Name)
			}
			if n > 1e3 {
				exploding = append(exploding, ps[i].Name)
			}
		}
		fmt.Fprintf(w, "monitor epoch %d: gradient norm %.3g (%s) to %.3g (%s)", ev.Epoch, norms[lo], ps[lo].Name, norms[hi], ps[hi].Name)
		if len(vanishing) > 0 {
			fmt.Fprintf(w, "; vanishing: %s", strings.Join(vanishing, ", "))
		}
		if len(exploding) > 0 {
			fmt.Fprintf(w, "; exploding: %s", strings.Join(exploding, ", "))
		}
		if s, ok := m.GateSaturation(d.Batch(0)); ok {
			fmt.Fprintf(w, "; saturated LSTM gates (layer 0): input %.0f%%, forget %.0f%%, cell %.0f%%, output %.0f%%", 100*s.Input, 100*s.Forget, 100*s.Cell, 100*s.Output)
		}
		fmt.Fprintln(w)
		return nil
	})
}
