package benchrun

import (
	"fmt"

	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// Model is a configuration built and ready to run: Step runs one training
// step (forward, loss, backward, Adam) or, for the inference kinds, one
// forward pass with a nil tape. Loss is the last training step's loss
// (0 for inference).
type Model struct {
	Config Config
	Params []*nn.Param
	Loss   float64
	step   func() float64
}

// Step runs one step.
func (m *Model) Step() { m.Loss = m.step() }

// NumParams counts the model's float32 parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.Params {
		n += len(p.Value.Data)
	}
	return n
}

// Build builds the model of c with weights and data drawn from seed. The
// data are fixed random inputs and targets of c's shapes, made once: a
// step measures the model, not a loader.
func Build(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(seed)
	switch c.Kind {
	case KindLSTM, KindForecast:
		return buildLSTM(c, rng)
	case KindLM:
		return buildLM(c, rng)
	case KindClassifier, KindClassify:
		return buildClassifier(c, rng)
	case KindSeq2Seq:
		return buildSeq2Seq(c, rng)
	}
	return nil, fmt.Errorf("benchrun: config %q: unknown kind %q", c.Name, c.Kind)
}

// trainer holds what every training step shares: the tape (reused, so its
// closure slice is not reallocated) and the optimizer.
type trainer struct {
	tp     nn.Tape
	opt    optim.Optimizer
	params []*nn.Param
}

func newTrainer(params []*nn.Param) (*trainer, error) {
	opt, err := optim.New("adam", params, optim.Config{LR: 1e-3})
	if err != nil {
		return nil, err
	}
	return &trainer{opt: opt, params: params}, nil
}

// step runs forward (which records on tp and returns the prediction),
// the loss of the prediction (lossOf writes dL/dpred into g), backward and
// Adam. forward and lossOf are made once per model, and the loss closure
// here does not outlive loss.Record, so a step allocates nothing of its
// own.
func (tr *trainer) step(forward func(tp *nn.Tape) *nn.Var, lossOf func(pred *nn.Var, g []float32) float64) float64 {
	nn.ZeroGrad(tr.params)
	pred := forward(&tr.tp)
	L, v := loss.Record(&tr.tp, pred, func(g []float32) float64 { return lossOf(pred, g) })
	tr.tp.Backward(L, nil)
	tr.opt.Step()
	return v
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

func buildLSTM(c Config, rng *tensor.RNG) (*Model, error) {
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: c.I, HiddenSize: c.H, NumLayers: c.L}, rng)
	if err != nil {
		return nil, err
	}
	x := nn.Constant(uniform(rng, c.T, c.B, c.I)) // data: no gradient wanted, as in PyTorch
	m := &Model{Config: c, Params: l.Params()}
	if c.Kind == KindForecast {
		head := nn.NewLinear(c.H, 1, true, rng)
		m.Params = append(nn.Prefix("lstm", m.Params), nn.Prefix("head", head.Params())...)
		m.step = func() float64 {
			out, _ := l.Forward(nil, x, nil, nil)
			head.Forward(nil, nn.LastStep(nil, out, nil))
			return 0
		}
		return m, nil
	}
	y := uniform(rng, c.T, c.B, c.H)
	tr, err := newTrainer(m.Params)
	if err != nil {
		return nil, err
	}
	forward := func(tp *nn.Tape) *nn.Var {
		out, _ := l.Forward(tp, x, nil, nil)
		return out
	}
	lossOf := func(out *nn.Var, g []float32) float64 { return loss.MSE(g, out.Value.Data, y.Data, loss.Options{}) }
	m.step = func() float64 { return tr.step(forward, lossOf) }
	return m, nil
}

func buildLM(c Config, rng *tensor.RNG) (*Model, error) {
	emb := nn.NewEmbedding(c.V, c.E, -1, rng)
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: c.E, HiddenSize: c.H, NumLayers: c.L}, rng)
	if err != nil {
		return nil, err
	}
	dec := nn.NewLinear(c.H, c.V, true, rng)
	params := append(append(nn.Prefix("embedding", emb.Params()), nn.Prefix("lstm", l.Params())...), nn.Prefix("decoder", dec.Params())...)
	ids, targets := randIDs(rng, c.T*c.B, c.V), randIDs(rng, c.T*c.B, c.V)
	tr, err := newTrainer(params)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: c, Params: params}
	forward := func(tp *nn.Tape) *nn.Var {
		out, _ := l.Forward(tp, emb.Forward(tp, ids, c.T, c.B), nil, nil)
		return dec.Forward(tp, out)
	}
	lossOf := func(logits *nn.Var, g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, targets, c.V, loss.ClassOptions{})
	}
	m.step = func() float64 { return tr.step(forward, lossOf) }
	return m, nil
}

func buildClassifier(c Config, rng *tensor.RNG) (*Model, error) {
	emb := nn.NewEmbedding(c.V, c.E, -1, rng)
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: c.E, HiddenSize: c.H, NumLayers: c.L, Bidirectional: c.Bidirectional}, rng)
	if err != nil {
		return nil, err
	}
	head := nn.NewLinear(c.D()*c.H, c.C, true, rng)
	params := append(append(nn.Prefix("embedding", emb.Params()), nn.Prefix("lstm", l.Params())...), nn.Prefix("head", head.Params())...)
	ids, labels := randIDs(rng, c.T*c.B, c.V), randIDs(rng, c.B, c.C)
	m := &Model{Config: c, Params: params}
	forward := func(tp *nn.Tape) *nn.Var {
		out, _ := l.Forward(tp, emb.Forward(tp, ids, c.T, c.B), nil, nil)
		return head.Forward(tp, nn.MeanPool(tp, out, nil))
	}
	if c.Kind == KindClassify {
		m.step = func() float64 { forward(nil); return 0 }
		return m, nil
	}
	tr, err := newTrainer(params)
	if err != nil {
		return nil, err
	}
	lossOf := func(logits *nn.Var, g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, labels, c.C, loss.ClassOptions{})
	}
	m.step = func() float64 { return tr.step(forward, lossOf) }
	return m, nil
}

func buildSeq2Seq(c Config, rng *tensor.RNG) (*Model, error) {
	s, err := nn.NewSeq2Seq(nn.Seq2SeqConfig{
		SrcVocab: c.V, TgtVocab: c.V, HiddenSize: c.H, EmbedSize: c.E, NumLayers: c.L,
		Attention: nn.LuongGeneral, PadToken: -1,
	}, rng)
	if err != nil {
		return nil, err
	}
	b := nn.Seq2SeqBatch{Src: randIDs(rng, c.T*c.B, c.V), TgtIn: randIDs(rng, c.Tt*c.B, c.V), Ts: c.T, Tt: c.Tt, B: c.B}
	targets := randIDs(rng, c.Tt*c.B, c.V)
	tr, err := newTrainer(s.Params())
	if err != nil {
		return nil, err
	}
	m := &Model{Config: c, Params: s.Params()}
	forward := func(tp *nn.Tape) *nn.Var {
		logits, _ := s.Forward(tp, b, 1, nil)
		return logits
	}
	lossOf := func(logits *nn.Var, g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, targets, c.V, loss.ClassOptions{})
	}
	m.step = func() float64 { return tr.step(forward, lossOf) }
	return m, nil
}
