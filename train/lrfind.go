package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/tensor"
)

// FindLR runs the learning-rate range test (package lrfind) with this
// trainer's steps (accumulation, clipping, L1) on batches of d: random
// batches, or batches in order for a task that carries state across them.
// It then puts back the weights, optimizer state, carried state and
// learning rates it started from, so that Fit can follow. The Result comes
// with an *lrfind.NoDescentError when no rate of the sweep lowered the
// loss.
func (t *Trainer) FindLR(ctx context.Context, d Data, c lrfind.Config) (*lrfind.Result, error) {
	if isNil(d) || d.Len() == 0 {
		return nil, fmt.Errorf("train: FindLR: no batches")
	}
	if t.dist != nil {
		return nil, fmt.Errorf("train: FindLR runs on one rank, not %d", t.dist.size)
	}
	weights := make([]*tensor.Tensor, len(t.params))
	for i, p := range t.params {
		weights[i] = p.Value.Clone()
	}
	opt := t.opt.State()
	defer func() {
		for i, p := range t.params {
			p.Value.CopyFrom(weights[i])
		}
		t.opt.LoadState(opt) // the state it exported itself
		if r, ok := t.task.(Resetter); ok {
			r.Reset()
		}
		t.applyLR(t.state.Step)
	}()
	_, stateful := t.task.(Resetter)
	rng := tensor.NewRNG(t.cfg.Seed ^ 0x1f1d)
	if ed, ok := d.(EpochData); ok {
		ed.SetEpoch(0)
	}
	i := 0
	return lrfind.Run(c, func(lr float64) (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for g := range t.opt.Groups() {
			t.opt.SetLR(g, lr)
		}
		t.batch = t.batch[:0]
		for range t.cfg.Accum {
			k := rng.IntN(d.Len())
			if stateful {
				if i%d.Len() == 0 {
					t.task.(Resetter).Reset()
				}
				k = i % d.Len()
			}
			i++
			t.batch = append(t.batch, d.Batch(k))
		}
		loss, _, err := t.grads(t.batch)
		var nf *NonFiniteError
		if errors.As(err, &nf) {
			return math.NaN(), nil // diverged: the sweep ends here
		}
		if err != nil {
			return 0, err
		}
		t.opt.Step()
		return loss, nil
	})
}
