package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/train"
)

// trainOpts are the options of "recur train" and "recur lr-find"; every
// field is a flag and a key of --config files. They only become the
// library's configs here: the work is the model package's.
type trainOpts struct {
	Task, Data, Valid, Test, Config, Out, Name, Resume string
	JSON, Quiet, NoReport, Overwrite                   bool
	MaxLineBytes, MaxFileBytes                         int

	// forecast
	Target, Inputs, Time, Scale, Fill, Outliers, CV string
	Quantiles, MCLevels, Base, Diff                 string
	MCDropout                                       int
	Folds                                           int
	Lookback, Horizon, Season                       int
	TestFraction, ValFraction                       float64
	Log, Residual, Local, Conformal                 bool

	// numeric sequences
	IDColumn                  string
	Sequences, Pixel, Permute bool
	tagInputs                 int // inputs per step of the tag data, once read

	// text
	TextColumn, LabelColumn, Level, Pool, Attention   string
	Embeddings, Normalize, LineEnd, LabelSep          string
	FreezeEmbeddings, FoldSpace                       bool
	BPESize, MinFreq, MaxVocab, MaxLen, SeqLen, Embed int
	MaxWords                                          int
	Beam                                              int
	Tie, Lowercase, StripHTML                         bool

	// architecture
	Cell, Init, InitRecurrent, InitHead, InitEmbed                             string
	Hidden, Layers, Proj, Chrono, Ensemble                                     int
	Bidirectional                                                              bool
	Dropout, InputDropout, RecurrentDropout, WeightDrop, Zoneout, EmbedDropout float64
	ForgetBias                                                                 float64

	// loss, optimizer settings, schedule settings
	Loss, ClassWeights, Betas, Milestones           string
	Delta, LabelSmoothing, Momentum, Dampening, Eps float64
	Rho, Alpha, Gamma, MinLR, PctStart, Power       float64
	Nesterov, Centered, AMSGrad, SchedEpochs        bool
	StepSize, T0, TMult                             int

	// optimization
	Optimizer, Schedule                                     string
	LR, WeightDecay, Clip, ClipValue, L1, MinDelta          float64
	AR, TAR, GradNoise, GradNoiseGamma                      float64
	PlateauFactor                                           float64
	BatchSize, Epochs, Patience, EvalEvery, Monitor, Warmup int
	Accum, PlateauPatience                                  int
	Seed                                                    uint64
	InitFrom, Freeze                                        string
	LRBackbone                                              float64
	UnfreezeAfter, FindSteps                                int

	// arithmetic of the training steps' large products
	Precision string
}

func (o *trainOpts) register(fs *flag.FlagSet) {
	o.registerRun(fs)
	o.registerForecast(fs)
	o.registerText(fs)
	o.registerArch(fs)
	o.registerOptim(fs)
	o.registerSettings(fs)
}

// registerSettings registers the loss's, the optimizer's and the
// schedule's own settings, named as PyTorch names them.
func (o *trainOpts) registerSettings(fs *flag.FlagSet) {
	fs.StringVar(&o.Loss, "loss", "", "training loss: forecast mse (default), mae, huber or smooth_l1; tag values the same or bce (0/1 labels, several per step: a piano roll's notes); classify, lm, seq2seq ce (default)")
	fs.Float64Var(&o.Delta, "delta", 0, "huber: delta; smooth_l1: beta (0: 1)")
	fs.StringVar(&o.ClassWeights, "class-weights", "", "classify: cross-entropy class weights, auto (n / (classes · count), from the training labels) or w1,w2,... in the order of the classes (torch weight=)")
	fs.Float64Var(&o.LabelSmoothing, "label-smoothing", 0, "cross-entropy label smoothing in [0, 1) (torch label_smoothing=)")
	fs.Float64Var(&o.Momentum, "momentum", 0, "sgd, rmsprop: momentum (adam's beta1 is --betas)")
	fs.BoolVar(&o.Nesterov, "nesterov", false, "sgd: Nesterov momentum (needs --momentum > 0)")
	fs.Float64Var(&o.Dampening, "dampening", 0, "sgd: dampening of the momentum")
	fs.StringVar(&o.Betas, "betas", "", "adam, adamw: b1,b2 (default 0.9,0.999)")
	fs.Float64Var(&o.Eps, "eps", 0, "term added to the denominator (0: the optimizer's PyTorch default: 1e-8 adam, adamw, rmsprop; 1e-10 adagrad; 1e-6 adadelta)")
	fs.Float64Var(&o.Rho, "rho", 0, "adadelta: decay of the running averages (0: 0.9)")
	fs.Float64Var(&o.Alpha, "alpha", 0, "rmsprop: smoothing constant (0: 0.99)")
	fs.BoolVar(&o.Centered, "centered", false, "rmsprop: normalize by the gradient's estimated variance")
	fs.BoolVar(&o.AMSGrad, "amsgrad", false, "adam, adamw: keep the maximum of the second moment (AMSGrad)")
	fs.IntVar(&o.StepSize, "step-size", 0, "step schedule: steps between reductions (0: a third of the run)")
	fs.Float64Var(&o.Gamma, "gamma", 0, "step, multistep: factor of each reduction (0: 0.1); exponential: factor per step (0: down to 1% at the end)")
	fs.StringVar(&o.Milestones, "milestones", "", "multistep schedule: the steps at which the learning rate is multiplied by --gamma, comma-separated")
	fs.Float64Var(&o.MinLR, "min-lr", 0, "cosine, warm_restarts: the learning rate at the bottom (eta_min)")
	fs.IntVar(&o.T0, "t0", 0, "warm_restarts: steps of the first cycle (0: a quarter of the run)")
	fs.IntVar(&o.TMult, "t-mult", 0, "warm_restarts: factor by which each cycle grows (0: 1)")
	fs.Float64Var(&o.PctStart, "pct-start", 0, "onecycle: share of the run spent raising the rate (0: 0.3)")
	fs.Float64Var(&o.Power, "power", 0, "polynomial: power of the decay (0: 1)")
}

func (o *trainOpts) registerRun(fs *flag.FlagSet) {
	fs.StringVar(&o.Task, "task", "forecast", "task: forecast, classify, lm, seq2seq, or tag (a label at every step of numeric sequences: --data a CSV with --id-column and a --label-column per row; or a piano-roll JSON file such as the JSB chorales, for next-step prediction of the 88 keys)")
	fs.StringVar(&o.Data, "data", "", "training data `file` (forecast: CSV/TSV, default the embedded AirPassengers series; classify: TSV/CSV/JSONL with text and label columns, a CSV of numeric sequences with --sequences, or a directory of MNIST's IDX files; lm: plain text; seq2seq: tab-separated pairs)")
	fs.StringVar(&o.Valid, "valid", "", "validation data `file` (classify, lm, seq2seq; default: split off --val-fraction of --data)")
	fs.StringVar(&o.Test, "test", "", "test data `file` (classify, lm, seq2seq; default: split off --test-fraction of --data)")
	registerLimits(fs, &o.MaxLineBytes, &o.MaxFileBytes)
	fs.StringVar(&o.Config, "config", "", "YAML `file` whose keys are these flags' names; flags given on the command line override it")
	fs.StringVar(&o.Out, "out", "", "output `dir`ectory (default runs/<name>)")
	fs.StringVar(&o.Name, "name", "", "run name for the default output directory (default: the UTC time)")
	fs.BoolVar(&o.JSON, "json", false, "print the final result as one JSON line on stdout")
	fs.BoolVar(&o.Quiet, "quiet", false, "print no progress")
	fs.BoolVar(&o.Overwrite, "overwrite", false, "train into an output directory that holds another run, replacing its files (without it, such a run is kept and this one refused)")
	fs.BoolVar(&o.NoReport, "no-report", false, "write no plots and no HTML report")
	fs.StringVar(&o.Resume, "resume", "", "resume training from this checkpoint `file` (runs/<name>/last.safetensors)")
}

// registerLimits registers --max-line-bytes and --max-file-bytes (train,
// eval, predict): the bounds of every data file read.
func registerLimits(fs *flag.FlagSet, line, file *int) {
	fs.IntVar(line, "max-line-bytes", 0, "refuse data files with a line longer than this many bytes (0: the reader's default: 1 MiB, none for lm corpora and piano-roll JSON; -1: no limit)")
	fs.IntVar(file, "max-file-bytes", 0, "refuse data files larger than this many bytes, counted after decompression (0: the reader's default: 2 GiB, 256 MiB for piano-roll JSON; -1: no limit)")
}

// limits returns the data-file limits of --max-line-bytes and
// --max-file-bytes.
func limits(line, file int) input.Limits {
	return input.Limits{MaxLineBytes: line, MaxFileBytes: int64(file)}
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
	fs.StringVar(&o.Diff, "diff", "", "forecast: differencing lags applied after --log, comma-separated: 1 models the change from row to row (with --log, a price's return), 1,12 also a monthly season")
	fs.BoolVar(&o.Residual, "residual", true, "forecast: predict the change from the last observed value")
	fs.BoolVar(&o.Local, "local", false, "forecast: read each window relative to its last row (the targets minus their last value: local window scaling), so that a level beyond the training range does not saturate the network")
	fs.StringVar(&o.Base, "base", model.BaseAuto, "forecast: auto (the default) chooses on a validation tail of the training rows between the network alone (reading levels or --local windows), the Holt-Winters hybrid, Holt-Winters alone, ARIMA alone and the mean of the two, then fits the choice on every training row; holt-winters makes a hybrid: the network corrects the forecast of a Holt-Winters model fitted on the training rows (its head starts at zero, so the untrained model is Holt-Winters itself; replaces --residual); arima: the same with a seasonal ARIMA chosen as R's auto.arima chooses; holt-winters+arima: with the mean of the two; none: the network alone")
	fs.StringVar(&o.Scale, "scale", "minmax", "forecast: scaling fitted on the training rows: minmax, zscore, robust or none")
	fs.StringVar(&o.Fill, "fill", "none", "forecast: missing values: none (an error naming the line), drop, ffill, interpolate or mean (of the training rows)")
	fs.StringVar(&o.CV, "cv", "none", "forecast: none, or walk-forward: cut the test part into --folds blocks, train a fresh model on everything before each and report each metric's mean ± std (no model is saved)")
	fs.StringVar(&o.Quantiles, "quantiles", "", "forecast: predict these quantile levels, comma-separated and increasing in (0, 1), trained with the pinball loss; the outermost give a prediction interval (0.1,0.5,0.9: 80%) and the level nearest 0.5 the point forecast")
	registerMC(fs, &o.MCDropout, &o.MCLevels)
	fs.BoolVar(&o.Conformal, "conformal", false, "forecast --quantiles: calibrate the interval on the validation windows (conformalized quantile regression; needs --val-fraction)")
	fs.IntVar(&o.Folds, "folds", 5, "forecast --cv walk-forward: number of folds")
	fs.StringVar(&o.Outliers, "outliers", "none", "forecast: clip outliers: none, zscore:K (mean ± K·std) or iqr:K (Tukey's fences at K·IQR); K from the training rows")
}

func (o *trainOpts) registerText(fs *flag.FlagSet) {
	fs.StringVar(&o.TextColumn, "text-column", "text", "classify: column (header name or index) holding the text")
	fs.StringVar(&o.LabelColumn, "label-column", "label", "classify: column holding the label")
	fs.StringVar(&o.LabelSep, "label-sep", "", "classify: the label column holds a set of classes separated by this string (\"|\" for \"sports|politics\"): a multi-label classifier, each class decided on its own with the binary cross-entropy (--loss bce, PyTorch's BCEWithLogitsLoss)")
	fs.StringVar(&o.Level, "level", "", "tokens: char, word (words and punctuation, lowercased), space (white-space separated fields as they are, for pre-tokenized corpora such as PTB) or bpe (default: lm char, classify and seq2seq word)")
	fs.StringVar(&o.LineEnd, "line-end", "", "text: replace every line end with this token, e.g. \"<eos>\" (PTB language models count one per sentence)")
	fs.IntVar(&o.BPESize, "bpe-size", 1000, "bpe: number of symbols to learn")
	fs.IntVar(&o.MinFreq, "min-freq", 1, "drop tokens seen fewer times from the vocabulary")
	fs.IntVar(&o.MaxVocab, "max-vocab", 0, "keep at most this many tokens (0: all)")
	fs.IntVar(&o.MaxWords, "max-words", 0, "seq2seq: keep only the pairs whose sentences both have at most this many words (0: all)")
	fs.IntVar(&o.Beam, "beam", 0, "seq2seq: also score the test pairs by beam search of this width (0 or 1: greedy only)")
	fs.IntVar(&o.MaxLen, "max-len", 400, "classify, seq2seq: cut texts to this many tokens (0: no limit)")
	fs.IntVar(&o.SeqLen, "seq-len", 35, "lm: truncated-BPTT length (time steps per chunk)")
	fs.IntVar(&o.Embed, "embed", 0, "embedding width (classify, lm, seq2seq; 0: the hidden size)")
	fs.StringVar(&o.Pool, "pool", "last", "classify: last, mean, max or attention (learned attention pooling)")
	fs.BoolVar(&o.Tie, "tie", false, "lm: tie the output layer to the embedding")
	fs.StringVar(&o.Attention, "attention", "general", "seq2seq: attention kind: general, dot, concat or bahdanau")
	fs.BoolVar(&o.Lowercase, "lowercase", false, "text: lowercase before tokenizing")
	fs.BoolVar(&o.StripHTML, "strip-html", false, "text: remove HTML tags and decode entities (<br /> becomes a space)")
	fs.StringVar(&o.Normalize, "normalize", "nfc", "text: Unicode normalization: nfc (composed characters), nfkc (also folds ligatures, full-width letters, non-breaking spaces) or none")
	fs.BoolVar(&o.FoldSpace, "fold-space", false, "text: turn every run of white space (tabs, newlines) into one space and trim the ends")
	fs.StringVar(&o.Embeddings, "embeddings", "", "classify, lm, seq2seq (source side): start the embedding from pretrained word vectors in this `file` (GloVe, word2vec or fastText text format, gzip allowed); the tokens it lacks keep a random start; --embed becomes its width")
	fs.BoolVar(&o.FreezeEmbeddings, "freeze-embeddings", false, "keep the --embeddings vectors fixed during training")
	fs.BoolVar(&o.Sequences, "sequences", false, "classify: --data is a CSV of numeric sequences: one row per sequence (a --label-column, then one value per step), or with --id-column one row per step")
	fs.StringVar(&o.IDColumn, "id-column", "", "classify --sequences, tag: column naming the sequence of each row (long format; the other columns but the label are the inputs); forecast: column naming the series of each row of a long-format --data, for one network trained across the series (as --data a folder of series files)")
	fs.BoolVar(&o.Pixel, "pixel", false, "classify, MNIST: read each image pixel by pixel (784 steps of one input) instead of row by row (28 steps of 28)")
	fs.BoolVar(&o.Permute, "permute", false, "classify, MNIST: pixel by pixel in one fixed random order (permuted MNIST)")
}

func (o *trainOpts) registerArch(fs *flag.FlagSet) {
	fs.StringVar(&o.Cell, "cell", "lstm", "recurrent cell of every task: lstm, gru, rnn (tanh) or rnn_relu (seq2seq: the encoder and the decoder cell)")
	fs.IntVar(&o.Hidden, "hidden", 0, "hidden size (0: forecast 64, classify 64, lm 128, seq2seq 64)")
	fs.IntVar(&o.Layers, "layers", 1, "number of stacked recurrent layers")
	fs.IntVar(&o.Ensemble, "ensemble", 0, "forecast: train this many networks from different seeds side by side, each on its own loss, and forecast their mean (0: 5 for one series, one network across many series; 1: one network; the automatic form is chosen with the ensemble)")
	fs.IntVar(&o.Proj, "proj", 0, "lstm: project the hidden state to this size (LSTMP, PyTorch's proj_size; 0: none)")
	fs.BoolVar(&o.Bidirectional, "bidirectional", false, "add a reverse direction (forecast, classify, seq2seq encoder; not lm)")
	fs.Float64Var(&o.Dropout, "dropout", 0, "dropout between layers and before the head, in [0,1)")
	fs.Float64Var(&o.InputDropout, "input-dropout", 0, "variational dropout on the recurrent stack's input, one mask per sequence for all steps, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.RecurrentDropout, "recurrent-dropout", 0, "dropout of h where it enters W_hh·h, one mask per sequence, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.WeightDrop, "weight-drop", 0, "DropConnect on the recurrent weights W_hh, one mask per forward pass (AWD-LSTM), in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.Zoneout, "zoneout", 0, "probability that a unit keeps its previous state at a step, in [0,1) (forecast, classify, lm)")
	fs.Float64Var(&o.EmbedDropout, "embed-dropout", 0, "drop whole words of the embedding per forward pass, in [0,1) (classify, lm)")
	fs.StringVar(&o.Init, "init", "default", "recurrent weight initialization (torch.nn.init): default (PyTorch's U(-1/√H, 1/√H)), uniform:A,B, normal:MEAN,STD, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal or orthogonal (these five with an optional :GAIN), zero or constant:V")
	fs.StringVar(&o.InitRecurrent, "init-recurrent", "", "initialization of the recurrent weights W_hh alone (default: --init), e.g. orthogonal or orthogonal:1.5")
	fs.StringVar(&o.InitEmbed, "init-embed", "", "initialization of the token embedding, as --init (default: PyTorch's N(0, 1)), e.g. uniform:-0.1,0.1 (classify, lm)")
	fs.StringVar(&o.InitHead, "init-head", "", "initialization of the output layer's weight, as --init (default: PyTorch's Linear U(-1/√in, 1/√in)), e.g. xavier_uniform or normal:0,0.01")
	fs.IntVar(&o.Chrono, "chrono", 0, "lstm: chrono initialization of the forget and input gate biases for dependencies up to this many steps (Tallec and Ollivier 2018; 0: off)")
	fs.Float64Var(&o.ForgetBias, "forget-bias", 0, "LSTM forget-gate bias at initialization, e.g. 1 (0: the --init draw)")
}

func (o *trainOpts) registerOptim(fs *flag.FlagSet) {
	fs.StringVar(&o.Optimizer, "optimizer", "adam", "optimizer: "+strings.Join(optim.Names(), ", "))
	fs.StringVar(&o.Precision, "precision", "fp32", "arithmetic of the training steps' large products (recurrent and linear GEMMs): fp32, or bf16 (bfloat16 operands, float32 sums, weights and optimizer state) on CPUs with AVX512_BF16, fp32 with a warning elsewhere; evaluation stays fp32")
	fs.Float64Var(&o.LR, "lr", 0, "learning rate (0: for adam and adamw the task's, forecast 0.003 and others 0.01, since these small recurrent models train faster than with PyTorch's 1e-3; for the other optimizers PyTorch's default: sgd, rmsprop, adagrad 0.01, adadelta 1)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", 0, "L2 weight decay (decoupled for adamw)")
	fs.Float64Var(&o.Clip, "clip", 1, "clip the global gradient norm to this value (0: off; torch.nn.utils.clip_grad_norm_)")
	fs.Float64Var(&o.ClipValue, "clip-value", 0, "clamp every gradient element to [-v, v] (0: off; torch.nn.utils.clip_grad_value_)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "batch size (0: forecast 8, smaller for a short series; classify and seq2seq 32; lm 20 streams)")
	fs.IntVar(&o.Epochs, "epochs", 0, "training epochs (0: forecast 150, others 10)")
	fs.StringVar(&o.Schedule, "schedule", "constant", "learning-rate schedule over the run: constant, cosine, onecycle, linear, polynomial, step (×0.1 every third of the run), exponential (to 1% at the end), warm_restarts, or plateau (×--plateau-factor when the validation metric stalls for --plateau-patience evaluations; needs validation data)")
	fs.IntVar(&o.Warmup, "warmup", 0, "linear warmup steps in front of the schedule (0: none)")
	fs.BoolVar(&o.SchedEpochs, "sched-epochs", false, "the schedule's step counts (--step-size, --milestones, --t0, --warmup) count epochs instead of optimizer steps")
	fs.Float64Var(&o.PlateauFactor, "plateau-factor", 0.5, "plateau schedule: factor of each reduction")
	fs.IntVar(&o.PlateauPatience, "plateau-patience", 2, "plateau schedule: evaluations without improvement tolerated before a reduction")
	fs.Float64Var(&o.L1, "l1", 0, "L1 penalty coefficient on the weights (0: off)")
	fs.Float64Var(&o.AR, "ar", 0, "activation regularization: add AR·mean(h²) of the recurrent output to the loss (AWD-LSTM: 2; 0: off; not seq2seq)")
	fs.Float64Var(&o.TAR, "tar", 0, "temporal activation regularization: add TAR·mean((h[t]-h[t-1])²) (AWD-LSTM: 1; 0: off; not seq2seq)")
	fs.Float64Var(&o.GradNoise, "grad-noise", 0, "annealed Gaussian gradient noise of variance η/(1+step)^γ, this η (Neelakantan et al.: 0.01 to 1; 0: off)")
	fs.Float64Var(&o.GradNoiseGamma, "grad-noise-gamma", 0.55, "--grad-noise: the annealing exponent γ")
	fs.IntVar(&o.EvalEvery, "eval-every", 0, "also validate every this many steps (0: at epoch ends only)")
	fs.IntVar(&o.Monitor, "monitor", 0, "every this many epochs, print per-layer gradient norms (flagging vanishing and exploding ones) and the LSTM gate saturation (0: off)")
	fs.IntVar(&o.Accum, "accum", 1, "accumulate gradients over this many batches per optimizer step")
	fs.IntVar(&o.Patience, "patience", 0, "stop after this many evaluations without validation improvement (0: never); the best epoch's weights are kept")
	fs.Float64Var(&o.MinDelta, "min-delta", 0, "early stopping: smallest improvement that counts")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of every random choice (same seed, same result)")
	fs.StringVar(&o.InitFrom, "init-from", "", "transfer learning: start from the parameters of this trained `model` (a run directory, a .safetensors, an .onnx or a PyTorch state dict .pt file) that match by name and shape (a recur text model also lends its vocabulary; a state dict's recurrent stack counts as rnn.)")
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
	if _, ok := map[string]bool{model.Forecast: true, model.Classify: true, model.LM: true, model.Seq2Seq: true, model.Tag: true}[o.Task]; !ok {
		return flagErr("task", strconv.Quote(o.Task), "forecast, classify, lm, seq2seq or tag")
	}
	if n := o.Name; n != "" && (n == "." || n == ".." || strings.ContainsAny(n, `/\`) || strings.HasPrefix(n, ".")) {
		return flagErr("name", strconv.Quote(n), "a plain name (no /, \\ or leading dot): the run goes to runs/NAME; --out chooses any directory")
	}
	for _, f := range []struct {
		name string
		v    int
		min  int
		want string
	}{
		{"epochs", o.Epochs, 0, ">= 1 (0: the task's default)"}, {"batch-size", o.BatchSize, 0, ">= 1 (0: the task's default)"},
		{"accum", o.Accum, 1, ">= 1"}, {"horizon", o.Horizon, 1, ">= 1"}, {"lookback", o.Lookback, 0, ">= 1 (0: chosen from the series)"},
		{"hidden", o.Hidden, 0, ">= 1 (0: the task's default)"}, {"layers", o.Layers, 1, ">= 1"}, {"proj", o.Proj, 0, ">= 0"}, {"ensemble", o.Ensemble, 0, ">= 0"},
		{"patience", o.Patience, 0, ">= 0"}, {"eval-every", o.EvalEvery, 0, ">= 0"}, {"monitor", o.Monitor, 0, ">= 0"},
		{"warmup", o.Warmup, 0, ">= 0"}, {"seq-len", o.SeqLen, 1, ">= 1"}, {"max-len", o.MaxLen, 0, ">= 0"}, {"embed", o.Embed, 0, ">= 0"},
		{"bpe-size", o.BPESize, 1, ">= 1"}, {"max-words", o.MaxWords, 0, ">= 0 (0: all)"}, {"beam", o.Beam, 0, ">= 0"}, {"min-freq", o.MinFreq, 1, ">= 1"}, {"max-vocab", o.MaxVocab, 0, ">= 0"},
		{"plateau-patience", o.PlateauPatience, 0, ">= 0"}, {"unfreeze-after", o.UnfreezeAfter, 0, ">= 0"}, {"season", o.Season, -1, ">= 1, 0 (detect) or -1 (none)"},
	} {
		if f.v < f.min {
			return flagErr(f.name, f.v, f.want)
		}
	}
	if _, err := nn.ParsePrecision(o.Precision); err != nil {
		return flagErr("precision", strconv.Quote(o.Precision), "fp32 or bf16")
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
		{"ar", o.AR, 0, math.Inf(1), ">= 0 (0: off)"}, {"tar", o.TAR, 0, math.Inf(1), ">= 0 (0: off)"},
		{"grad-noise", o.GradNoise, 0, math.Inf(1), ">= 0 (0: off)"}, {"grad-noise-gamma", o.GradNoiseGamma, 0, math.Inf(1), ">= 0"},
	} {
		if !(f.v >= f.min && f.v <= f.max) {
			return flagErr(f.name, f.v, f.want)
		}
	}
	if o.UnfreezeAfter > 0 && o.Freeze == "" {
		return flagErr("unfreeze-after", o.UnfreezeAfter, "--freeze patterns to unfreeze")
	}
	if o.Task == model.Seq2Seq {
		for name, v := range map[string]float64{"ar": o.AR, "tar": o.TAR} {
			if v != 0 {
				return flagErr(name, v, "0: seq2seq does not support activation regularization")
			}
		}
	}
	if _, err := o.cleanConfig(); err != nil {
		return err
	}
	if err := o.validateLists(); err != nil {
		return err
	}
	if o.CV != "none" && o.CV != "" && (o.CV != "walk-forward" || o.Task != model.Forecast) {
		return flagErr("cv", strconv.Quote(o.CV), "none, or walk-forward (forecast)")
	}
	if o.CV == "walk-forward" && o.Folds < 2 {
		return flagErr("folds", o.Folds, ">= 2")
	}
	if s := o.Schedule; s != "plateau" && s != "constant" && s != "" {
		if _, err := sched.ForRun(s, sched.Config{}, sched.Run{Steps: 100, BaseLR: 1}); err != nil {
			return flagErr("schedule", strconv.Quote(s), "constant, cosine, onecycle, linear, polynomial, step, exponential, warm_restarts or plateau")
		}
		if _, err := sched.ForRun(s, o.schedConfig(), sched.Run{Steps: 100, BaseLR: 1}); err != nil {
			return flagError(err)
		}
	}
	if !slices.Contains(optim.Names(), strings.ToLower(o.Optimizer)) {
		return flagErr("optimizer", strconv.Quote(o.Optimizer), strings.Join(optim.Names(), ", "))
	}
	oc := o.optimConfig()
	oc.LR = 1 // any rate: the others are checked here, the rate above
	if _, err := optim.New(o.Optimizer, nil, oc); err != nil {
		return flagError(err)
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

// defaultEnsemble is the number of networks a forecast trains when
// --ensemble is not given.
const defaultEnsemble = 5

// spec is the architecture the flags describe.
func (o *trainOpts) spec() model.Spec {
	s := model.Spec{Cell: o.Cell, Hidden: o.Hidden, Layers: o.Layers, Proj: o.Proj, Bidirectional: o.Bidirectional, Dropout: o.Dropout,
		InputDropout: o.InputDropout, RecurrentDropout: o.RecurrentDropout, WeightDrop: o.WeightDrop, Zoneout: o.Zoneout,
		EmbedDropout: o.EmbedDropout, ForgetBias: o.ForgetBias, Chrono: o.Chrono, InitRecurrent: o.InitRecurrent, InitHead: o.InitHead, InitEmbed: o.InitEmbed, Embed: o.Embed,
		Pool: o.Pool, Tie: o.Tie, Attention: o.Attention, Residual: o.Residual, Local: o.Local, Base: o.Base, Ensemble: o.Ensemble}
	s.Quantiles, _ = floats(o.Quantiles) // checked by validateLists
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
	if o.Task == model.Forecast && s.Ensemble == 0 {
		// The mean of several seeds' networks steadies a short series'
		// forecast and the choice of its form (RESULTS.md, AirPassengers).
		s.Ensemble = defaultEnsemble
	}
	switch {
	case o.Task != model.Forecast || s.Base == "none":
		s.Base = ""
	case s.Base != "" && s.Base != model.BaseAuto:
		s.Residual = false
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
		Clean: text.Cleaner{Lower: o.Lowercase, StripHTML: o.StripHTML, Form: normForms[o.Normalize], FoldSpace: o.FoldSpace, LineEnd: o.LineEnd}}
}

// precision is --precision (checked by validate).
func (o *trainOpts) precision() nn.Precision {
	p, _ := nn.ParsePrecision(o.Precision)
	return p
}

// fitConfig is how the flags say to train, into dir.
func (o *trainOpts) fitConfig(dir string) model.FitConfig {
	fc := model.FitConfig{Seed: o.Seed, Optimizer: o.Optimizer, Optim: o.optimConfig(), LRBackbone: o.LRBackbone, BatchSize: o.BatchSize, Warmup: o.Warmup, ScheduleEpochs: o.SchedEpochs,
		Loss: o.lossConfig(), Sched: o.schedConfig(), AR: o.AR, TAR: o.TAR,
		Train: train.Config{Epochs: o.Epochs, Accum: o.Accum, ClipNorm: o.Clip, ClipValue: o.ClipValue, L1: o.L1, EvalEvery: o.EvalEvery,
			GradNoise: train.GradNoise{Eta: o.GradNoise, Gamma: o.GradNoiseGamma},
			EarlyStop: train.EarlyStop{Patience: o.Patience, MinDelta: o.MinDelta}, Freeze: splitList(o.Freeze), UnfreezeAfter: o.UnfreezeAfter, Dir: dir,
			Precision: o.precision()}}
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

// optimConfig is the optimizer's settings; --betas is checked by
// validate.
func (o *trainOpts) optimConfig() optim.Config {
	c := optim.Config{LR: o.LR, WeightDecay: o.WeightDecay, Momentum: o.Momentum, Dampening: o.Dampening, Nesterov: o.Nesterov,
		Eps: o.Eps, Rho: o.Rho, Alpha: o.Alpha, Centered: o.Centered, AMSGrad: o.AMSGrad}
	c.Betas, _ = floats(o.Betas)
	return c
}

func (o *trainOpts) lossConfig() model.LossConfig {
	c := model.LossConfig{Name: o.Loss, Delta: o.Delta, LabelSmoothing: o.LabelSmoothing}
	if o.LabelSep != "" && c.Name == "" {
		c.Name = "bce"
	}
	if o.ClassWeights == "auto" {
		c.AutoClassWeights = true
	} else if ws, _ := floats(o.ClassWeights); ws != nil {
		for _, w := range ws {
			c.ClassWeights = append(c.ClassWeights, float32(w))
		}
	}
	return c
}

func (o *trainOpts) schedConfig() sched.Config {
	c := sched.Config{StepSize: o.StepSize, Gamma: o.Gamma, EtaMin: o.MinLR, T0: o.T0, TMult: o.TMult, PctStart: o.PctStart, Power: o.Power}
	ms, _ := floats(o.Milestones)
	for _, m := range ms {
		c.Milestones = append(c.Milestones, int(m))
	}
	return c
}

// floats parses a comma-separated list of numbers (nil for "").
func floats(s string) ([]float64, error) {
	var out []float64
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a finite number", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// normForms maps --normalize to the cleaner's form.
var normForms = map[string]text.Form{"nfc": text.NFC, "nfkc": text.NFKC, "none": text.NoNorm}

// pretrained is the --embeddings setting.
func (o *trainOpts) pretrained() model.Pretrained {
	return model.Pretrained{File: o.Embeddings, Freeze: o.FreezeEmbeddings}
}

// diffs returns --diff's lags (checked by validateLists).
func (o *trainOpts) diffs() []float64 {
	ds, _ := floats(o.Diff)
	return ds
}

// quantileLevels reports whether qs increase within (0, 1).
func quantileLevels(qs []float64) bool {
	for i, q := range qs {
		if !(q > 0 && q < 1) || i > 0 && q <= qs[i-1] {
			return false
		}
	}
	return true
}

// validateLists checks the flags that hold lists.
func (o *trainOpts) validateLists() error {
	if bs, err := floats(o.Betas); err != nil || bs != nil && len(bs) != 2 {
		return flagErr("betas", strconv.Quote(o.Betas), "two numbers b1,b2 in [0, 1)")
	}
	if _, err := floats(o.Milestones); err != nil {
		return flagErr("milestones", strconv.Quote(o.Milestones), "increasing step numbers, comma-separated")
	}
	if qs, err := floats(o.Quantiles); err != nil || !quantileLevels(qs) {
		return flagErr("quantiles", strconv.Quote(o.Quantiles), "increasing levels in (0, 1), comma-separated, e.g. 0.1,0.5,0.9")
	} else if qs != nil && o.Task != model.Forecast {
		return flagErr("quantiles", strconv.Quote(o.Quantiles), "none: only the forecast task predicts quantiles")
	} else if o.Conformal && (len(qs) < 2 || o.ValFraction == 0) {
		return flagErr("conformal", "true", "it with --quantiles (two or more levels) and --val-fraction: it calibrates their interval on the validation windows")
	}
	if ds, err := floats(o.Diff); err != nil || slices.ContainsFunc(ds, func(d float64) bool { return d < 1 || d != math.Trunc(d) }) {
		return flagErr("diff", strconv.Quote(o.Diff), "differencing lags, whole numbers >= 1, comma-separated")
	}
	if o.MCDropout != 0 && (o.Task != model.Forecast || o.CV != "none") {
		return flagErr("mc-dropout", o.MCDropout, "0: Monte Carlo intervals are for a forecaster's test windows (not --cv)")
	}
	if o.LabelSep != "" && (o.Task != model.Classify || o.Sequences || o.numericData()) {
		return flagErr("label-sep", strconv.Quote(o.LabelSep), "none: label sets are for text classification")
	}
	if o.LabelSep != "" && o.Loss != "" && o.Loss != "bce" {
		return flagErr("loss", o.Loss, "bce (or none) with --label-sep: each class of a set is decided on its own")
	}
	if _, ok := normForms[o.Normalize]; !ok {
		return flagErr("normalize", strconv.Quote(o.Normalize), "nfc, nfkc or none")
	}
	if o.FreezeEmbeddings && o.Embeddings == "" {
		return flagErr("freeze-embeddings", true, "it with --embeddings FILE")
	}
	if o.Embeddings != "" {
		if o.Task == model.Forecast || o.Task == model.Tag || o.Sequences {
			return flagErr("embeddings", strconv.Quote(o.Embeddings), "none: only text tasks (classify, lm, seq2seq) have an embedding")
		}
		if fi, err := os.Stat(o.Embeddings); err != nil || fi.IsDir() {
			return flagErr("embeddings", strconv.Quote(o.Embeddings), "a file of word vectors")
		}
	}
	if o.ClassWeights != "auto" {
		if _, err := floats(o.ClassWeights); err != nil {
			return flagErr("class-weights", strconv.Quote(o.ClassWeights), "auto or one number per class, comma-separated")
		}
	}
	return nil
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

// claimDir creates the run directory if needed and locks it for this
// run, refusing a directory another process is training into or one that
// holds another run (unless --resume continues it or --overwrite replaces
// it). It removes the temporary files killed runs left there. The lock
// lasts until release, which also removes a directory this run created
// when failed says the run left nothing in it.
func (o *trainOpts) claimDir(dir string, progress io.Writer) (release func(failed bool), err error) {
	_, statErr := os.Stat(dir)
	created := os.IsNotExist(statErr)
	l, err := train.LockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	release = func(failed bool) {
		if failed && created {
			os.Remove(filepath.Join(dir, train.LockFile))
			os.Remove(dir) // Remove keeps a directory that holds checkpoints
		}
		l.Unlock()
	}
	if f := train.HoldsRun(dir); f != "" && o.Resume == "" && !o.Overwrite {
		release(false)
		return nil, usagef("--out %s holds another run (%s): --resume it, choose another --out or --name, or give --overwrite", dir, f)
	}
	gone, err := train.CleanTemps(dir)
	if err != nil {
		release(false)
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	if len(gone) > 0 {
		fmt.Fprintf(progress, "removed %d temporary files of killed runs from %s\n", len(gone), dir)
	}
	return release, nil
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
		name, ok := schedFlags[ce.Field]
		if !ok {
			return flagErr("schedule", ce.Schedule, ce.Field+" "+ce.Want)
		}
		return flagErr(name, ce.Value, ce.Want+" ("+ce.Schedule+" schedule)")
	}
	return err
}

// schedFlags are the flags of sched.Config's fields, by their PyTorch
// names.
var schedFlags = map[string]string{"step_size": "step-size", "gamma": "gamma", "milestones": "milestones", "eta_min": "min-lr",
	"T_0": "t0", "T_mult": "t-mult", "pct_start": "pct-start", "power": "power"}

// fieldFlag maps a config field name (BatchSize, Text.MaxLen) to its flag
// (batch-size, max-len).
func fieldFlag(field string) string {
	if f, ok := map[string]string{"Loss.Name": "loss", "Loss": "loss", "ClipNorm": "clip", "Diffs": "diff"}[field]; ok {
		return f
	}
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
	return b.String()
}
