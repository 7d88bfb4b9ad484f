package series

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestScoreDirection(t *testing.T) {
	last := tensor.FromSlice([]float32{10, 10, 10, 10, 10}, 5, 1, 1)
	actual := tensor.FromSlice([]float32{11, 9, 12, 10, 8}, 5, 1, 1)
	pred := tensor.FromSlice([]float32{10.5, 9.5, 9, 11, 10}, 5, 1, 1)
	// Moves: up (hit), down (hit), up (miss), none (skipped), down (a
	// forecast of no move: miss).
	d := ScoreDirection(pred, actual, last)
	if d.Hits != 2 || d.N != 4 || d.Accuracy != 0.5 {
		t.Errorf("got %+v, want 2 hits of 4", d)
	}
	// Wilson interval of 2/4 at 95%: 0.150 to 0.850.
	if math.Abs(d.Lo-0.1500) > 1e-3 || math.Abs(d.Hi-0.8500) > 1e-3 {
		t.Errorf("interval %v-%v, want 0.150-0.850", d.Lo, d.Hi)
	}
	if lo, hi := wilson(60, 100, 1.959964); math.Abs(lo-0.5020) > 1e-3 || math.Abs(hi-0.6906) > 1e-3 {
		t.Errorf("wilson(60, 100) = %v, %v; want 0.502, 0.691", lo, hi)
	}
}
