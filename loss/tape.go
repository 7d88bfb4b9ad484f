package loss

import (
	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Func evaluates a loss on a prediction, writing dL/dpred into grad when
// grad is not nil (grad has the prediction's length; its contents on entry
// are unspecified, so every element must be written). Every loss of this
// package fits in a closure:
//
//	func(g []float32) float64 { return loss.MSE(g, pred.Value.Data, y, loss.Options{}) }
type Func func(grad []float32) float64

// Record evaluates f on pred and returns the loss as a scalar Var (shape
// (1)) and as a float64. With a tape, the gradient is computed now and a
// backward op is recorded that adds L.Grad·dL/dpred into pred's gradient,
// so a trainer writes
//
//	L, value := loss.Record(tp, pred, f)
//	tp.Backward(L, nil)
//
// The Var L is then the tape's, valid until the tape's next step (see
// nn.Tape); f is called before Record returns and not kept, so a closure
// that does not outlive the call costs no allocation. With a nil tape
// only the value is computed and L is the caller's.
func Record(tp *nn.Tape, pred *nn.Var, f Func) (*nn.Var, float64) {
	if tp == nil {
		out := nn.NewVar(tensor.New(1))
		v := f(nil)
		out.Value.Data[0] = float32(v)
		return out, v
	}
	// The loss Var, its value and the gradient are the tape's (reused
	// across steps when the tape is), and backward hands the gradient to
	// pred as its gradient when pred has none yet, so the common case
	// neither allocates nor adds.
	out := tp.Var(tp.Buffer(1))
	op := nn.NewRecord[recordOp](tp)
	op.tp, op.pred, op.out, op.g = tp, pred, out, tp.Buffer(pred.Value.Shape...)
	v := f(op.g.Data)
	out.Value.Data[0] = float32(v)
	tp.AddOp(op)
	return out, v
}

// recordOp is the backward of Record: pred's gradient += L.Grad·dL/dpred.
type recordOp struct {
	tp        *nn.Tape
	pred, out *nn.Var
	g         *tensor.Tensor // dL/dpred
}

func (o *recordOp) Backward() {
	s := o.out.G().Data[0]
	if o.pred.Grad == nil {
		if s != 1 {
			kernel.Scal(s, o.g.Data)
		}
		o.tp.SetGrad(o.pred, o.g)
		return
	}
	kernel.Axpy(s, o.g.Data, o.pred.Grad.Data)
}
