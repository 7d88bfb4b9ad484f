package nn

import "github.com/recur-ml/recur/internal/kernel"

// A batch of several sequences runs its time loop on two cores by
// splitting the batch, not each step: the sorted sequences fall into two
// groups, each core runs the whole forward (and backward) loop of one
// group on its own, and they meet once, at the end. Splitting each step's
// product over the kernel's worker team instead costs a hand-off per
// product, keeps the gates on one core and moves the worker's share of the
// pre-activations across the cores at every step; measured on this VM the
// step loop then ran 1.2-1.5x faster on two cores than on one, and less
// for the few rows at the end of a variable-length batch.
//
// A sequence's values do not depend on which other sequences share a
// product (each element of a GEMM row is the same FMA chain, and a row of
// one takes a GEMV with the same chains), so the result is bit-identical
// to the one-group loop and independent of the number of threads.

// rowSplitMinBatch is the smallest batch split into two groups: below, a
// group's products have too few rows (three or fewer) to use the FMA
// units, and the per-step split of the products (kernel worker team) is
// faster.
const rowSplitMinBatch = 8

// rowSplit returns the first sorted sequence of the second group when the
// step loops of a batch with plan p run as two groups on two threads, 0
// when they run as one. The groups get equal numbers of sequence steps
// (the first, longest sequences, fewer sequences). whole forces one group:
// zoneout draws its masks from the layer's generator inside the loop, in
// an order two groups would change, and a pipelined stack (batch of one)
// has its own threads.
func (r *rnnCore) rowSplit(p *seqPlan, whole bool) int {
	B := p.B
	if whole || B < rowSplitMinBatch || kernel.Threads() < 2 {
		return 0
	}
	// Sequence j (sorted, longest first) runs len_j = #{t : n[t] > j}
	// steps; n is non-increasing in t.
	half, sum, k, t := (p.N+1)/2, 0, 0, p.T
	for k < B-1 && sum < half {
		for t > 0 && p.n[t-1] <= k {
			t--
		}
		sum += t // len_k
		k++
	}
	return max(k, 1)
}
