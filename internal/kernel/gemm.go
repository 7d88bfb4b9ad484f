package kernel

// Sgemm computes C = alpha*op(A)*op(B) + beta*C, op(A) m×k, op(B) k×n,
// C m×n, all row-major with leading dimensions lda, ldb, ldc. tA (tB) means
// A (B) is stored transposed: a is k×m (b is n×k). beta == 0 overwrites C.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernel: negative Sgemm size")
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n {
		panic("kernel: Sgemm ldc < n")
	}
	checkLen("Sgemm c", c, (m-1)*ldc+n)
	if k > 0 {
		ar, ac := m, k
		if tA {
			ar, ac = k, m
		}
		br, bc := k, n
		if tB {
			br, bc = n, k
		}
		if lda < ac || ldb < bc {
			panic("kernel: Sgemm leading dimension too small")
		}
		checkLen("Sgemm a", a, (ar-1)*lda+ac)
		checkLen("Sgemm b", b, (br-1)*ldb+bc)
	}
	sgemmGeneric(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// PackedB is a k×n right-hand operand stored in the layout the GEMM
// micro-kernel reads, so that a weight used many times (the recurrent
// matrix, T times forward and T times backward) is packed once.
type PackedB struct {
	K, N int
	data []float32 // k×n row-major in the generic layout
}

// NewPackedB packs op(B) (k×n; tB means b is stored n×k) for repeated use.
func NewPackedB(tB bool, k, n int, b []float32, ldb int) *PackedB {
	p := &PackedB{}
	p.Pack(tB, k, n, b, ldb)
	return p
}

// Pack (re)packs op(B) into p, reusing p's memory when it is large enough.
func (p *PackedB) Pack(tB bool, k, n int, b []float32, ldb int) {
	p.K, p.N = k, n
	if cap(p.data) < k*n {
		p.data = make([]float32, k*n)
	}
	p.data = p.data[:k*n]
	for l := 0; l < k; l++ {
		for j := 0; j < n; j++ {
			if tB {
				p.data[l*n+j] = b[j*ldb+l]
			} else {
				p.data[l*n+j] = b[l*ldb+j]
			}
		}
	}
}

// SgemmPacked computes C = alpha*op(A)*B + beta*C with B pre-packed (k×n).
func SgemmPacked(tA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	Sgemm(tA, false, m, p.N, p.K, alpha, a, lda, p.data, p.N, beta, c, ldc)
}

// Sgemv computes y = alpha*op(A)*x + beta*y with A m×n row-major (lda);
// op(A) = A (y has m elements, x n) or Aᵀ when tA (y has n, x m).
func Sgemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	if tA {
		Sgemm(true, false, n, 1, m, alpha, a, lda, x, 1, beta, y, 1)
		return
	}
	Sgemm(false, false, m, 1, n, alpha, a, lda, x, 1, beta, y, 1)
}
