package train

import (
	"errors"
	"math"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// Step runs one optimizer step on the given batches (their gradients
// accumulated, each loss weighted 1/len(batches)), outside Fit: it zeroes
// the gradients, runs the task's loss and backward, adds the L1 penalty,
// checks the gradients for NaN and infinity, clips, sets the scheduled
// learning rate and steps the optimizer. It returns the mean loss. The
// step counts toward the schedule as Fit's steps do. It allocates nothing
// of its own after the first call with the same shapes.
func (t *Trainer) Step(batches ...Batch) (float64, error) {
	if len(batches) == 0 {
		return 0, errors.New("train: Step of no batches")
	}
	loss, _, err := t.step(batches)
	if err == nil {
		t.state.Step++
	}
	return loss, err
}

// step runs one optimizer step over batches and returns the mean loss and
// the number of items.
func (t *Trainer) step(batches []Batch) (float64, int, error) {
	loss, n, err := t.grads(batches)
	if err != nil {
		return 0, 0, err
	}
	t.applyLR(t.state.Step)
	t.opt.Step()
	return loss, n, nil
}

// grads computes the clipped gradients of batches: zero, forward and
// backward of each, the L1 penalty, the finite check, gradient noise
// and clipping. It
// returns the mean loss and the number of items.
func (t *Trainer) grads(batches []Batch) (float64, int, error) {
	nn.ZeroGrad(t.params)
	var total float64
	var n int
	if t.dist != nil {
		var err error
		if total, n, err = t.distBackward(batches); err != nil {
			return 0, 0, err
		}
	} else {
		for _, b := range batches {
			tp := &t.tape
			l, k := t.task.Loss(tp, b)
			tp.Backward(l, t.lossSeed(l.Value, 1/float32(len(batches))))
			total += float64(l.Value.Data[0])
			n += k
		}
		total /= float64(len(batches))
	}
	if t.cfg.L1 > 0 {
		total += optim.L1Penalty(t.params, t.cfg.L1)
	}
	t.lastNorm = optim.GradNorms(t.norms, t.params)
	if math.IsNaN(t.lastNorm) || math.IsInf(t.lastNorm, 0) {
		return 0, 0, t.nonFinite(total)
	}
	if t.noise != nil {
		t.noise.Add(t.params, t.state.Step)
	}
	if v := t.cfg.ClipValue; v > 0 {
		optim.ClipGradValue(t.params, v)
	}
	if c := t.cfg.ClipNorm; c > 0 {
		norm := t.lastNorm
		if t.cfg.ClipValue > 0 {
			norm = optim.GradNorm(t.params, 2)
		}
		optim.ClipToNorm(t.params, c, norm)
	}
	return total, n, nil
}

// nonFinite builds the error for a step whose gradient norm is not finite.
func (t *Trainer) nonFinite(loss float64) error {
	e := &NonFiniteError{Step: t.state.Step, GradNorm: t.lastNorm, Loss: loss}
	for j, p := range t.params {
		if math.IsNaN(t.norms[j]) || math.IsInf(t.norms[j], 0) {
			e.Param = p.Name
			break
		}
	}
	if err := optim.CheckFinite(t.params); err != nil {
		e.Detail = err.Error()
	}
	return e
}

// lossSeed returns the tensor of L's shape filled with w, reusing its
// memory from step to step.
func (t *Trainer) lossSeed(L *tensor.Tensor, w float32) *tensor.Tensor {
	s := &t.seed
	if len(s.Data) != len(L.Data) {
		s.Data = make([]float32, len(L.Data))
	}
	s.Shape = append(s.Shape[:0], L.Shape...)
	for i := range s.Data {
		s.Data[i] = w
	}
	return s
}
