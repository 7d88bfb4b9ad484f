package kernel

// sgemmGeneric is Sgemm's reference loop, in plain float32 arithmetic
// (alpha applied to A first), which the tests check every path against
// within rounding. It is no twin: the
// pure-Go path that gives the assembly's bits is the blocked driver on the
// twin micro-kernels (gemm_micro.go) and GEMV kernels (gemv.go). It
// computes C = alpha*op(A)*op(B) + beta*C where op(A) is m×k and op(B) is
// k×n:
//
//	for i < m, j < n: c[i*ldc+j] = alpha*Σ_l A(i,l)*B(l,j) + beta*c[i*ldc+j]
//
// with A(i,l) = a[i*lda+l] (or a[l*lda+i] when tA) and B(l,j) = b[l*ldb+j]
// (or b[j*ldb+l] when tB). beta == 0 ignores C's old contents (NaN too).
func sgemmGeneric(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
		for l := 0; l < k; l++ {
			var av float32
			if tA {
				av = a[l*lda+i]
			} else {
				av = a[i*lda+l]
			}
			av *= alpha
			if av == 0 {
				continue
			}
			if tB {
				for j := range crow {
					crow[j] += av * b[j*ldb+l]
				}
			} else {
				brow := b[l*ldb : l*ldb+n]
				for j := range crow {
					crow[j] += av * brow[j]
				}
			}
		}
	}
}
