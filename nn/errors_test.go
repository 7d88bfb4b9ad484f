package nn

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestConfigErrorStyle checks the one style of configuration errors,
// "nn: Type: field = value: want ...", across the constructors that
// return them, message by message.
func TestConfigErrorStyle(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"lstm hidden", func() error { _, err := NewLSTM(LSTMConfig{InputSize: 2}, rng); return err }, "nn: LSTM: hidden_size = 0: want > 0"},
		{"lstm input", func() error { _, err := NewLSTM(LSTMConfig{HiddenSize: 2}, rng); return err }, "nn: LSTM: input_size = 0: want > 0"},
		{"lstm layers", func() error {
			_, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3, NumLayers: -1}, rng)
			return err
		}, "nn: LSTM: num_layers = -1: want >= 0 (0 means 1)"},
		{"lstm proj", func() error {
			_, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3, ProjSize: 3}, rng)
			return err
		}, "nn: LSTM: proj_size = 3: want 0 or in [1, 3) (below hidden_size)"},
		{"lstm zoneout", func() error { _, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3, Zoneout: 1}, rng); return err }, "nn: LSTM: zoneout = 1: want a probability in [0, 1)"},
		{"lstm nil rng", func() error { _, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3}, nil); return err }, "nn: LSTM: rng = nil: want a generator"},
		{"lstm init", func() error {
			_, err := NewLSTM(LSTMConfig{InputSize: 2, HiddenSize: 3, Init: Init{Weight: Scheme{Kind: InitUniform, A: 1, B: 0}}}, rng)
			return err
		}, "nn: LSTM: init.weight = uniform(A=1, B=0): want bounds A < B"},
		{"gru dropout", func() error { _, err := NewGRU(GRUConfig{InputSize: 2, HiddenSize: 3, Dropout: 1.5}, rng); return err }, "nn: GRU: dropout = 1.5: want a probability in [0, 1)"},
		{"rnn nonlinearity", func() error {
			_, err := NewRNN(RNNConfig{InputSize: 2, HiddenSize: 3, Nonlinearity: "sigmoid"}, rng)
			return err
		}, `nn: RNN: nonlinearity = "sigmoid": want "tanh" or "relu"`},
		{"rnncell hidden", func() error { _, err := NewRNNCell(2, 0, true, "tanh", rng); return err }, "nn: RNNCell: hidden_size = 0: want > 0"},
		{"activation", func() error { _, err := Activation("swish"); return err }, `nn: Activation: name = "swish": want tanh, sigmoid, relu, gelu or identity`},
		{"init kind", func() error { _, err := ParseInitKind("lecun"); return err }, `nn: Scheme: kind = "lecun": want one of default, uniform, normal, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal, zero, constant`},
		{"sample top_k", func() error { return SampleConfig{TopK: -2}.Validate() }, "nn: SampleConfig: top_k = -2: want >= 0"},
		{"sample temperature", func() error { return SampleConfig{Temperature: math.Inf(1)}.Validate() }, "nn: SampleConfig: temperature = +Inf: want finite and >= 0"},
		{"beam width", func() error { return BeamConfig{Width: -1}.Validate() }, "nn: BeamConfig: width = -1: want >= 0"},
		{"embedding load", func() error { return NewEmbedding(5, 4, -1, rng).Load(tensor.New(3, 4)) }, "nn: Embedding.Load: vectors.shape = [3 4]: want [5 4]"},
		{"seq2seq layers", func() error {
			_, err := NewSeq2Seq(Seq2SeqConfig{SrcVocab: 5, TgtVocab: 5, HiddenSize: 3, NumLayers: -2}, rng)
			return err
		}, "nn: Seq2Seq: num_layers = -2: want >= 0"},
	} {
		err := tc.err()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestNewRNNCellBadConfig checks that NewRNNCell returns an error, not a
// panic, for a nonlinearity it does not know or a size that is not
// positive, and builds the cell for the ones it does.
func TestNewRNNCellBadConfig(t *testing.T) {
	for _, tc := range []struct {
		nonlinearity string
		in, hidden   int
		want         string // "": no error
	}{
		{"tanh", 2, 3, ""},
		{"", 2, 3, ""},
		{"relu", 2, 3, ""},
		{"sigmoid", 2, 3, `nn: RNNCell: nonlinearity = "sigmoid": want "tanh" or "relu"`},
		{"Tanh", 2, 3, `nn: RNNCell: nonlinearity = "Tanh": want "tanh" or "relu"`},
		{" relu", 2, 3, `nn: RNNCell: nonlinearity = " relu": want "tanh" or "relu"`},
		{"tanh", 0, 3, "nn: RNNCell: input_size = 0: want > 0"},
		{"relu", 2, -1, "nn: RNNCell: hidden_size = -1: want > 0"},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("NewRNNCell(%d, %d, %q) panicked: %v", tc.in, tc.hidden, tc.nonlinearity, r)
				}
			}()
			c, err := NewRNNCell(tc.in, tc.hidden, true, tc.nonlinearity, tensor.NewRNG(1))
			switch {
			case tc.want == "" && (err != nil || c == nil):
				t.Errorf("NewRNNCell(%d, %d, %q): %v", tc.in, tc.hidden, tc.nonlinearity, err)
			case tc.want != "" && (err == nil || err.Error() != tc.want || c != nil):
				t.Errorf("NewRNNCell(%d, %d, %q) = %v, %v; want an error %q", tc.in, tc.hidden, tc.nonlinearity, c, err, tc.want)
			}
		}()
	}
}
