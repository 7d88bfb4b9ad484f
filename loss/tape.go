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
// (1)) and as a float64. With a tape, the gradient is computed now and a backward closure is
// recorded that adds L.Grad·dL/dpred into pred's gradient, so a trainer
// writes
//
//	L, value := loss.Record(tp, pred, f)
//	tp.Backward(L, nil)
//
// With a nil tape only the value is computed.
func Record(tp *nn.Tape, pred *nn.Var, f Func) (*nn.Var, float64) {
	out := nn.NewVar(tensor.New(1))
	if tp == nil {
		v := f(nil)
		out.Value.Data[0] = float32(v)
		return out, v
	}
	// The gradient goes into a tape buffer (reused across steps when the
	// tape is), and backward hands it to pred as its gradient when pred
	// has none yet, so the common case neither allocates nor adds.
	gt := tp.Buffer(pred.Value.Shape...)
	g := gt.Data
	v := f(g)
	out.Value.Data[0] = float32(v)
	tp.Add(func() {
		s := out.G().Data[0]
		if pred.Grad == nil {
			if s != 1 {
				kernel.Scal(s, g)
			}
			tp.SetGrad(pred, gt)
			return
		}
		kernel.Axpy(s, g, pred.Grad.Data)
	})
	return out, v
}
