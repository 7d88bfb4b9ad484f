package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// Embedding maps integer ids to rows of a (V, E) table.
//
// Its parameter "weight" (V, E) starts from N(0, 1) as in PyTorch. When
// PaddingIdx is a valid id its row is set to zero and never receives a
// gradient, so it stays zero through training. Freezing the weight (for
// pretrained vectors) skips its gradient altogether.
type Embedding struct {
	V, E       int
	PaddingIdx int // -1: none
	Weight     *Param
}

// NewEmbedding returns a V×E embedding; paddingIdx is -1 for none. It
// panics on non-positive sizes or a padding index outside [-1, V).
func NewEmbedding(V, E int, paddingIdx int, rng *tensor.RNG) *Embedding {
	if err := checkMin("Embedding", 1, intField{"V", V}, intField{"E", E}); err != nil {
		panic(err.Error())
	}
	if paddingIdx < -1 || paddingIdx >= V {
		panic(fieldMsg("Embedding", "padding_idx", paddingIdx, fmt.Sprintf("in [-1, %d) (-1: none)", V)))
	}
	e := &Embedding{V: V, E: E, PaddingIdx: paddingIdx, Weight: NewParam("weight", V, E)}
	rng.FillNormal(e.Weight.Value, 0, 1)
	e.zeroPadding()
	return e
}

func (e *Embedding) zeroPadding() {
	if e.PaddingIdx >= 0 {
		clear(e.Weight.Value.Data[e.PaddingIdx*e.E : (e.PaddingIdx+1)*e.E])
	}
}

// Params returns the weight.
func (e *Embedding) Params() []*Param { return []*Param{e.Weight} }

// Load copies pretrained vectors (V, E) into the table. The padding row,
// if any, is kept as loaded (PyTorch's from_pretrained does the same).
func (e *Embedding) Load(vectors *tensor.Tensor) error {
	if len(vectors.Shape) != 2 || vectors.Shape[0] != e.V || vectors.Shape[1] != e.E {
		return fieldError("Embedding.Load", "vectors.shape", vectors.Shape, fmt.Sprintf("[%d %d]", e.V, e.E))
	}
	e.Weight.Value.CopyFrom(vectors)
	return nil
}

// Forward looks up ids, laid out with the given shape (default
// [len(ids)]), and returns (shape..., E). An id outside [0, V) panics:
// callers validate user data before it gets here.
func (e *Embedding) Forward(tp *Tape, ids []int, shape ...int) *Var {
	return e.lookup(tp, ids, nil, shape)
}

// lookup gathers rows, each scaled by rowScale[id] when rowScale is not nil
// (embedding dropout).
func (e *Embedding) lookup(tp *Tape, ids []int, rowScale []float32, shape []int) *Var {
	tp.Touch(e.Weight)
	var sb [8]int
	if len(shape) == 0 {
		shape = append(sb[:0], len(ids))
	}
	if numel(shape) != len(ids) {
		panic(fmt.Sprintf("nn: Embedding: %d ids for shape %v", len(ids), append([]int(nil), shape...)))
	}
	E := e.E
	var yb [8]int
	ys := append(append(yb[:0], shape...), E)
	y := tp.Buffer(ys...) // every row is written
	w := e.Weight.Value.Data
	for i, id := range ids {
		if id < 0 || id >= e.V {
			panic(fmt.Sprintf("nn: Embedding: id %d at position %d outside [0, %d)", id, i, e.V))
		}
		dst := y.Data[i*E : (i+1)*E]
		copy(dst, w[id*E:(id+1)*E])
		if rowScale != nil && rowScale[id] != 1 {
			s := rowScale[id]
			for j := range dst {
				dst[j] *= s
			}
		}
	}
	out, op := newOp[embeddingOp](tp, y)
	if op != nil {
		// The caller may reuse its slice before Backward.
		op.e, op.y, op.ids, op.rowScale = e, out, tp.Ints(len(ids)), rowScale
		copy(op.ids, ids)
	}
	return out
}

// embeddingOp is the backward of one lookup.
type embeddingOp struct {
	e        *Embedding
	y        *Var
	ids      []int
	rowScale []float32
}

func (o *embeddingOp) Backward() {
	e := o.e
	if o.y.Grad == nil || e.Weight.Frozen {
		return
	}
	E, dy, g := e.E, o.y.Grad.Data, e.Weight.Grad.Data
	for i, id := range o.ids {
		s := float32(1)
		if o.rowScale != nil {
			s = o.rowScale[id]
		}
		if id != e.PaddingIdx && s != 0 {
			kernel.Axpy(s, dy[i*E:(i+1)*E], g[id*E:(id+1)*E])
		}
	}
}
