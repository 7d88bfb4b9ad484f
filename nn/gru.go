package nn

import "github.com/recur-ml/recur/tensor"

// GRUConfig configures a GRU; fields as in LSTMConfig (no projection).
type GRUConfig struct {
	InputSize, HiddenSize int
	NumLayers             int // 0 means 1
	Bidirectional         bool
	NoBias                bool
	Dropout               float64
	BatchFirst            bool
	Init                  Init
	// Recurrent regularizers (training only), as in LSTMConfig.
	InputDropout, RecurrentDropout, WeightDrop, Zoneout float64
	// ResetBefore applies the reset gate to h before the recurrent
	// product of the n gate, n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn):
	// the GRU of Cho et al. (2014), ONNX's linear_before_reset = 0 and
	// Keras' reset_after = False. PyTorch's GRU (the default) applies it
	// after. The parameters are the same.
	ResetBefore bool
}

// GRU is PyTorch's nn.GRU: gates r, z, n;
//
//	r = σ(W_ir x + b_ir + W_hr h + b_hr)    z = σ(W_iz x + b_iz + W_hz h + b_hz)
//	n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))    h' = (1−z)⊙n + z⊙h
//
// (with ResetBefore, n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn)).
// Parameters as LSTM's with 3H rows.
type GRU struct {
	core *rnnCore
	cfg  GRUConfig
}

// NewGRU validates cfg and returns a GRU initialized from rng.
func NewGRU(cfg GRUConfig, rng *tensor.RNG) (*GRU, error) {
	core, err := newRNNCore(cfg.opts(kindGRU), rng)
	if err != nil {
		return nil, err
	}
	return &GRU{core: core, cfg: cfg}, nil
}

func (c GRUConfig) opts(kind cellKind) rnnOpts {
	o := LSTMConfig{InputSize: c.InputSize, HiddenSize: c.HiddenSize, NumLayers: c.NumLayers, Bidirectional: c.Bidirectional,
		NoBias: c.NoBias, Dropout: c.Dropout, BatchFirst: c.BatchFirst, Init: c.Init,
		InputDropout: c.InputDropout, RecurrentDropout: c.RecurrentDropout, WeightDrop: c.WeightDrop, Zoneout: c.Zoneout}.opts(kind)
	o.resetBefore = c.ResetBefore
	return o
}

// Config returns the configuration the layer was built with.
func (g *GRU) Config() GRUConfig { return g.cfg }

// Params returns the parameters in PyTorch state_dict order.
func (g *GRU) Params() []*Param { return g.core.paramList() }

// Forward is as LSTM.Forward; State.C is nil (and h0.C must be).
func (g *GRU) Forward(tp *Tape, x *Var, lengths []int, h0 *State) (*Var, *State) {
	tp.Touch(g.core.params...)
	return g.core.forward(tp, x, lengths, h0)
}

// RNNConfig configures an Elman RNN; fields as in GRUConfig plus the
// nonlinearity.
type RNNConfig struct {
	InputSize, HiddenSize int
	NumLayers             int // 0 means 1
	// Nonlinearity is "tanh" (the default when empty) or "relu".
	Nonlinearity  string
	Bidirectional bool
	NoBias        bool
	Dropout       float64
	BatchFirst    bool
	Init          Init
	// Recurrent regularizers (training only), as in LSTMConfig.
	InputDropout, RecurrentDropout, WeightDrop, Zoneout float64
}

// RNN is PyTorch's nn.RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh) with
// act tanh or relu. Parameters as LSTM's with H rows.
type RNN struct {
	core *rnnCore
	cfg  RNNConfig
}

// rnnKind returns the cell kind of an Elman layer (typ: RNN or RNNCell)
// with the given nonlinearity.
func rnnKind(typ, nonlinearity string) (cellKind, error) {
	switch nonlinearity {
	case "", "tanh":
		return kindRNNTanh, nil
	case "relu":
		return kindRNNReLU, nil
	}
	return 0, fieldError(typ, "nonlinearity", nonlinearity, `"tanh" or "relu"`)
}

// NewRNN validates cfg and returns an RNN initialized from rng.
func NewRNN(cfg RNNConfig, rng *tensor.RNG) (*RNN, error) {
	kind, err := rnnKind("RNN", cfg.Nonlinearity)
	if err != nil {
		return nil, err
	}
	gc := GRUConfig{InputSize: cfg.InputSize, HiddenSize: cfg.HiddenSize, NumLayers: cfg.NumLayers, Bidirectional: cfg.Bidirectional,
		NoBias: cfg.NoBias, Dropout: cfg.Dropout, BatchFirst: cfg.BatchFirst, Init: cfg.Init,
		InputDropout: cfg.InputDropout, RecurrentDropout: cfg.RecurrentDropout, WeightDrop: cfg.WeightDrop, Zoneout: cfg.Zoneout}
	core, err := newRNNCore(gc.opts(kind), rng)
	if err != nil {
		return nil, err
	}
	return &RNN{core: core, cfg: cfg}, nil
}

// Config returns the configuration the layer was built with.
func (r *RNN) Config() RNNConfig { return r.cfg }

// Params returns the parameters in PyTorch state_dict order.
func (r *RNN) Params() []*Param { return r.core.paramList() }

// Forward is as LSTM.Forward; State.C is nil (and h0.C must be).
func (r *RNN) Forward(tp *Tape, x *Var, lengths []int, h0 *State) (*Var, *State) {
	tp.Touch(r.core.params...)
	return r.core.forward(tp, x, lengths, h0)
}

// OutputSize returns D·H, the last dimension of the output.
func (g *GRU) OutputSize() int { return g.core.outputSize() }

// ZeroState returns a zero initial state H (L·D, B, H) for a batch of B.
func (g *GRU) ZeroState(B int) *State { return g.core.zeroState(B) }

// OutputSize returns D·H, the last dimension of the output.
func (r *RNN) OutputSize() int { return r.core.outputSize() }

// ZeroState returns a zero initial state H (L·D, B, H) for a batch of B.
func (r *RNN) ZeroState(B int) *State { return r.core.zeroState(B) }

// RNG returns the generator of the layer's training-time masks; see
// LSTM.RNG.
func (g *GRU) RNG() *tensor.RNG { return g.core.rng }

// RNG returns the generator of the layer's training-time masks; see
// LSTM.RNG.
func (r *RNN) RNG() *tensor.RNG { return r.core.rng }
