package nn

import (
	"sync/atomic"

	"github.com/recur-ml/recur/internal/kernel"
)

// A stack of layers of a batch of one at inference (a forecaster serving
// one series) runs its layers as a pipeline over min(L, threads) cores
// (rule 2 of recurrent_strategy.go): layer k+1 starts as soon as layer k
// has produced its first rows, projecting them in chunks of pipeChunk as
// they come, instead of waiting for the whole sequence. Each layer is a
// chain of cache-bound GEMVs that one core runs at its best alone, so the
// other cores' gain comes from overlapping the layers, not from splitting
// a step (below rule 1's threshold a step's hand-off across the cores
// costs more than a share of the step saves). The cores meet once per
// chunk, not per step. With fewer threads than layers, each thread takes
// the next layer in order when it finishes one.
//
// Every element is computed as in the sequential loop: the chunks of the
// projection run the same blocked GEMM per row, against the same packed
// operand, as the row blocks of a batch of one's projection (projSolo).

// pipeChunk is the number of rows a pipelined layer projects at once.
const pipeChunk = 8

// layerPipe links a pipelined layer to its neighbours: src counts the
// rows of its input ready (the layer below's dst; nil for the first
// layer), dst the rows of its output published (nil for the last).
type layerPipe struct {
	src, dst  *atomic.Int64
	projected int             // rows of XW computed so far
	pw        *kernel.PackedB // W_ihᵀ, packed by the call's first chunk
}

// project computes the next chunk of the input projection ip, XW rows
// [projected, projected+pipeChunk) (fewer at the end), once the layer
// below has produced them.
func (lp *layerPipe) project(ip *inputProj) {
	r0 := lp.projected
	r1 := min(ip.N, r0+pipeChunk)
	for lp.src.Load() < int64(r1) {
		// The layer below runs on the other core (or has finished).
	}
	if r0 == 0 {
		// Packed on every call: the buffer is the arena's, kept between
		// calls, and the weights may have changed since the last one (a
		// training run validates between optimizer steps).
		lp.pw.Pack(true, ip.in, ip.G, ip.wih, ip.in)
	}
	kernel.SgemmPacked(false, r1-r0, 1, ip.X[r0*ip.in:], ip.in, lp.pw, ip.beta, ip.XW[r0*ip.G:], ip.G)
	lp.projected = r1
}

// pipeline is a forward's pipelined layers (kept in the arena, reused):
// layer k is jobs[k], run with its own arena.
type pipeline struct {
	r        *rnnCore
	p        *seqPlan
	ex       *execPlan
	jobs     []dirJob
	pipes    []layerPipe
	progress []atomic.Int64
	packs    []kernel.PackedB
	next     atomic.Int64 // the next layer to claim
}

// RunPart (kernel.Task) runs layers over the whole sequence, claiming
// them in order, until none is left. Layer k waits only on layer k-1,
// which a running thread has claimed before it (and runs to its end), so
// no wait can deadlock, with any thread count; claiming in order (rather
// than part p running layer p, which kernel.Parallel hands the workers
// from the back) keeps each thread on the lowest layer not yet running,
// the one the others wait on.
func (pl *pipeline) RunPart(int) {
	for {
		k := int(pl.next.Add(1)) - 1
		if k >= len(pl.jobs) {
			return
		}
		pl.r.runDir(pl.p, pl.ex, &pl.jobs[k])
	}
}

// forwardPipelined is forward's layer loop under rule 2, from X (N, I),
// the packed input: the last layer writes the output tensor itself when
// the layouts agree. It fills the output and the final states.
func (rec *rnnRecord) forwardPipelined(X []float32) {
	r, ws, p := rec.r, rec.ws, &rec.p
	L := r.layers
	pl := ws.pipe()
	pl.r, pl.p, pl.ex = r, p, &rec.ex
	if len(pl.progress) < L {
		pl.progress = make([]atomic.Int64, L)
		pl.packs = make([]kernel.PackedB, L)
		pl.pipes = make([]layerPipe, L)
	}
	pl.jobs = pl.jobs[:0]
	for k, x := 0, X; k < L; k++ {
		pl.jobs = append(pl.jobs, rec.pipeLayer(pl, k, x))
		x = pl.jobs[k].Y.buf
	}
	pl.next.Store(0)
	kernel.Parallel(min(L, kernel.Threads()), pl)
	for k := range pl.jobs {
		j := &pl.jobs[k]
		rec.scatterState(k, j.hc, j.cc, stateTensors{rec.hn, rec.cn}, false)
		if k > 0 {
			r.arenas.put(j.ws)
		}
	}
	if !rec.direct() {
		p.scatter(rec.outT.Data, pl.jobs[L-1].Y.buf, r.ho(), r.batchFirst, false)
	}
	clear(pl.jobs)
	pl.r, pl.p, pl.ex = nil, nil, nil
}

// pipeLayer returns layer k's job in pipeline pl, reading x: its own arena
// (the call's for layer 0), its output rows, its initial states and its
// links to the layers below and above.
func (rec *rnnRecord) pipeLayer(pl *pipeline, k int, x []float32) dirJob {
	r, ws, L, Ho := rec.r, rec.ws, rec.r.layers, rec.r.ho()
	j := dirJob{ws: ws, w: &r.w[k][0], X: x, in: r.w[k][0].in, Y: outRows{buf: rec.outT.Data, ld: Ho}}
	if k > 0 {
		j.ws = r.arenas.get()
	}
	if k < L-1 || !rec.direct() {
		j.Y.buf = ws.takeRaw(rec.p.N * Ho)
	}
	j.hc, j.cc = rec.gatherState(ws, k, rec.initial())
	pl.progress[k].Store(0)
	pl.pipes[k] = layerPipe{pw: &pl.packs[k]}
	if k > 0 {
		pl.pipes[k].src = &pl.progress[k-1]
	}
	if k < L-1 {
		pl.pipes[k].dst = &pl.progress[k]
	}
	j.pipe = &pl.pipes[k]
	return j
}
