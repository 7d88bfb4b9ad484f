package series

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestScoreIntervals(t *testing.T) {
	// Four actual values against the interval [0, 2] with median 1: one
	// inside below the median, one inside above, one under, one over.
	actual := tensor.FromSlice([]float32{0.5, 1.5, -1, 4}, 4, 1, 1)
	fill := func(v float32) *tensor.Tensor {
		return tensor.FromSlice([]float32{v, v, v, v}, 4, 1, 1)
	}
	iv, err := ScoreIntervals([]float64{0.1, 0.5, 0.9}, []*tensor.Tensor{fill(0), fill(1), fill(2)}, actual, []float64{2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := iv.Coverage, 0.5; got != want {
		t.Errorf("coverage: got %g, want %g", got, want)
	}
	if got, want := iv.Nominal, 0.8; math.Abs(got-want) > 1e-12 {
		t.Errorf("nominal: got %g, want %g", got, want)
	}
	for j, want := range []float64{0.25, 0.5, 0.75} {
		if got := iv.Below[j]; got != want {
			t.Errorf("below[%d]: got %g, want %g", j, got, want)
		}
	}
	// Width 2 each; penalties 2/0.2 · (1 + 2) over four, scale 2.
	if got, want := iv.MSIS, (2+10*3.0/4)/2; math.Abs(got-want) > 1e-9 {
		t.Errorf("MSIS: got %g, want %g", got, want)
	}
	if iv.Width != 2 {
		t.Errorf("width: got %g, want 2", iv.Width)
	}
	iv, err = ScoreIntervals([]float64{0.1, 0.9}, []*tensor.Tensor{fill(0), fill(2)}, actual, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(iv)
	if err != nil || !strings.Contains(string(b), `"msis":null`) {
		t.Errorf("JSON without scales: got %s, %v; want msis null", b, err)
	}
}

func TestScoreIntervalsErrors(t *testing.T) {
	a := tensor.New(2, 1, 1)
	for _, c := range []struct {
		levels []float64
		q      []*tensor.Tensor
		want   string
	}{
		{[]float64{0.5}, []*tensor.Tensor{a}, "two or more levels"},
		{[]float64{0.1, 0.9}, []*tensor.Tensor{a}, "two or more levels"},
		{[]float64{0.1, 0.9}, []*tensor.Tensor{a, tensor.New(3, 1, 1)}, "shape [3 1 1]"},
	} {
		if _, err := ScoreIntervals(c.levels, c.q, a, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error with %q", c.levels, err, c.want)
		}
	}
}
