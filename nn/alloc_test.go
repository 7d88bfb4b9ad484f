package nn_test

import (
	"testing"

	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// allocModel is a small model trained by one tape: forward records the
// prediction, lossOf writes dL/dpred.
type allocModel struct {
	params  []*nn.Param
	forward func(tp *nn.Tape) *nn.Var
	lossOf  func(pred *nn.Var, g []float32) float64
}

// trainer returns one training step of m (forward, loss, Backward, Adam)
// on a tape of its own.
func (m allocModel) trainer(t *testing.T) func() {
	t.Helper()
	opt, err := optim.New("adam", m.params, optim.Config{LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	var tp nn.Tape
	return func() {
		nn.ZeroGrad(m.params)
		pred := m.forward(&tp)
		L, _ := loss.Record(&tp, pred, func(g []float32) float64 { return m.lossOf(pred, g) })
		tp.Backward(L, nil)
		opt.Step()
	}
}

func randVar(rng *tensor.RNG, shape ...int) *nn.Var {
	x := tensor.New(shape...)
	rng.FillUniform(x, -1, 1)
	return nn.NewVar(x)
}

func randIDs(rng *tensor.RNG, n, V int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(V)
	}
	return ids
}

// recurrentModel is a sequence layer fitted to fixed targets with MSE.
func recurrentModel(t *testing.T, l nn.Recurrent, x *nn.Var, lengths []int) allocModel {
	t.Helper()
	out, _ := l.Forward(nil, x, lengths, nil)
	y := tensor.New(out.Value.Shape...)
	tensor.NewRNG(9).FillUniform(y, -1, 1)
	return allocModel{
		params: l.Params(),
		forward: func(tp *nn.Tape) *nn.Var {
			out, _ := l.Forward(tp, x, lengths, nil)
			return out
		},
		lossOf: func(out *nn.Var, g []float32) float64 {
			return loss.MSE(g, out.Value.Data, y.Data, loss.Options{})
		},
	}
}

// TestTrainingStepAllocs checks that a training step allocates nothing
// once warm: the tape recycles buffers, Vars and op records, and the
// recurrent layers their forward records, step after step.
func TestTrainingStepAllocs(t *testing.T) {
	const T, B, I, H, V = 6, 3, 4, 5, 11
	rng := tensor.NewRNG(1)
	mustLSTM := func(c nn.LSTMConfig) *nn.LSTM {
		l, err := nn.NewLSTM(c, rng)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cases := []struct {
		name  string
		model func() allocModel
	}{
		{"lstm", func() allocModel {
			return recurrentModel(t, mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H}), randVar(rng, T, B, I), nil)
		}},
		{"lstm-l2-dropout", func() allocModel {
			l := mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: 2, Dropout: 0.3})
			return recurrentModel(t, l, randVar(rng, T, B, I), nil)
		}},
		{"lstm-bi-batchfirst-lengths", func() allocModel {
			l := mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, Bidirectional: true, BatchFirst: true})
			return recurrentModel(t, l, randVar(rng, B, T, I), []int{4, T, 2})
		}},
		{"lstm-peephole-lengths", func() allocModel {
			l := mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, Peephole: true, Zoneout: 0.1})
			return recurrentModel(t, l, randVar(rng, T, B, I), []int{4, T, 2})
		}},
		{"gru-reset-before", func() allocModel {
			g, err := nn.NewGRU(nn.GRUConfig{InputSize: I, HiddenSize: H, ResetBefore: true, WeightDrop: 0.2}, rng)
			if err != nil {
				t.Fatal(err)
			}
			return recurrentModel(t, g, randVar(rng, T, B, I), nil)
		}},
		{"gru", func() allocModel {
			g, err := nn.NewGRU(nn.GRUConfig{InputSize: I, HiddenSize: H, NumLayers: 2}, rng)
			if err != nil {
				t.Fatal(err)
			}
			return recurrentModel(t, g, randVar(rng, T, B, I), nil)
		}},
		{"lm", func() allocModel {
			// embedding → LSTM → linear → cross-entropy, as ptb-lm.
			emb := nn.NewEmbedding(V, I, -1, rng)
			l := mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H})
			dec := nn.NewLinear(H, V, true, rng)
			ids, targets := randIDs(rng, T*B, V), randIDs(rng, T*B, V)
			return allocModel{
				params: append(append(nn.Prefix("embedding", emb.Params()), l.Params()...), nn.Prefix("decoder", dec.Params())...),
				forward: func(tp *nn.Tape) *nn.Var {
					out, _ := l.Forward(tp, emb.Forward(tp, ids, T, B), nil, nil)
					return dec.Forward(tp, out)
				},
				lossOf: func(logits *nn.Var, g []float32) float64 {
					return loss.CrossEntropy(g, logits.Value.Data, targets, V, loss.ClassOptions{})
				},
			}
		}},
		{"classifier", func() allocModel {
			// embedding → bidirectional LSTM → mean pool → linear.
			emb := nn.NewEmbedding(V, I, -1, rng)
			l := mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, Bidirectional: true})
			head := nn.NewLinear(2*H, 3, true, rng)
			ids, labels := randIDs(rng, T*B, V), randIDs(rng, B, 3)
			return allocModel{
				params: append(append(nn.Prefix("embedding", emb.Params()), l.Params()...), nn.Prefix("head", head.Params())...),
				forward: func(tp *nn.Tape) *nn.Var {
					out, _ := l.Forward(tp, emb.Forward(tp, ids, T, B), nil, nil)
					return head.Forward(tp, nn.MeanPool(tp, out, nil))
				},
				lossOf: func(logits *nn.Var, g []float32) float64 {
					return loss.CrossEntropy(g, logits.Value.Data, labels, 3, loss.ClassOptions{})
				},
			}
		}},
		{"seq2seq-attention", func() allocModel { return seq2seqModel(t, rng, "") }},
		{"seq2seq-bahdanau", func() allocModel { return seq2seqModel(t, rng, "bahdanau") }},
		{"seq2seq-concat", func() allocModel { return seq2seqModel(t, rng, "concat") }},
		{"attention-pool", func() allocModel {
			l := mustLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H})
			pool := nn.NewAttentionPool(H, H, rng)
			x := randVar(rng, T, B, I)
			labels := randIDs(rng, B, H)
			lengths := []int{T, 2, 4}
			return allocModel{
				params: append(l.Params(), nn.Prefix("pool", pool.Params())...),
				forward: func(tp *nn.Tape) *nn.Var {
					out, _ := l.Forward(tp, x, lengths, nil)
					pooled, _ := pool.Forward(tp, out, lengths)
					return pooled
				},
				lossOf: func(p *nn.Var, g []float32) float64 {
					return loss.CrossEntropy(g, p.Value.Data, labels, H, loss.ClassOptions{})
				},
			}
		}},
		{"ops", func() allocModel {
			// The tape's other ops and layers, as a decoder loop uses them.
			emb := nn.NewEmbedding(V, I, -1, rng)
			cell := nn.NewLSTMCell(2*I, H, true, rng)
			gcell := nn.NewGRUCell(H, H, true, rng)
			norm := nn.NewLayerNorm(H, 0)
			drop, locked := nn.NewDropout(0.2, rng.Split()), nn.NewLockedDropout(0.2, rng.Split())
			edrop := nn.NewEmbeddingDropout(0.1, rng.Split())
			head := nn.NewLinear(H, V, false, rng)
			ids, targets := randIDs(rng, T*B, V), randIDs(rng, (T+1)*B, V)
			params := append(append(append(append(nn.Prefix("embedding", emb.Params()), nn.Prefix("cell", cell.Params())...),
				nn.Prefix("gcell", gcell.Params())...), nn.Prefix("norm", norm.Params())...), nn.Prefix("head", head.Params())...)
			return allocModel{
				params: params,
				forward: func(tp *nn.Tape) *nn.Var {
					x := locked.Forward(tp, edrop.Forward(tp, emb, ids, T, B)) // (T, B, I)
					var h, c *nn.Var
					var hs [T]*nn.Var
					for t := 0; t < T; t++ {
						xt := nn.Select(tp, x, t)
						in := nn.Concat(tp, -1, xt, nn.Scale(tp, 0.5, nn.Tanh(tp, xt)))
						h, c = cell.Forward(tp, in, h, c)
						h = gcell.Forward(tp, drop.Forward(tp, h), h)
						hs[t] = nn.Add(tp, h, nn.Mul(tp, nn.Sigmoid(tp, h), nn.ReLU(tp, h)))
					}
					seq := nn.Stack(tp, hs[:]...) // (T, B, H)
					pooled := nn.Add(tp, nn.LastStep(tp, seq, nil), nn.MaxPool(tp, seq, nil))
					seq = nn.SwapTB(tp, nn.SwapTB(tp, norm.Forward(tp, seq)))
					parts := nn.Split(tp, 0, seq, 2, T-2)
					seq = nn.Add(tp, nn.Concat(tp, 0, parts...), nn.Softmax(tp, seq))
					rows := nn.Reshape(tp, nn.SliceLast(tp, seq, 0, H), -1, H) // (T·B, H)
					return head.Forward(tp, nn.Concat(tp, 0, rows, pooled))    // (T·B + B, V)
				},
				lossOf: func(logits *nn.Var, g []float32) float64 {
					return loss.CrossEntropy(g, logits.Value.Data, targets, V, loss.ClassOptions{})
				},
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step := c.model().trainer(t)
			step() // warm-up: buffers, records and optimizer state
			step()
			got := testing.AllocsPerRun(5, step)
			if raceEnabled {
				// The race detector's instrumentation allocates on its
				// own; the steps above still ran under it.
				t.Skipf("allocations not checked under -race (got %v)", got)
			}
			if got != 0 {
				t.Errorf("allocations per training step: got %v, want 0", got)
			}
		})
	}
}

// TestEvalTapeResetAllocs checks the validation pattern, forward on an
// Eval tape then Reset: the layers get their memory back from the dropped
// ops, so it allocates nothing once warm either.
func TestEvalTapeResetAllocs(t *testing.T) {
	rng := tensor.NewRNG(2)
	l, err := nn.NewLSTM(nn.LSTMConfig{InputSize: 4, HiddenSize: 5, NumLayers: 2}, rng)
	if err != nil {
		t.Fatal(err)
	}
	cell := nn.NewGRUCell(5, 5, true, rng)
	x := randVar(rng, 6, 3, 4)
	tp := nn.Tape{Eval: true}
	step := func() {
		out, _ := l.Forward(&tp, x, nil, nil)
		cell.Forward(&tp, nn.Select(&tp, out, 5), nil)
		tp.Reset()
	}
	step()
	got := testing.AllocsPerRun(5, step)
	if raceEnabled {
		t.Skipf("allocations not checked under -race (got %v)", got)
	}
	if got != 0 {
		t.Errorf("allocations per eval step and Reset: got %v, want 0", got)
	}
}

// seq2seqModel is a small attention seq2seq trained with teacher forcing,
// dropout and padded sources.
func seq2seqModel(t *testing.T, rng *tensor.RNG, attention string) allocModel {
	const T, B, H, V = 6, 3, 5, 11
	m, err := nn.NewSeq2Seq(nn.Seq2SeqConfig{SrcVocab: V, TgtVocab: V, HiddenSize: H, Dropout: 0.1, Attention: attention, Bidirectional: attention == "bahdanau"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	b := nn.Seq2SeqBatch{Src: randIDs(rng, T*B, V), SrcLengths: []int{T, T - 2, 1}, TgtIn: randIDs(rng, 4*B, V), Ts: T, Tt: 4, B: B}
	labels := randIDs(rng, 4*B, V)
	return allocModel{
		params: m.Params(),
		forward: func(tp *nn.Tape) *nn.Var {
			logits, _ := m.Forward(tp, b, 1, nil)
			return logits
		},
		lossOf: func(logits *nn.Var, g []float32) float64 {
			return loss.CrossEntropy(g, logits.Value.Data, labels, V, loss.ClassOptions{})
		},
	}
}
