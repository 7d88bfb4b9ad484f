package nn_test

import (
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/nn/nntest"
	"github.com/recur-ml/recur/tensor"
)

// funcs is a parameter-free Module for checking plain functions.
type funcs struct{}

func (funcs) Params() []*nn.Param { return nil }

func TestConformanceNonRecurrentLayers(t *testing.T) {
	newFuncs := func(*tensor.RNG) (nn.Module, error) { return funcs{}, nil }
	in := func(shapes ...[]int) func(rng *tensor.RNG) []*nn.Var {
		return func(rng *tensor.RNG) []*nn.Var {
			var vs []*nn.Var
			for _, s := range shapes {
				vs = append(vs, nntest.RandVar(rng, s...))
			}
			return vs
		}
	}
	lengths := []int{3, 1}
	pad := nn.PaddingMask([]int{2, 4}, 1, 4)
	attention := func(m nn.Module, tp *nn.Tape, x []*nn.Var) []*nn.Var {
		a := m.(nn.Attention)
		c, w := a.Attend(tp, x[0], x[1], a.ProjectKeys(tp, x[1]), pad)
		return []*nn.Var{c, w}
	}
	specs := []nntest.Spec{
		{
			Name:   "linear",
			New:    func(rng *tensor.RNG) (nn.Module, error) { return nn.NewLinear(3, 2, true, rng), nil },
			Inputs: in([]int{2, 2, 3}),
			Forward: func(m nn.Module, tp *nn.Tape, x []*nn.Var) []*nn.Var {
				return []*nn.Var{m.(*nn.Linear).Forward(tp, x[0])}
			},
		},
		{
			Name: "embedding",
			New:  func(rng *tensor.RNG) (nn.Module, error) { return nn.NewEmbedding(5, 3, -1, rng), nil },
			Forward: func(m nn.Module, tp *nn.Tape, _ []*nn.Var) []*nn.Var {
				return []*nn.Var{m.(*nn.Embedding).Forward(tp, []int{4, 0, 2, 2}, 2, 2)}
			},
		},
		{
			Name: "layernorm",
			New: func(rng *tensor.RNG) (nn.Module, error) {
				l := nn.NewLayerNorm(4, 0)
				rng.FillUniform(l.Weight.Value, 0.5, 1.5)
				rng.FillUniform(l.Bias.Value, -1, 1)
				return l, nil
			},
			Inputs: in([]int{3, 4}),
			Forward: func(m nn.Module, tp *nn.Tape, x []*nn.Var) []*nn.Var {
				return []*nn.Var{m.(*nn.LayerNorm).Forward(tp, x[0])}
			},
		},
		{
			Name:   "ops+pooling",
			New:    newFuncs,
			Inputs: in([]int{3, 2, 4}, []int{3, 2, 1}),
			Forward: func(_ nn.Module, tp *nn.Tape, x []*nn.Var) []*nn.Var {
				c := nn.Concat(tp, -1, nn.GELU(tp, x[0]), nn.Sigmoid(tp, x[1]))
				p := nn.Split(tp, -1, c, 2, 3)
				return []*nn.Var{
					nn.LastStep(tp, nn.Tanh(tp, p[0]), lengths),
					nn.MeanPool(tp, p[1], lengths),
					nn.MaxPool(tp, nn.ReLU(tp, c), lengths),
				}
			},
		},
		{
			Name:   "attentionpool",
			New:    func(rng *tensor.RNG) (nn.Module, error) { return nn.NewAttentionPool(3, 2, rng), nil },
			Inputs: in([]int{4, 2, 3}),
			Forward: func(m nn.Module, tp *nn.Tape, x []*nn.Var) []*nn.Var {
				p, w := m.(*nn.AttentionPool).Forward(tp, x[0], []int{2, 4})
				return []*nn.Var{p, w}
			},
		},
		{
			Name:   "sdpa",
			New:    newFuncs,
			Inputs: in([]int{2, 3, 4}, []int{2, 4, 4}, []int{2, 4, 2}),
			Forward: func(_ nn.Module, tp *nn.Tape, x []*nn.Var) []*nn.Var {
				o, w := nn.SDPA(tp, x[0], x[1], x[2], nn.AndMask(nn.PaddingMask([]int{4, 3}, 3, 4), nn.CausalMask(2, 3, 4)))
				return []*nn.Var{o, w}
			},
		},
		{
			Name:    "bahdanau",
			New:     func(rng *tensor.RNG) (nn.Module, error) { return nn.NewBahdanau(3, 4, 3, rng), nil },
			Inputs:  in([]int{2, 3}, []int{2, 4, 4}),
			Forward: attention,
		},
	}
	for _, kind := range []string{nn.LuongDot, nn.LuongGeneral, nn.LuongConcat} {
		specs = append(specs, nntest.Spec{
			Name:    "luong-" + kind,
			New:     func(rng *tensor.RNG) (nn.Module, error) { return nn.NewLuong(kind, 4, 4, 3, rng) },
			Inputs:  in([]int{2, 4}, []int{2, 4, 4}),
			Forward: attention,
		})
	}
	batch := nn.Seq2SeqBatch{Src: []int{1, 2, 3, 4, 0, 0}, SrcLengths: []int{3, 1}, TgtIn: []int{1, 1, 2, 3, 0, 1}, Ts: 3, Tt: 3, B: 2}
	specs = append(specs, nntest.Spec{
		Name: "seq2seq",
		New: func(rng *tensor.RNG) (nn.Module, error) {
			return nn.NewSeq2Seq(nn.Seq2SeqConfig{SrcVocab: 5, TgtVocab: 4, HiddenSize: 2, EmbedSize: 3, Bidirectional: true,
				Attention: nn.LuongConcat, AttentionSize: 2, Dropout: 0.3, PadToken: -1}, rng)
		},
		Forward: func(m nn.Module, tp *nn.Tape, _ []*nn.Var) []*nn.Var {
			l, w := m.(*nn.Seq2Seq).Forward(tp, batch, 1, nil)
			return []*nn.Var{l, w}
		},
	})
	for _, s := range specs {
		nntest.Check(t, s)
	}
}
