package nn_test

import (
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/nn/nntest"
	"github.com/recur-ml/recur/tensor"
)

// seqSpec is the conformance Spec of a sequence layer on a (T, B, I) input
// (or (B, T, I)) with given initial states and optional lengths.
func seqSpec(name string, T, B int, lengths []int, batchFirst, withC bool, build func(*tensor.RNG) (nn.Recurrent, error)) nntest.Spec {
	var shape struct{ LD, Ho, H, I int }
	probe, err := build(tensor.NewRNG(1))
	if err != nil {
		panic(err)
	}
	// Read the state sizes from the parameters: weight_ih_l0 is (G, I),
	// weight_hh_l0 is (G, Ho); count layer-directions by weight_hh names.
	for _, p := range probe.Params() {
		switch {
		case p.Name == "weight_ih_l0":
			shape.I = p.Value.Shape[1]
		case p.Name == "weight_hh_l0":
			shape.Ho = p.Value.Shape[1]
		case p.Name == "weight_hr_l0":
			shape.H = p.Value.Shape[1]
		}
		if len(p.Name) > 9 && p.Name[:9] == "weight_hh" {
			shape.LD++
		}
	}
	if shape.H == 0 {
		shape.H = shape.Ho
	}
	return nntest.Spec{
		Name: name,
		New:  func(rng *tensor.RNG) (nn.Module, error) { return build(rng) },
		Inputs: func(rng *tensor.RNG) []*nn.Var {
			x := nntest.RandVar(rng, T, B, shape.I)
			if batchFirst {
				x = nntest.RandVar(rng, B, T, shape.I)
			}
			in := []*nn.Var{x, nntest.RandVar(rng, shape.LD, B, shape.Ho)}
			if withC {
				in = append(in, nntest.RandVar(rng, shape.LD, B, shape.H))
			}
			return in
		},
		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
			h0 := &nn.State{H: in[1]}
			if withC {
				h0.C = in[2]
			}
			out, st := m.(nn.Recurrent).Forward(tp, in[0], lengths, h0)
			if withC {
				return []*nn.Var{out, st.H, st.C}
			}
			return []*nn.Var{out, st.H}
		},
	}
}

func TestRecurrentConformance(t *testing.T) {
	lstm := func(cfg nn.LSTMConfig) func(*tensor.RNG) (nn.Recurrent, error) {
		return func(rng *tensor.RNG) (nn.Recurrent, error) { return nn.NewLSTM(cfg, rng) }
	}
	gru := func(cfg nn.GRUConfig) func(*tensor.RNG) (nn.Recurrent, error) {
		return func(rng *tensor.RNG) (nn.Recurrent, error) { return nn.NewGRU(cfg, rng) }
	}
	rnn := func(cfg nn.RNNConfig) func(*tensor.RNG) (nn.Recurrent, error) {
		return func(rng *tensor.RNG) (nn.Recurrent, error) { return nn.NewRNN(cfg, rng) }
	}
	specs := []nntest.Spec{
		seqSpec("lstm_uni", 3, 2, nil, false, true, lstm(nn.LSTMConfig{InputSize: 3, HiddenSize: 4})),
		seqSpec("lstm_bi_lengths", 4, 3, []int{2, 4, 1}, false, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3, Bidirectional: true})),
		seqSpec("lstm_proj", 3, 2, nil, false, true, lstm(nn.LSTMConfig{InputSize: 3, HiddenSize: 4, ProjSize: 2})),
		seqSpec("lstm_stacked_batchfirst", 3, 2, []int{3, 2}, true, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3, NumLayers: 2, BatchFirst: true, Dropout: 0.5})),
		seqSpec("lstm_nobias_b1", 4, 1, nil, false, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3, NoBias: true})),
		seqSpec("gru_bi_stacked", 3, 3, []int{1, 3, 2}, false, false, gru(nn.GRUConfig{InputSize: 2, HiddenSize: 3, NumLayers: 2, Bidirectional: true})),
		seqSpec("rnn_tanh", 4, 2, nil, false, false, rnn(nn.RNNConfig{InputSize: 3, HiddenSize: 4})),
		seqSpec("rnn_relu_bi", 3, 2, []int{3, 1}, false, false, rnn(nn.RNNConfig{InputSize: 3, HiddenSize: 4, Nonlinearity: "relu", Bidirectional: true})),
		// The variants PyTorch lacks and ONNX has.
		seqSpec("lstm_peephole_bi_lengths", 4, 3, []int{2, 4, 1}, false, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3, Bidirectional: true, Peephole: true})),
		seqSpec("lstm_peephole_proj_stacked", 3, 2, nil, false, true, lstm(nn.LSTMConfig{InputSize: 3, HiddenSize: 4, ProjSize: 2, NumLayers: 2, Peephole: true})),
		seqSpec("lstm_peephole_b1", 4, 1, nil, false, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3, Peephole: true})),
		seqSpec("gru_reset_before_bi_lengths", 4, 3, []int{3, 4, 1}, false, false, gru(nn.GRUConfig{InputSize: 2, HiddenSize: 3, NumLayers: 2, Bidirectional: true, ResetBefore: true})),
		seqSpec("gru_reset_before_nobias_b1", 3, 1, nil, false, false, gru(nn.GRUConfig{InputSize: 3, HiddenSize: 4, NoBias: true, ResetBefore: true})),
	}
	// Training-mode gradients with every regularizer on, masks replayed.
	layerRNG := func(m nn.Module) *tensor.RNG { return m.(interface{ RNG() *tensor.RNG }).RNG() }
	for _, s := range []nntest.Spec{
		seqSpec("lstm_train_regularized", 3, 3, []int{3, 1, 2}, false, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3, NumLayers: 2,
			Bidirectional: true, Dropout: 0.3, InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.2, Zoneout: 0.2})),
		seqSpec("gru_train_regularized", 3, 2, nil, false, false, gru(nn.GRUConfig{InputSize: 2, HiddenSize: 3, NumLayers: 2,
			Dropout: 0.3, InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.2, Zoneout: 0.2})),
		seqSpec("rnn_train_regularized", 3, 2, nil, false, false, rnn(nn.RNNConfig{InputSize: 2, HiddenSize: 3,
			InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.2, Zoneout: 0.2})),
		seqSpec("lstm_peephole_train_regularized", 3, 3, []int{3, 1, 2}, false, true, lstm(nn.LSTMConfig{InputSize: 2, HiddenSize: 3,
			Bidirectional: true, Peephole: true, InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.2, Zoneout: 0.2})),
		seqSpec("gru_reset_before_train_regularized", 3, 3, []int{2, 3, 1}, false, false, gru(nn.GRUConfig{InputSize: 2, HiddenSize: 3, NumLayers: 2,
			ResetBefore: true, Dropout: 0.3, InputDropout: 0.2, RecurrentDropout: 0.2, WeightDrop: 0.2, Zoneout: 0.2})),
	} {
		s.TrainRNG = layerRNG
		specs = append(specs, s)
	}
	// Big enough for the kernel to split GEMMs across threads; the
	// gradient check at this size would take too long (the small specs
	// above cover it).
	big := seqSpec("lstm_big_threads", 6, 48, nil, false, true, lstm(nn.LSTMConfig{InputSize: 64, HiddenSize: 96, Bidirectional: true}))
	big.SkipGrad = true
	bigPeep := seqSpec("lstm_peephole_big_threads", 5, 16, nil, false, true, lstm(nn.LSTMConfig{InputSize: 16, HiddenSize: 48, Peephole: true}))
	bigPeep.SkipGrad = true
	bigGRU := seqSpec("gru_reset_before_big_threads", 5, 16, nil, false, false, gru(nn.GRUConfig{InputSize: 16, HiddenSize: 48, ResetBefore: true}))
	bigGRU.SkipGrad = true
	specs = append(specs, big, bigPeep, bigGRU)
	for _, s := range specs {
		nntest.Check(t, s)
	}
}

func TestCellConformance(t *testing.T) {
	const B, I, H = 3, 2, 4
	inputs := func(rng *tensor.RNG) []*nn.Var {
		return []*nn.Var{nntest.RandVar(rng, B, I), nntest.RandVar(rng, B, H), nntest.RandVar(rng, B, H)}
	}
	nntest.Check(t, nntest.Spec{
		Name:   "lstmcell",
		New:    func(rng *tensor.RNG) (nn.Module, error) { return nn.NewLSTMCell(I, H, true, rng), nil },
		Inputs: inputs,
		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
			h, c := m.(*nn.LSTMCell).Forward(tp, in[0], in[1], in[2])
			return []*nn.Var{h, c}
		},
	})
	two := func(rng *tensor.RNG) []*nn.Var { return inputs(rng)[:2] }
	nntest.Check(t, nntest.Spec{
		Name:   "grucell",
		New:    func(rng *tensor.RNG) (nn.Module, error) { return nn.NewGRUCell(I, H, true, rng), nil },
		Inputs: two,
		Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
			return []*nn.Var{m.(*nn.GRUCell).Forward(tp, in[0], in[1])}
		},
	})
	for _, nl := range []string{"tanh", "relu"} {
		nntest.Check(t, nntest.Spec{
			Name: "rnncell_" + nl,
			New: func(rng *tensor.RNG) (nn.Module, error) {
				c, err := nn.NewRNNCell(I, H, false, nl, rng)
				if err != nil {
					return nil, err
				}
				return c, nil
			},
			Inputs: two,
			Forward: func(m nn.Module, tp *nn.Tape, in []*nn.Var) []*nn.Var {
				return []*nn.Var{m.(*nn.RNNCell).Forward(tp, in[0], in[1])}
			},
		})
	}
}
