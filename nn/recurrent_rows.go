package nn

// A batch of several sequences runs its time loop on two cores by
// splitting the batch, not each step (rule 3 of recurrent_strategy.go):
// the sorted sequences fall into two groups, each core runs the whole
// forward (and backward) loop of one group on its own, and they meet once,
// at the end. Splitting each step's product over the kernel's worker team
// instead costs a hand-off per product, keeps the gates on one core and
// moves the worker's share of the pre-activations across the cores at
// every step, which is why the step loop gains less from a second core
// that way, and less still for the few rows at the end of a
// variable-length batch.
//
// A sequence's values do not depend on which other sequences share a
// product (each element of a GEMM row is the same FMA chain, and a row of
// one takes a GEMV with the same chains), so the result is bit-identical
// to the one-group loop and independent of the number of threads.

// balancedSplit returns the first sorted sequence of the second of two
// groups that get equal numbers of sequence steps (the first, longest
// sequences, fewer sequences); never an empty group. p.B must be at least 2.
func (p *seqPlan) balancedSplit() int {
	B := p.B
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
