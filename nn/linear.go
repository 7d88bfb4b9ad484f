package nn

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// Linear is a fully connected layer y = x·Wᵀ + b, applied to the last axis
// of its input (so a (T, B, I) sequence is projected at every step).
//
// Parameters, in state_dict order: "weight" (Out, In) and, when enabled,
// "bias" (Out), both initialised from U(−1/√In, 1/√In) as in PyTorch.
type Linear struct {
	In, Out int
	Weight  *Param
	Bias    *Param // nil without bias

	pack linearPack
	q    *qlayer // the quantized weight for inference (quant.go); nil for a float layer
}

// linearPack caches the weight packed for the GEMM kernel while one tape
// recording calls the layer more than once (a decoder loop): the weight
// cannot change until that recording's Backward, so it is packed once
// for the forward products and once for the input-gradient products
// instead of at every call. Training with one Linear on several tapes at
// once (several goroutines) is not supported.
type linearPack struct {
	rec      uint64 // the recording the counts and packs belong to
	calls    int    // forward calls in rec
	fwd, bwd kernel.PackedB
	fwdOK    bool // fwd holds Wᵀ of rec
	bwdOK    bool // bwd holds W of rec
}

// packedCall reports whether the products of this call should use the packed
// weight: from the second call of one recording on.
func (l *Linear) packedCall(tp *Tape) bool {
	if tp == nil {
		return false
	}
	p := &l.pack
	if id := tp.recording(); p.rec != id {
		p.rec, p.calls, p.fwdOK, p.bwdOK = id, 0, false, false
	}
	p.calls++
	return p.calls > 1
}

// forwardPacked sets y (n, Out) = x·Wᵀ + beta·y with Wᵀ packed once per
// recording.
func (l *Linear) forwardPacked(y, x []float32, n int, beta float32) {
	p := &l.pack
	if !p.fwdOK {
		p.fwd.Pack(true, l.In, l.Out, l.Weight.Value.Data, l.In)
		p.fwdOK = true
	}
	kernel.SgemmPacked(false, n, 1, x, l.In, &p.fwd, beta, y, l.Out)
}

// backwardPacked adds dy·W into dx (n, In) with W packed once per
// recording.
func (l *Linear) backwardPacked(dx, dy []float32, n int) {
	p := &l.pack
	if !p.bwdOK {
		p.bwd.Pack(false, l.Out, l.In, l.Weight.Value.Data, l.In)
		p.bwdOK = true
	}
	kernel.SgemmPacked(false, n, 1, dy, l.Out, &p.bwd, 1, dx, l.In)
}

// NewLinear returns a Linear layer from in to out features. It panics when
// a size is not positive (sizes come from validated configs).
func NewLinear(in, out int, bias bool, rng *tensor.RNG) *Linear {
	if err := checkMin("Linear", 1, intField{"in", in}, intField{"out", out}); err != nil {
		panic(err.Error())
	}
	l := &Linear{In: in, Out: out, Weight: NewParam("weight", out, in)}
	k := 1 / math.Sqrt(float64(in))
	rng.FillUniform(l.Weight.Value, -k, k)
	if bias {
		l.Bias = NewParam("bias", out)
		rng.FillUniform(l.Bias.Value, -k, k)
	}
	return l
}

// Params returns weight and, if present, bias.
func (l *Linear) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

// Forward maps x (..., In) to (..., Out).
func (l *Linear) Forward(tp *Tape, x *Var) *Var {
	tp.Touch(l.Weight, l.Bias)
	xs := x.Value.Shape
	if len(xs) == 0 || xs[len(xs)-1] != l.In {
		panic(fmt.Sprintf("nn: Linear(%d→%d) input shape %v", l.In, l.Out, xs))
	}
	n := x.Value.Len() / l.In
	if l.q != nil && tp == nil {
		return l.forwardQuant(x)
	}
	var sb [8]int
	shape := append(append(sb[:0], xs[:len(xs)-1]...), l.Out)
	y := tp.Buffer(shape...) // fully written below (beta = 0, or bias rows)
	yd, xd := y.Data, x.Value.Data
	packed := l.packedCall(tp)
	gemm, bf16 := sgemmFor(tp.bf16()), tp.bf16()
	switch {
	case l.Bias == nil && packed:
		l.forwardPacked(yd, xd, n, 0)
	case l.Bias == nil:
		gemm(false, true, n, l.Out, l.In, 1, xd, l.In, l.Weight.Value.Data, l.In, 0, yd, l.Out)
	case n*l.Out >= linearAugmentMin && !packed && !bf16: // bfloat16 would round the folded bias
		l.augmentedForward(tp, yd, xd, n)
	default:
		for r := 0; r < n; r++ {
			copy(yd[r*l.Out:(r+1)*l.Out], l.Bias.Value.Data)
		}
		if packed {
			l.forwardPacked(yd, xd, n, 1)
		} else {
			gemm(false, true, n, l.Out, l.In, 1, xd, l.In, l.Weight.Value.Data, l.In, 1, yd, l.Out)
		}
	}
	out, op := newOp[linearOp](tp, y)
	if op != nil {
		op.l, op.tp, op.x, op.y, op.n = l, tp, x, out, n
	}
	return out
}

// linearOp is the backward of one Linear.Forward.
type linearOp struct {
	l    *Linear
	tp   *Tape
	x, y *Var
	n    int // rows
}

func (o *linearOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	l, tp, n := o.l, o.tp, o.n
	dy := o.y.Grad.Data
	gemm := sgemmFor(tp.bf16())
	switch {
	case o.x.NoGrad:
	case l.pack.rec == tp.recording() && l.pack.calls > 1:
		l.backwardPacked(tp.Grad(o.x).Data, dy, n)
	default:
		gemm(false, false, n, l.In, l.Out, 1, dy, l.Out, l.Weight.Value.Data, l.In, 1, tp.Grad(o.x).Data, l.In)
	}
	if !l.Weight.Frozen {
		gemm(true, false, l.Out, l.In, n, 1, dy, l.Out, o.x.Value.Data, l.In, 1, l.Weight.Grad.Data, l.In)
	}
	if l.Bias != nil && !l.Bias.Frozen {
		sumRowsInto(l.Bias.Grad.Data, dy, n, l.Out)
	}
}

// linearAugmentMin is the output size (rows × Out) from which Forward
// folds the bias into the product: below it, copying the bias into the
// output rows costs less than copying the weight.
const linearAugmentMin = 1 << 20

// augmentedForward computes y (n, Out) = [x 1]·[W b]ᵀ as one product with
// an inner size of In+1, so a large output (a language model's logits) is
// written once by the GEMM instead of first receiving a bias copy that
// the GEMM then reads back. The augmented copies come from the arena.
func (l *Linear) augmentedForward(tp *Tape, y, x []float32, n int) {
	K := l.In + 1
	xa, wa := tp.Buffer(n, K).Data, tp.Buffer(l.Out, K).Data
	for r := 0; r < n; r++ {
		copy(xa[r*K:r*K+l.In], x[r*l.In:(r+1)*l.In])
		xa[r*K+l.In] = 1
	}
	w, b := l.Weight.Value.Data, l.Bias.Value.Data
	for o := 0; o < l.Out; o++ {
		copy(wa[o*K:o*K+l.In], w[o*l.In:(o+1)*l.In])
		wa[o*K+l.In] = b[o]
	}
	kernel.Sgemm(false, true, n, l.Out, K, 1, xa, K, wa, K, 0, y, l.Out)
}

// sumRowsInto adds the n rows of width w of src into dst.
func sumRowsInto(dst, src []float32, n, w int) {
	for r := 0; r < n; r++ {
		addInto(dst, src[r*w:(r+1)*w])
	}
}
