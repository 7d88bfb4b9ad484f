package lrfind

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// linearRegression returns one SGD step on y = 3x₁ − 2x₂ + 0.5 + noise,
// least squares; gradient descent on it diverges for lr > 2/λmax.
func linearRegression(t *testing.T) (func(lr float64) (float64, error), float64) {
	rng := tensor.NewRNG(11)
	const n = 64
	xs := make([][2]float64, n)
	ys := make([]float64, n)
	for i := range xs {
		xs[i] = [2]float64{rng.Normal(0, 1), rng.Normal(0, 1)}
		ys[i] = 3*xs[i][0] - 2*xs[i][1] + 0.5 + rng.Normal(0, 0.1)
	}
	w := nn.NewParam("w", 3)
	opt, err := optim.New("sgd", []*nn.Param{w}, optim.Config{LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	step := func(lr float64) (float64, error) {
		opt.SetLR(0, lr)
		nn.ZeroGrad([]*nn.Param{w})
		var l float64
		for i, x := range xs {
			p := float64(w.Value.Data[0])*x[0] + float64(w.Value.Data[1])*x[1] + float64(w.Value.Data[2])
			d := p - ys[i]
			l += d * d / n
			for j, f := range []float64{x[0], x[1], 1} {
				w.Grad.Data[j] += float32(2 * d * f / n)
			}
		}
		opt.Step()
		return l, nil
	}
	// The Hessian of the mean squared error is 2·E[x xᵀ] ≈ 2·I: divergence
	// starts near lr = 1.
	return step, 1
}

func TestFindsLRBelowDivergence(t *testing.T) {
	step, diverge := linearRegression(t)
	res, err := Run(Config{MinLR: 1e-4, MaxLR: 100, Steps: 120}, step)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Diverged || len(res.LRs) == 120 {
		t.Errorf("did not stop at divergence: %d steps, diverged %v", len(res.LRs), res.Diverged)
	}
	if last := res.LRs[len(res.LRs)-1]; last < diverge/2 {
		t.Errorf("stopped at lr %g, before the divergence point %g", last, diverge)
	}
	if !(res.Suggested > 1e-3 && res.Suggested < diverge) {
		t.Errorf("suggested lr %g, want in (1e-3, %g)", res.Suggested, diverge)
	}
	if math.Abs(res.Smoothed[0]-res.Losses[0]) > 1e-12*res.Losses[0] {
		t.Errorf("bias-corrected smoothing: first smoothed %v, want the first loss %v", res.Smoothed[0], res.Losses[0])
	}
	for i := 1; i < len(res.LRs); i++ {
		if r := res.LRs[i] / res.LRs[i-1]; math.Abs(r-math.Pow(1e6, 1.0/119)) > 1e-9 {
			t.Fatalf("LR ratio at step %d: got %v, want exponential growth", i, r)
		}
	}
}

// TestRisingCurveHasNoSuggestion: a loss that only rises has its minimum
// at the first step; the test used to suggest a tenth of the sweep's start,
// a rate it never tried. Now it reports that nothing lowered the loss, and
// returns the curve.
func TestRisingCurveHasNoSuggestion(t *testing.T) {
	res, err := Run(Config{Steps: 60}, func(lr float64) (float64, error) { return 1 + lr, nil })
	var nd *NoDescentError
	if !errors.As(err, &nd) {
		t.Fatalf("rising curve: got error %v, want a NoDescentError", err)
	}
	if res == nil || len(res.LRs) == 0 || nd.LowestAt != 1e-7 || !strings.Contains(err.Error(), "lowest at the start") {
		t.Errorf("rising curve: result %v, error %v", res, err)
	}
}

// TestSuggestionInsideSweep: whatever the curve, a suggestion lies in
// [MinLR, MaxLR].
func TestSuggestionInsideSweep(t *testing.T) {
	for _, steps := range []int{20, 60, 100} {
		// Falls from the second step to its minimum at the 20% point:
		// a tenth of that minimum's LR would be below the sweep.
		res, err := Run(Config{Steps: steps}, func(lr float64) (float64, error) {
			if lr < 1e-5 {
				return 2 - lr*1e4, nil
			}
			return 2 + lr, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Suggested < 1e-7 || res.Suggested > 10 {
			t.Errorf("%d steps: suggested %g outside the sweep [1e-7, 10]", steps, res.Suggested)
		}
	}
}

func TestErrors(t *testing.T) {
	ok := func(float64) (float64, error) { return 1, nil }
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{MinLR: -1}, "min_lr = -1"},
		{Config{MinLR: 1, MaxLR: 0.5}, "max_lr = 0.5"},
		{Config{Steps: 1}, "steps = 1"},
		{Config{Smoothing: 1}, "smoothing = 1"},
		{Config{DivergeFactor: 0.5}, "diverge_factor = 0.5"},
	} {
		if _, err := Run(tc.c, ok); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v): got %v, want %q", tc.c, err, tc.want)
		}
	}
	boom := errors.New("boom")
	if _, err := Run(Config{}, func(float64) (float64, error) { return 0, boom }); !errors.Is(err, boom) || !strings.Contains(err.Error(), "step 0") {
		t.Errorf("step error: got %v", err)
	}
	if _, err := Run(Config{}, func(float64) (float64, error) { return math.NaN(), nil }); err == nil {
		t.Errorf("NaN at the first step: got nil error")
	}
}

// TestNoisyStartIsNotSuggested: a sharp drop between the first two losses
// (a noisy first batch) must not become the suggestion; the real descent
// later in the sweep must.
func TestNoisyStartIsNotSuggested(t *testing.T) {
	c := Config{MinLR: 1e-7, MaxLR: 10, Steps: 100}
	i := 0
	res, err := Run(c, func(lr float64) (float64, error) {
		i++
		switch {
		case i == 1:
			return 5, nil // an unlucky first batch
		case lr < 1e-3:
			return 1, nil
		case lr < 1:
			return 1 - 0.25*math.Log10(lr/1e-3), nil // falls to 0.25 at lr 1
		default:
			return 0.25 * math.Pow(lr, 4), nil // diverges
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Suggested; got < 1e-3 || got > 1 {
		t.Errorf("Suggested = %g, want within the real descent [1e-3, 1]", got)
	}
}
