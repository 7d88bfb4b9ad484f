package tune

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"time"
)

// A Group is the processes of an MPI job (`mpirun -np N recur tune`)
// that share a study's trials: train.Comm and internal/mpi's World and
// Local satisfy it. Every process makes the same calls in the same order.
type Group interface {
	Rank() int
	Size() int
	// Bcast copies root's buf into the other processes' buf.
	Bcast(buf []byte, root int) error
}

// The trials of a study spread over a Group in rounds: rank 0 keeps the
// study (its lock, file and schedule) and picks up to Size jobs, which it
// sends to every rank; rank r runs job r (one trial per rank at a time);
// every rank then sends what its job left, and rank 0 enters the results
// into the study before it picks the next round. Collectives alone carry
// this (MPI_Bcast), so the ranks need no other channel than the one
// training uses; the price is that a round lasts as long as its slowest
// job. The trials' run directories must be visible to every rank (one
// machine, or a shared file system) since a promoted or resumed trial may
// run on another rank than before.

// rankResult is a job's end as its rank sends it to rank 0: gob, not
// JSON, since a metrics history may hold NaN.
type rankResult struct {
	Ran         bool
	Out         *Outcome
	Err         string
	Interrupted bool // the job's rank was interrupted (its ctx ended)
	Secs        float64
}

// runRanks is Run over t.Group.
func (t *Tuner) runRanks(ctx context.Context) (*Study, error) {
	g := t.Group
	if g.Rank() != 0 {
		return nil, t.followRanks(ctx)
	}
	sess, err := t.begin()
	if err != nil {
		return nil, t.endRanks(err) // the other ranks wait for a round
	}
	defer sess.lock.Unlock()
	st := sess.st
	stopped := false
	for {
		var jobs []Job
		for len(jobs) < g.Size() && ctx.Err() == nil && !stopped {
			j, ok := t.next(st, &sess.again, sess.sampler)
			if !ok {
				break
			}
			jobs = append(jobs, j)
		}
		if err := st.Save(t.Dir); err != nil {
			return st, t.endRanks(err)
		}
		if err := sendJobs(g, jobs); err != nil {
			return st, err
		}
		if len(jobs) == 0 {
			break
		}
		results, err := t.roundOf(ctx, jobs)
		if err != nil {
			return st, err
		}
		for i, r := range results {
			if r.Ran {
				stopped = t.enter(ctx, st, jobs[i], r) || stopped
			}
		}
		if err := st.Save(t.Dir); err != nil {
			return st, t.endRanks(err)
		}
	}
	st.Complete = ctx.Err() == nil && !stopped && len(st.Trials) >= t.Trials && st.promotion() == nil
	if err := st.Save(t.Dir); err != nil {
		return st, err
	}
	if ctx.Err() == nil && stopped {
		return st, fmt.Errorf("tune: %w (another rank was interrupted)", context.Canceled)
	}
	return st, ctx.Err()
}

// endRanks sends the empty round that ends the other ranks, and returns
// err.
func (t *Tuner) endRanks(err error) error {
	if serr := sendJobs(t.Group, nil); serr != nil {
		return fmt.Errorf("%w (and telling the other ranks: %v)", err, serr)
	}
	return err
}

// enter records a job another rank (or this one) ran, and reports whether
// its rank was interrupted: the study then stops after this round.
func (t *Tuner) enter(ctx context.Context, st *Study, j Job, r rankResult) (interrupted bool) {
	f := finished{job: j, out: r.Out, secs: r.Secs}
	if r.Err != "" {
		f.err = fmt.Errorf("%s", r.Err)
	}
	if r.Interrupted {
		// record leaves the trial Running when the interruption is ours;
		// another rank's interruption is the same for the study.
		ictx, cancel := context.WithCancel(ctx)
		cancel()
		if f.err == nil {
			f.err = context.Canceled
		}
		t.record(ictx, st, f)
		return true
	}
	t.record(ctx, st, f)
	return false
}

// followRanks is the part of a rank other than 0: run the job rank 0
// hands it in each round, until an empty round.
func (t *Tuner) followRanks(ctx context.Context) error {
	for {
		jobs, err := recvJobs(t.Group)
		if err != nil {
			return err
		}
		if len(jobs) == 0 {
			return ctx.Err()
		}
		if _, err := t.roundOf(ctx, jobs); err != nil {
			return err
		}
	}
}

// roundOf runs this rank's job of the round (if there is one for it) and
// exchanges every rank's result.
func (t *Tuner) roundOf(ctx context.Context, jobs []Job) ([]rankResult, error) {
	g := t.Group
	mine := rankResult{}
	if r := g.Rank(); r < len(jobs) {
		start := time.Now()
		out, err := t.Runner.Run(ctx, jobs[r])
		mine = rankResult{Ran: true, Out: out, Secs: time.Since(start).Seconds(), Interrupted: ctx.Err() != nil}
		if err != nil {
			mine.Err = err.Error()
		}
	}
	results := make([]rankResult, g.Size())
	for root := range g.Size() {
		var payload []byte
		if root == g.Rank() {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(&mine); err != nil {
				return nil, fmt.Errorf("tune: rank %d: encoding its result: %w", root, err)
			}
			payload = buf.Bytes()
		}
		got, err := bcastBytes(g, payload, root)
		if err != nil {
			return nil, err
		}
		if err := gob.NewDecoder(bytes.NewReader(got)).Decode(&results[root]); err != nil {
			return nil, fmt.Errorf("tune: the result of rank %d: %w", root, err)
		}
	}
	return results, nil
}

// sendJobs is rank 0's half of a round's start; an empty list ends the
// other ranks.
func sendJobs(g Group, jobs []Job) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(jobs); err != nil {
		return fmt.Errorf("tune: encoding a round's jobs: %w", err)
	}
	_, err := bcastBytes(g, buf.Bytes(), 0)
	return err
}

// recvJobs is the other ranks' half.
func recvJobs(g Group) ([]Job, error) {
	b, err := bcastBytes(g, nil, 0)
	if err != nil {
		return nil, err
	}
	var jobs []Job
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&jobs); err != nil {
		return nil, fmt.Errorf("tune: rank %d: a round's jobs from rank 0: %w", g.Rank(), err)
	}
	return jobs, nil
}

// bcastBytes sends root's data to every rank: its length, then itself.
func bcastBytes(g Group, data []byte, root int) ([]byte, error) {
	var n [8]byte
	if g.Rank() == root {
		binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	}
	if err := g.Bcast(n[:], root); err != nil {
		return nil, fmt.Errorf("tune: rank %d: %w", g.Rank(), err)
	}
	size := binary.LittleEndian.Uint64(n[:])
	if size > 1<<30 {
		return nil, fmt.Errorf("tune: rank %d: a message of %d bytes from rank %d", g.Rank(), size, root)
	}
	if g.Rank() != root {
		data = make([]byte, size)
	}
	if err := g.Bcast(data, root); err != nil {
		return nil, fmt.Errorf("tune: rank %d: %w", g.Rank(), err)
	}
	return data, nil
}
