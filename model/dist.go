package model

import (
	"fmt"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/train"
)

// Data-parallel training (train.Config.Comm): each task's data splits its
// global batches among the ranks (train.ShardedData), by examples for a
// forecaster and a classifier and by streams for a language model, whose
// carried state splits the same way (train.ShardedCarrier). A classifier
// evaluates with the ranks sharing the batches. Seq2seq and tagging train
// on one rank.

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
	w := t.c.lossOpts.Weight
	if tb.Multi != nil || w == nil {
		return float64(tb.B)
	}
	var s float64
	for _, y := range tb.Labels {
		s += float64(w[y])
	}
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
		return fmt.Errorf("model: data-parallel training over %d processes takes the forecast, classify and lm tasks; a %s model trains in one process", c.Size(), task)
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
	_ train.ShardEvaluator = (*classifyTask)(nil)
	_ train.WeightedTask   = (*classifyTask)(nil)
	_ train.ShardedCarrier = (*lmTask)(nil)
)
