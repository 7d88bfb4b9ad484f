package nn

import (
	"fmt"

	"github.com/recur-ml/recur/tensor"
)

// checkP panics unless p is a dropout probability in [0, 1).
func checkP(op string, p float64) {
	if !isProb(p) {
		panic(fieldMsg(op, "p", p, wantProb))
	}
}

// Dropout zeroes each element with probability P during training and
// scales the survivors by 1/(1−P) (inverted dropout), so inference is the
// identity. It is active only when the tape is training (tp.Training());
// with a nil or Eval tape Forward returns its input unchanged. The masks
// come from the layer's RNG, so a seed fixes them.
type Dropout struct {
	P   float64
	rng *tensor.RNG
}

// RNG returns the generator the masks are drawn from, so that a
// checkpoint can save and restore it.
func (d *Dropout) RNG() *tensor.RNG { return d.rng }

// NewDropout returns a dropout layer; p must be in [0, 1).
func NewDropout(p float64, rng *tensor.RNG) *Dropout {
	checkP("Dropout", p)
	return &Dropout{P: p, rng: rng}
}

// Forward applies dropout to x (any shape).
func (d *Dropout) Forward(tp *Tape, x *Var) *Var {
	if !tp.Training() || d.P == 0 {
		return x
	}
	mask := tp.Buffer(x.Value.Len()).Data
	d.rng.Bernoulli(mask, d.P)
	return applyMask(tp, x, mask, len(mask))
}

// applyMask returns x ⊙ mask, the mask repeating every period elements.
func applyMask(tp *Tape, x *Var, mask []float32, period int) *Var {
	y := tp.Buffer(x.Value.Shape...)
	for i, v := range x.Value.Data {
		y.Data[i] = v * mask[i%period]
	}
	out, op := newOp[maskOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.mask, op.period = tp, x, out, mask, period
	}
	return out
}

// maskOp is the backward of applyMask.
type maskOp struct {
	tp     *Tape
	x, y   *Var
	mask   []float32
	period int
}

func (o *maskOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dx, period := o.tp.Grad(o.x).Data, o.period
	for i, g := range o.y.Grad.Data {
		dx[i] += g * o.mask[i%period]
	}
}

// LockedDropout (variational dropout) draws one mask per sequence and
// feature and applies it at every time step of a time-major (T, B, F)
// input, as in AWD-LSTM. Active only on a training tape.
type LockedDropout struct {
	P   float64
	rng *tensor.RNG
}

// NewLockedDropout returns a locked dropout layer; p must be in [0, 1).
func NewLockedDropout(p float64, rng *tensor.RNG) *LockedDropout {
	checkP("LockedDropout", p)
	return &LockedDropout{P: p, rng: rng}
}

// Forward applies one (B, F) mask to every step of x (T, B, F).
func (d *LockedDropout) Forward(tp *Tape, x *Var) *Var {
	if !tp.Training() || d.P == 0 {
		return x
	}
	if len(x.Value.Shape) != 3 {
		panic(fmt.Sprintf("nn: LockedDropout input shape %v, want (T, B, F)", x.Value.Shape))
	}
	mask := tp.Buffer(x.Value.Shape[1] * x.Value.Shape[2]).Data
	d.rng.Bernoulli(mask, d.P)
	return applyMask(tp, x, mask, len(mask))
}

// EmbeddingDropout drops whole rows of an embedding table, that is whole
// words of the vocabulary, for one forward pass: every occurrence of a
// dropped word embeds to zero and the kept rows are scaled by 1/(1−P)
// (AWD-LSTM's embedded dropout). Active only on a training tape.
type EmbeddingDropout struct {
	P   float64
	rng *tensor.RNG
}

// NewEmbeddingDropout returns an embedding dropout; p must be in [0, 1).
func NewEmbeddingDropout(p float64, rng *tensor.RNG) *EmbeddingDropout {
	checkP("EmbeddingDropout", p)
	return &EmbeddingDropout{P: p, rng: rng}
}

// Forward looks ids up in e (see [Embedding.Forward]) with one mask over
// e's V rows.
func (d *EmbeddingDropout) Forward(tp *Tape, e *Embedding, ids []int, shape ...int) *Var {
	if !tp.Training() || d.P == 0 {
		return e.Forward(tp, ids, shape...)
	}
	mask := tp.Buffer(e.V).Data
	d.rng.Bernoulli(mask, d.P)
	return e.lookup(tp, ids, mask, shape)
}
