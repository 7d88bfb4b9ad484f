package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/train"
)

// trainOpts are the options of "recur train" and "recur lr-find"; every
// field is a flag and a key of --config files. They only become the
// library's configs here: the work is the model package's.
type trainOpts struct {
	Task, Data, Valid, Test, Config, Out, Name, Resume string
	JSON, Quiet, NoReport                              bool

	// forecast
	Target, Inputs, Time, Scale, Fill, Outliers string
	Lookback, Horizon, Season                   int
	TestFraction, ValFraction                   float64
	Log, Residual                               bool

	// text
	TextColumn, LabelColumn, Level, Pool, Attention   string
	BPESize, MinFreq, MaxVocab, MaxLen, SeqLen, Embed int
	Tie, Lowercase, StripHTML                         bool

	// architecture
	Cell, Init, InitRecurrent                                                  string
	Hidden, Layers, Proj                                                       int
	Bidirectional                                                              bool
	Dropout, InputDropout, RecurrentDropout, WeightDrop, Zoneout, EmbedDropout float64
	ForgetBias                                                                 float64

	// optimization
	Optimizer, Schedule                                     string
	LR, WeightDecay, Clip, ClipValue, L1, MinDelta          float64
	PlateauFactor                                           float64
	BatchSize, Epochs, Patience, EvalEvery, Monitor, Warmup int
	Accum, PlateauPatience                                  int
	Seed                                                    uint64
	InitFrom, Freeze                                        string
	LRBackbone                                              float64
	UnfreezeAfter, FindSteps                                int
}

func (o *trainOpts) register(fs *flag.FlagSet) {
	o.registerRun(fs)
	o.registerForecast(fs)
	o.registerText(fs)
	o.registerArch(fs)
	o.registerOptim(fs)
}

func (o *trainOpts) registerRun(fs *flag.FlagSet) {
	fs.StringVar(&o.Task, "task", "forecast", "task: forecast, classify, lm or seq2seq")
	fs.StringVar(&o.Data, "data", "", "training data `file` (forecast: CSV/TSV, default the embedded AirPassengers series; classify: TSV/CSV/JSONL with text and label columns; lm: plain text; seq2seq: tab-separated pairs)")
	fs.StringVar(&o.Valid, "valid", "", "validation data `file` (classify, lm, seq2seq; default: split off --val-fraction of --data)")
	fs.StringVar(&o.Test, "test", "", "test data `file` (classify, lm, seq2seq; default: split off --test-fraction of --data)")
	fs.StringVar(&o.Config, "config", "", "YAML `file` whose keys are these flags' names; flags given on the command line override it")
	fs.StringVar(&o.Out, "out", "", "output `dir`ectory (default runs/<name>)")
	fs.StringVar(&o.Name, "name", "", "run name for the default output directory (default: the UTC time)")
	fs.BoolVar(&o.JSON, "json", false, "print the final result as one JSON line on stdout")
	fs.BoolVar(&o.Quiet, "quiet", false, "print no progress")
	fs.BoolVar(&o.NoReport, "no-report", false, "write no plots and no HTML report")
	fs.StringVar(&o.Resume, "resume", "", "resume training from this checkpoint `file` (runs/<name>/last.safetensors)")
}

func (o *trainOpts) registerForecast(fs *flag.FlagSet) {
	fs.StringVar(&o.Target, "target", "", "forecast: target column(s), comma-separated names or indices (default: the last column)")
	fs.StringVar(&o.Inputs, "inputs", "", "forecast: extra input columns besides the targets, comma-separated")
	fs.StringVar(&o.Time, "time", "", "forecast: time column (default: detected; \"-\" for none)")
	fs.IntVar(&o.Lookback, "lookback", 0, "forecast: input window length (0: two seasons, or 24 without a season, at most a third of the training rows)")
	fs.IntVar(&o.Horizon, "horizon", 1, "forecast: number of future steps predicted")
	fs.Float64Var(&o.TestFraction, "test-fraction", 0, "share of the data held out for testing, at the end (0: forecast 0.33, classify 0.2, lm and seq2seq 0.1)")
	fs.Float64Var(&o.ValFraction, "val-fraction", 0, "share of the data before the test part used for validation, best-epoch selection and early stopping (0: none)")
	fs.IntVar(&o.Season, "season", 0, "forecast: season length of the seasonal-naive baseline and MASE (0: detected; -1: none)")
	fs.BoolVar(&o.Log, "log", false, "forecast: model the log of the targets")
	fs.BoolVar(&o.Residual, "residual", true, "forecast: predict the change from the last observed value")
	fs.StringVar(&o.Scale, "scale", "minmax", "forecast: scaling fitted on the training rows: minmax, zscore, robust or none")
	fs.StringVar(&o.Fill, "fill", "none", "forecast: missing values: none (an error naming the line), drop, ffill, interpolate or mean (of the training rows)")
	fs.StringVar(&o.Outliers, "outliers", "none", "forecast: clip outliers: none, zscore:K (mean ± K·std) or iqr:K (Tukey's fences at K·IQR); K from the training rows")
}

func (o *trainOpts) registerText(fs *flag.FlagSet) {
	fs.StringVar(&o.TextColumn, "text-column", "text", "classify: column (header name or index) holding the text")
	fs.StringVar(&o.LabelColumn, "label-column", "label", "classify: column holding the label")
	fs.StringVar(&o.Level, "level", "", "tokens: char, word or bpe (default: lm char, classify and seq2seq word)")
	fs.IntVar(&o.BPESize, "bpe-size", 1000, "bpe: number of symbols to learn")
	fs.IntVar(&o.MinFreq, "min-freq", 1, "drop tokens seen fewer times from the vocabulary")
	fs.IntVar(&o.MaxVocab, "max-vocab", 0, "keep at most this many tokens (0: all)")
	fs.IntVar(&o.MaxLen, "max-len", 400, "classify, seq2seq: cut texts to this many tokens (0: no limit)")
	fs.IntVar(&o.SeqLen, "seq-len", 35, "lm: truncated-BPTT length (time steps per chunk)")
	fs.IntVar(&o.Embed, "embed", 0, "embedding width (classify, lm, seq2seq; 0: the hidden size)")
	fs.StringVar(&o.Pool, "pool", "last", "classify: last, mean, max or attention (learned attention pooling)")
	fs.BoolVar(&o.Tie, "tie", false, "lm: tie the output layer to the embedding")
	fs.StringVar(&o.Attention, "attention", "general", "seq2seq: attention kind: general, dot, concat or bahdanau")
	fs.BoolVar(&o.Lowercase, "lowercase", false, "text: lowercase before tokenizing")
	fs.BoolVar(&o.StripHTML, "strip-html", false, "text: remove HTML tags and decode entities (<br /> becomes a space)")
}

func (o *trainOpts) registerArch(fs *flag.FlagSet) {
	fs.StringVar(&o.Cell, "cell", "lstm", "recurrent cell: lstm, gru, rnn (tanh) or rnn_relu (seq2seq: lstm)")
	fs.IntVar(&o.Hidden, "hidden", 0, "hidden size (0: forecast 64, classify 64, lm 128, seq2seq 64)")
	fs.IntVar(&o.Layers, "layers", 1, "number of stacked recurrent layers")
	fs.IntVar(&o.Proj, "proj", 0, "lstm: project the hidden state to this size (LSTMP, PyTorch's proj_size; 0: none)")
	fs.BoolVar(&o.Bidirectional, "bidirectional", false, "add a reverse direction (forecast, classify, seq2seq encoder; not lm)")
	fs.Float64Var(&o.Dropout, "dropout", 0, "dropout between layers and before the head, in [0,1)")
	fs.Float64Var(&o.InputDropout, "input-dropout", 0, "variational dropout on the recurrent stack's input, one mask per sequence for all steps, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.RecurrentDropout, "recurrent-dropout", 0, "dropout of h where it enters W_hh·h, one mask per sequence, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.WeightDrop, "weight-drop", 0, "DropConnect on the recurrent weights W_hh, one mask per forward pass (AWD-LSTM), in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.Zoneout, "zoneout", 0, "probability that a unit keeps its previous state at a step, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.EmbedDropout, "embed-dropout", 0, "drop whole words of the embedding per forward pass, in [0,1) (classify, lm)")
	fs.StringVar(&o.Init, "init", "default", "recurrent weight initialization: default (PyTorch's U(-1/√H, 1/√H)), xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal or orthogonal")
	fs.StringVar(&o.InitRecurrent, "init-recurrent", "", "initialization of the recurrent weights W_hh alone (default: --init), e.g. orthogonal")
	fs.Float64Var(&o.ForgetBias, "forget-bias", 0, "LSTM forget-gate bias at initialization, e.g. 1 (0: the --init draw)")
}

func (o *trainOpts) registerOptim(fs *flag.FlagSet) {
	fs.StringVar(&o.Optimizer, "optimizer", "adam", "optimizer: "+strings.Join(optim.Names(), ", "))
	fs.Float64Var(&o.LR, "lr", 0, "learning rate (0: for adam and adamw the task's, forecast 0.003 and others 0.01, since these small recurrent models train faster than with PyTorch's 1e-3; for the other optimizers PyTorch's default: sgd, rmsprop, adagrad 0.01, adadelta 1)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", 0, "L2 weight decay (decoupled for adamw)")
	fs.Float64Var(&o.Clip, "clip", 1, "clip the global gradient norm to this value (0: off; torch.nn.utils.clip_grad_norm_)")
	fs.Float64Var(&o.ClipValue, "clip-value", 0, "clamp every gradient element to [-v, v] (0: off; torch.nn.utils.clip_grad_value_)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "batch size (0: forecast 8, smaller for a short series; classify and seq2seq 32; lm 20 streams)")
	fs.IntVar(&o.Epochs, "epochs", 0, "training epochs (0: forecast 150, others 10)")
	fs.StringVar(&o.Schedule, "schedule", "constant", "learning-rate schedule over the run: constant, cosine, onecycle, linear, polynomial, step (×0.1 every third of the run), exponential (to 1% at the end), warm_restarts, or plateau (×--plateau-factor when the validation metric stalls for --plateau-patience evaluations; needs validation data)")
	fs.IntVar(&o.Warmup, "warmup", 0, "linear warmup steps in front of the schedule (0: none)")
	fs.Float64Var(&o.PlateauFactor, "plateau-factor", 0.5, "plateau schedule: factor of each reduction")
	fs.IntVar(&o.PlateauPatience, "plateau-patience", 2, "plateau schedule: evaluations without improvement tolerated before a reduction")
	fs.Float64Var(&o.L1, "l1", 0, "L1 penalty coefficient on the weights (0: off)")
	fs.IntVar(&o.EvalEvery, "eval-every", 0, "also validate every this many steps (0: at epoch ends only)")
	fs.IntVar(&o.Monitor, "monitor", 0, "every this many epochs, print per-layer gradient norms (flagging vanishing and exploding ones) and the LSTM gate saturation (0: off)")
	fs.IntVar(&o.Accum, "accum", 1, "accumulate gradients over this many batches per optimizer step")
	fs.IntVar(&o.Patience, "patience", 0, "stop after this many evaluations without validation improvement (0: never); the best epoch's weights are kept")
	fs.Float64Var(&o.MinDelta, "min-delta", 0, "early stopping: smallest improvement that counts")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of every random choice (same seed, same result)")
	fs.StringVar(&o.InitFrom, "init-from", "", "transfer learning: start from the parameters of this trained `model` that match by name and shape (a text model also lends its vocabulary)")
	fs.StringVar(&o.Freeze, "freeze", "", "comma-separated parameter `patterns` to freeze (e.g. embedding,rnn)")
	fs.Float64Var(&o.LRBackbone, "lr-backbone", 0, "learning rate of everything but the head (0: --lr)")
	fs.IntVar(&o.UnfreezeAfter, "unfreeze-after", 0, "unfreeze the --freeze parameters after this many epochs (0: never)")
}

// flagErr is an invalid flag value: exit status 2.
func flagErr(name string, value any, want string) error {
	return usagef("flag --%s: %v: want %s", name, value, want)
}

// validate checks every flag value before anything touches the disk.
func (o *trainOpts) validate() error {
	if _, ok := map[string]bool{model.Forecast: true, model.Classify: true, model.LM: true, model.Seq2Seq: true}[o.Task]; !ok {
		return flagErr("task", strconv.Quote(o.Task), "forecast, classify, lm or seq2seq")
	}
	for _, f := range []struct {
		name string
		v    int
		min  int
		want string
	}{
		{"epochs", o.Epochs, 0, ">= 1 (0: the task's default)"}, {"batch-size", o.BatchSize, 0, ">= 1 (0: the task's default)"},
		{"accum", o.Accum, 1, ">= 1"}, {"horizon", o.Horizon, 1, ">= 1"}, {"lookback", o.Lookback, 0, ">= 1 (0: chosen from the series)"},
		{"hidden", o.Hidden, 0, ">= 1 (0: the task's default)"}, {"layers", o.Layers, 1, ">= 1"}, {"proj", o.Proj, 0, ">= 0"},
		{"patience", o.Patience, 0, ">= 0"}, {"eval-every", o.EvalEvery, 0, ">= 0"}, {"monitor", o.Monitor, 0, ">= 0"},
		{"warmup", o.Warmup, 0, ">= 0"}, {"seq-len", o.SeqLen, 1, ">= 1"}, {"max-len", o.MaxLen, 0, ">= 0"}, {"embed", o.Embed, 0, ">= 0"},
		{"bpe-size", o.BPESize, 1, ">= 1"}, {"min-freq", o.MinFreq, 1, ">= 1"}, {"max-vocab", o.MaxVocab, 0, ">= 0"},
		{"plateau-patience", o.PlateauPatience, 0, ">= 0"}, {"unfreeze-after", o.UnfreezeAfter, 0, ">= 0"}, {"season", o.Season, -1, ">= 1, 0 (detect) or -1 (none)"},
	} {
		if f.v < f.min {
			return flagErr(f.name, f.v, f.want)
		}
	}
	return o.validateFloats()
}

func (o *trainOpts) validateFloats() error {
	for _, f := range []struct {
		name     string
		v        float64
		min, max float64
		want     string
	}{
		{"lr", o.LR, 0, math.Inf(1), "> 0 (0: the default)"}, {"clip", o.Clip, 0, math.Inf(1), ">= 0 (0: off)"},
		{"clip-value", o.ClipValue, 0, math.Inf(1), ">= 0 (0: off)"}, {"l1", o.L1, 0, math.Inf(1), ">= 0"},
		{"weight-decay", o.WeightDecay, 0, math.Inf(1), ">= 0"}, {"lr-backbone", o.LRBackbone, 0, math.Inf(1), ">= 0 (0: --lr)"},
		{"min-delta", o.MinDelta, 0, math.Inf(1), ">= 0"}, {"test-fraction", o.TestFraction, 0, 0.99, "in (0, 1) (0: the task's default)"},
		{"val-fraction", o.ValFraction, 0, 0.99, "in [0, 1)"}, {"plateau-factor", o.PlateauFactor, 1e-9, 0.999999, "in (0, 1)"},
	} {
		if !(f.v >= f.min && f.v <= f.max) {
			return flagErr(f.name, f.v, f.want)
		}
	}
	if o.UnfreezeAfter > 0 && o.Freeze == "" {
		return flagErr("unfreeze-after", o.UnfreezeAfter, "--freeze patterns to unfreeze")
	}
	if _, err := o.cleanConfig(); err != nil {
		return err
	}
	if s := o.Schedule; s != "plateau" && s != "constant" && s != "" {
		if _, err := sched.ForRun(s, sched.Config{}, sched.Run{Steps: 100, BaseLR: 1}); err != nil {
			return flagErr("schedule", strconv.Quote(s), "constant, cosine, onecycle, linear, polynomial, step, exponential, warm_restarts or plateau")
		}
	}
	return nil
}

// cleanConfig parses --fill and --outliers.
func (o *trainOpts) cleanConfig() (series.CleanConfig, error) {
	var c series.CleanConfig
	fill := map[string]series.MissingPolicy{"none": series.MissingError, "": series.MissingError, "drop": series.MissingDrop,
		"ffill": series.MissingForwardFill, "interpolate": series.MissingInterpolate, "mean": series.MissingMean}
	m, ok := fill[o.Fill]
	if !ok {
		return c, flagErr("fill", strconv.Quote(o.Fill), "none, drop, ffill, interpolate or mean")
	}
	c.Missing = m
	kind, k, _ := strings.Cut(o.Outliers, ":")
	switch kind {
	case "none", "":
	case "zscore", "iqr":
		c.Outliers = map[string]series.OutlierPolicy{"zscore": series.OutliersZScore, "iqr": series.OutliersIQR}[kind]
		if k != "" {
			v, err := strconv.ParseFloat(k, 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) {
				return c, flagErr("outliers", strconv.Quote(o.Outliers), "zscore:K or iqr:K with K > 0")
			}
			c.Threshold = v
		}
	default:
		return c, flagErr("outliers", strconv.Quote(o.Outliers), "none, zscore:K or iqr:K")
	}
	return c, nil
}

// spec is the architecture the flags describe.
func (o *trainOpts) spec() model.Spec {
	s := model.Spec{Cell: o.Cell, Hidden: o.Hidden, Layers: o.Layers, Proj: o.Proj, Bidirectional: o.Bidirectional, Dropout: o.Dropout,
		InputDropout: o.InputDropout, RecurrentDropout: o.RecurrentDropout, WeightDrop: o.WeightDrop, Zoneout: o.Zoneout,
		EmbedDropout: o.EmbedDropout, ForgetBias: o.ForgetBias, InitRecurrent: o.InitRecurrent, Embed: o.Embed,
		Pool: o.Pool, Tie: o.Tie, Attention: o.Attention, Residual: o.Residual}
	if o.Init != "default" {
		s.Init = o.Init
	}
	if s.Hidden == 0 {
		s.Hidden = 64
		if o.Task == model.LM {
			s.Hidden = 128
		}
	}
	if o.Task != model.Classify {
		s.Pool = ""
	}
	if o.Task != model.Seq2Seq {
		s.Attention = ""
	}
	return s
}

// textConfig is how the flags say texts become tokens.
func (o *trainOpts) textConfig() model.TextConfig {
	maxLen := o.MaxLen
	if o.Task == model.LM {
		maxLen = 0
	}
	return model.TextConfig{Level: o.Level, BPESize: o.BPESize, MinFreq: o.MinFreq, MaxVocab: o.MaxVocab, MaxLen: maxLen,
		Clean: text.Cleaner{Lower: o.Lowercase, StripHTML: o.StripHTML}}
}

// fitConfig is how the flags say to train, into dir.
func (o *trainOpts) fitConfig(dir string) model.FitConfig {
	fc := model.FitConfig{Seed: o.Seed, Optimizer: o.Optimizer, Optim: optim.Config{LR: o.LR, WeightDecay: o.WeightDecay},
		LRBackbone: o.LRBackbone, BatchSize: o.BatchSize, Warmup: o.Warmup,
		Train: train.Config{Epochs: o.Epochs, Accum: o.Accum, ClipNorm: o.Clip, ClipValue: o.ClipValue, L1: o.L1, EvalEvery: o.EvalEvery,
			EarlyStop: train.EarlyStop{Patience: o.Patience, MinDelta: o.MinDelta}, Freeze: splitList(o.Freeze), UnfreezeAfter: o.UnfreezeAfter, Dir: dir}}
	switch o.Schedule {
	case "constant", "":
	case "plateau":
		fc.Train.Plateau = &sched.PlateauConfig{Factor: o.PlateauFactor, Patience: o.PlateauPatience}
	default:
		fc.Schedule = o.Schedule
	}
	if o.Task == model.Classify || o.Task == model.Seq2Seq {
		fc.Train.Monitor, fc.Train.MonitorMax = o.monitorMetric()
	}
	return fc
}

// monitorMetric is the validation metric that picks the best epoch.
func (o *trainOpts) monitorMetric() (string, bool) {
	if o.Task == model.Classify {
		return "accuracy", true
	}
	return "loss", false
}

// withValidation turns on restore-best when there is validation data (a
// run keeps its best epoch's weights) and names the flag that needs
// validation data when there is none.
func (o *trainOpts) withValidation(fc model.FitConfig, has bool) (model.FitConfig, error) {
	fc.Train.RestoreBest = has
	if has {
		return fc, nil
	}
	switch {
	case o.Patience > 0:
		return fc, flagErr("patience", o.Patience, "validation data (--val-fraction or --valid)")
	case o.Schedule == "plateau":
		return fc, flagErr("schedule", "plateau", "validation data (--val-fraction or --valid)")
	}
	return fc, nil
}

// outDir is the run directory; it is created only once every input has
// been checked.
func (o *trainOpts) outDir() string {
	if o.Out != "" {
		return o.Out
	}
	name := o.Name
	if name == "" {
		name = time.Now().UTC().Format("20060102-150405")
	}
	return filepath.Join("runs", name)
}

// makeDir creates the run directory.
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
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

// flagError turns the library's configuration errors into ones that name
// the flag: "flag --hidden: -3: want ...".
func flagError(err error) error {
	var se *model.SpecError
	var fe *model.FitError
	var te *train.ConfigError
	var oe *optim.ConfigError
	var ce *sched.ConfigError
	switch {
	case errors.As(err, &se):
		return flagErr(strings.ReplaceAll(se.Field, "_", "-"), se.Value, se.Want)
	case errors.As(err, &fe):
		return flagErr(fieldFlag(fe.Field), fe.Value, fe.Want)
	case errors.As(err, &te):
		return flagErr(fieldFlag(te.Field), te.Value, te.Want)
	case errors.As(err, &oe):
		return flagErr(strings.ReplaceAll(oe.Field, "_", "-"), oe.Value, oe.Want+" (optimizer "+oe.Optimizer+")")
	case errors.As(err, &ce):
		return flagErr("schedule", ce.Schedule, ce.Field+" "+ce.Want)
	}
	return err
}

// fieldFlag maps a config field name (BatchSize, Text.MaxLen) to its flag
// (batch-size, max-len).
func fieldFlag(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	var b strings.Builder
	for i, r := range field {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	if b.String() == "clip-norm" {
		return "clip"
	}
	return b.String()
}
