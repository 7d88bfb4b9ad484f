package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/recur-ml/recur/nn"
)

// Comm connects the processes (ranks) of data-parallel training: MPI's
// world communicator (internal/mpi.World, in a binary built with -tags
// mpi and started by mpirun) or in-process ranks for tests
// (internal/mpi.Local). Every rank makes the same calls in the same order.
type Comm interface {
	Rank() int
	Size() int
	// AllreduceF32 and AllreduceF64 replace buf on every rank by the
	// element-wise sum over the ranks; every rank gets the same bits.
	AllreduceF32(buf []float32) error
	AllreduceF64(buf []float64) error
	// Bcast copies root's buf into the other ranks' buf.
	Bcast(buf []byte, root int) error
}

// ShardedData is Data whose global batches split among the ranks of
// data-parallel training.
type ShardedData interface {
	Data
	// Shard returns rank's part of batch i split among size ranks: the
	// items ShardRange(n, rank, size) of its n, or nil when that part is
	// empty. Every rank's Data holds the same batches.
	Shard(i, rank, size int) Batch
}

// ShardEvaluator is a Task that evaluates with every rank doing a part
// of the work; every rank returns the same metrics. Tasks without it
// evaluate the whole set on every rank.
type ShardEvaluator interface {
	EvaluateShard(d Data, c Comm) (map[string]float64, error)
}

// ShardedCarrier is a Carrier whose carried tensors hold one row per
// stream along axis CarryAxis, and whose ShardedData gives each rank the
// streams ShardRange(streams, rank, size): data-parallel training gathers
// the rows into checkpoints and splits a checkpoint's rows among the
// ranks, so a checkpoint is the same whatever the number of ranks.
type ShardedCarrier interface {
	Carrier
	CarryAxis() int
}

// WeightedTask is a Task whose mean loss divides by something other than
// its item count (a cross-entropy with class weights divides by the
// weights of the batch's labels): data-parallel training weights each
// rank's shard by LossWeight instead of the count.
type WeightedTask interface {
	LossWeight(b Batch) float64
}

// ShardRange returns the items [lo, hi) of n that rank takes when n
// items are split among size ranks: contiguous blocks in rank order, the
// first n%size ranks one item more.
func ShardRange(n, rank, size int) (lo, hi int) {
	q, r := n/size, n%size
	lo = rank*q + min(rank, r)
	hi = lo + q
	if rank < r {
		hi++
	}
	return lo, hi
}

// bucketElems is the most gradient elements summed in one call (25 MiB
// of float32, PyTorch DDP's bucket size); a larger parameter is summed
// alone, in place.
const bucketElems = 25 << 20 / 4

// dist is the data-parallel side of a Trainer: gradients are summed
// over the ranks in buckets after the backward pass, each batch's loss
// weights follow the ranks' item counts, and a stop is agreed on.
type dist struct {
	comm       Comm
	rank, size int
	data       ShardedData
	// buckets hold the parameters in reverse order (the order backward
	// finishes them), several small ones per bucket through flat.
	buckets [][]*nn.Param
	flat    []float32
	stat    [3]float64 // weight, loss·weight and items of one batch
	flag    [1]float64
	check   [8]float64
	// userRNGs is how many of Config.RNGs (dropout) draw differently on
	// each rank; the rest (gradient noise) stay the same on every rank.
	userRNGs int
	// split says the user generators already differ per rank.
	split bool
	// overlap, unless Config.SumAfterBackward, sums the buckets while
	// the backward pass runs.
	overlap *overlap
}

func newDist(c Comm, ps []*nn.Param, limit, userRNGs int) *dist {
	d := &dist{comm: c, rank: c.Rank(), size: c.Size(), userRNGs: userRNGs}
	var cur []*nn.Param
	n, most := 0, 0
	flush := func() {
		if len(cur) > 0 {
			d.buckets = append(d.buckets, cur)
			if len(cur) > 1 {
				most = max(most, n)
			}
		}
		cur, n = nil, 0
	}
	for i := len(ps) - 1; i >= 0; i-- {
		k := len(ps[i].Grad.Data)
		if n > 0 && n+k > limit {
			flush()
		}
		cur, n = append(cur, ps[i]), n+k
	}
	flush()
	d.flat = make([]float32, most)
	return d
}

// reduceGrads sums every parameter's gradient over the ranks.
func (d *dist) reduceGrads() error {
	for _, b := range d.buckets {
		var packed []float32
		if len(b) > 1 {
			packed = pack(b, d.flat)
		}
		if err := d.sumBucket(b, packed); err != nil {
			return err
		}
	}
	return nil
}

// pack copies the gradients of bucket b into flat and returns the part
// of flat they fill.
func pack(b []*nn.Param, flat []float32) []float32 {
	off := 0
	for _, p := range b {
		off += copy(flat[off:], p.Grad.Data)
	}
	return flat[:off]
}

// sumBucket sums bucket b's gradients over the ranks: a lone parameter's
// in place, several through packed (pack's result), copied back after.
func (d *dist) sumBucket(b []*nn.Param, packed []float32) error {
	if len(b) == 1 {
		packed = b[0].Grad.Data
	}
	if err := d.comm.AllreduceF32(packed); err != nil {
		return fmt.Errorf("train: summing gradients: %w", err)
	}
	if len(b) > 1 {
		off := 0
		for _, p := range b {
			off += copy(p.Grad.Data, packed[off:])
		}
	}
	return nil
}

// distBackward runs forward and backward of this rank's shards of one
// step's batches (nil for an empty shard). Each batch's loss is weighted
// by its share of the batch's items (or LossWeight) over all ranks, so
// the summed gradient is
// the one of the whole batch's mean loss; it returns the step's mean loss
// and item count over all ranks.
func (t *Trainer) distBackward(batches []Batch) (float64, int, error) {
	d := t.dist
	var total float64
	var n int
	if d.overlap != nil {
		defer t.tape.OnReady(nil)
	}
	for i, b := range batches {
		var l *nn.Var
		k, w := 0, 0.0
		last := i == len(batches)-1
		if last && d.overlap != nil {
			t.tape.OnReady(d.overlap.onReady) // before the forward's touches
		}
		if b != nil {
			l, k = t.task.Loss(&t.tape, b)
			w = float64(k)
			if wt, ok := t.task.(WeightedTask); ok {
				w = wt.LossWeight(b)
			}
		}
		d.stat = [3]float64{w, 0, float64(k)}
		if k > 0 {
			d.stat[1] = float64(l.Value.Data[0]) * w
		}
		if err := d.comm.AllreduceF64(d.stat[:]); err != nil {
			t.tape.Reset()
			return 0, 0, fmt.Errorf("train: summing losses: %w", err)
		}
		all := d.stat[0]
		if !(all > 0) {
			t.tape.Reset()
			return 0, 0, errors.New("train: a batch with no items (or no weight) on any rank")
		}
		if last && d.overlap != nil {
			d.overlap.start()
		}
		if b != nil {
			t.tape.Backward(l, t.lossSeed(l.Value, float32(w/all/float64(len(batches)))))
		}
		total += d.stat[1] / all
		n += int(d.stat[2])
	}
	if d.overlap != nil {
		return total / float64(len(batches)), n, d.overlap.finish()
	}
	return total / float64(len(batches)), n, d.reduceGrads()
}

// rankStop is the agreed stop of every rank when one was interrupted.
type rankStop struct{ cause error }

func (e *rankStop) Error() string { return e.cause.Error() }
func (e *rankStop) Unwrap() error { return e.cause }

// agreeStop returns ctx's error, or, training data-parallel, a stop that
// every rank agrees on at the same step when any rank's ctx is done.
func (t *Trainer) agreeStop(ctx context.Context) error {
	err := ctx.Err()
	d := t.dist
	if d == nil {
		return err
	}
	d.flag[0] = 0
	if err != nil {
		d.flag[0] = 1
	}
	if e := d.comm.AllreduceF64(d.flag[:]); e != nil {
		return fmt.Errorf("train: agreeing on a stop: %w", e)
	}
	if d.flag[0] == 0 {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("train: another rank was interrupted: %w", context.Canceled)
	}
	return &rankStop{err}
}

// checkSame reports ranks whose parameters differ: a hash of every
// parameter's bits, in four 16-bit parts, summed with its squares over
// the ranks, is the same on all of them exactly when the variance of
// each part is zero (the sums are exact in float64).
func (d *dist) checkSame(ps []*nn.Param) error {
	s := uint64(14695981039346656037) // FNV-1a over 32-bit words
	for _, p := range ps {
		for _, v := range p.Value.Data {
			s = (s ^ uint64(math.Float32bits(v))) * 1099511628211
		}
	}
	for i := range 4 {
		x := float64(s >> (16 * i) & 0xffff)
		d.check[i], d.check[4+i] = x, x*x
	}
	if err := d.comm.AllreduceF64(d.check[:]); err != nil {
		return fmt.Errorf("train: comparing the ranks' weights: %w", err)
	}
	for i := range 4 {
		if d.check[i]*d.check[i] != float64(d.size)*d.check[4+i] {
			return fmt.Errorf("train: the %d ranks' weights differ after the same steps (their gradient sums differ: an MPI reduction that is not the same on every rank?)", d.size)
		}
	}
	return nil
}

// startRanks checks that data-parallel training can split trainData and
// the task's carried state among the ranks, and gives every rank rank 0's
// state. It does nothing on one rank.
func (t *Trainer) startRanks(trainData Data) error {
	d := t.dist
	if d == nil {
		return nil
	}
	sd, ok := trainData.(ShardedData)
	if !ok {
		return fmt.Errorf("train: data-parallel training over %d ranks needs data that splits its batches (a ShardedData); %T does not", d.size, trainData)
	}
	if _, ok := t.task.(Carrier); ok {
		if _, ok := t.task.(ShardedCarrier); !ok {
			return fmt.Errorf("train: data-parallel training over %d ranks: task %T carries a state across batches but cannot split it (a ShardedCarrier)", d.size, t.task)
		}
	}
	d.data = sd
	return t.syncFromRoot()
}
