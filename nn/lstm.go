package nn

import "github.com/recur-ml/recur/tensor"

// LSTMConfig configures an LSTM. Zero values are PyTorch's defaults.
type LSTMConfig struct {
	// InputSize (I) and HiddenSize (H) are required.
	InputSize, HiddenSize int
	// NumLayers stacks layers; 0 means 1.
	NumLayers int
	// Bidirectional adds a reverse direction (D = 2).
	Bidirectional bool
	// ProjSize, when > 0, projects h to ProjSize (Ho) with weight_hr (LSTMP).
	ProjSize int
	// NoBias drops bias_ih and bias_hh.
	NoBias bool
	// Dropout is applied to each layer's output but the last, in training.
	Dropout float64
	// BatchFirst means x is (B, T, I) and the output (B, T, D·Ho).
	BatchFirst bool
	// Init selects the initialization; the zero value is PyTorch's.
	Init Init
	// ForgetBias, when not 0, sets the total forget-gate bias after Init:
	// the f block of bias_ih becomes ForgetBias and that of bias_hh 0
	// (Keras' unit_forget_bias is ForgetBias 1 with Init.Bias InitZero).
	ForgetBias float64
	// Peephole adds peephole connections from the cell to the gates
	// (Gers and Schmidhuber 2000; ONNX's LSTM input P): weight_peephole_lk
	// (3H) holds p_i, p_f, p_o, initialized from U(-1/√H, 1/√H). PyTorch's
	// nn.LSTM has none, so a state dict with them does not load into it.
	Peephole bool

	// Recurrent regularizers, on the fused path. They act only while
	// training (a tape that is not nil and not in Eval mode); inference
	// ignores them. Masks come from the layer's own RNG, seeded at
	// construction, so a seed fixes them. Zero means off.

	// InputDropout is variational dropout on the first layer's input: one
	// mask per sequence and feature, the same at every step (Gal &
	// Ghahramani).
	InputDropout float64
	// RecurrentDropout drops h where it enters the recurrent product
	// W_hh h, one mask per sequence for all steps, in every layer and
	// direction.
	RecurrentDropout float64
	// WeightDrop is DropConnect on W_hh: one mask per forward pass and
	// layer-direction, shared by all steps (AWD-LSTM).
	WeightDrop float64
	// Zoneout keeps each unit of h (and c) at its previous value with this
	// probability, independently per step (Krueger et al.).
	Zoneout float64
}

// LSTM is PyTorch's nn.LSTM: gates i, f, g, o;
//
//	i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
//	g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
//	c' = f⊙c + i⊙g    h' = o⊙tanh(c')    (projection: h' = W_hr (o⊙tanh(c')))
//
// With peepholes (LSTMConfig.Peephole) the gates also see the cell:
//
//	i = σ(… + p_i⊙c)    f = σ(… + p_f⊙c)    o = σ(… + p_o⊙c')
//
// Parameters per layer k and direction (suffix _reverse): weight_ih_lk
// (4H, I_k), weight_hh_lk (4H, Ho), bias_ih_lk (4H), bias_hh_lk (4H),
// weight_peephole_lk (3H: p_i, p_f, p_o) with peepholes, weight_hr_lk
// (Ho, H) with a projection; I_0 = I, I_k = D·Ho.
type LSTM struct {
	core *rnnCore
	cfg  LSTMConfig
}

func (c LSTMConfig) opts(kind cellKind) rnnOpts {
	d := 1
	if c.Bidirectional {
		d = 2
	}
	return rnnOpts{kind: kind, in: c.InputSize, hidden: c.HiddenSize, proj: c.ProjSize, layers: c.NumLayers, dirs: d,
		bias: !c.NoBias, batchFirst: c.BatchFirst, dropout: c.Dropout, inDrop: c.InputDropout, recDrop: c.RecurrentDropout,
		wDrop: c.WeightDrop, zoneout: c.Zoneout, init: c.Init, forgetBias: c.ForgetBias, peephole: c.Peephole}
}

// NewLSTM validates cfg and returns an LSTM initialized from rng.
func NewLSTM(cfg LSTMConfig, rng *tensor.RNG) (*LSTM, error) {
	core, err := newRNNCore(cfg.opts(kindLSTM), rng)
	if err != nil {
		return nil, err
	}
	return &LSTM{core: core, cfg: cfg}, nil
}

// Config returns the configuration the layer was built with.
func (l *LSTM) Config() LSTMConfig { return l.cfg }

// Params returns the parameters in PyTorch state_dict order.
func (l *LSTM) Params() []*Param { return l.core.paramList() }

// Forward runs the LSTM over x (T, B, I), or (B, T, I) when BatchFirst.
// lengths (nil: all T) gives each sequence's valid steps in [1, T], in
// batch order; padded outputs are 0 and final states are taken at each
// sequence's own last step. h0 nil means zero states; h0.C nil means a zero
// cell. It returns the output (T, B, D·Ho) (or (B, T, D·Ho)), [fwd | rev]
// on the last axis, and the final State: H (L·D, B, Ho), C (L·D, B, H).
// A nil tp is inference: nothing recorded or mutated, safe for concurrent
// calls.
func (l *LSTM) Forward(tp *Tape, x *Var, lengths []int, h0 *State) (*Var, *State) {
	tp.Touch(l.core.params...)
	return l.core.forward(tp, x, lengths, h0)
}

// OutputSize returns D·Ho, the last dimension of the output.
func (l *LSTM) OutputSize() int { return l.core.outputSize() }

// ZeroState returns zero initial states for a batch of B: H (L·D, B, Ho)
// and C (L·D, B, H), for example to start a stateful stream.
func (l *LSTM) ZeroState(B int) *State { return l.core.zeroState(B) }

// RNG returns the generator of the layer's training-time masks (dropout
// between layers and the recurrent regularizers). Save its state
// (MarshalBinary) with a checkpoint to resume training exactly.
func (l *LSTM) RNG() *tensor.RNG { return l.core.rng }
