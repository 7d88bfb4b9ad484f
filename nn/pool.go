package nn

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// poolShape checks a time-major (T, B, F) sequence and its lengths (nil:
// every sequence has T steps) and returns T, B, F and the lengths (when
// nil, all T, taken from tp; see Tape.Ints).
func poolShape(tp *Tape, op string, x *Var, lengths []int) (T, B, F int, ls []int) {
	s := x.Value.Shape
	if len(s) != 3 {
		panic(fmt.Sprintf("nn: %s: input shape %v, want (T, B, F)", op, s))
	}
	T, B, F = s[0], s[1], s[2]
	if lengths == nil {
		ls = tp.Ints(B)
		for i := range ls {
			ls[i] = T
		}
		return T, B, F, ls
	}
	if len(lengths) != B {
		panic(fmt.Sprintf("nn: %s: %d lengths for batch %d", op, len(lengths), B))
	}
	for b, l := range lengths {
		if l < 1 || l > T {
			panic(fmt.Sprintf("nn: %s: length %d of sequence %d outside [1, %d]", op, l, b, T))
		}
	}
	return T, B, F, lengths
}

// LastStep returns each sequence's own last valid step of the time-major
// out (T, B, F): row b is out[lengths[b]−1, b], shape (B, F). lengths nil
// means every sequence is T long.
func LastStep(tp *Tape, out *Var, lengths []int) *Var {
	_, B, F, ls := poolShape(tp, "LastStep", out, lengths)
	y := tp.Buffer(B, F) // every row is written
	src := tp.Ints(B)    // where row b starts in out
	for b := 0; b < B; b++ {
		src[b] = ((ls[b]-1)*B + b) * F
		copy(y.Data[b*F:(b+1)*F], out.Value.Data[src[b]:src[b]+F])
	}
	return gatherRecord(tp, out, y, src, F)
}

// gatherOp is the backward of an op whose output chunk i (w elements) is
// x's elements from idx[i] on: LastStep, MaxPool.
type gatherOp struct {
	tp   *Tape
	x, y *Var
	idx  []int
	w    int
}

// gatherRecord returns y as the Var of a gather from x (see gatherOp).
func gatherRecord(tp *Tape, x *Var, y *tensor.Tensor, idx []int, w int) *Var {
	out, op := newOp[gatherOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.idx, op.w = tp, x, out, idx, w
	}
	return out
}

func (o *gatherOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dx, dy, w := o.tp.Grad(o.x).Data, o.y.Grad.Data, o.w
	if w == 1 {
		for i, g := range dy {
			dx[o.idx[i]] += g
		}
		return
	}
	for i, j := range o.idx {
		addInto(dx[j:j+w], dy[i*w:(i+1)*w])
	}
}

// MeanPool returns the mean over each sequence's valid steps of the
// time-major out (T, B, F), shape (B, F).
func MeanPool(tp *Tape, out *Var, lengths []int) *Var {
	_, B, F, ls := poolShape(tp, "MeanPool", out, lengths)
	y := tp.Zeros(B, F)
	for b := 0; b < B; b++ {
		yr := y.Data[b*F : (b+1)*F]
		for t := 0; t < ls[b]; t++ {
			addInto(yr, out.Value.Data[(t*B+b)*F:(t*B+b+1)*F])
		}
		kernel.Scal(1/float32(ls[b]), yr)
	}
	v, op := newOp[meanPoolOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.ls, op.F = tp, out, v, ls, F
	}
	return v
}

// meanPoolOp is the backward of one MeanPool.
type meanPoolOp struct {
	tp   *Tape
	x, y *Var
	ls   []int
	F    int
}

func (o *meanPoolOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	dy, dx := o.y.Grad.Data, o.tp.Grad(o.x).Data
	B, F := len(o.ls), o.F
	for b, l := range o.ls {
		inv := 1 / float32(l)
		for t := 0; t < l; t++ {
			kernel.Axpy(inv, dy[b*F:(b+1)*F], dx[(t*B+b)*F:(t*B+b+1)*F])
		}
	}
}

// MaxPool returns the maximum over each sequence's valid steps of the
// time-major out (T, B, F), shape (B, F). The gradient goes to the first
// step holding the maximum.
func MaxPool(tp *Tape, out *Var, lengths []int) *Var {
	_, B, F, ls := poolShape(tp, "MaxPool", out, lengths)
	y := tp.Buffer(B, F)  // every element is written
	arg := tp.Ints(B * F) // flat index into out of each maximum
	for b := 0; b < B; b++ {
		for j := 0; j < F; j++ {
			best := b*F + j
			for t := 1; t < ls[b]; t++ {
				if i := (t*B+b)*F + j; out.Value.Data[i] > out.Value.Data[best] {
					best = i
				}
			}
			arg[b*F+j] = best
			y.Data[b*F+j] = out.Value.Data[best]
		}
	}
	return gatherRecord(tp, out, y, arg, 1)
}

// AttentionPool is learned attention pooling over time (self-attentive
// pooling for classifiers): for a time-major (T, B, F) sequence,
//
//	score[b,t] = v·tanh(W·out[t,b] + bias)  over each sequence's valid steps
//	weights = softmax(score);  pooled[b] = Σ_t weights[b,t]·out[t,b]
//
// Parameters: "proj.weight" W (A, F), "proj.bias" (A), "v" (A).
type AttentionPool struct {
	Proj *Linear
	V    *Param
}

// NewAttentionPool returns attention pooling over features of width F with
// an attention width A.
func NewAttentionPool(F, A int, rng *tensor.RNG) *AttentionPool {
	p := &AttentionPool{Proj: NewLinear(F, A, true, rng), V: NewParam("v", A)}
	rng.FillUniform(p.V.Value, -1/math.Sqrt(float64(A)), 1/math.Sqrt(float64(A)))
	Prefix("proj", p.Proj.Params())
	return p
}

// Params returns proj.weight, proj.bias, v.
func (p *AttentionPool) Params() []*Param { return append(p.Proj.Params(), p.V) }

// Forward pools out (T, B, F) over the valid steps given by lengths (nil:
// all T) and returns pooled (B, F) and the weights (B, T), zero at padded
// steps.
func (p *AttentionPool) Forward(tp *Tape, out *Var, lengths []int) (pooled, weights *Var) {
	tp.Touch(p.Proj.Weight, p.Proj.Bias, p.V)
	T, B, _, ls := poolShape(tp, "AttentionPool", out, lengths)
	keys := SwapTB(tp, out)
	zero := tp.Var(tp.Zeros(B, p.Proj.Out))
	s := additiveScores(tp, zero, p.Proj.Forward(tp, keys), p.V)
	weights = MaskedSoftmax(tp, s, paddingMaskInto(tp.Bools(B*T), ls, 1, T))
	return weightedSum(tp, weights, keys), weights
}
