package model

import (
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/tensor"
)

func TestLayerOf(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"rnn.weight_ih_l0", "rnn_l0"},
		{"rnn.bias_hh_l12_reverse", "rnn_l12"},
		{"encoder.weight_hr_l1", "encoder_l1"},
		{"embedding.weight", "embedding"},
		{"head.bias", "head"},
		{"decoder.weight_ih", "decoder"},
		{"pool.w_lin", "pool"}, // "_l" not followed by a layer number
		{"plain", "plain"},
		{"ensemble.2.rnn.weight_ih_l0", "ensemble.2.rnn_l0"},
		{"ensemble.11.head.weight", "ensemble.11.head"},
	} {
		if got := LayerOf(c.name); got != c.want {
			t.Errorf("LayerOf(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDescribeShortensVocabulary: a 5,000-word vocabulary is summarized
// by its size and first tokens, not printed whole (48 KB before).
func TestDescribeShortensVocabulary(t *testing.T) {
	f := checkpoint.New()
	f.Tensors["rnn.weight_ih_l0"] = tensor.New(8, 2)
	f.Tensors["optim.rnn.weight_ih_l0.exp_avg"] = tensor.New(16)
	words := make([]string, 5000)
	for i := range words {
		words[i] = `"w` + strings.Repeat("x", i%7) + `"`
	}
	f.Metadata[MetaPrep] = `{"encoder":{"vocab":{"tokens":[` + strings.Join(words, ",") + `]}}}`
	s := Describe(f)
	if p := s.Metadata[MetaPrep]; len(p) > 200 || !strings.Contains(p, "5000 items: w wx wxx") {
		t.Errorf("prep summary (%d bytes): %.200s", len(p), p)
	}
	if s.Parameters != 16 || s.StateTensors != 1 || len(s.Layers) != 1 || s.Layers[0].Layer != "rnn_l0" {
		t.Errorf("summary %+v", s)
	}
}
