package batch

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/recur-ml/recur/tensor"
)

// Config configures a [Loader]. BatchSize is required; every other zero
// field means: no shuffling, no bucketing, keep the last short batch, no
// truncation, pad id 0, rows in dataset order, one batch prefetched.
type Config struct {
	BatchSize int    // B
	Shuffle   bool   // shuffle examples (and batches, with Bucket) each epoch
	Seed      uint64 // fixes the shuffles; epoch e uses a stream derived from (Seed, e)
	// Bucket > 0 groups examples of similar length to cut padding: the
	// (shuffled) examples are cut into buckets of Bucket·BatchSize, each
	// bucket is sorted by length (stable) and cut into batches, and with
	// Shuffle the order of all batches is shuffled.
	Bucket   int
	DropLast bool // drop the last batch when it is smaller than BatchSize
	MaxLen   int  // cut inputs to their first MaxLen tokens; zero means no limit
	// MaxTargetLen cuts target sequences likewise; zero means no limit.
	MaxTargetLen int
	Pad          int // id written in padding positions
	// SortDesc orders the rows of each batch by input length, longest
	// first, as packed recurrent layers want (Batch.Index keeps the
	// dataset indices).
	SortDesc bool
	Prefetch int // batches prepared ahead by the loader goroutine; zero means 1
}

// Loader cuts a [Dataset] into batches, one epoch at a time. The order of
// batches in epoch e is a pure function of the dataset, the Config and e,
// so a [Cursor] (epoch, step) saved in a checkpoint resumes exactly.
// A Loader does not modify the dataset and is safe for concurrent use.
type Loader struct {
	ds  *Dataset
	cfg Config
}

// NewLoader validates ds and cfg. The dataset is referenced, not copied:
// do not modify it while the loader is in use.
func NewLoader(ds *Dataset, cfg Config) (*Loader, error) {
	if cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("batch: BatchSize %d, must be > 0", cfg.BatchSize)
	}
	if cfg.Bucket < 0 || cfg.MaxLen < 0 || cfg.MaxTargetLen < 0 || cfg.Prefetch < 0 {
		return nil, fmt.Errorf("batch: Bucket %d, MaxLen %d, MaxTargetLen %d, Prefetch %d: must be >= 0", cfg.Bucket, cfg.MaxLen, cfg.MaxTargetLen, cfg.Prefetch)
	}
	if err := ds.validate(); err != nil {
		return nil, err
	}
	if cfg.DropLast && ds.Len() < cfg.BatchSize {
		return nil, fmt.Errorf("batch: %d examples make no full batch of %d with DropLast", ds.Len(), cfg.BatchSize)
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 1
	}
	return &Loader{ds: ds, cfg: cfg}, nil
}

// Len returns the number of batches per epoch.
func (l *Loader) Len() int {
	n, b := l.ds.Len(), l.cfg.BatchSize
	if l.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Plan returns the dataset indices of every batch of the given epoch, in
// order.
func (l *Loader) Plan(epoch int) [][]int { return Plan(l.ds.Len(), l.length, l.cfg, epoch) }

// Plan orders n examples of the given lengths into batches for one epoch
// as a Loader with cfg does (cfg's BatchSize, Shuffle, Seed, Bucket and
// DropLast), for data that is not token sequences: numeric sequences, say.
// The plan is a pure function of its arguments.
func Plan(n int, length func(i int) int, cfg Config, epoch int) [][]int {
	bs := cfg.BatchSize
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := tensor.NewRNG(cfg.Seed ^ (uint64(epoch)+1)*0x9e3779b97f4a7c15)
	if cfg.Shuffle {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	if k := cfg.Bucket; k > 0 {
		size := k * bs
		for lo := 0; lo < n; lo += size {
			bucket := order[lo:min(lo+size, n)]
			sort.SliceStable(bucket, func(i, j int) bool { return length(bucket[i]) < length(bucket[j]) })
		}
	}
	var plan [][]int
	for lo := 0; lo < n; lo += bs {
		b := order[lo:min(lo+bs, n)]
		if len(b) < bs && cfg.DropLast {
			break
		}
		plan = append(plan, b)
	}
	if cfg.Bucket > 0 && cfg.Shuffle {
		rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	}
	return plan
}

// length is the input length of example i after truncation.
func (l *Loader) length(i int) int {
	n := len(l.ds.Seqs[i])
	if l.cfg.MaxLen > 0 {
		n = min(n, l.cfg.MaxLen)
	}
	return n
}

// Make builds the batch of the given dataset indices.
func (l *Loader) Make(index []int) *Batch {
	idx := slices.Clone(index)
	if l.cfg.SortDesc {
		sort.SliceStable(idx, func(i, j int) bool { return l.length(idx[i]) > l.length(idx[j]) })
	}
	seqs := make([][]int, len(idx))
	for i, j := range idx {
		seqs[i] = l.ds.Seqs[j]
	}
	b := &Batch{B: len(idx), Index: idx, Pad: l.cfg.Pad}
	b.IDs, b.Lengths, b.T = Pad(seqs, l.cfg.Pad, l.cfg.MaxLen)
	if l.ds.Labels != nil {
		b.Labels = make([]int, len(idx))
		for i, j := range idx {
			b.Labels[i] = l.ds.Labels[j]
		}
	}
	if l.ds.Targets != nil {
		for i, j := range idx {
			seqs[i] = l.ds.Targets[j]
		}
		b.Targets, b.TargetLengths, b.TT = Pad(seqs, l.cfg.Pad, l.cfg.MaxTargetLen)
	}
	return b
}

// Cursor is a position in the batch stream: the next batch to deliver is
// step Step of epoch Epoch. The zero value is the start of training. The
// trainer stores it in checkpoints (it marshals to JSON).
type Cursor struct {
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
}

// Iter delivers the batches of one epoch, prepared ahead by a goroutine
// while the caller trains on the current one. Use it like a
// bufio.Scanner and always Close it:
//
//	it, err := loader.Iter(ctx, cursor)
//	if err != nil { ... }
//	defer it.Close()
//	for it.Next() {
//		b := it.Batch()
//		...
//		cursor = it.Cursor() // save with a checkpoint
//	}
//	if err := it.Err(); err != nil { ... } // the context's error
//
// The batches come in the order of [Loader.Plan] whatever the timing.
// Each Batch is freshly allocated and stays valid after Next.
type Iter struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan *Batch
	epoch  int
	step   int
	n      int
	cur    *Batch
	err    error
}

// Iter starts delivering epoch from.Epoch at batch from.Step. The
// goroutine stops at the end of the epoch, when ctx is cancelled, or at
// Close; at most cfg.Prefetch batches wait in memory.
func (l *Loader) Iter(ctx context.Context, from Cursor) (*Iter, error) {
	plan := l.Plan(from.Epoch)
	if from.Epoch < 0 || from.Step < 0 || from.Step > len(plan) {
		return nil, fmt.Errorf("batch: cursor %+v out of range: epochs have %d batches", from, len(plan))
	}
	ctx, cancel := context.WithCancel(ctx)
	it := &Iter{ctx: ctx, cancel: cancel, ch: make(chan *Batch, l.cfg.Prefetch), epoch: from.Epoch, step: from.Step, n: len(plan)}
	go func() {
		defer close(it.ch)
		for _, idx := range plan[from.Step:] {
			if ctx.Err() != nil {
				return
			}
			select {
			case it.ch <- l.Make(idx):
			case <-ctx.Done():
				return
			}
		}
	}()
	return it, nil
}

// Next waits for the next batch; it returns false at the end of the epoch
// or when the context is cancelled (see Err).
func (it *Iter) Next() bool {
	if it.err != nil {
		return false
	}
	if err := it.ctx.Err(); err != nil {
		it.err = err
		return false
	}
	select {
	case b, ok := <-it.ch:
		if !ok {
			if it.step < it.n {
				it.err = it.ctx.Err()
			}
			return false
		}
		it.cur = b
		it.step++
		return true
	case <-it.ctx.Done():
		it.err = it.ctx.Err()
		return false
	}
}

// Batch returns the batch delivered by the last call to Next.
func (it *Iter) Batch() *Batch { return it.cur }

// Err returns the context's error if the iteration stopped early.
func (it *Iter) Err() error { return it.err }

// Cursor returns the position of the next batch: after the last batch of
// an epoch it is step 0 of the next epoch.
func (it *Iter) Cursor() Cursor {
	if it.step >= it.n {
		return Cursor{Epoch: it.epoch + 1}
	}
	return Cursor{Epoch: it.epoch, Step: it.step}
}

// Close stops the loader goroutine and waits for it to exit. It is safe
// to call more than once.
func (it *Iter) Close() {
	it.cancel()
	for range it.ch {
	}
	if it.err == nil && it.step < it.n {
		it.err = context.Canceled
	}
}
