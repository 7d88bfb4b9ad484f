package mpi

import (
	"fmt"
	"sync"
)

// Local is one rank of a job whose ranks are goroutines of this process,
// made by NewLocal: the same collectives as World over shared memory, for
// tests of multi-rank logic without mpirun. A sum adds the ranks' values
// in rank order, ((x0 + x1) + x2) + ..., and every rank gets the same
// bits, as MPI's sum does for two ranks.
type Local struct {
	g    *localGroup
	rank int
}

// localGroup is what the ranks of one Local job share.
type localGroup struct {
	mu      sync.Mutex
	cond    sync.Cond
	n       int
	arrived int
	gen     uint64
	// posted holds each rank's buffer of the collective in progress.
	posted []any
	sum32  []float32
	sum64  []float64
	err    error
}

// NewLocal returns the n ranks of a new in-process job; rank i is
// NewLocal(n)[i], to be used by one goroutine. Every rank must make the
// same collective calls in the same order, as with MPI.
func NewLocal(n int) []*Local {
	if n < 1 {
		panic(fmt.Sprintf("mpi: NewLocal(%d)", n))
	}
	g := &localGroup{n: n, posted: make([]any, n)}
	g.cond.L = &g.mu
	ranks := make([]*Local, n)
	for i := range ranks {
		ranks[i] = &Local{g: g, rank: i}
	}
	return ranks
}

// Rank returns this goroutine's rank.
func (l *Local) Rank() int { return l.rank }

// Size returns the number of ranks.
func (l *Local) Size() int { return l.g.n }

// barrier returns once every rank has reached it; the last to arrive
// runs last (under the lock) before the others wake.
func (g *localGroup) barrier(last func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.arrived++
	if g.arrived == g.n {
		if last != nil {
			last()
		}
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
		return
	}
	gen := g.gen
	for gen == g.gen {
		g.cond.Wait()
	}
}

// AllreduceF32 replaces buf on every rank by the sum over the ranks.
func (l *Local) AllreduceF32(buf []float32) error { return localSum(l, buf, &l.g.sum32) }

// AllreduceF64 is AllreduceF32 for float64.
func (l *Local) AllreduceF64(buf []float64) error { return localSum(l, buf, &l.g.sum64) }

// localSum sums buf over the ranks in rank order through the group's
// scratch sum.
func localSum[T float32 | float64](l *Local, buf []T, sum *[]T) error {
	g := l.g
	g.posted[l.rank] = buf
	g.barrier(func() {
		g.err = nil
		*sum = (*sum)[:0]
		for r, p := range g.posted {
			if b, ok := p.([]T); !ok || len(b) != len(buf) {
				g.err = fmt.Errorf("mpi: allreduce: rank %d passed %T of length %d, rank %d a %T of %d", r, p, lenOf(p), l.rank, buf, len(buf))
				return
			}
		}
		*sum = append(*sum, g.posted[0].([]T)...)
		for _, p := range g.posted[1:] {
			for i, v := range p.([]T) {
				(*sum)[i] += v
			}
		}
	})
	err := g.err
	if err == nil {
		copy(buf, *sum)
	}
	g.barrier(nil)
	return err
}

// Bcast copies root's buf into every rank's buf.
func (l *Local) Bcast(buf []byte, root int) error {
	g := l.g
	g.posted[l.rank] = buf
	g.barrier(func() {
		g.err = nil
		if root < 0 || root >= g.n {
			g.err = fmt.Errorf("mpi: bcast from rank %d of %d", root, g.n)
			return
		}
		for r, p := range g.posted {
			if b, ok := p.([]byte); !ok || len(b) != len(buf) {
				g.err = fmt.Errorf("mpi: bcast: rank %d passed %T of length %d, rank %d a []byte of %d", r, p, lenOf(p), l.rank, len(buf))
				return
			}
		}
	})
	err := g.err
	if err == nil && l.rank != root {
		copy(buf, g.posted[root].([]byte))
	}
	g.barrier(nil)
	return err
}

// Barrier returns once every rank has called it.
func (l *Local) Barrier() error {
	l.g.barrier(nil)
	return nil
}

// Abort panics: a test's job has no processes to end.
func (l *Local) Abort(code int) {
	panic(fmt.Sprintf("mpi: rank %d of a local job aborted with status %d", l.rank, code))
}

func lenOf(p any) int {
	switch b := p.(type) {
	case []float32:
		return len(b)
	case []float64:
		return len(b)
	case []byte:
		return len(b)
	}
	return -1
}
