package model

import (
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Forward runs the network on token ids (T, B), time-major, from the
// state h0 (nil: zeros) and returns the logits of the next token after
// each step, (T·B, Vocab), and the final state: one step of generation is
// T = 1. Generate is the whole path from text. Inference only: safe for
// concurrent use.
func (m *LanguageModel) Forward(ids []int, T, B int, h0 *nn.State) (*tensor.Tensor, *nn.State) {
	logits, st := m.forward(nil, ids, T, B, h0)
	return logits.Value, st
}

// Network returns the translator's encoder-decoder, for inference through
// its Encode and Step (one decoder step at a time, as an exported decoder
// runs) or Generate. It is the model's own: do not modify it.
func (m *Translator) Network() *nn.Seq2Seq { return m.net }
