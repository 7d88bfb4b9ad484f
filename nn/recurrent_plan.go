package nn

import (
	"fmt"
	"slices"
	"sync"

	"github.com/recur-ml/recur/internal/kernel"
)

// seqPlan is the packed-sequence layout of one batch: the batch sorted by
// length (descending, stable), so that at step t the sequences still
// running are the first n[t] rows. Packed buffers hold, for t = 0..T-1, the
// n[t] rows of step t one after another starting at row off[t]; N rows in
// all. Without lengths the plan is the identity and a packed (N, ·) buffer
// is exactly a time-major (T, B, ·) one.
type seqPlan struct {
	T, B     int
	perm     []int // sorted position j -> batch index
	n        []int // n[t]: sequences with length > t
	off      []int // off[t]: first packed row of step t; off[T] = N
	N        int
	identity bool    // all lengths T, perm the identity
	pos      []int   // rowMap's result
	cp       rowCopy // copyRows' work, kept here so that a call allocates nothing
}

// reset makes p the plan of a batch of B sequences of T steps with the
// given lengths (nil: all T), reusing p's slices. Invalid lengths panic
// naming kind's Forward.
func (p *seqPlan) reset(kind cellKind, T, B int, lengths []int) {
	p.T, p.B = T, B
	p.perm = resize(p.perm, B)
	p.n = resize(p.n, T)
	p.off = resize(p.off, T+1)
	for j := range p.perm {
		p.perm[j] = j
	}
	p.identity = true
	if lengths != nil {
		if len(lengths) != B {
			panic(fmt.Sprintf("nn: %s.Forward: %d lengths for batch %d", kind, len(lengths), B))
		}
		for b, l := range lengths {
			if l < 1 || l > T {
				panic(fmt.Sprintf("nn: %s.Forward: lengths[%d] = %d outside [1, %d]", kind, b, l, T))
			}
			if l != T {
				p.identity = false
			}
		}
		if !p.identity {
			slices.SortStableFunc(p.perm, func(a, b int) int { return lengths[b] - lengths[a] })
		}
	}
	p.off[0] = 0
	for t := 0; t < T; t++ {
		n := B
		if lengths != nil {
			n = 0
			for n < B && lengths[p.perm[n]] > t {
				n++
			}
		}
		p.n[t] = n
		p.off[t+1] = p.off[t] + n
	}
	p.N = p.off[T]
}

// rowMap returns, for each packed row, the row of the same step and
// sequence in a (T, B, ·) tensor, or (B, T, ·) when batchFirst, so that a
// layer can write its output (and read its gradient) in place instead of
// through a packed copy. The slice is the plan's, valid until its next
// reset. For a batch of one it is the identity on the rows there are.
func (p *seqPlan) rowMap(batchFirst bool) []int {
	p.pos = resize(p.pos, p.N)
	for t := 0; t < p.T; t++ {
		for j := 0; j < p.n[t]; j++ {
			p.pos[p.off[t]+j] = p.paddedRow(t, p.perm[j], batchFirst)
		}
	}
	return p.pos
}

// paddedRow is the row of step t of sequence b in a (T, B, ·) tensor, or
// (B, T, ·) when batchFirst.
func (p *seqPlan) paddedRow(t, b int, batchFirst bool) int {
	if batchFirst {
		return b*p.T + t
	}
	return t*p.B + b
}

// stepTime is the time index of loop step s of direction d: s forward,
// T-1-s in reverse.
func (p *seqPlan) stepTime(s, d int) int {
	if d == 1 {
		return p.T - 1 - s
	}
	return s
}

// outRows is where a direction's rows of h go in a layer's output (or
// where their gradient comes from): w = Ho columns from off of rows ld
// wide, packed row i at row rowmap[i] (the output tensor's padded layout)
// or at row i when rowmap is nil (a packed buffer). A nil buf means none
// (no output gradient).
type outRows struct {
	buf     []float32
	ld, off int
	rowmap  []int
}

// at is the first element of packed row i's columns.
func (y *outRows) at(i int) int {
	if y.rowmap != nil {
		return y.rowmap[i]*y.ld + y.off
	}
	return i*y.ld + y.off
}

// put copies h (n, w), the rows of packed rows o..o+n, into y.
func (y *outRows) put(h []float32, o, n, w int) {
	if y.rowmap == nil && y.ld == w {
		copy(y.buf[o*w:(o+n)*w], h)
		return
	}
	for j := 0; j < n; j++ {
		r := y.at(o + j)
		copy(y.buf[r:r+w], h[j*w:(j+1)*w])
	}
}

// addTo adds y's rows of packed rows o..o+n into dh (n, w); nothing when
// y has no buffer.
func (y *outRows) addTo(dh []float32, o, n, w int) {
	switch {
	case y.buf == nil:
	case y.rowmap == nil && y.ld == w:
		kernel.Axpy(1, y.buf[o*w:(o+n)*w], dh)
	default:
		for j := 0; j < n; j++ {
			r := y.at(o + j)
			kernel.Axpy(1, y.buf[r:r+w], dh[j*w:(j+1)*w])
		}
	}
}

// resize returns s with length n, reusing its array when large enough.
func resize(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// gather copies x, a (T,B,w) tensor (or (B,T,w) when batchFirst) into the
// packed buffer dst (N, w).
func (p *seqPlan) gather(dst, x []float32, w int, batchFirst bool) {
	p.copyRows(dst, x, w, batchFirst, copyGather)
}

// scatter writes (or adds, when add) the packed buffer src (N, w) into
// dst, a (T,B,w) or (B,T,w) tensor; padded positions are left untouched.
func (p *seqPlan) scatter(dst, src []float32, w int, batchFirst, add bool) {
	mode := copyScatter
	if add {
		mode = copyScatterAdd
	}
	p.copyRows(src, dst, w, batchFirst, mode)
}

// How copyRows moves rows between a packed buffer and a padded tensor.
const (
	copyGather     = iota // padded -> packed
	copyScatter           // packed -> padded
	copyScatterAdd        // packed added onto padded
)

// copyParMin is the size (floats) from which copyRows splits the rows
// over two threads, and each further copyParMin/2 one thread more: the
// rows are scattered over a tensor that the rest of a training step has
// pushed out of the caches, so a copy runs far below memory bandwidth on
// one core, and from about this size a second core's share pays for the
// hand-off.
const copyParMin = 16 << 10

// copyRows moves the valid rows between the packed buffer packed (N, w)
// and the tensor padded ((T,B,w), or (B,T,w) when batchFirst) as mode
// says, the steps split into parts of equal rows over the threads when
// the copy is large.
func (p *seqPlan) copyRows(packed, padded []float32, w int, batchFirst bool, mode int) {
	c := &p.cp
	*c = rowCopy{p: p, packed: packed, padded: padded, w: w, batchFirst: batchFirst, mode: mode}
	parts := 1
	if p.N*w >= copyParMin {
		parts = min(kernel.Threads(), 2*p.N*w/copyParMin, maxRowGroups)
	}
	// Part g copies the steps from the one at which g/parts of the rows
	// are done.
	for g, t := 1, 0; g < parts; g++ {
		for t < p.T && parts*p.off[t] < g*p.N {
			t++
		}
		c.ts[g] = t
	}
	c.ts[parts] = p.T
	kernel.Parallel(parts, c)
	*c = rowCopy{}
}

// rowCopy is copyRows' work: part g copies steps ts[g] to ts[g+1].
type rowCopy struct {
	p              *seqPlan
	packed, padded []float32
	w, mode        int
	batchFirst     bool
	ts             [maxRowGroups + 1]int
}

// RunPart copies the steps of part g (kernel.Parallel).
func (c *rowCopy) RunPart(g int) {
	p, w := c.p, c.w
	for t := c.ts[g]; t < c.ts[g+1]; t++ {
		for j := 0; j < p.n[t]; j++ {
			d := p.paddedRow(t, p.perm[j], c.batchFirst) * w
			pk := c.packed[(p.off[t]+j)*w : (p.off[t]+j+1)*w]
			switch c.mode {
			case copyGather:
				copy(pk, c.padded[d:d+w])
			case copyScatter:
				copy(c.padded[d:d+w], pk)
			default:
				kernel.Axpy(1, pk, c.padded[d:d+w])
			}
		}
	}
}

// gatherRows copies the rows of a (B, w) block in batch order into dst in
// sorted order.
func (p *seqPlan) gatherRows(dst, src []float32, w int) {
	for j, b := range p.perm {
		copy(dst[j*w:(j+1)*w], src[b*w:(b+1)*w])
	}
}

// scatterRows writes (or adds) the sorted (B, w) rows of src into dst in
// batch order.
func (p *seqPlan) scatterRows(dst, src []float32, w int, add bool) {
	for j, b := range p.perm {
		if add {
			kernel.Axpy(1, src[j*w:(j+1)*w], dst[b*w:(b+1)*w])
		} else {
			copy(dst[b*w:(b+1)*w], src[j*w:(j+1)*w])
		}
	}
}

// floatArena hands out float32 scratch slices from one growing buffer. A pooled
// arena that has seen a call's total need serves the next call from a
// single allocation made earlier, so inference allocates nothing per step
// (and nothing per call once warm, apart from the returned tensors).
type floatArena struct {
	buf  []float32
	off  int
	need int
	pk   []*kernel.PackedB
	npk  int
	sp   *lstmSplit
	fl   *fwdLoop
	bl   *bwdLoop
	pl   *pipeline
	// fw is the record of the training forward that holds the arena (or
	// the plan of an inference call), reused with the arena.
	fw *rnnRecord
}

// record returns the arena's reusable forward record.
func (a *floatArena) record() *rnnRecord { return reuse(&a.fw) }

// pipe returns the arena's reusable pipelined-layers state (see
// forwardPipelined).
func (a *floatArena) pipe() *pipeline { return reuse(&a.pl) }

// split returns the arena's reusable split-units state (see runUnits).
func (a *floatArena) split() *lstmSplit { return reuse(&a.sp) }

// fwdLoop and bwdLoop return the arena's reusable step loop states.
func (a *floatArena) fwdLoop() *fwdLoop { return reuse(&a.fl) }
func (a *floatArena) bwdLoop() *bwdLoop { return reuse(&a.bl) }

// reuse returns *p, allocated on first use.
func reuse[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}

// take returns n zeroed floats.
func (a *floatArena) take(n int) []float32 {
	s := a.takeRaw(n)
	clear(s)
	return s
}

// lineFloats is a cache line in floats.
const lineFloats = 16

// takeRaw returns n floats with unspecified contents.
func (a *floatArena) takeRaw(n int) []float32 {
	// The next slice starts on a cache line (chunks of 4 KiB and more
	// are): the kernel's worker team splits a step's product by columns,
	// so two cores write different columns of the same rows, and a line
	// shared at a slice's edge would bounce between them at every step.
	step := (n + lineFloats - 1) / lineFloats * lineFloats
	a.need += step
	if a.off+n > len(a.buf) {
		// Start a new chunk; earlier slices keep the old one alive.
		size := 2 * len(a.buf)
		if size < n {
			size = n
		}
		if size < 1024 {
			size = 1024
		}
		a.buf = make([]float32, size)
		a.off = 0
	}
	s := a.buf[a.off : a.off+n : a.off+n]
	a.off = min(a.off+step, len(a.buf))
	return s
}

// packed returns a reusable PackedB.
func (a *floatArena) packed() *kernel.PackedB {
	if a.npk == len(a.pk) {
		a.pk = append(a.pk, &kernel.PackedB{})
	}
	p := a.pk[a.npk]
	a.npk++
	return p
}

// reset makes the arena's memory reusable, growing it to last call's need.
func (a *floatArena) reset() {
	if a.need > len(a.buf) {
		a.buf = make([]float32, a.need)
	}
	a.off, a.need, a.npk = 0, 0, 0
}

// arenaList is a layer's free list of arenas. Unlike a sync.Pool it is
// not emptied by the garbage collector, so a training loop reuses the
// same activation memory step after step. Training arenas return to it
// when the tape's backward op has run, or when the tape is reset instead.
// Safe for concurrent use.
type arenaList struct {
	mu   sync.Mutex
	free []*floatArena
}

func (l *arenaList) get() *floatArena {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		a := l.free[n-1]
		l.free = l.free[:n-1]
		return a
	}
	return new(floatArena)
}

// put resets a and makes it available again.
func (l *arenaList) put(a *floatArena) {
	a.reset()
	l.mu.Lock()
	l.free = append(l.free, a)
	l.mu.Unlock()
}
