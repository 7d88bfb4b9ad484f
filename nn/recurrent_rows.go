package nn

import "github.com/recur-ml/recur/internal/kernel"

// A batch of several sequences runs its time loop on several cores by
// splitting the batch, not each step (rule 3 of recurrent_strategy.go):
// the sorted sequences fall into G groups, each thread runs the whole
// forward (and backward) loop of one group on its own, and they meet once,
// at the end. Splitting each step's product over the kernel's worker team
// instead costs a hand-off per product, keeps the gates on one core and
// moves the workers' shares of the pre-activations across the cores at
// every step, which is why the step loop gains less from more cores that
// way, and less still for the few rows at the end of a variable-length
// batch.
//
// A sequence's values do not depend on which other sequences share a
// product (each element of a GEMM row is the same FMA chain, and a row of
// one takes a GEMV with the same chains), so the result is bit-identical
// to the one-group loop whatever G is, and so independent of the number of
// threads. (In bfloat16 the step products of fewer than bf16MinRows rows
// run in float32, so there the grouping does change the arithmetic.)

// maxRowGroups bounds the groups of one step loop (the kernel threads a
// batch is split over): the group bounds live in a fixed array, so that
// planning a call allocates nothing.
const maxRowGroups = 64

// rowGroupMinRows is the fewest sequences a group gets from the batch
// size (rule 3). A group's step product streams W_hh (from L2, or L3 once
// it outgrows L2) once per strip of rows, and each streamed float feeds
// one FMA lane per row: a core's two 16-lane FMAs a cycle against the
// 8 floats a cycle it streams from L3 need 4 rows to keep the FMA units
// busy (the kernel's strips of 4-6 rows also take its full-width mr×64
// tiles, 2-3 rows the half-width mr×32 one). A shape ratio, not a timing.
const rowGroupMinRows = 4

// stepGroups are the sorted sequences a step loop runs as n groups, one
// per part of kernel.Parallel (rule 3): group g runs bounds[g] ..
// bounds[g+1].
type stepGroups struct{ bounds [maxRowGroups + 1]int }

// split makes n (1 <= n <= min(B, maxRowGroups)) balanced groups of the
// batch of plan p and returns n, for kernel.Parallel.
func (g *stepGroups) split(p *seqPlan, n int) int {
	n = max(1, min(n, p.B, maxRowGroups))
	p.balancedGroups(g.bounds[:n+1])
	return n
}

// balancedGroups splits the sorted sequences into len(bounds)-1 = G
// contiguous groups (1 <= G <= B), group g being bounds[g] .. bounds[g+1],
// with numbers of sequence steps as equal as whole sequences allow: the
// boundary after group g-1 is the first sequence at which the steps so far
// reach g/G of all N (the first, longest sequences fall into fewer-sequence
// groups). No group is empty.
func (p *seqPlan) balancedGroups(bounds []int) {
	G, B := len(bounds)-1, p.B
	bounds[0], bounds[G] = 0, B
	// Sequence k (sorted, longest first) runs len_k = #{t : n[t] > k}
	// steps; n is non-increasing in t.
	sum, k, t := 0, 0, p.T
	for g := 1; g < G; g++ {
		target := (g*p.N + G - 1) / G
		lo, hi := bounds[g-1]+1, B-(G-g)
		for k < hi && (k < lo || sum < target) {
			for t > 0 && p.n[t-1] <= k {
				t--
			}
			sum += t // len_k
			k++
		}
		bounds[g] = k
	}
}

// rowGroups returns the number of groups the step loops of a batch with
// plan p run as (rule 3): one per kernel thread, as long as each group
// keeps rowGroupMinRows sequences; 1 when whole (zoneout, or a pipelined
// stack, which has its own threads).
func rowGroups(p *seqPlan, whole bool) int {
	if whole {
		return 1
	}
	return max(1, min(kernel.Threads(), p.B/rowGroupMinRows, maxRowGroups))
}
