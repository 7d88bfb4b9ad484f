//go:build !amd64 || noasm

package kernel

// Without the assembly every wrapper runs its pure-Go twin (see
// gemm_asm_amd64.go for the contracts).

func microKernel(mr, kc int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha float32, accum bool) {
	checkTile(mr, kc, a, rsa, csa, b, c, ldc)
	microKernelGo(mr, kc, a, rsa, csa, b, c, ldc, alpha, accum)
}

func microKernel2(mr, kc int, a []float32, rsa, csa int, b []float32, pstride int, c []float32, ldc int, alpha float32, accum bool) {
	checkTile(mr, kc, a, rsa, csa, b[min(pstride, len(b)):], c[min(16, len(c)):], ldc)
	microKernelGo(mr, kc, a, rsa, csa, b, c, ldc, alpha, accum)
	microKernelGo(mr, kc, a, rsa, csa, b[pstride:], c[16:], ldc, alpha, accum)
}

func microKernelZ(np, mr, kc int, a []float32, rsa, csa int, b []float32, pstride int, c []float32, ldc int, alpha float32, accum bool) {
	checkTile(mr, kc, a, rsa, csa, b[min((np-1)*pstride, len(b)):], c[min(16*(np-1), len(c)):], ldc)
	microKernelZGo(np, mr, kc, a, rsa, csa, b, pstride, c, ldc, alpha, accum)
}

func packBT16(kc int, b []float32, ldb int, dst []float32) {
	packBTGo(0, kc, 16, b, ldb, dst)
}

func packBN16(kc int, b []float32, ldb int, dst []float32, np int) {
	packBNGo(kc, b, ldb, dst, np)
}

func packAT6(kc int, a []float32, lda int, dst []float32, ns int) {
	packAT6Go(kc, a, lda, dst, ns)
}

func gemvPanels(kc int, x, b []float32, np int, y []float32, alpha float32, accum bool) {
	gemvPanelsGo(kc, x, b, np, y, alpha, accum)
}

func gemvN(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	gemvNGo(k, x, b, ldb, n, y, alpha, accum)
}

func gemvT(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	gemvTGo(k, x, b, ldb, n, y, alpha, accum)
}

func fmaProbe(n int) float32 { return 0 }
