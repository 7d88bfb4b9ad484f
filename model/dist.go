package model

import (
	"fmt"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/train"
)

// Data-parallel training (train.Config.Comm): each task's data splits its
// global batches among the ranks (train.ShardedData), by examples for a
// forecaster and a classifier and by streams for a language model, whose
// carried state splits the same way (train.ShardedCarrier). A classifier
// evaluates with the ranks sharing the batches. A translator splits its
// batches by sentence pairs and a tagger by sequences, each weighting its
// share by the target tokens or labelled steps it holds; both evaluate the
// whole validation set on every rank.

// Shard returns rank's windows of batch i (train.ShardedData).
func (d *windowData) Shard(i, rank, size int) train.Batch {
	from, to := i*d.bs, min((i+1)*d.bs, d.w.Len())
	lo, hi := train.ShardRange(to-from, rank, size)
	if lo == hi {
		return nil
	}
	return windowBatch(d.w, from+lo, from+hi)
}

// classData is a classifier's loaderData, which splits its batches among
// ranks by examples.
type classData struct{ *loaderData }

// shardable wraps a classifier's batches so that they split among ranks.
func shardable(d *loaderData, err error) (train.Data, error) {
	if err != nil {
		return nil, err
	}
	return classData{d}, nil
}

// Shard returns rank's examples of batch i (train.ShardedData).
func (d classData) Shard(i, rank, size int) train.Batch {
	idx := d.plan[i]
	lo, hi := train.ShardRange(len(idx), rank, size)
	if lo == hi {
		return nil
	}
	return d.conv(d.l.Make(idx[lo:hi]))
}

// Shard returns rank's sequences of batch i (train.ShardedData).
func (s *seqData) Shard(i, rank, size int) train.Batch {
	idx := s.plan[i]
	lo, hi := train.ShardRange(len(idx), rank, size)
	if lo == hi {
		return nil
	}
	return s.layout(idx[lo:hi])
}

// LossWeight is what the batch's mean cross-entropy divides by: the
// summed class weights of its labels, or its size (train.WeightedTask).
func (t *classifyTask) LossWeight(b train.Batch) float64 {
	tb := b.(*TextBatch)
	if tb.Multi != nil {
		return float64(tb.B)
	}
	return t.c.lossOpts.Denominator(tb.Labels, t.c.spec.Classes)
}

// LossWeight is what a translation batch's mean cross-entropy divides
// by: its target tokens (train.WeightedTask).
func (t *seq2seqTask) LossWeight(b train.Batch) float64 {
	var o loss.ClassOptions
	return o.Denominator(b.(*PairBatch).Target, t.m.spec.TgtVocab)
}

// LossWeight is what a tagging batch's mean loss divides by: the
// (class-weighted) labelled steps, or the valid steps times the targets
// (train.WeightedTask).
func (k *tagTask) LossWeight(b train.Batch) float64 {
	tb := b.(*TagBatch)
	if k.t.spec.Classes > 0 {
		return k.t.lossOpts.Denominator(tb.Labels, k.t.spec.Classes)
	}
	return float64(tb.steps * k.t.spec.Targets)
}

// Shard returns rank's examples of batch i (train.ShardedData), padded
// to the longest of them.
func (d *tagData) Shard(i, rank, size int) train.Batch {
	if d.shards == nil || d.shardOf != [2]int{rank, size} {
		d.shards, d.shardOf = make([]*TagBatch, len(d.b)), [2]int{rank, size}
	}
	if s := d.shards[i]; s != nil {
		return s
	}
	from := i * d.bs
	lo, hi := train.ShardRange(min(from+d.bs, len(d.d.X))-from, rank, size)
	if lo == hi {
		return nil
	}
	// The whole batch was laid out without error, so its parts are too.
	s, err := d.t.batch(d.d, from+lo, from+hi)
	if err != nil {
		panic(fmt.Sprintf("model: tagger shard of a valid batch: %v", err))
	}
	d.shards[i] = s
	return s
}

// EvaluateShard scores the classifier with the ranks sharing the batches
// of d (train.ShardEvaluator): every rank gets the same metrics, those of
// Evaluate.
func (t *classifyTask) EvaluateShard(d train.Data, c train.Comm) (map[string]float64, error) {
	rows, err := t.c.evalRows(d, c)
	if err != nil {
		return nil, err
	}
	e, err := t.c.score(rows)
	if err != nil {
		return nil, err
	}
	return e.Metrics(), nil
}

// Shard returns rank's streams of chunk i (train.ShardedData); the
// streams must be at least as many as the ranks.
func (d *lmData) Shard(i, rank, size int) train.Batch {
	if d.shards == nil || d.shardOf != [2]int{rank, size} {
		d.shards, d.shardOf = make([]*text.Chunk, len(d.chunks)), [2]int{rank, size}
	}
	if s := d.shards[i]; s != nil {
		return s
	}
	c := d.chunks[i]
	lo, hi := train.ShardRange(c.B, rank, size)
	if lo == hi {
		return nil
	}
	s := *c
	s.B = hi - lo
	s.X, s.Y = make([]int, c.T*s.B), make([]int, c.T*s.B)
	for t := range c.T {
		copy(s.X[t*s.B:(t+1)*s.B], c.X[t*c.B+lo:t*c.B+hi])
		copy(s.Y[t*s.B:(t+1)*s.B], c.Y[t*c.B+lo:t*c.B+hi])
	}
	d.shards[i] = &s
	return &s
}

// CarryAxis is the axis of the streams in the carried state (L·D, B, H)
// (train.ShardedCarrier).
func (t *lmTask) CarryAxis() int { return 1 }

// checkParallel reports a data-parallel run of a task whose batches do
// not split among ranks.
func (s *session) checkParallel(fc FitConfig, task string) error {
	c := fc.Train.Comm
	if c == nil || c.Size() == 1 {
		return nil
	}
	if _, ok := s.train.(train.ShardedData); !ok {
		return fmt.Errorf("model: data-parallel training over %d processes: the %s task's training data (%T) does not split its batches among processes", c.Size(), task, s.train)
	}
	return nil
}

// checkRanks reports a training run that splits among more ranks than a
// language model has streams.
func checkRanks(fc FitConfig, streams int) error {
	if c := fc.Train.Comm; c != nil && c.Size() > streams {
		return fmt.Errorf("model: %d streams (the batch size) cannot split among %d ranks", streams, c.Size())
	}
	return nil
}

var (
	_ train.ShardedData    = (*windowData)(nil)
	_ train.ShardedData    = classData{}
	_ train.ShardedData    = (*seqData)(nil)
	_ train.ShardedData    = (*lmData)(nil)
	_ train.ShardedData    = (*tagData)(nil)
	_ train.WeightedTask   = (*seq2seqTask)(nil)
	_ train.WeightedTask   = (*tagTask)(nil)
	_ train.ShardEvaluator = (*classifyTask)(nil)
	_ train.WeightedTask   = (*classifyTask)(nil)
	_ train.ShardedCarrier = (*lmTask)(nil)
)
