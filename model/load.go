package model

import (
	"encoding/json"
	"fmt"

	"github.com/recur-ml/recur/checkpoint"
)

// Build returns the front door of spec's task (a *Forecaster,
// *Classifier, *LanguageModel, *Translator or *Tagger) with the network
// initialized from seed the way PyTorch initializes the same layers, and
// no preprocessing state: for a training loop of one's own through
// Task(), or a benchmark. Vocabulary and class sizes come from the spec.
// To train on raw data and predict from it, use the task's New function
// and Fit instead.
func Build(spec Spec, seed uint64) (Model, error) {
	s, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	switch s.Task {
	case Forecast:
		f := &Forecaster{cfg: ForecastConfig{Spec: s}, lossFn: LossConfig{}.regression()}
		net, err := newForecastNet(s, nil, seed)
		if err != nil {
			return nil, err
		}
		f.core, f.net = core{spec: s, params: net.params(), rngs: net.rngs(), built: true}, net
		return f, nil
	case Classify:
		c := &Classifier{cfg: ClassifyConfig{Spec: s}}
		return c, c.build(s, seed)
	case LM:
		m := &LanguageModel{cfg: LMConfig{Spec: s, SeqLen: 35}}
		return m, m.build(s, seed)
	case Seq2Seq:
		m := &Translator{cfg: TranslateConfig{Spec: s}}
		return m, m.build(s, seed)
	default:
		t := &Tagger{cfg: TagConfig{Spec: s}, lossFn: LossConfig{}.regression()}
		return t, t.build(s, seed)
	}
}

// FromFile rebuilds the model stored in f (a model file or a training
// checkpoint): the front door of its spec's task, with its preprocessing
// state and its weights loaded strictly by name and shape. name is used in
// errors. It makes Check's checks first, so a hostile spec is an error
// before any of its network is allocated.
func FromFile(name string, f *checkpoint.File) (Model, error) {
	s, err := checkedSpec(name, f) // before anything is allocated
	if err != nil {
		return nil, err
	}
	prep := json.RawMessage(f.Metadata[MetaPrep])
	if s.Task != Tag && !json.Valid(prep) {
		return nil, fmt.Errorf("%s: metadata %q is missing or not valid JSON", name, MetaPrep)
	}
	var (
		m Model
		c *core
	)
	switch s.Task {
	case Forecast:
		if isGlobalPrep(prep) {
			x, e := globalFrom(s, prep)
			m, c, err = x, coreOf(x, e), e
			break
		}
		x, e := forecasterFrom(s, prep)
		m, c, err = x, coreOf(x, e), e
	case Classify:
		x, e := classifierFrom(s, prep)
		m, c, err = x, coreOf(x, e), e
	case LM:
		x, e := languageModelFrom(s, prep)
		m, c, err = x, coreOf(x, e), e
	case Seq2Seq:
		x, e := translatorFrom(s, prep)
		m, c, err = x, coreOf(x, e), e
	default:
		x, e := taggerFrom(s, prep)
		m, c, err = x, coreOf(x, e), e
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if s.Quantize != "" {
		return m, c.loadQuantized(name, f, m)
	}
	return m, c.loadWeights(name, f)
}

// coreOf returns the core of a front door, nil on error.
func coreOf[M interface{ base() *core }](m M, err error) *core {
	if err != nil {
		return nil
	}
	return m.base()
}

func (c *core) base() *core { return c }

// Load reads a model file written by Save (or a training checkpoint).
func Load(path string) (Model, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	return FromFile(path, f)
}

// load reads path and checks that it holds a model of type M.
func load[M Model](path, task string) (M, error) {
	var zero M
	m, err := Load(path)
	if err != nil {
		return zero, err
	}
	x, ok := m.(M)
	if !ok {
		return zero, fmt.Errorf("%s is a %s model, not a %s model", path, m.Spec().Task, task)
	}
	return x, nil
}

// LoadGlobalForecaster reads a global forecaster's model file.
func LoadGlobalForecaster(path string) (*GlobalForecaster, error) {
	return load[*GlobalForecaster](path, "global forecast")
}

// LoadForecaster reads a forecaster's model file.
func LoadForecaster(path string) (*Forecaster, error) { return load[*Forecaster](path, Forecast) }

// LoadClassifier reads a classifier's model file.
func LoadClassifier(path string) (*Classifier, error) { return load[*Classifier](path, Classify) }

// LoadLanguageModel reads a language model's file.
func LoadLanguageModel(path string) (*LanguageModel, error) { return load[*LanguageModel](path, LM) }

// LoadTranslator reads a translator's model file.
func LoadTranslator(path string) (*Translator, error) { return load[*Translator](path, Seq2Seq) }

// LoadTagger reads a tagger's model file.
func LoadTagger(path string) (*Tagger, error) { return load[*Tagger](path, Tag) }
