package model

import (
	"encoding/json"
	"fmt"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// recurrent is what the model needs from nn's LSTM and GRU.
type recurrent interface {
	Forward(tp *nn.Tape, x *nn.Var, lengths []int, h0 *nn.State) (*nn.Var, *nn.State)
	Params() []*nn.Param
	RNG() *tensor.RNG
}

// Model is a built network with its task head and preprocessing state.
// Inference (a nil tape) does not mutate it, so one Model may serve
// concurrent predictions.
type Model struct {
	Spec Spec
	// Prep is the task's preprocessing state (scaler, columns, vocabulary),
	// saved with the weights.
	Prep json.RawMessage

	emb     *nn.Embedding
	embDrop *nn.EmbeddingDropout
	rnn     recurrent
	drop    *nn.Dropout
	head    *nn.Linear
	pool    *nn.AttentionPool
	s2s     *nn.Seq2Seq
	params  []*nn.Param
	// DropRNG draws the dropout masks; the trainer saves its state.
	DropRNG *tensor.RNG
}

// Build validates spec and returns a model initialised from seed the way
// PyTorch initialises the same layers.
func Build(spec Spec, seed uint64) (*Model, error) {
	s, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(seed)
	m := &Model{Spec: s, DropRNG: rng.Split()}
	if s.Task == Seq2Seq {
		m.s2s, err = nn.NewSeq2Seq(nn.Seq2SeqConfig{SrcVocab: s.Vocab, TgtVocab: s.TgtVocab, HiddenSize: s.Hidden, EmbedSize: s.Embed,
			NumLayers: s.Layers, Bidirectional: s.Bidirectional, Attention: s.Attention, Dropout: s.Dropout, PadToken: 0}, rng)
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		m.params = m.s2s.Params()
		return m, nil
	}
	in := s.Inputs
	if s.Task != Forecast {
		m.emb = nn.NewEmbedding(s.Vocab, s.Embed, -1, rng)
		in = s.Embed
	}
	var inner float64
	if s.Layers > 1 {
		inner = s.Dropout
	}
	switch s.Cell {
	case "gru":
		m.rnn, err = nn.NewGRU(nn.GRUConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, Dropout: inner,
			Init: s.rnnInit(), InputDropout: s.InputDropout, RecurrentDropout: s.RecurrentDropout, WeightDrop: s.WeightDrop, Zoneout: s.Zoneout}, rng)
	default:
		m.rnn, err = nn.NewLSTM(nn.LSTMConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, Dropout: inner,
			Init: s.rnnInit(), ForgetBias: s.ForgetBias,
			InputDropout: s.InputDropout, RecurrentDropout: s.RecurrentDropout, WeightDrop: s.WeightDrop, Zoneout: s.Zoneout}, rng)
	}
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	feat := s.Hidden
	if s.Bidirectional {
		feat *= 2
	}
	out := s.Horizon * s.Targets
	switch s.Task {
	case Classify:
		out = s.Classes
	case LM:
		out = s.Vocab
	}
	if s.Task == Classify && s.Pool == "attention" {
		m.pool = nn.NewAttentionPool(feat, feat, rng)
	}
	m.head = nn.NewLinear(feat, out, true, rng)
	if s.Task == LM && s.Tie {
		m.head.Weight = m.emb.Weight
	}
	if s.Dropout > 0 {
		m.drop = nn.NewDropout(s.Dropout, m.DropRNG)
	}
	if s.EmbedDropout > 0 {
		m.embDrop = nn.NewEmbeddingDropout(s.EmbedDropout, m.DropRNG)
	}
	if m.emb != nil {
		m.params = append(m.params, nn.Prefix("embedding", m.emb.Params())...)
	}
	m.params = append(m.params, nn.Prefix("rnn", m.rnn.Params())...)
	if m.pool != nil {
		m.params = append(m.params, nn.Prefix("pool", m.pool.Params())...)
	}
	hp := m.head.Params()
	if s.Task == LM && s.Tie {
		hp = hp[1:] // the weight is the embedding's
	}
	m.params = append(m.params, nn.Prefix("head", hp)...)
	return m, nil
}

// RNGs returns every generator the model draws training-time masks from:
// DropRNG (dropout before the head) and the recurrent stack's own
// generator (dropout between layers, the recurrent regularizers). Pass them
// as train.Config.RNGs so that a checkpoint saves their states and a
// resumed run draws the same masks as an uninterrupted one. The order is
// fixed for a given spec. (A seq2seq model's dropout generator lives inside
// nn.Seq2Seq and is not reachable; only its encoder's is returned.)
func (m *Model) RNGs() []*tensor.RNG {
	g := []*tensor.RNG{m.DropRNG}
	switch {
	case m.rnn != nil:
		g = append(g, m.rnn.RNG())
	case m.s2s != nil:
		g = append(g, m.s2s.RNGs()...)
	}
	return g
}

// Params returns the trainable parameters in state_dict order.
func (m *Model) Params() []*nn.Param { return m.params }

// NumParams returns the number of scalar parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Value.Len()
	}
	return n
}

// embed looks up ids laid out as shape, dropping whole vocabulary rows
// in training when the spec asks for embedding dropout.
func (m *Model) embed(tp *nn.Tape, ids []int, shape ...int) *nn.Var {
	if m.embDrop == nil {
		return m.emb.Forward(tp, ids, shape...)
	}
	return m.embDrop.Forward(tp, m.emb, ids, shape...)
}

func (m *Model) dropout(tp *nn.Tape, x *nn.Var) *nn.Var {
	if m.drop == nil {
		return x
	}
	return m.drop.Forward(tp, x)
}

// forecastForward maps windows x (T, B, Inputs) to predictions
// (B, Horizon·Targets) in scaled units.
func (m *Model) forecastForward(tp *nn.Tape, x *nn.Var) *nn.Var {
	out, _ := m.rnn.Forward(tp, x, nil, nil)
	last := m.dropout(tp, nn.LastStep(tp, out, nil))
	y := m.head.Forward(tp, last)
	if !m.Spec.Residual {
		return y
	}
	T, B, I := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2]
	base := tensor.New(B, m.Spec.Horizon*m.Spec.Targets)
	for b := range B {
		row := x.Value.Data[((T-1)*B+b)*I:]
		for h := range m.Spec.Horizon {
			for k := range m.Spec.Targets {
				base.Data[b*m.Spec.Horizon*m.Spec.Targets+h*m.Spec.Targets+k] = row[k]
			}
		}
	}
	return nn.Add(tp, y, nn.NewVar(base))
}
