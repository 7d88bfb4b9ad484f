package nn

import "github.com/recur-ml/recur/internal/kernel"

// How a call runs: the execution rules
//
// planExec picks, once per forward call, how the call and its backward run.
// All the choices the engine makes are here, each with its reason; the
// thresholds are where the cost of a mechanism meets what it saves, and the
// measurements behind them (from one machine kind, which varies between
// hosts) are in BENCHMARKS.md, not here.
//
// How the step loops run, first rule that applies:
//
//  1. Split units (recurrent_split.go): inference (no tape), a batch of one,
//     an LSTM without projection or peepholes whose W_hh has at least
//     splitMinWeights floats, two threads or more. A batch of one is a
//     chain of GEMVs bound by cache bandwidth; each of P = unitParts cores
//     (one per thread while each keeps splitMinWeights/2 floats of W_hh)
//     keeps the rows of W_hh for its share of the hidden units in its own
//     L2, and they meet once per step. Below the threshold the per-step
//     hand-off across the cores costs more than half a step saves.
//  2. Layer pipeline (recurrent_pipe.go): inference, a batch of one, two or
//     more unidirectional layers, two threads or more, rule 1 not taken.
//     Layer k+1 runs on another core as soon as layer k has produced rows;
//     min(L, threads) cores meet once per chunk of rows, not per step.
//  3. Groups of sequences (recurrent_rows.go): a batch of at least
//     2·rowGroupMinRows sequences and two threads or more. The sorted
//     sequences fall into G = min(threads, B / rowGroupMinRows) groups of
//     equal numbers of sequence steps; each thread runs the whole step loop
//     of one group, forward and backward, and they meet once, at the end.
//     Not in a forward with zoneout: its masks are drawn inside the loop,
//     in an order groups would change.
//  4. One step loop. With more than one sequence (and more than one step,
//     in forward) the kernel's worker team is woken first, to split each
//     step's product by columns; a batch of one runs its GEMVs on this core.
//
// Within a direction, the input projection of all steps (projection):
//
//  a. piped: in a layer pipeline above the first layer, chunk by chunk as
//     the layer below produces its rows (see layerPipe);
//  b. units: with split units and at least two rows, each core projects the
//     columns of its units while it packs its half of W_hh;
//  c. solo: a batch of one whose projection is larger than soloGemmFlops,
//     in row blocks that each stay on this core: waking the worker team
//     costs a chain of single-core GEMVs more than the split saves;
//  d. gemm: one GEMM, split over the worker team when large.
//
// The biases (b_ih + b_hh, a GRU's b_ih alone) of a batch of one are
// folded into its projection (the GEMM adds onto them), which saves a
// call per step on its latency-bound path; a larger batch adds them step
// by step to the rows the recurrence is about to read, rather than in one
// more pass over a projection far larger than the caches.
//
// Whatever the rule, each element is computed by the same kernels on the
// same operands in the same order, so the results are bit-identical across
// rules and independent of the number of threads (see each file).

// execPlan is how one forward call and its backward run (planExec).
type execPlan struct {
	B         int  // batch size
	training  bool // a training forward: the regularizers draw their masks
	units     bool // rule 1: each direction's units split over unitParts cores
	pipeline  bool // rule 2: the layers run as a pipeline over min(L, threads) cores
	fwdGroups int  // rule 3 in forward: the groups of sequences the step loops run as (1: one loop)
	bwdGroups int  // rule 3 in backward, likewise
	fwdWake   bool // rule 4: wake the worker team before each forward step loop
	bwdWake   bool // rule 4: wake it before each backward step loop (and pack W_hh for products of several rows)
	foldBias  bool // the biases go into the input projection (batch of one)
	bf16      bool // the large products run in bfloat16 (precision.go)
}

// planExec applies the rules above to a call with tape tp and plan p.
func (r *rnnCore) planExec(tp *Tape, p *seqPlan) execPlan {
	B := p.B
	ex := execPlan{B: B, training: tp.Training(), foldBias: B == 1}
	ex.units = tp == nil && r.canSplitB1(B, ex.training)
	ex.pipeline = tp == nil && r.canPipeline(B)
	zoneout := ex.training && r.zoneout > 0
	ex.fwdGroups = rowGroups(p, zoneout || ex.pipeline)
	ex.bwdGroups = rowGroups(p, false)
	ex.fwdWake = B > 1 && p.T > 1
	ex.bwdWake = B > 1
	ex.bf16 = tp.bf16()
	return ex
}

// projKind is how a direction computes its input projection (rules a-d).
type projKind uint8

const (
	projGemm  projKind = iota // d
	projSolo                  // c
	projUnits                 // b
	projPiped                 // a
)

// projection picks the input projection of a direction whose (N, in)
// input projects to G columns; piped is set above the first layer of a
// pipeline.
func (ex *execPlan) projection(N, G, in int, piped bool) projKind {
	switch {
	case piped:
		return projPiped
	case ex.units && N >= 2:
		// With one row the units split leaves the projection to the GEMV
		// path, whose column tails depend on the columns in the call.
		return projUnits
	case ex.B == 1 && 2*N*G*in > soloGemmFlops:
		return projSolo
	}
	return projGemm
}

// soloGemmFlops bounds (as 2·m·n·k) the row blocks of a batch-of-one
// input projection (rule c); it is half the kernel's threshold for waking
// its worker team (internal/kernel parallelMinFlops, 4 Mi), so no block
// does.
const soloGemmFlops = 2 << 20

// splitMinWeights is the W_hh size (G·Ho floats) from which a batch-of-one
// LSTM splits its units over two threads (rule 1): 256 Ki floats (H = 256,
// 1 MiB), where each half of W_hh fits one core's L2; more threads split
// it further as long as each part keeps half of it (unitParts). Each step hands h
// across the cores twice; at H = 128 half a step's GEMV saves less than
// that hand-off costs, while from H = 256 on the halves fitting the two
// L2s more than pays for it.
const splitMinWeights = 256 << 10

// splitAlign is the multiple of units at which the split falls: the vector
// width of the gate kernels, so each unit is computed by the same vector
// lane kind (or the same scalar tail) as in the unsplit loop.
const splitAlign = 16

// canSplitB1 reports whether a batch of B may run its inference step loops
// with the units split over two threads or more (rule 1).
func (r *rnnCore) canSplitB1(B int, training bool) bool {
	if B != 1 || training || r.kind != kindLSTM || r.proj > 0 || r.peephole {
		return false
	}
	H := r.hidden
	return H >= 2*splitAlign && 4*H*r.ho() >= splitMinWeights && kernel.Threads() > 1
}

// canPipeline reports whether an inference forward of a batch of B runs
// its layers as a pipeline (rule 2).
func (r *rnnCore) canPipeline(B int) bool {
	return B == 1 && r.layers >= 2 && r.dirs == 1 && !r.canSplitB1(B, false) && kernel.Threads() > 1
}
