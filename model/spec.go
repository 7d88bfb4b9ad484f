package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/recur-ml/recur/nn"
)

// Tasks that Build knows.
const (
	Forecast = "forecast"
	Classify = "classify"
	LM       = "lm"
	Seq2Seq  = "seq2seq"
	// Tag labels or regresses every step of numeric sequences.
	Tag = "tag"
)

// Spec describes a model. Zero fields mean the documented defaults.
type Spec struct {
	Task string `json:"task" yaml:"task"`
	// Cell is the recurrent cell: "lstm" (default), "gru", "rnn" (tanh)
	// or "rnn_relu"; seq2seq is lstm only.
	Cell string `json:"cell,omitempty" yaml:"cell"`
	// Hidden is the hidden size (zero: 64); Layers the stack depth (zero: 1).
	Hidden int `json:"hidden,omitempty" yaml:"hidden"`
	Layers int `json:"layers,omitempty" yaml:"layers"`
	// Proj, when > 0, projects an LSTM's hidden state to this size
	// (PyTorch's proj_size, LSTMP).
	Proj int `json:"proj,omitempty" yaml:"proj"`
	// Peephole gives an LSTM peephole connections from the cell to its
	// gates (nn.LSTMConfig.Peephole; ONNX's LSTM has them, PyTorch's has
	// not), with parameters weight_peephole_lk. ResetBefore makes a GRU
	// apply its reset gate before the recurrent product (Cho et al.'s GRU,
	// ONNX's linear_before_reset = 0, Keras' reset_after = False;
	// nn.GRUConfig.ResetBefore). Both are for models imported from ONNX or
	// Keras; not for seq2seq.
	Peephole    bool `json:"peephole,omitempty" yaml:"peephole"`
	ResetBefore bool `json:"reset_before,omitempty" yaml:"reset_before"`
	// Bidirectional runs a reverse direction too (not lm: a language model
	// cannot look ahead). A forecaster reads the final states of both
	// directions over the lookback window.
	Bidirectional bool `json:"bidirectional,omitempty" yaml:"bidirectional"`
	// Dropout between stacked layers and before the head.
	Dropout float64 `json:"dropout,omitempty" yaml:"dropout"`

	// Recurrent regularizers of the recurrent stack (forecast, classify,
	// lm; active only in training; zero: off; each in [0, 1)), as in
	// nn.LSTMConfig: InputDropout is variational dropout on the first
	// layer's input (one mask per sequence for all steps),
	// RecurrentDropout drops h where it enters W_hh·h, WeightDrop is
	// DropConnect on W_hh (AWD-LSTM) and Zoneout keeps units at their
	// previous value with this probability.
	InputDropout     float64 `json:"input_dropout,omitempty" yaml:"input_dropout"`
	RecurrentDropout float64 `json:"recurrent_dropout,omitempty" yaml:"recurrent_dropout"`
	WeightDrop       float64 `json:"weight_drop,omitempty" yaml:"weight_drop"`
	Zoneout          float64 `json:"zoneout,omitempty" yaml:"zoneout"`
	// EmbedDropout drops whole rows of the embedding, that is whole words
	// of the vocabulary, per forward pass (classify, lm; nn.EmbeddingDropout).
	EmbedDropout float64 `json:"embed_dropout,omitempty" yaml:"embed_dropout"`
	// Init is the recurrent weights' initialization (weight_ih, and
	// weight_hh unless InitRecurrent is set): "default" (PyTorch's
	// U(-1/√H, 1/√H); zero value), "uniform:A,B", "normal:MEAN,STD",
	// "xavier_uniform", "xavier_normal", "kaiming_uniform",
	// "kaiming_normal" or "orthogonal", these five with an optional gain
	// ("orthogonal:1.5"; glorot_* and he_* are aliases), "zero" or
	// "constant:V" (torch.nn.init's functions). InitRecurrent likewise
	// for weight_hh alone (orthogonal blocks per gate, as Keras), InitHead
	// for the output layer's weight (its default is PyTorch's Linear
	// U(-1/√in, 1/√in); its bias keeps that draw).
	Init          string `json:"init,omitempty" yaml:"init"`
	InitRecurrent string `json:"init_recurrent,omitempty" yaml:"init_recurrent"`
	InitHead      string `json:"init_head,omitempty" yaml:"init_head"`
	// InitEmbed initializes the token embedding likewise (default:
	// PyTorch's N(0, 1); "uniform:-0.1,0.1" is Zaremba et al.'s).
	InitEmbed string `json:"init_embed,omitempty" yaml:"init_embed"`
	// ForgetBias, when not 0, sets an LSTM's total forget-gate bias (the
	// f block of bias_ih; bias_hh's is 0), e.g. 1 (Jozefowicz et al.).
	ForgetBias float64 `json:"forget_bias,omitempty" yaml:"forget_bias"`
	// Chrono, when >= 2, sets an LSTM's forget and input gate biases by
	// the chrono initialization for dependencies up to this many steps
	// (Tallec and Ollivier 2018; nn.Init.Chrono): for long memories such
	// as the adding problem's.
	Chrono int `json:"chrono,omitempty" yaml:"chrono"`

	// Inputs is the number of features per step (forecast, tag; zero: 1;
	// classify numeric sequences instead of tokens when Vocab is 0).
	Inputs int `json:"inputs,omitempty" yaml:"inputs"`
	// Targets is the number of predicted series (forecast; zero: 1) and
	// Horizon the number of future steps of each (zero: 1). A tagger
	// regresses Targets values per step (or labels Classes).
	Targets int `json:"targets,omitempty" yaml:"targets"`
	Horizon int `json:"horizon,omitempty" yaml:"horizon"`
	// Quantiles, when set, makes a forecaster predict these quantile
	// levels of every target and step (sorted, in (0, 1)), trained with
	// the pinball loss: prediction intervals. Its point forecast is the
	// level nearest 0.5.
	Quantiles []float64 `json:"quantiles,omitempty" yaml:"quantiles"`
	// Residual makes the forecast head predict the change from the last
	// observed value of each target (the first Targets input features).
	Residual bool `json:"residual,omitempty" yaml:"residual"`
	// Local makes a forecaster read each window relative to its last row:
	// the target columns of every step minus their value at the window's
	// last step (in the pipeline's scaled space), the local window scaling
	// of N-BEATS and DeepAR. The network then reads shapes, not levels,
	// and a test period beyond the training range (a trending series)
	// reaches it inside the range it was trained on; with Residual the
	// whole forecaster is invariant to the level.
	Local bool `json:"local,omitempty" yaml:"local"`
	// Base, "holt-winters", "arima" or "holt-winters+arima", makes a
	// forecaster a hybrid: the network's output corrects the forecast of
	// a statistical model fitted on the training rows
	// (series.AutoHoltWinters, series.AutoARIMA as R's auto.arima, or the
	// mean of the two) instead of standing alone; its head starts at
	// zero, so the untrained model is the statistical one itself. It
	// replaces Residual. BaseAuto ("auto") lets the forecaster choose on a
	// validation tail between the network alone, the Holt-Winters hybrid
	// and each statistical model alone (Forecaster.Fit). Empty: none.
	Base string `json:"base,omitempty" yaml:"base"`
	// Ensemble, when 2 or more, makes a forecaster that many networks of
	// the same architecture, initialized from different seeds and trained
	// side by side on the same batches, each on its own loss; the forecast
	// is their mean (each quantile level's mean with Quantiles). Averaging
	// independently initialized networks lowers the variance that makes a
	// small network's forecast of a short series depend on its seed. The
	// first member's parameters keep their names; member k's are
	// prefixed "ensemble.k.". Zero or 1: one network.
	Ensemble int `json:"ensemble,omitempty" yaml:"ensemble"`

	// Vocab is the vocabulary size and Embed the embedding width
	// (classify, lm; zero Embed: Hidden).
	Vocab int `json:"vocab,omitempty" yaml:"vocab"`
	Embed int `json:"embed,omitempty" yaml:"embed"`
	// Classes is the number of classes (classify; tag with labels).
	Classes int `json:"classes,omitempty" yaml:"classes"`
	// NoHead makes a tagger's outputs the top layer's hidden states
	// themselves, regressed on Targets = the feature width (Keras' LSTM
	// with return_sequences as the whole model).
	NoHead bool `json:"no_head,omitempty" yaml:"no_head"`
	// Pool reduces the sequence for classify: "last" (default), "mean",
	// "max" or "attention" (learned attention pooling).
	Pool string `json:"pool,omitempty" yaml:"pool"`
	// Tie shares the embedding matrix with the output layer (lm; needs
	// Embed == Hidden).
	Tie bool `json:"tie,omitempty" yaml:"tie"`

	// TgtVocab is the target vocabulary size (seq2seq; Vocab is the
	// source's) and Attention the attention kind: "general" (default),
	// "dot", "concat" or "bahdanau".
	TgtVocab  int    `json:"tgt_vocab,omitempty" yaml:"tgt_vocab"`
	Attention string `json:"attention,omitempty" yaml:"attention"`

	// Quantize, "int8" or "bf16", marks a model whose recurrent stack and
	// head run their inference on int8 or bfloat16 weights (Quantize,
	// QuantizeAs; not seq2seq). Empty: float32.
	Quantize string `json:"quantize,omitempty" yaml:"quantize"`
}

// SpecError reports an invalid field of a Spec.
type SpecError struct {
	Field string
	Value any
	Want  string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("model: spec: %s = %v: want %s", e.Field, e.Value, e.Want)
}

// withDefaults fills zero fields and validates.
func (s Spec) withDefaults() (Spec, error) {
	if s.Cell == "" {
		s.Cell = "lstm"
	}
	s.Cell = strings.ToLower(s.Cell)
	if s.Cell == "rnn_tanh" {
		s.Cell = "rnn"
	}
	if s.Hidden == 0 {
		s.Hidden = 64
	}
	if s.Layers == 0 {
		s.Layers = 1
	}
	if err := s.checkLimits(); err != nil {
		return s, err
	}
	if err := s.checkStack(); err != nil {
		return s, err
	}
	if err := s.checkRegularizers(); err != nil {
		return s, err
	}
	if err := s.checkQuantize(); err != nil {
		return s, err
	}
	check, ok := map[string]func(*Spec) error{Forecast: (*Spec).checkForecast, Tag: (*Spec).checkTag,
		Seq2Seq: (*Spec).checkSeq2Seq, Classify: (*Spec).checkText, LM: (*Spec).checkText}[s.Task]
	if !ok {
		return s, &SpecError{"task", s.Task, "forecast, classify, lm, seq2seq or tag"}
	}
	return s, check(&s)
}

// checkStack validates the recurrent stack's fields.
func (s *Spec) checkStack() error {
	switch {
	case s.Cell != "lstm" && s.Cell != "gru" && s.Cell != "rnn" && s.Cell != "rnn_relu":
		return &SpecError{"cell", s.Cell, "lstm, gru, rnn or rnn_relu"}
	case s.Hidden < 0:
		return &SpecError{"hidden", s.Hidden, "> 0"}
	case s.Layers < 0:
		return &SpecError{"layers", s.Layers, "> 0"}
	case s.Proj < 0 || s.Proj > 0 && s.Cell != "lstm":
		return &SpecError{"proj", s.Proj, "a projection size >= 0, for an lstm"}
	case s.Proj > 0 && s.Proj >= s.Hidden:
		return &SpecError{"proj", s.Proj, fmt.Sprintf("smaller than hidden (%d)", s.Hidden)}
	case s.ForgetBias != 0 && s.Cell != "lstm":
		return &SpecError{"forget_bias", s.ForgetBias, "0: only an lstm has a forget gate"}
	case s.Chrono < 0 || s.Chrono == 1 || s.Chrono > 0 && s.Cell != "lstm":
		return &SpecError{"chrono", s.Chrono, "the longest dependency in steps, >= 2, for an lstm (0: off)"}
	case s.Chrono > 0 && s.ForgetBias != 0:
		return &SpecError{"chrono", s.Chrono, "0 with forget_bias: both set the forget gate's bias"}
	case s.Peephole && (s.Cell != "lstm" || s.Task == Seq2Seq):
		return &SpecError{"peephole", true, "false: peepholes are for an lstm, not seq2seq"}
	case s.ResetBefore && (s.Cell != "gru" || s.Task == Seq2Seq):
		return &SpecError{"reset_before", true, "false: it is for a gru, not seq2seq"}
	case s.Bidirectional && s.Task == LM:
		return &SpecError{"bidirectional", true, "false: a language model cannot look ahead"}
	}
	return nil
}

// checkRegularizers validates dropout probabilities and initializations,
// and that the task supports them.
func (s *Spec) checkRegularizers() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"dropout", s.Dropout}, {"input_dropout", s.InputDropout}, {"recurrent_dropout", s.RecurrentDropout},
		{"weight_drop", s.WeightDrop}, {"zoneout", s.Zoneout}, {"embed_dropout", s.EmbedDropout}} {
		if !(f.v >= 0 && f.v < 1) {
			return &SpecError{f.name, f.v, "in [0, 1)"}
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"init", &s.Init}, {"init_recurrent", &s.InitRecurrent}, {"init_head", &s.InitHead}, {"init_embed", &s.InitEmbed}} {
		sc, canon, err := initScheme(*f.v)
		if err != nil {
			return &SpecError{f.name, *f.v, err.Error()}
		}
		if *f.v != "" && (f.name != "init" || sc.Kind != nn.InitDefault) {
			*f.v = canon
		} else {
			*f.v = ""
		}
	}
	for _, f := range []struct {
		name string
		v    any
		set  bool
	}{{"input_dropout", s.InputDropout, s.InputDropout != 0}, {"recurrent_dropout", s.RecurrentDropout, s.RecurrentDropout != 0},
		{"weight_drop", s.WeightDrop, s.WeightDrop != 0}, {"zoneout", s.Zoneout, s.Zoneout != 0}, {"init", s.Init, s.Init != ""},
		{"init_recurrent", s.InitRecurrent, s.InitRecurrent != ""}, {"init_head", s.InitHead, s.InitHead != ""}, {"init_embed", s.InitEmbed, s.InitEmbed != ""}, {"chrono", s.Chrono, s.Chrono != 0}, {"forget_bias", s.ForgetBias, s.ForgetBias != 0},
		{"embed_dropout", s.EmbedDropout, s.EmbedDropout != 0}, {"proj", s.Proj, s.Proj != 0}, {"quantiles", s.Quantiles, s.Quantiles != nil}, {"base", s.Base, s.Base != ""}, {"local", s.Local, s.Local}, {"ensemble", s.Ensemble, s.Ensemble != 0}} {
		forecastOnly := f.name == "quantiles" || f.name == "base" || f.name == "local" || f.name == "ensemble"
		if f.set && (s.Task == Seq2Seq || (s.Task == Forecast || s.Task == Tag) && (f.name == "embed_dropout" || f.name == "init_embed")) || forecastOnly && f.set && s.Task != Forecast {
			return &SpecError{f.name, f.v, "0: the " + s.Task + " task does not support it"}
		}
	}
	return nil
}

// positive fills zero ints with 1 and rejects negative ones.
func positive(fields map[string]*int) error {
	for _, name := range sortedNames(fields) {
		v := fields[name]
		if *v == 0 {
			*v = 1
		}
		if *v < 0 {
			return &SpecError{name, *v, "> 0"}
		}
	}
	return nil
}

func sortedNames(m map[string]*int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (s *Spec) checkForecast() error {
	if err := positive(map[string]*int{"inputs": &s.Inputs, "targets": &s.Targets, "horizon": &s.Horizon}); err != nil {
		return err
	}
	for i, q := range s.Quantiles {
		if !(q > 0 && q < 1) || i > 0 && q <= s.Quantiles[i-1] {
			return &SpecError{"quantiles", s.Quantiles, "increasing levels in (0, 1)"}
		}
	}
	if s.Targets > s.Inputs {
		return &SpecError{"targets", s.Targets, fmt.Sprintf("at most the inputs (%d): targets are input features too", s.Inputs)}
	}
	if s.Base != "" && s.Base != BaseHoltWinters && s.Base != BaseARIMA && s.Base != BaseCombined && s.Base != BaseAuto {
		return &SpecError{"base", s.Base, "auto, holt-winters, arima, holt-winters+arima or none (empty)"}
	}
	return nil
}

func (s *Spec) checkTag() error {
	if s.Inputs == 0 {
		s.Inputs = 1
	}
	switch {
	case s.Inputs < 0:
		return &SpecError{"inputs", s.Inputs, "> 0"}
	case s.Classes != 0 && s.Targets != 0, s.Classes == 0 && s.Targets <= 0, s.Classes == 1 || s.Classes < 0:
		return &SpecError{"classes", s.Classes, fmt.Sprintf("a tagger labels classes (at least 2) or regresses targets (> 0), not both; targets = %d", s.Targets)}
	case s.NoHead && (s.Classes != 0 || s.Targets != s.features()):
		return &SpecError{"no_head", true, fmt.Sprintf("regresses targets = the feature width %d without a head; targets = %d, classes = %d", s.features(), s.Targets, s.Classes)}
	}
	return nil
}

func (s *Spec) checkSeq2Seq() error {
	switch {
	case s.Vocab <= 0:
		return &SpecError{"vocab", s.Vocab, "> 0"}
	case s.TgtVocab <= 0:
		return &SpecError{"tgt_vocab", s.TgtVocab, "> 0"}
	}
	if s.Embed == 0 {
		s.Embed = s.Hidden
	}
	switch s.Attention {
	case "":
		s.Attention = nn.LuongGeneral
	case "bahdanau", nn.LuongDot, nn.LuongGeneral, nn.LuongConcat:
	default:
		return &SpecError{"attention", s.Attention, "general, dot, concat or bahdanau"}
	}
	return nil
}

func (s *Spec) checkText() error {
	if s.Embed == 0 {
		s.Embed = s.Hidden
	}
	numeric := s.Task == Classify && s.Vocab == 0 && s.Inputs > 0
	if numeric {
		s.Embed = 0 // numeric sequences feed the stack directly
	}
	switch {
	case s.Vocab <= 0 && !numeric:
		return &SpecError{"vocab", s.Vocab, "> 0 (or inputs > 0 for a classifier of numeric sequences)"}
	case s.Vocab > 0 && s.Inputs != 0:
		return &SpecError{"inputs", s.Inputs, "0 for token inputs (vocab > 0)"}
	case s.Embed < 0:
		return &SpecError{"embed", s.Embed, "> 0"}
	case s.Task == LM && s.Tie && s.InitHead != "":
		return &SpecError{"init_head", s.InitHead, "empty with tie (the head's weight is the embedding)"}
	case s.Task == LM && s.Tie && s.Embed != s.features():
		return &SpecError{"tie", true, fmt.Sprintf("false unless embed (%d) equals the output width (%d)", s.Embed, s.features())}
	case s.Task == LM:
		return nil
	case s.Classes < 2:
		return &SpecError{"classes", s.Classes, ">= 2"}
	}
	if s.Pool == "" {
		s.Pool = "last"
	}
	if s.Pool != "last" && s.Pool != "mean" && s.Pool != "max" && s.Pool != "attention" {
		return &SpecError{"pool", s.Pool, "last, mean, max or attention"}
	}
	return nil
}

// features is the width of the recurrent stack's output per step: the
// hidden (or projection) size times the directions.
func (s Spec) features() int {
	f := s.Hidden
	if s.Proj > 0 {
		f = s.Proj
	}
	if s.Bidirectional {
		f *= 2
	}
	return f
}

// initWant lists the initializations a Spec accepts.
const initWant = "default, uniform:A,B, normal:MEAN,STD, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal or orthogonal (these five with an optional :GAIN), zero or constant:V"

// initScheme parses an initialization of a Spec: a kind, then after a
// colon the numbers it takes (uniform:-0.1,0.1; normal:0,0.02;
// orthogonal:1.5; constant:0.5), and returns it with its canonical
// spelling (he_normal is kaiming_normal).
func initScheme(spec string) (nn.Scheme, string, error) {
	name, args, hasArgs := strings.Cut(strings.TrimSpace(spec), ":")
	k, err := nn.ParseInitKind(name)
	if err != nil {
		return nn.Scheme{}, "", errors.New(initWant)
	}
	var nums []float64
	if hasArgs {
		for _, a := range strings.Split(args, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nn.Scheme{}, "", fmt.Errorf("finite numbers after %q:, got %q", name, args)
			}
			nums = append(nums, v)
		}
	}
	sc := nn.Scheme{Kind: k}
	switch want := len(nums); {
	case k == nn.InitUniform && (want != 2 || !(nums[0] < nums[1])):
		return sc, "", errors.New("uniform:A,B with bounds A < B")
	case k == nn.InitNormal && (want != 2 || !(nums[1] >= 0)):
		return sc, "", errors.New("normal:MEAN,STD with STD >= 0")
	case k == nn.InitConstant && want != 1:
		return sc, "", errors.New("constant:V")
	case (k == nn.InitDefault || k == nn.InitZero) && want != 0:
		return sc, "", fmt.Errorf("%v without numbers", k)
	case k >= nn.InitXavierUniform && k <= nn.InitOrthogonal && (want > 1 || want == 1 && !(nums[0] > 0)):
		return sc, "", fmt.Errorf("%v or %v:GAIN with GAIN > 0", k, k)
	}
	if len(nums) > 0 {
		sc.A = nums[0]
	}
	if len(nums) > 1 {
		sc.B = nums[1]
	}
	canon := k.String()
	if hasArgs {
		parts := make([]string, len(nums))
		for i, v := range nums {
			parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		canon += ":" + strings.Join(parts, ",")
	}
	return sc, canon, nil
}

// rnnInit returns the nn.Init that Init and InitRecurrent select.
func (s Spec) rnnInit() nn.Init {
	w, _, _ := initScheme(s.Init)
	r := w
	if s.InitRecurrent != "" {
		r, _, _ = initScheme(s.InitRecurrent)
	}
	return nn.Init{Weight: w, Recurrent: r, Chrono: s.Chrono}
}

// ParseSpec decodes a spec from JSON or YAML (name decides: .json is
// JSON, anything else YAML, which also accepts JSON). Unknown fields are
// errors that name the file and line.
func ParseSpec(name string, b []byte) (Spec, error) {
	var s Spec
	if strings.HasSuffix(name, ".json") {
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// ReadSpec reads a spec file.
func ReadSpec(path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("model: %w", err)
	}
	return ParseSpec(path, b)
}
