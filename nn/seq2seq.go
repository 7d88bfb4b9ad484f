package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// Seq2SeqConfig configures a [Seq2Seq] model. Zero values are the
// documented defaults.
type Seq2SeqConfig struct {
	// SrcVocab and TgtVocab are the vocabulary sizes; required.
	SrcVocab, TgtVocab int
	// HiddenSize is the encoder LSTM's hidden size per direction; required.
	// The decoder's hidden size is D·HiddenSize.
	HiddenSize int
	// EmbedSize is the width of both embeddings; 0 means HiddenSize.
	EmbedSize int
	// NumLayers stacks encoder layers; 0 means 1.
	NumLayers int
	// Bidirectional makes the encoder bidirectional (D = 2).
	Bidirectional bool
	// Attention is "bahdanau", or Luong's "dot", "general" or "concat";
	// "" means "general".
	Attention string
	// AttentionSize is the width of additive (bahdanau, concat) attention;
	// 0 means the decoder's hidden size.
	AttentionSize int
	// Dropout applies to the embeddings and the attentional vector while
	// training; 0 means none.
	Dropout float64
	// PadToken is the padding id of both vocabularies (its embedding stays
	// zero); −1 means none. The zero value 0 is a valid padding id.
	PadToken int
	// Cell is the encoder's and decoder's cell: "lstm" ("" too), "gru",
	// "rnn" (tanh) or "rnn_relu". Without a cell state, the decoder
	// starts from the encoder's final h alone.
	Cell string
}

// Seq2Seq is an attention encoder-decoder (Luong et al., 2015), shown
// for the LSTM cell (a GRU or RNN carries h alone):
//
//	encoder:  an LSTM over the embedded source; keys = its outputs (B, Ts, D·H)
//	decoder:  per step, with the attentional vector of the previous step fed
//	          back (input feeding; zeros at the first step):
//	    h, c = LSTMCell([embed(y_{t−1}); ã_{t−1}], h, c)
//	    context, weights = attention(h, keys) over the source's valid steps
//	    ã_t = tanh(W_c·[context; h])      logits_t = W_o·ã_t + b_o
//
// The decoder starts from the encoder's final states of the top layer,
// [forward | reverse] concatenated. Parameter names: src_embed.weight,
// encoder.* (PyTorch LSTM/GRU/RNN names), tgt_embed.weight, decoder.*
// (LSTMCell/GRUCell/RNNCell names), attention.*, combine.weight,
// out.weight, out.bias.
type Seq2Seq struct {
	Config             Seq2SeqConfig
	SrcEmbed, TgtEmbed *Embedding
	Encoder            Recurrent
	Decoder            Module // *LSTMCell, *GRUCell or *RNNCell
	Attention          Attention
	Combine, Out       *Linear
	drop               *Dropout
	hd                 int          // decoder hidden size D·H
	dec                *cellCore    // the decoder's cell
	params             []*Param     // named once, at construction
	decRun             *CellRun     // an LSTM decoder's steps in training (see CellRun)
	forced             *forcedPacks // teacher-forced training's packed weights (see forcedDecode)
}

// RNGs returns every generator the model draws dropout masks from (the
// encoder's and the decoder's), so that a checkpoint can save and restore
// them and a resumed run draws the same masks.
func (m *Seq2Seq) RNGs() []*tensor.RNG { return []*tensor.RNG{m.Encoder.RNG(), m.drop.RNG()} }

// validate checks c's fields (see Seq2SeqConfig).
func (c Seq2SeqConfig) validate() error {
	const typ = "Seq2Seq"
	if err := checkMin(typ, 1, intField{"src_vocab", c.SrcVocab}, intField{"tgt_vocab", c.TgtVocab}, intField{"hidden_size", c.HiddenSize}); err != nil {
		return err
	}
	if err := checkMin(typ, 0, intField{"embed_size", c.EmbedSize}, intField{"attention_size", c.AttentionSize}, intField{"num_layers", c.NumLayers}); err != nil {
		return err
	}
	switch c.Attention {
	case "", "bahdanau", LuongDot, LuongGeneral, LuongConcat:
	default:
		return fieldError(typ, "attention", c.Attention, attentionKinds+` ("" means general)`)
	}
	switch c.Cell {
	case "", "lstm", "gru", "rnn", "rnn_relu":
	default:
		return fieldError(typ, "cell", c.Cell, `lstm, gru, rnn or rnn_relu ("" means lstm)`)
	}
	switch v := min(c.SrcVocab, c.TgtVocab); {
	case !isProb(c.Dropout):
		return fieldError(typ, "dropout", c.Dropout, wantProb)
	case c.PadToken < -1 || c.PadToken >= v:
		return fieldError(typ, "pad_token", c.PadToken, fmt.Sprintf("in [-1, %d) (-1: none)", v))
	}
	return nil
}

// NewSeq2Seq validates cfg and builds the model from rng.
func NewSeq2Seq(cfg Seq2SeqConfig, rng *tensor.RNG) (*Seq2Seq, error) {
	c := cfg
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.EmbedSize == 0 {
		c.EmbedSize = c.HiddenSize
	}
	if c.NumLayers == 0 {
		c.NumLayers = 1
	}
	if c.Attention == "" {
		c.Attention = LuongGeneral
	}
	hd := c.HiddenSize
	if c.Bidirectional {
		hd *= 2
	}
	if c.AttentionSize == 0 {
		c.AttentionSize = hd
	}
	m := &Seq2Seq{Config: c, hd: hd}
	m.SrcEmbed = NewEmbedding(c.SrcVocab, c.EmbedSize, c.PadToken, rng)
	if err := m.newCells(rng); err != nil {
		return nil, err
	}
	var err error
	if m.Attention, err = NewAttention(c.Attention, hd, hd, c.AttentionSize, rng); err != nil {
		return nil, err
	}
	m.Combine = NewLinear(2*hd, hd, false, rng)
	m.Out = NewLinear(hd, c.TgtVocab, true, rng)
	m.drop = NewDropout(c.Dropout, rng.Split())
	for _, part := range []struct {
		name string
		m    Module
	}{
		{"src_embed", m.SrcEmbed}, {"encoder", m.Encoder}, {"tgt_embed", m.TgtEmbed}, {"decoder", m.Decoder},
		{"attention", m.Attention}, {"combine", m.Combine}, {"out", m.Out},
	} {
		m.params = append(m.params, Prefix(part.name, part.m.Params())...)
	}
	return m, nil
}

// newCells builds the encoder, the target embedding and the decoder cell,
// in that order (PyTorch's construction order, which fixes the draws).
func (m *Seq2Seq) newCells(rng *tensor.RNG) error {
	c := m.Config
	var err error
	act := "tanh"
	switch c.Cell {
	case "gru":
		m.Encoder, err = NewGRU(GRUConfig{InputSize: c.EmbedSize, HiddenSize: c.HiddenSize, NumLayers: c.NumLayers, Bidirectional: c.Bidirectional}, rng)
	case "rnn", "rnn_relu":
		if c.Cell == "rnn_relu" {
			act = "relu"
		}
		m.Encoder, err = NewRNN(RNNConfig{InputSize: c.EmbedSize, HiddenSize: c.HiddenSize, NumLayers: c.NumLayers, Bidirectional: c.Bidirectional, Nonlinearity: act}, rng)
	default:
		m.Encoder, err = NewLSTM(LSTMConfig{InputSize: c.EmbedSize, HiddenSize: c.HiddenSize, NumLayers: c.NumLayers, Bidirectional: c.Bidirectional}, rng)
	}
	if err != nil {
		return err
	}
	m.TgtEmbed = NewEmbedding(c.TgtVocab, c.EmbedSize, c.PadToken, rng)
	in := c.EmbedSize + m.hd
	switch c.Cell {
	case "gru":
		d := NewGRUCell(in, m.hd, true, rng)
		m.Decoder, m.dec = d, &d.core
	case "rnn", "rnn_relu":
		d, err := NewRNNCell(in, m.hd, true, act, rng)
		if err != nil {
			return err
		}
		m.Decoder, m.dec = d, &d.core
	default:
		d := NewLSTMCell(in, m.hd, true, rng)
		m.Decoder, m.dec = d, &d.core
	}
	return nil
}

// Params returns every parameter with its dotted name (see [Seq2Seq]).
func (m *Seq2Seq) Params() []*Param { return append([]*Param(nil), m.params...) }

// Encoded is a source batch run through the encoder: what every decoder
// step attends to.
type Encoded struct {
	Keys *Var   // encoder outputs, batch-major (B, Ts, D·H)
	Proj *Var   // Attention.ProjectKeys(Keys)
	Mask []bool // (B, Ts): the valid source steps
	// Start is the decoder's initial state: the top encoder layer's final
	// h and c, directions concatenated, (B, D·H) each; Feed is zeros.
	Start DecoderState
}

// DecoderState is the state carried between decoder steps, (B, D·H)
// each: the cell's h, an LSTM's c (nil for GRU and RNN) and the
// attentional vector fed back.
type DecoderState struct {
	H, C, Feed *Var
}

// checkIDs panics unless ids has T·B entries and lengths (if not nil) B
// values in [1, T].
func checkIDs(what string, ids []int, T, B int, lengths []int) {
	if T <= 0 || B <= 0 || len(ids) != T*B {
		panic(fmt.Sprintf("nn: seq2seq %s: %d ids for T=%d, B=%d", what, len(ids), T, B))
	}
	if lengths != nil && len(lengths) != B {
		panic(fmt.Sprintf("nn: seq2seq %s: %d lengths for B=%d", what, len(lengths), B))
	}
}

// Encode runs the encoder over src, time-major (Ts, B) ids, whose
// sequences have the given lengths (nil: all Ts).
func (m *Seq2Seq) Encode(tp *Tape, src []int, Ts, B int, lengths []int) *Encoded {
	checkIDs("source", src, Ts, B, lengths)
	if lengths == nil {
		lengths = tp.Ints(B)
		for i := range lengths {
			lengths[i] = Ts
		}
	}
	x := m.drop.Forward(tp, m.SrcEmbed.Forward(tp, src, Ts, B))
	out, st := m.Encoder.Forward(tp, x, lengths, nil)
	keys := SwapTB(tp, out)
	L, D := m.Config.NumLayers, m.hd/m.Config.HiddenSize
	hs, cs := tp.vars(D), tp.vars(D)
	for d := 0; d < D; d++ {
		hs[d] = Select(tp, st.H, (L-1)*D+d)
		if st.C != nil {
			cs[d] = Select(tp, st.C, (L-1)*D+d)
		}
	}
	e := NewRecord[Encoded](tp)
	*e = Encoded{
		Keys:  keys,
		Proj:  m.Attention.ProjectKeys(tp, keys),
		Mask:  paddingMaskInto(tp.Bools(B*Ts), lengths, 1, Ts),
		Start: DecoderState{H: Concat(tp, -1, hs...), Feed: tp.Var(tp.Zeros(B, m.hd))},
	}
	if st.C != nil {
		e.Start.C = Concat(tp, -1, cs...)
	}
	return e
}

// Step runs one decoder step for the previous tokens prev (B) from state s
// and returns the logits (B, TgtVocab), the attention weights (B, Ts) and
// the next state.
func (m *Seq2Seq) Step(tp *Tape, enc *Encoded, prev []int, s DecoderState) (logits, weights *Var, next DecoderState) {
	out, w, next := m.decode(tp, enc, prev, s)
	return m.Out.Forward(tp, out), w, next
}

// decode is Step up to the output layer: it returns the (dropped-out)
// attentional vector (B, D·H) that Out projects to the logits.
func (m *Seq2Seq) decode(tp *Tape, enc *Encoded, prev []int, s DecoderState) (out, weights *Var, next DecoderState) {
	e := m.drop.Forward(tp, m.TgtEmbed.Forward(tp, prev))
	in := Concat(tp, -1, e, s.Feed)
	var h, c *Var
	if lc, ok := m.Decoder.(*LSTMCell); ok {
		if m.decRun == nil || m.decRun.cell != &lc.core {
			m.decRun = NewCellRun(lc)
		}
		h, c = m.decRun.Step(tp, in, s.H, s.C)
	} else {
		h, _ = m.dec.step(tp, in, s.H, nil)
	}
	ctx, w := m.Attention.Attend(tp, h, enc.Keys, enc.Proj, enc.Mask)
	feed := Tanh(tp, m.Combine.Forward(tp, Concat(tp, -1, ctx, h)))
	return m.drop.Forward(tp, feed), w, DecoderState{H: h, C: c, Feed: feed}
}

// Seq2SeqBatch is a batch of source and target sequences, time-major.
type Seq2SeqBatch struct {
	Src        []int // (Ts, B) source ids
	SrcLengths []int // (B) valid source steps; nil: all Ts
	TgtIn      []int // (Tt, B) decoder inputs: the start token, then the target shifted right
	Ts, Tt, B  int
}

// Forward runs the model over a batch for training. With probability
// teacherForcing (per step and sequence) the decoder input at step t > 0
// is the given TgtIn token, otherwise the model's own most likely token of
// step t−1 (no gradient flows through that choice); 1 is plain teacher
// forcing. rng draws the choices (unused when teacherForcing is 1). It
// returns logits (Tt, B, TgtVocab) and attention weights (Tt, B, Ts).
// Training with teacher forcing 1 of an LSTM decoder with dot or general
// attention runs the decoder as one op (see forcedDecode), whose values
// and gradients equal the step-by-step path's to float32 rounding.
func (m *Seq2Seq) Forward(tp *Tape, b Seq2SeqBatch, teacherForcing float64, rng *tensor.RNG) (logits, weights *Var) {
	// Every parameter at once: the model's parts share its gradients in
	// ways its layers' own touches would not see (see ready.go).
	tp.Touch(m.params...)
	checkIDs("target", b.TgtIn, b.Tt, b.B, nil)
	enc := m.Encode(tp, b.Src, b.Ts, b.B, b.SrcLengths)
	if teacherForcing >= 1 && tp != nil && m.forcedOK() {
		return m.forwardForced(tp, enc, b)
	}
	return m.forwardSteps(tp, enc, b, teacherForcing, rng)
}

// forwardSteps is Forward after the encoder, one decoder step at a time:
// what teacher forcing below 1 needs (a step's input may be the previous
// step's prediction), and what the other cells and attentions and
// inference (a nil tape: Forward is then safe for concurrent calls) use.
func (m *Seq2Seq) forwardSteps(tp *Tape, enc *Encoded, b Seq2SeqBatch, teacherForcing float64, rng *tensor.RNG) (logits, weights *Var) {
	s := enc.Start
	prev := tp.Ints(b.B)
	copy(prev, b.TgtIn[:b.B])
	ls, ws := tp.vars(b.Tt), tp.vars(b.Tt)
	if teacherForcing >= 1 {
		// No step needs its own logits: project every step's attentional
		// vector at once, one (Tt·B, D·H)·(D·H, V) product instead of Tt
		// small ones that each repack the output weights.
		for t := 0; t < b.Tt; t++ {
			ls[t], ws[t], s = m.decode(tp, enc, prev, s)
			if t+1 < b.Tt {
				copy(prev, b.TgtIn[(t+1)*b.B:(t+2)*b.B])
			}
		}
		return m.Out.Forward(tp, Stack(tp, ls...)), Stack(tp, ws...)
	}
	V := m.Config.TgtVocab
	for t := 0; t < b.Tt; t++ {
		ls[t], ws[t], s = m.Step(tp, enc, prev, s)
		if t+1 == b.Tt {
			break
		}
		for i := range prev {
			prev[i] = b.TgtIn[(t+1)*b.B+i]
			if teacherForcing < 1 && rng.Float64() >= teacherForcing {
				prev[i] = Argmax(ls[t].Value.Data[i*V : (i+1)*V])
			}
		}
	}
	return Stack(tp, ls...), Stack(tp, ws...)
}

// Generate decodes each source sequence of src (time-major (Ts, B), with
// lengths, nil: all Ts) from the start token, drawing tokens as sc says,
// until the end token or maxLen tokens. It returns B token lists (the end
// token excluded) and, for plots, the attention weights over the Ts source
// steps behind each returned token: weights[b][t] has Ts values. Inference
// only: safe for concurrent calls.
func (m *Seq2Seq) Generate(src []int, Ts, B int, lengths []int, start, end, maxLen int, sc SampleConfig, rng *tensor.RNG) (tokens [][]int, weights [][][]float32, err error) {
	if err := sc.Validate(); err != nil {
		return nil, nil, err
	}
	if maxLen <= 0 {
		return nil, nil, fieldError("Seq2Seq.Generate", "max_len", maxLen, "> 0")
	}
	enc := m.Encode(nil, src, Ts, B, lengths)
	s := enc.Start
	prev := make([]int, B)
	for i := range prev {
		prev[i] = start
	}
	tokens, weights = make([][]int, B), make([][][]float32, B)
	done := make([]bool, B)
	V := m.Config.TgtVocab
	for t, left := 0, B; t < maxLen && left > 0; t++ {
		var logits, w *Var
		logits, w, s = m.Step(nil, enc, prev, s)
		for i := range prev {
			prev[i] = Sample(logits.Value.Data[i*V:(i+1)*V], sc, rng)
			if done[i] {
				continue
			}
			if prev[i] == end {
				done[i], left = true, left-1
				continue
			}
			tokens[i] = append(tokens[i], prev[i])
			weights[i] = append(weights[i], w.Value.Data[i*Ts:(i+1)*Ts])
		}
	}
	return tokens, weights, nil
}

// beamState is one hypothesis' decoder state: rows of h, c and feed.
type beamState struct{ h, c, feed []float32 }

// Beam decodes one source sequence src (Ts ids) with beam search from the
// start token; see [BeamSearch] for c. Inference only.
func (m *Seq2Seq) Beam(src []int, start int, c BeamConfig) ([]Hypothesis, error) {
	if len(src) == 0 {
		return nil, fieldError("Seq2Seq.Beam", "len(src)", 0, "> 0")
	}
	enc := m.Encode(nil, src, len(src), 1, nil)
	Ts, hd := len(src), m.hd
	init := beamState{h: enc.Start.H.Value.Data, feed: enc.Start.Feed.Value.Data}
	if enc.Start.C != nil {
		init.c = enc.Start.C.Value.Data
	}
	rows := func(n, w int, get func(i int) []float32) *Var {
		t := tensor.New(n, w)
		for i := 0; i < n; i++ {
			copy(t.Data[i*w:(i+1)*w], get(i))
		}
		return NewVar(t)
	}
	step := func(prev []int, states []beamState) (*tensor.Tensor, []beamState) {
		n := len(prev)
		one := func(v *Var) func(int) []float32 { return func(int) []float32 { return v.Value.Data } }
		kw, pw := enc.Keys.Value.Len(), enc.Proj.Value.Len()
		e := &Encoded{
			Keys: Reshape(nil, rows(n, kw, one(enc.Keys)), n, Ts, hd),
			Proj: Reshape(nil, rows(n, pw, one(enc.Proj)), append([]int{n}, enc.Proj.Value.Shape[1:]...)...),
		}
		s := DecoderState{
			H:    rows(n, hd, func(i int) []float32 { return states[i].h }),
			Feed: rows(n, hd, func(i int) []float32 { return states[i].feed }),
		}
		if init.c != nil {
			s.C = rows(n, hd, func(i int) []float32 { return states[i].c })
		}
		logits, _, ns := m.Step(nil, e, prev, s)
		lp := tensor.New(logits.Value.Shape...)
		kernel.LogSoftmaxRows(lp.Data, logits.Value.Data, n, m.Config.TgtVocab)
		next := make([]beamState, n)
		for i := range next {
			next[i] = beamState{h: ns.H.Value.Row(i).Data, feed: ns.Feed.Value.Row(i).Data}
			if ns.C != nil {
				next[i].c = ns.C.Value.Row(i).Data
			}
		}
		return lp, next
	}
	return BeamSearch(c, start, init, step)
}
