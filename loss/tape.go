package loss

import (
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Func evaluates a loss on a prediction, writing dL/dpred into grad when
// grad is not nil (grad has the prediction's length). Every loss of this
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
	g := make([]float32, len(pred.Value.Data))
	v := f(g)
	out.Value.Data[0] = float32(v)
	tp.Add(func() {
		s := out.G().Data[0]
		dst := pred.G().Data
		for i, v := range g {
			dst[i] += s * v
		}
	})
	return out, v
}
