package model

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// recurrent is what the model needs from nn's LSTM, GRU and RNN.
type recurrent interface {
	Forward(tp *nn.Tape, x *nn.Var, lengths []int, h0 *nn.State) (*nn.Var, *nn.State)
	Params() []*nn.Param
	RNG() *tensor.RNG
}

// stack builds the spec's recurrent stack over inputs of width in,
// initialized from rng. Dropout between layers is the spec's Dropout when
// there is more than one layer.
func (s Spec) stack(in int, rng *tensor.RNG) (recurrent, error) {
	var inner float64
	if s.Layers > 1 {
		inner = s.Dropout
	}
	var (
		r   recurrent
		err error
	)
	switch s.Cell {
	case "gru":
		r, err = nn.NewGRU(nn.GRUConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, Dropout: inner,
			Init: s.rnnInit(), InputDropout: s.InputDropout, RecurrentDropout: s.RecurrentDropout, WeightDrop: s.WeightDrop, Zoneout: s.Zoneout,
			ResetBefore: s.ResetBefore}, rng)
	case "rnn", "rnn_relu":
		act := "tanh"
		if s.Cell == "rnn_relu" {
			act = "relu"
		}
		r, err = nn.NewRNN(nn.RNNConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Nonlinearity: act, Bidirectional: s.Bidirectional, Dropout: inner,
			Init: s.rnnInit(), InputDropout: s.InputDropout, RecurrentDropout: s.RecurrentDropout, WeightDrop: s.WeightDrop, Zoneout: s.Zoneout}, rng)
	default:
		r, err = nn.NewLSTM(nn.LSTMConfig{InputSize: in, HiddenSize: s.Hidden, NumLayers: s.Layers, Bidirectional: s.Bidirectional, Dropout: inner,
			ProjSize: s.Proj, Init: s.rnnInit(), ForgetBias: s.ForgetBias, Peephole: s.Peephole,
			InputDropout: s.InputDropout, RecurrentDropout: s.RecurrentDropout, WeightDrop: s.WeightDrop, Zoneout: s.Zoneout}, rng)
	}
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return r, nil
}

// body is the part every network but seq2seq shares: an optional
// embedding (token inputs), the recurrent stack, dropout before the head
// and the head itself. Layers the spec does not ask for are nil.
type body struct {
	emb     *nn.Embedding
	embDrop *nn.EmbeddingDropout
	rnn     recurrent
	drop    *nn.Dropout
	pool    *nn.AttentionPool
	head    *nn.Linear
	dropRNG *tensor.RNG
	// ar and tar are the activation regularization of the stack's
	// output in training (FitConfig.AR, TAR).
	ar, tar float64
}

// newBody builds the layers of spec in PyTorch's initialization order:
// embedding (when vocab > 0), stack, attention pool (when asked), head to
// out outputs (none when out is 0).
func newBody(s Spec, vocab, out int, seed uint64) (*body, error) {
	rng := tensor.NewRNG(seed)
	b := &body{dropRNG: rng.Split()}
	in := s.Inputs
	if vocab > 0 {
		b.emb = nn.NewEmbedding(vocab, s.Embed, -1, rng)
		in = s.Embed
		if s.InitEmbed != "" {
			sc, _, _ := initScheme(s.InitEmbed) // checked by Spec.validate
			if err := sc.Fill(b.emb.Weight.Value, 1, 1, rng); err != nil {
				return nil, fmt.Errorf("model: init_embed: %w", err)
			}
		}
	}
	var err error
	if b.rnn, err = s.stack(in, rng); err != nil {
		return nil, err
	}
	if s.Pool == "attention" {
		b.pool = nn.NewAttentionPool(s.features(), s.features(), rng)
	}
	if out > 0 {
		b.head = nn.NewLinear(s.features(), out, true, rng)
		if s.InitHead != "" {
			sc, _, _ := initScheme(s.InitHead) // checked by Spec.validate
			if err := sc.Fill(b.head.Weight.Value, 1, 1/math.Sqrt(float64(s.features())), rng); err != nil {
				return nil, fmt.Errorf("model: init_head: %w", err)
			}
		}
	}
	if s.Dropout > 0 {
		b.drop = nn.NewDropout(s.Dropout, b.dropRNG)
	}
	if s.EmbedDropout > 0 {
		b.embDrop = nn.NewEmbeddingDropout(s.EmbedDropout, b.dropRNG)
	}
	return b, nil
}

// params returns the body's parameters under their state_dict prefixes:
// embedding., rnn., pool., head. (a tied head's weight is the
// embedding's and is listed once).
func (b *body) params(tied bool) []*nn.Param {
	var ps []*nn.Param
	if b.emb != nil {
		ps = append(ps, nn.Prefix("embedding", b.emb.Params())...)
	}
	ps = append(ps, nn.Prefix("rnn", b.rnn.Params())...)
	if b.pool != nil {
		ps = append(ps, nn.Prefix("pool", b.pool.Params())...)
	}
	if b.head != nil {
		hp := b.head.Params()
		if tied {
			hp = hp[1:]
		}
		ps = append(ps, nn.Prefix("head", hp)...)
	}
	return ps
}

// rngs returns the generators of the body's training-time masks.
func (b *body) rngs() []*tensor.RNG { return []*tensor.RNG{b.dropRNG, b.rnn.RNG()} }

// embed looks up ids laid out as shape, dropping whole vocabulary rows
// in training when the spec asks for embedding dropout.
func (b *body) embed(tp *nn.Tape, ids []int, shape ...int) *nn.Var {
	if b.embDrop == nil {
		return b.emb.Forward(tp, ids, shape...)
	}
	return b.embDrop.Forward(tp, b.emb, ids, shape...)
}

// recur runs the recurrent stack (lengths and h0 as nn's layers take
// them) and, in training, adds AR and TAR on its output: their gradients
// go into the output's before the loss's backward reaches it. Merity et
// al. put AR on the dropped-out output; here both act on the output
// itself, so AR does not depend on the dropout mask.
func (b *body) recur(tp *nn.Tape, x *nn.Var, lengths []int, h0 *nn.State) (*nn.Var, *nn.State) {
	out, st := b.rnn.Forward(tp, x, lengths, h0)
	if tp.Training() && (b.ar != 0 || b.tar != 0) {
		tp.Grad(out) // from the tape's arena: optim.ActivationReg adds into it
		optim.ActivationReg(out, lengths, b.ar, b.tar)
	}
	return out, st
}

func (b *body) dropout(tp *nn.Tape, x *nn.Var) *nn.Var {
	if b.drop == nil {
		return x
	}
	return b.drop.Forward(tp, x)
}

// final returns the top layer's final hidden state, (B, features): the
// forward and reverse directions side by side for a bidirectional stack.
func (b *body) final(tp *nn.Tape, st *nn.State, s Spec) *nn.Var {
	top := s.Layers - 1
	if s.Bidirectional {
		return nn.Concat(tp, 1, nn.Select(tp, st.H, 2*top), nn.Select(tp, st.H, 2*top+1))
	}
	return nn.Select(tp, st.H, top)
}
