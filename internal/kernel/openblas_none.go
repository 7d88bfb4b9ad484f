//go:build !openblas || !cgo

package kernel

// Without -tags openblas there is no OpenBLAS reference: the benchmarks
// check openblasSgemm for nil.
var openblasSgemm func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func openblasThreads(n int) {}
