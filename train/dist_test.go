package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/internal/mpi"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

// mlpTask fits a noisy nonlinear target with Linear(3, 16), tanh, dropout
// and Linear(16, 1); batches have any number of rows.
type mlpTask struct {
	// probe, when set, runs as the backward pass's last op.
	probe  func()
	params []*nn.Param
	l1, l2 *nn.Linear
	drop   *nn.Dropout
	rng    *tensor.RNG
}

func newMLPTask(seed uint64, dropout float64) *mlpTask {
	rng := tensor.NewRNG(seed)
	d := tensor.NewRNG(seed + 1)
	m := &mlpTask{l1: nn.NewLinear(3, 16, true, rng), l2: nn.NewLinear(16, 1, true, rng), drop: nn.NewDropout(dropout, d), rng: d}
	m.params = append(nn.Prefix("l1", m.l1.Params()), nn.Prefix("l2", m.l2.Params())...)
	return m
}

func (m *mlpTask) Params() []*nn.Param { return m.params }

func (m *mlpTask) forward(tp *nn.Tape, b linBatch) *nn.Var {
	if m.probe != nil && tp != nil {
		tp.Add(m.probe)
	}
	x := nn.Constant(tensor.FromSlice(b.x, len(b.y), 3))
	h := m.drop.Forward(tp, nn.Tanh(tp, m.l1.Forward(tp, x)))
	return m.l2.Forward(tp, h)
}

func (m *mlpTask) Loss(tp *nn.Tape, b Batch) (*nn.Var, int) {
	lb := b.(linBatch)
	pred := m.forward(tp, lb)
	L, _ := loss.Record(tp, pred, func(g []float32) float64 { return loss.MSE(g, pred.Value.Data, lb.y, loss.Options{}) })
	return L, len(lb.y)
}

func (m *mlpTask) Evaluate(d Data) (map[string]float64, error) {
	var s float64
	var n int
	for i := 0; i < d.Len(); i++ {
		lb := d.Batch(i).(linBatch)
		pred := m.forward(nil, lb)
		s += loss.MSE(nil, pred.Value.Data, lb.y, loss.Options{Reduction: loss.Sum})
		n += len(lb.y)
	}
	return map[string]float64{"loss": s / float64(n)}, nil
}

// rowData is linData of 3 inputs with batches of several sizes, split
// among ranks by rows.
type rowData struct{ linData }

func (d rowData) Shard(i, rank, size int) Batch {
	b := d.linData[i]
	lo, hi := ShardRange(len(b.y), rank, size)
	if lo == hi {
		return nil
	}
	return linBatch{x: b.x[3*lo : 3*hi], y: b.y[lo:hi]}
}

// makeRows makes batches of the given sizes.
func makeRows(seed uint64, sizes ...int) rowData {
	rng := tensor.NewRNG(seed)
	var d linData
	for _, n := range sizes {
		var b linBatch
		for range n {
			x0, x1, x2 := rng.Float32()*2-1, rng.Float32()*2-1, rng.Float32()*2-1
			b.x = append(b.x, x0, x1, x2)
			b.y = append(b.y, float32(math.Sin(float64(3*x0))+float64(x1*x2))+0.1*rng.Float32())
		}
		d = append(d, b)
	}
	return rowData{d}
}

// distRun is one rank's run.
type distRun struct {
	w   []float32
	res *Result
	err error
	tr  *Trainer
}

// runRanks trains the same task on n in-process ranks (n == 0: one rank
// without a Comm) and returns each rank's outcome.
func runRanks(t *testing.T, n int, dropout float64, cfg Config, fit func(tr *Trainer, rank int) (*Result, error)) []distRun {
	t.Helper()
	if n == 0 {
		tr, err := newMLPTrainer(dropout, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := fit(tr, 0)
		return []distRun{{weights(tr.params), res, err, tr}}
	}
	out := make([]distRun, n)
	var wg sync.WaitGroup
	for r, c := range mpi.NewLocal(n) {
		c := c
		wg.Go(func() {
			cc := cfg
			cc.Comm = c
			if cfg.Callbacks != nil && r > 0 {
				cc.Callbacks = nil
			}
			tr, err := newMLPTrainer(dropout, cc)
			if err != nil {
				out[r].err = err
				return
			}
			res, err := fit(tr, r)
			out[r] = distRun{weights(tr.params), res, err, tr}
		})
	}
	wg.Wait()
	return out
}

func newMLPTrainer(dropout float64, cfg Config) (*Trainer, error) {
	task := newMLPTask(5, dropout)
	opt, err := optim.New("adam", task.Params(), optim.Config{LR: 0.01})
	if err != nil {
		return nil, err
	}
	cfg.RNGs = []*tensor.RNG{task.rng}
	return New(task, opt, cfg)
}

// maxRel returns max|a-b| / max|b|.
func maxRel(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

func sameBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

var (
	// trainRows has batches of 8, 7 and 2 rows: uneven shards over 3
	// ranks and an empty one when 2 rows split among 3.
	trainRows = makeRows(1, 8, 7, 8, 2)
	validRows = makeRows(2, 16, 5)
)

func fitWith(train, valid Data) func(tr *Trainer, rank int) (*Result, error) {
	return func(tr *Trainer, _ int) (*Result, error) { return tr.Fit(context.Background(), train, valid) }
}

// TestDistMatchesOneRank: N ranks with a global batch take the steps of
// one rank with that batch, to float32 rounding, after 100 steps (50
// epochs of 4 batches, accumulating 2, clipping and L1 on): the
// order of the sums differs: each rank sums its rows' gradients, the ranks'
// sums are then added in rank order, and each rank's loss gradient is its
// mean's times its share of the rows rather than the whole batch's mean.
func TestDistMatchesOneRank(t *testing.T) {
	cfg := Config{Epochs: 50, Accum: 2, Shuffle: true, Seed: 3, ClipNorm: 1, L1: 1e-4}
	one := runRanks(t, 0, 0, cfg, fitWith(trainRows, validRows))[0]
	if one.err != nil {
		t.Fatal(one.err)
	}
	if one.res.Steps != 100 {
		t.Fatalf("reference run took %d steps, want 100", one.res.Steps)
	}
	for _, n := range []int{2, 3} {
		runs := runRanks(t, n, 0, cfg, fitWith(trainRows, validRows))
		for r, run := range runs {
			if run.err != nil {
				t.Fatalf("N=%d rank %d: %v", n, r, run.err)
			}
			if !sameBits(run.w, runs[0].w) {
				t.Errorf("N=%d: rank %d's weights differ from rank 0's", n, r)
			}
		}
		rel := maxRel(runs[0].w, one.w)
		t.Logf("N=%d vs N=1 after 100 steps: max relative weight difference %.3g; validation loss %.9g vs %.9g, train loss %.9g vs %.9g",
			n, rel, runs[0].res.Valid["loss"], one.res.Valid["loss"], runs[0].res.TrainLoss, one.res.TrainLoss)
		if rel > 1e-5 {
			t.Errorf("N=%d: weights differ from one rank's by %.3g relative, want <= 1e-5", n, rel)
		}
		if d := math.Abs(runs[0].res.Valid["loss"]-one.res.Valid["loss"]) / one.res.Valid["loss"]; d > 1e-4 {
			t.Errorf("N=%d: validation loss %v, one rank %v", n, runs[0].res.Valid["loss"], one.res.Valid["loss"])
		}
	}
}

// TestDistOverlap: summing each bucket as soon as the backward pass has
// finished it gives the weights of summing after the pass bit for bit
// (the same sums, earlier), and the first buckets are handed to the
// summing goroutine before the pass ends.
func TestDistOverlap(t *testing.T) {
	// One parameter per bucket: l2's are sent while l1's backward runs.
	cfg := Config{Epochs: 6, Accum: 2, Shuffle: true, Seed: 3, ClipNorm: 1, BucketElems: 1}
	after := cfg
	after.SumAfterBackward = true
	for _, n := range []int{2, 3} {
		a := runRanks(t, n, 0.1, after, fitWith(trainRows, validRows))
		b := runRanks(t, n, 0.1, cfg, fitWith(trainRows, validRows))
		for r := range a {
			if a[r].err != nil || b[r].err != nil {
				t.Fatalf("N=%d rank %d: %v, %v", n, r, a[r].err, b[r].err)
			}
			if !sameBits(a[r].w, b[r].w) {
				t.Errorf("N=%d rank %d: weights summed during the backward pass differ from those summed after it", n, r)
			}
			if b[r].tr.dist.overlap == nil || a[r].tr.dist.overlap != nil {
				t.Fatalf("N=%d rank %d: overlap %v with SumAfterBackward, %v without", n, r, a[r].tr.dist.overlap != nil, b[r].tr.dist.overlap != nil)
			}
		}
	}
	// When the backward pass reaches its last op (recorded first in the
	// forward), l2's buckets are on their way.
	runs := runRanks(t, 2, 0, cfg, func(tr *Trainer, rank int) (*Result, error) {
		m := tr.task.(*mlpTask)
		sent := -1
		m.probe = func() { sent = tr.dist.overlap.next }
		tr.Step(trainRows.Shard(0, rank, 2))
		if want := len(m.l2.Params()); sent < want {
			return nil, fmt.Errorf("rank %d: %d buckets sent before the backward pass ended, want at least l2's %d", rank, sent, want)
		}
		return nil, nil
	})
	for r, run := range runs {
		if run.err != nil {
			t.Errorf("rank %d: %v", r, run.err)
		}
	}
}

// TestDistReproducible: for a fixed number of ranks, two runs (with
// dropout, whose masks differ per rank) end bit for bit the same.
func TestDistReproducible(t *testing.T) {
	cfg := Config{Epochs: 4, Shuffle: true, Seed: 3, Accum: 2}
	a := runRanks(t, 2, 0.2, cfg, fitWith(trainRows, validRows))
	b := runRanks(t, 2, 0.2, cfg, fitWith(trainRows, validRows))
	if a[0].err != nil || b[0].err != nil || a[1].err != nil {
		t.Fatal(a[0].err, b[0].err, a[1].err)
	}
	if !sameBits(a[0].w, b[0].w) || !sameBits(a[1].w, a[0].w) {
		t.Error("two runs on 2 ranks differ, or their ranks do")
	}
	if g0, g1 := a[0].tr.cfg.RNGs[0].Uint64(), a[1].tr.cfg.RNGs[0].Uint64(); g0 == g1 {
		t.Error("ranks 0 and 1 draw the same dropout masks")
	}
}

// interruptAt returns a fit that cancels rank `who` at step `at` (into
// dir), expecting the stop.
func interruptAt(t *testing.T, who, at int) func(tr *Trainer, rank int) (*Result, error) {
	return func(tr *Trainer, rank int) (*Result, error) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr.cfg.Callbacks = append(tr.cfg.Callbacks, CallbackFunc(func(ev *Event) error {
			if ev.Kind == StepEnd && ev.Step == at && rank == who {
				cancel()
			}
			return nil
		}))
		res, err := tr.Fit(ctx, trainRows, validRows)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("rank %d interrupted at step %d: %v, want context.Canceled", rank, at, err)
		}
		return res, nil
	}
}

// resumeFrom returns a fit that resumes from path first.
func resumeFrom(t *testing.T, path string) func(tr *Trainer, rank int) (*Result, error) {
	return func(tr *Trainer, rank int) (*Result, error) {
		f, err := checkpoint.Read(path)
		if err != nil {
			return nil, err
		}
		if err := tr.Resume(f); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		return tr.Fit(context.Background(), trainRows, validRows)
	}
}

// TestDistResumeAcrossRanks: a checkpoint written by 2 ranks resumes on
// 1 and one written by 1 resumes on 2 (and on 3), ending where an
// uninterrupted run ends, to float32 rounding. A stop asked on one rank
// stops every rank at the same step.
func TestDistResumeAcrossRanks(t *testing.T) {
	cfg := Config{Epochs: 6, Shuffle: true, Seed: 3, RestoreBest: true}
	ref := runRanks(t, 0, 0, cfg, fitWith(trainRows, validRows))[0]
	for _, c := range []struct{ before, after, who, at int }{{2, 0, 1, 7}, {0, 2, 0, 13}, {2, 3, 0, 21}} {
		dir := t.TempDir()
		cc := cfg
		cc.Dir = dir
		stopped := runRanks(t, c.before, 0, cc, interruptAt(t, c.who, c.at))
		for r, s := range stopped {
			if st := s.tr.State(); st.Step != c.at {
				t.Errorf("%d ranks, rank %d stopped at step %d, want %d", c.before, r, st.Step, c.at)
			}
		}
		runs := runRanks(t, c.after, 0, cfg, resumeFrom(t, filepath.Join(dir, "last.safetensors")))
		if runs[0].err != nil {
			t.Fatalf("%d ranks resuming %d ranks' checkpoint of step %d: %v", max(c.after, 1), max(c.before, 1), c.at, runs[0].err)
		}
		rel := maxRel(runs[0].w, ref.w)
		t.Logf("checkpoint of %d ranks at step %d resumed on %d: max relative weight difference to one uninterrupted rank %.3g",
			max(c.before, 1), c.at, max(c.after, 1), rel)
		if rel > 1e-5 || runs[0].res.Steps != ref.res.Steps || len(runs[0].res.History) != len(ref.res.History) {
			t.Errorf("resumed run: %d steps, %d epochs of history, weights %.3g off; want %d, %d, <= 1e-5",
				runs[0].res.Steps, len(runs[0].res.History), rel, ref.res.Steps, len(ref.res.History))
		}
	}
}

// TestDistResumeExact: on a fixed number of ranks, a run interrupted and
// resumed (dropout on: each rank's generator travels in the checkpoint)
// ends bit for bit where the uninterrupted run ends.
func TestDistResumeExact(t *testing.T) {
	cfg := Config{Epochs: 6, Shuffle: true, Seed: 3, RestoreBest: true}
	ref := runRanks(t, 2, 0.3, cfg, fitWith(trainRows, validRows))
	dir := t.TempDir()
	cc := cfg
	cc.Dir = dir
	runRanks(t, 2, 0.3, cc, interruptAt(t, 1, 10))
	runs := runRanks(t, 2, 0.3, cfg, resumeFrom(t, filepath.Join(dir, "last.safetensors")))
	if runs[0].err != nil {
		t.Fatal(runs[0].err)
	}
	if !sameBits(runs[0].w, ref[0].w) {
		t.Errorf("resumed 2-rank run differs from the uninterrupted one by %.3g relative", maxRel(runs[0].w, ref[0].w))
	}
}

// TestDistNeedsShardedData: plain Data is an error, not a silent
// replication of every batch.
func TestDistNeedsShardedData(t *testing.T) {
	runs := runRanks(t, 2, 0, Config{Epochs: 1}, fitWith(trainRows.linData, nil))
	for r, run := range runs {
		if run.err == nil {
			t.Errorf("rank %d trained on data that cannot be split", r)
		}
	}
}

// zeroComm is a rank of a job whose other ranks contribute nothing: its
// sums leave buf as it is.
type zeroComm struct{}

func (zeroComm) Rank() int                        { return 0 }
func (zeroComm) Size() int                        { return 2 }
func (zeroComm) AllreduceF32(buf []float32) error { return nil }
func (zeroComm) AllreduceF64(buf []float64) error { return nil }
func (zeroComm) Bcast(buf []byte, root int) error { return nil }

// TestDistStepAllocs: a data-parallel step allocates no more than a
// one-rank step (the test task's forward allocates its inputs) once warm.
func TestDistStepAllocs(t *testing.T) {
	one, err := newMLPTrainer(0, Config{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newMLPTrainer(0, Config{Comm: zeroComm{}})
	if err != nil {
		t.Fatal(err)
	}
	tr.dist = newDist(zeroComm{}, tr.params, 64, 1) // buckets of several parameters
	b := trainRows.Shard(0, 0, 2)
	one.Step(b)
	tr.Step(b)
	base := testing.AllocsPerRun(20, func() { one.Step(b) })
	if a := testing.AllocsPerRun(20, func() { tr.Step(b) }); a > base {
		t.Errorf("a data-parallel step allocates %v times, a one-rank step %v", a, base)
	}
	tr.dist.overlap = newOverlap(tr.dist)
	tr.Step(b)
	if a := testing.AllocsPerRun(20, func() { tr.Step(b) }); a > base {
		t.Errorf("a data-parallel step summing during the backward pass allocates %v times, a one-rank step %v", a, base)
	}
	if len(tr.dist.buckets) < 2 {
		t.Errorf("%d buckets of at most 64 elements for %d parameters", len(tr.dist.buckets), len(tr.params))
	}
}
