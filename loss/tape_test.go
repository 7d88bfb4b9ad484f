package loss

import (
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// TestRecordGradientPaths checks the three ways Record's backward lands
// the gradient: adopted (pred had none), scaled (L's gradient is not 1)
// and added (pred already had one), against MSE's gradient 2(p−y)/n.
func TestRecordGradientPaths(t *testing.T) {
	p := []float32{1, 2, 3, 4}
	y := []float32{0, 2, 5, 3}
	want := []float32{0.5, 0, -1, 0.5}
	for _, tc := range []struct {
		name        string
		dy          float32
		prior, base float32
	}{
		{"adopt", 1, 0, 0},
		{"scale", 3, 0, 0},
		{"add", 2, 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tp nn.Tape
			pred := nn.NewVar(tensor.FromSlice(append([]float32(nil), p...), 4))
			if tc.prior != 0 {
				pred.G().Fill(tc.prior)
			}
			L, v := Record(&tp, pred, func(g []float32) float64 { return MSE(g, pred.Value.Data, y, Options{}) })
			if v != 1.5 || L.Value.Data[0] != 1.5 {
				t.Fatalf("loss %v (Var %v), want 1.5", v, L.Value.Data[0])
			}
			dy := tensor.New(1)
			dy.Data[0] = tc.dy
			tp.Backward(L, dy)
			for i, w := range want {
				if got := pred.Grad.Data[i]; got != tc.base+tc.dy*w {
					t.Errorf("grad[%d] = %v, want %v", i, got, tc.base+tc.dy*w)
				}
			}
		})
	}
}
