package benchrun

import (
	"fmt"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// Model is a configuration built and ready to run: Step runs one training
// step (forward, loss, backward, Adam) or, for the inference kinds, one
// forward pass. Loss is the last training step's loss (0 for inference).
// The networks are the model package's front doors, trained through
// train.Trainer.Step: what is measured is what users run.
type Model struct {
	Config Config
	Loss   float64
	m      model.Model
	step   func() float64
}

// Step runs one step.
func (m *Model) Step() { m.Loss = m.step() }

// NumParams counts the model's float32 parameters.
func (m *Model) NumParams() int { return m.m.NumParams() }

// Build builds the model of c with weights and data drawn from seed. The
// data are fixed random inputs and targets of c's shapes, made once: a
// step measures the model, not a loader.
func Build(c Config, seed uint64) (*Model, error) { return build(c, seed, nn.FP32) }

// build is Build with the training steps in precision p.
func build(c Config, seed uint64, p nn.Precision) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, err := model.Build(c.spec(), seed)
	if err != nil {
		return nil, fmt.Errorf("benchrun: config %q: %w", c.Name, err)
	}
	b := &Model{Config: c, m: m}
	rng := tensor.NewRNG(seed + 1)
	if !c.Training() {
		b.step = inference(c, m, rng)
		return b, nil
	}
	tr, err := newTrainer(m, p)
	if err != nil {
		return nil, err
	}
	batch := c.batch(rng)
	b.step = func() float64 {
		l, err := tr.Step(batch)
		if err != nil {
			panic(fmt.Sprintf("benchrun: %s: %v", c.Name, err))
		}
		return l
	}
	return b, nil
}

// spec is the front door's architecture for c.
func (c Config) spec() model.Spec {
	switch c.Kind {
	case KindLSTM:
		// The recurrent stack alone, its hidden states regressed on
		// targets with the mean squared error.
		return model.Spec{Task: model.Tag, Inputs: c.I, Hidden: c.H, Layers: c.L, Targets: c.H, NoHead: true}
	case KindForecast:
		return model.Spec{Task: model.Forecast, Inputs: c.I, Hidden: c.H, Layers: c.L}
	case KindLM:
		return model.Spec{Task: model.LM, Vocab: c.V, Embed: c.E, Hidden: c.H, Layers: c.L}
	case KindClassifier, KindClassify:
		return model.Spec{Task: model.Classify, Vocab: c.V, Embed: c.E, Hidden: c.H, Layers: c.L, Bidirectional: c.Bidirectional, Classes: c.C, Pool: "mean"}
	default:
		return model.Spec{Task: model.Seq2Seq, Vocab: c.V, TgtVocab: c.V, Embed: c.E, Hidden: c.H, Layers: c.L, Attention: "general"}
	}
}

// newTrainer trains m's task with Adam at 1e-3, without clipping, its
// steps in precision p.
func newTrainer(m model.Model, p nn.Precision) (*train.Trainer, error) {
	opt, err := optim.New("adam", m.Params(), optim.Config{LR: 1e-3})
	if err != nil {
		return nil, err
	}
	return train.New(m.Task(), opt, train.Config{Precision: p})
}

// batch is one fixed random training batch of c's shapes, as the task of
// c's front door takes it.
func (c Config) batch(rng *tensor.RNG) train.Batch {
	switch c.Kind {
	case KindLSTM:
		return model.NewTagBatch(uniform(rng, c.T, c.B, c.I), uniform(rng, c.T, c.B, c.H))
	case KindLM:
		return &text.Chunk{X: randIDs(rng, c.T*c.B, c.V), Y: randIDs(rng, c.T*c.B, c.V), T: c.T, B: c.B}
	case KindClassifier:
		return &model.TextBatch{IDs: randIDs(rng, c.T*c.B, c.V), T: c.T, B: c.B, Labels: randIDs(rng, c.B, c.C)}
	default:
		return &model.PairBatch{Src: randIDs(rng, c.T*c.B, c.V), TgtIn: randIDs(rng, c.Tt*c.B, c.V), Target: randIDs(rng, c.Tt*c.B, c.V),
			Ts: c.T, Tt: c.Tt, B: c.B}
	}
}

// inference returns the step of an inference configuration: one forward
// pass of a window (forecast) or of a text (classify), batch one.
func inference(c Config, m model.Model, rng *tensor.RNG) func() float64 {
	if fc, ok := m.(*model.Forecaster); ok {
		x := uniform(rng, c.T, c.B, c.I)
		return func() float64 { fc.Forward(x); return 0 }
	}
	cl := m.(*model.Classifier)
	b := &model.TextBatch{IDs: randIDs(rng, c.T*c.B, c.V), T: c.T, B: c.B}
	return func() float64 { cl.Logits(b); return 0 }
}

func randIDs(rng *tensor.RNG, n, V int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(V)
	}
	return ids
}

func uniform(rng *tensor.RNG, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	rng.FillUniform(t, -1, 1)
	return t
}
