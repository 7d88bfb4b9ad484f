package serve

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/recur-ml/recur/model"
)

// Dynamic batching
//
// With Options.MaxBatch above one, the concurrent requests of a classifier
// or a point forecaster are gathered and run as one forward pass: a
// classifier's texts padded to the batch's longest with their lengths, a
// forecaster's windows side by side. Each loaded model has its own
// batcher, so a batch never mixes models across a Swap.
//
// A request whose input is valid joins the open batch as a job of one or
// more rows. The batch's runner (on a kept goroutine: workers) waits until the
// batch is full, until BatchWait has passed since the batch opened, or
// until no other request is on its way to it (every request that has
// arrived has joined or failed), whichever comes first, so a lone request
// does not wait. It then waits for a computing slot, and the batch keeps
// taking requests until it has one: under load, batches fill while the
// slots are busy. A batch holds at most MaxBatch rows (a job with more
// runs alone) and at most batchTokens padded tokens.
//
// Slots: a batch that can still take requests computes only while fewer
// than half of the slots (at least one) compute batches, so that while
// requests, not the model, limit the throughput, the other CPUs read and
// answer the requests that fill the next batch (on two CPUs, two such
// batches at once made batches of one or two rows, where one at a time
// let them grow); and it keeps growing while it waits. A batch that the
// batcher has closed (full, or no room for the next job) has nothing to
// wait for: it takes any free slot, so that a model that limits the
// throughput (batches full at every turn) computes on every CPU, each
// batch full.
//
// Exactness: a row's results are bit-identical whatever the batch's size
// and other rows, for every batch of two or more rows (the recurrent
// layers run each sequence's steps with the same kernels on the same
// operands in the same order, however many sequences run beside it;
// tested). A batch of one row computes differently in the last bits, so
// a batch of one row is run with a companion row (one unknown token, or a
// copy of the window) whose results are dropped. See the package
// documentation for how batched and unbatched answers differ.

// job is one request's rows in a batch; the runner sets out or err.
type job struct {
	rows int // texts or windows
	long int // the longest row in tokens (1 for a window)
	in   any // the task's input: *classifyIn, *forecastIn
	out  any
	err  error
}

// batch is the jobs run as one forward pass.
type batch struct {
	jobs         []*job
	rows, long   int
	ready, done  chan struct{} // ready: stop waiting for more; done: results set
	readyClosed  bool
	closed       chan struct{} // the batcher takes no more jobs into it
	firstArrival time.Time
}

func (b *batch) kick() {
	if !b.readyClosed {
		b.readyClosed = true
		close(b.ready)
	}
}

// close takes the open batch bt out of b: it takes no more jobs. The
// caller holds b.mu.
func (b *batcher) close(bt *batch) {
	bt.kick()
	if b.open == bt {
		b.open = nil
		close(bt.closed)
	}
}

// batcher gathers the jobs of one loaded model into batches.
type batcher struct {
	s   *Server
	run func(jobs []*job) // computes every job's out or err
	max int               // rows of a batch
	mu  sync.Mutex
	// open is the batch taking jobs (nil: none); coming counts the
	// requests past admission that have not yet joined a batch or
	// failed: while it is zero, waiting for more is pointless.
	open   *batch
	coming int
}

// batchTokens bounds a classifier batch's padded size (rows × longest
// row, in tokens): the padded embedding and outputs are that many rows.
func (s *Server) batchTokens() int { return max(s.opts.MaxTokens, 64*s.opts.MaxBatch) }

func (s *Server) newBatcher(l *loaded) *batcher {
	switch {
	case !batchable(l.m):
		return nil
	case l.cls != nil:
		return &batcher{s: s, run: func(jobs []*job) { s.classifyBatch(l, jobs) }, max: s.opts.MaxBatch}
	}
	return &batcher{s: s, run: func(jobs []*job) { s.forecastBatch(l, jobs) }, max: s.opts.MaxBatch}
}

// batchable reports whether m is served in batches when batching is on:
// a classifier, or a point forecaster without a base model (language
// models, translators, quantile and hybrid forecasters are served
// unbatched).
func batchable(m model.Model) bool {
	switch x := m.(type) {
	case *model.Classifier:
		return true
	case *model.Forecaster:
		sp := x.Spec()
		return len(sp.Quantiles) == 0 && sp.Base == "" && x.Prep() != nil && len(x.Prep().HoltWinters) == 0 && len(x.Prep().ARIMA) == 0
	}
	return false
}

// arrive announces a request that may join a batch soon; every arrive is
// followed by one join or one leave.
func (b *batcher) arrive() {
	b.mu.Lock()
	b.coming++
	b.mu.Unlock()
}

// leave withdraws an announced request that will not join (a bad
// request).
func (b *batcher) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.coming--
	if b.coming == 0 && b.open != nil {
		b.open.kick()
	}
}

// do runs j in a batch and waits for its result until ctx ends.
func (b *batcher) do(ctx context.Context, j *job) error {
	bt := b.join(j)
	select {
	case <-bt.done:
		return j.err
	case <-ctx.Done():
		// The batch runs to its end for the others; this job's result
		// is dropped.
		return ctx.Err()
	}
}

// join adds j to the open batch, or to a new one when it does not fit,
// and returns its batch.
func (b *batcher) join(j *job) *batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.coming--
	bt := b.open
	if bt != nil && (bt.rows+j.rows > b.max || (bt.rows+j.rows)*max(bt.long, j.long) > b.s.batchTokens()) {
		b.close(bt)
		bt = nil
	}
	if bt == nil {
		bt = &batch{ready: make(chan struct{}), done: make(chan struct{}), closed: make(chan struct{}), firstArrival: time.Now()}
		b.open = bt
		b.s.workers.do(func() { b.lead(bt) })
	}
	bt.jobs = append(bt.jobs, j)
	bt.rows += j.rows
	bt.long = max(bt.long, j.long)
	if bt.rows >= b.max {
		b.close(bt)
	} else if b.coming == 0 {
		bt.kick()
	}
	return bt
}

// lead is a batch's runner: it waits for the batch to fill (see the
// comment at the top), takes a computing slot, closes the batch to new
// jobs and runs it.
func (b *batcher) lead(bt *batch) {
	t := time.NewTimer(b.s.opts.BatchWait)
	select {
	case <-bt.ready:
	case <-t.C:
	}
	t.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), b.s.opts.Timeout)
	defer cancel()
	ok := b.s.acquireBatch(ctx, bt.closed)
	b.mu.Lock()
	b.close(bt)
	jobs := bt.jobs
	b.mu.Unlock()
	defer close(bt.done)
	if !ok {
		e := b.s.busy()
		if ctx.Err() != nil {
			e = b.s.deadline(ctx)
		}
		for _, j := range jobs {
			j.err = e
		}
		return
	}
	defer b.s.batchDone()
	defer func() {
		if v := recover(); v != nil {
			b.s.opts.Logger.Error("serve: panic in a batch", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			for _, j := range jobs {
				j.out, j.err = nil, &Error{Status: http.StatusInternalServerError, Message: "internal error"}
			}
		}
	}()
	rows := 0
	for _, j := range jobs {
		rows += j.rows
	}
	b.s.metrics.rows.Observe(float64(rows))
	b.s.metrics.jobs.Observe(float64(len(jobs)))
	b.run(jobs)
}
