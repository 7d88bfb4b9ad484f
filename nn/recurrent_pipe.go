package nn

import (
	"sync/atomic"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// A stacked layer of a batch of one at inference (a forecaster serving one
// series) runs its layers as a pipeline over two cores: layer k+1 starts
// as soon as layer k has produced its first rows, projecting them in
// chunks of pipeChunk as they come, instead of waiting for the whole
// sequence. Each layer is a chain of cache-bound GEMVs that one core runs
// at its best alone, so the second core's gain comes from overlapping the
// layers, not from splitting a step (a step's hand-off across the cores
// costs more than half an H = 128 step saves on this VM; see
// recurrent_split.go). The cores meet once per chunk, not per step.
//
// Every element is computed as in the sequential loop: the chunks of the
// projection run the same blocked GEMM per row, against the same packed
// operand, as the row blocks of runDir's batch-of-one projection.

// pipeChunk is the number of rows a pipelined layer projects at once.
const pipeChunk = 8

// canPipeline reports whether an inference forward of a batch of B runs
// its layers as a pipeline (see forwardPipelined).
func (r *rnnCore) canPipeline(B int) bool {
	return B == 1 && r.layers >= 2 && r.dirs == 1 && !r.canSplitB1(B, false) && kernel.Threads() > 1
}

// layerPipe links a pipelined layer to its neighbours: src counts the
// rows of its input ready (the layer below's dst; nil for the first
// layer), dst the rows of its output published (nil for the last).
type layerPipe struct {
	src, dst  *atomic.Int64
	projected int             // rows of XW computed so far
	pw        *kernel.PackedB // W_ihᵀ, packed for the chunks
}

// project computes the next chunk of the input projection, XW rows
// [projected, projected+pipeChunk) (fewer at the end), once the layer
// below has produced them. beta is 1 when XW holds the bias already.
func (lp *layerPipe) project(X []float32, in int, wih []float32, beta float32, XW []float32, G, N int) {
	r0 := lp.projected
	r1 := min(N, r0+pipeChunk)
	for lp.src.Load() < int64(r1) {
		// The layer below runs on the other core (or has finished).
	}
	if lp.pw.K != in || lp.pw.N != G {
		lp.pw.Pack(true, in, G, wih, in)
	}
	kernel.SgemmPacked(false, r1-r0, 1, X[r0*in:], in, lp.pw, beta, XW[r0*G:], G)
	lp.projected = r1
}

// pipeline is a forward's pipelined layers (kept in the arena, reused).
type pipeline struct {
	r        *rnnCore
	p        *seqPlan
	ws       []*floatArena
	x, y     [][]float32
	hc, cc   [][]float32
	pipes    []layerPipe
	progress []atomic.Int64
	packs    []kernel.PackedB
}

// RunPart runs layer k over the whole sequence (kernel.Task).
func (pl *pipeline) RunPart(k int) {
	r := pl.r
	in := r.w[k][0].in
	r.runDir(pl.ws[k], pl.p, &r.w[k][0], 0, pl.x[k], in, pl.y[k], r.ho(), 0, pl.hc[k], pl.cc[k], nil, false, &pl.pipes[k], nil)
}

// forwardPipelined is forward's layer loop for a batch of one at
// inference (canPipeline): X (N, I) is the packed input and out, when
// direct, the output tensor's data, which the last layer then writes
// itself. It fills hn and cn and returns the last layer's output rows.
func (r *rnnCore) forwardPipelined(ws *floatArena, p *seqPlan, X, out []float32, direct bool, h0 *State, hn, cn *tensor.Tensor) []float32 {
	L, H, Ho, N, B := r.layers, r.hidden, r.ho(), p.N, p.B
	lstm := r.kind == kindLSTM
	pl := ws.pipe()
	pl.r, pl.p = r, p
	pl.ws, pl.x, pl.y = pl.ws[:0], pl.x[:0], pl.y[:0]
	pl.hc, pl.cc = pl.hc[:0], pl.cc[:0]
	if len(pl.progress) < L {
		pl.progress = make([]atomic.Int64, L)
		pl.packs = make([]kernel.PackedB, L)
	}
	pl.pipes = pl.pipes[:0]
	x := X
	for k := 0; k < L; k++ {
		a := ws
		if k > 0 {
			a = r.arenas.get()
		}
		y := out
		if k < L-1 || !direct {
			y = ws.takeRaw(N * Ho)
		}
		hc := ws.take(B * Ho)
		var cc []float32
		if h0 != nil {
			p.gatherRows(hc, h0.H.Value.Data[k*B*Ho:(k+1)*B*Ho], Ho)
		}
		if lstm {
			cc = ws.take(B * H)
			if h0 != nil && h0.C != nil {
				p.gatherRows(cc, h0.C.Value.Data[k*B*H:(k+1)*B*H], H)
			}
		}
		pl.progress[k].Store(0)
		lp := layerPipe{pw: &pl.packs[k]}
		if k > 0 {
			lp.src = &pl.progress[k-1]
		}
		if k < L-1 {
			lp.dst = &pl.progress[k]
		}
		pl.ws, pl.x, pl.y = append(pl.ws, a), append(pl.x, x), append(pl.y, y)
		pl.hc, pl.cc = append(pl.hc, hc), append(pl.cc, cc)
		pl.pipes = append(pl.pipes, lp)
		x = y
	}
	// Layer k waits only on layer k-1, which the team claims (and runs
	// to its end) before it: no wait can deadlock, with any thread count.
	kernel.Parallel(L, pl)
	for k := 0; k < L; k++ {
		p.scatterRows(hn.Data[k*B*Ho:(k+1)*B*Ho], pl.hc[k], Ho, false)
		if lstm {
			p.scatterRows(cn.Data[k*B*H:(k+1)*B*H], pl.cc[k], H, false)
		}
		if k > 0 {
			r.arenas.put(pl.ws[k])
		}
	}
	y := pl.y[L-1]
	clear(pl.ws)
	clear(pl.x)
	clear(pl.y)
	clear(pl.hc)
	clear(pl.cc)
	pl.r, pl.p = nil, nil
	return y
}
