//go:build openblas && cgo

package kernel

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
// void openblas_set_num_threads(int);
import "C"

// openblasSgemm runs OpenBLAS's cblas_sgemm on the same row-major operands
// as Sgemm. It exists only as a benchmark reference (-tags openblas).
var openblasSgemm = func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
	if tA {
		ta = C.CblasTrans
	}
	if tB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, C.enum_CBLAS_TRANSPOSE(ta), C.enum_CBLAS_TRANSPOSE(tb), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb),
		C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}

// openblasThreads sets OpenBLAS's thread count.
func openblasThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
