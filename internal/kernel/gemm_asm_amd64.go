//go:build amd64 && !noasm

package kernel

// Wrappers around the generated assembly in gemm_amd64.s. Each checks the
// extent its kernel touches, then runs the assembly when useAVX2 is set and
// the pure-Go twin otherwise.

// microKernel computes an mr×16 tile (1 <= mr <= 6, kc >= 1):
//
//	c[i*ldc+j] = alpha*Σ_{l<kc} a[i*rsa+l*csa]*b[l*16+j] (+ c[i*ldc+j] if accum)
func microKernel(mr, kc int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha float32, accum bool) {
	checkTile(mr, kc, a, rsa, csa, b, c, ldc)
	if !useAVX2 {
		microKernelGo(mr, kc, a, rsa, csa, b, c, ldc, alpha, accum)
		return
	}
	acc := 0
	if accum {
		acc = 1
	}
	switch mr {
	case 6:
		sgemmKernel6x16(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, acc)
	case 5:
		sgemmKernel5x16(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, acc)
	case 4:
		sgemmKernel4x16(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, acc)
	case 3:
		sgemmKernel3x16(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, acc)
	case 2:
		sgemmKernel2x16(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, acc)
	case 1:
		sgemmKernel1x16(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, acc)
	default:
		panic("kernel: micro-kernel rows out of range")
	}
}

// microKernel2 computes an mr×32 tile (mr = 2 or 3, kc >= 1) from two
// panels pstride floats apart: microKernel on b and on b[pstride:], into
// c and c[16:].
func microKernel2(mr, kc int, a []float32, rsa, csa int, b []float32, pstride int, c []float32, ldc int, alpha float32, accum bool) {
	checkTile(mr, kc, a, rsa, csa, b[min(pstride, len(b)):], c[min(16, len(c)):], ldc)
	if !useAVX2 {
		microKernelGo(mr, kc, a, rsa, csa, b, c, ldc, alpha, accum)
		microKernelGo(mr, kc, a, rsa, csa, b[pstride:], c[16:], ldc, alpha, accum)
		return
	}
	switch mr {
	case 2:
		sgemmKernel2x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, b2i(accum))
	case 3:
		sgemmKernel3x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, b2i(accum))
	default:
		panic("kernel: two-panel micro-kernel rows out of range")
	}
}

// microKernelZ computes an mr×16np tile (np = 2 or 4, 1 <= mr <= 6,
// kc >= 1) with the AVX-512 micro-kernels, from np panels pstride floats
// apart: microKernel on b[p*pstride:] into c[16*p:], p < np, with the same
// bits. Without useAVX512 it runs the pure-Go twin.
func microKernelZ(np, mr, kc int, a []float32, rsa, csa int, b []float32, pstride int, c []float32, ldc int, alpha float32, accum bool) {
	checkTile(mr, kc, a, rsa, csa, b[min((np-1)*pstride, len(b)):], c[min(16*(np-1), len(c)):], ldc)
	if !useAVX2 || !useAVX512 {
		microKernelZGo(np, mr, kc, a, rsa, csa, b, pstride, c, ldc, alpha, accum)
		return
	}
	acc := b2i(accum)
	switch np*8 + mr {
	case 2*8 + 1:
		sgemmKernelZ1x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 2*8 + 2:
		sgemmKernelZ2x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 2*8 + 3:
		sgemmKernelZ3x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 2*8 + 4:
		sgemmKernelZ4x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 2*8 + 5:
		sgemmKernelZ5x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 2*8 + 6:
		sgemmKernelZ6x32(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 4*8 + 1:
		sgemmKernelZ1x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 4*8 + 2:
		sgemmKernelZ2x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 4*8 + 3:
		sgemmKernelZ3x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 4*8 + 4:
		sgemmKernelZ4x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 4*8 + 5:
		sgemmKernelZ5x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 4*8 + 6:
		sgemmKernelZ6x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	default:
		panic("kernel: AVX-512 micro-kernel shape out of range")
	}
}

// packBT16 packs a full 16-column panel of a transposed B (stored n×k):
// dst[l*16+j] = b[j*ldb+l] for j < 16, l < kc. With useAVX512, groups of
// 16 rows l go through the 16×16 zmm transposer (1.7x the 8×8 ymm one's
// rate on cache-resident input).
func packBT16(kc int, b []float32, ldb int, dst []float32) {
	if kc <= 0 {
		return
	}
	if len(dst) < kc*16 || len(b) < 15*ldb+kc {
		panic("kernel: packBT16 slice too short")
	}
	if !useAVX2 {
		packBTGo(0, kc, 16, b, ldb, dst)
		return
	}
	k16 := 0
	if useAVX512 {
		k16 = kc &^ 15
		if k16 > 0 {
			sgemmPackBTZ(k16, &b[0], ldb, &dst[0])
		}
	}
	k8 := kc &^ 7
	if k8 > k16 {
		sgemmPackBT(k8-k16, &b[k16], ldb, &dst[k16*16])
	}
	packBTGo(max(k8, k16), kc, 16, b, ldb, dst)
}

// packBN16 copies np full 16-column panels of a row-major B:
// dst[p*kc*16+l*16+j] = b[l*ldb+p*16+j] for l < kc, p < np, j < 16.
func packBN16(kc int, b []float32, ldb int, dst []float32, np int) {
	if kc <= 0 || np <= 0 {
		return
	}
	if len(dst) < np*kc*16 || len(b) < (kc-1)*ldb+np*16 {
		panic("kernel: packBN16 slice too short")
	}
	if useAVX2 {
		sgemmPackBN(kc, &b[0], ldb, &dst[0], np)
		return
	}
	packBNGo(kc, b, ldb, dst, np)
}

// packAT6 copies ns 6-row strips of a transposed A:
// dst[s*6*kc+l*6+r] = a[l*lda+s*6+r] for l < kc, s < ns, r < 6.
func packAT6(kc int, a []float32, lda int, dst []float32, ns int) {
	if kc <= 0 || ns <= 0 {
		return
	}
	if len(dst) < ns*6*kc || len(a) < (kc-1)*lda+ns*6 {
		panic("kernel: packAT6 slice too short")
	}
	if useAVX2 {
		sgemmPackAT(kc, &a[0], lda, &dst[0], ns)
		return
	}
	packAT6Go(kc, a, lda, dst, ns)
}

// gemvPanels computes y[q*16+j] = alpha*Σ_l x[l]*b[q*kc*16+l*16+j]
// (+ y[q*16+j] if accum) for np whole panels.
func gemvPanels(kc int, x, b []float32, np int, y []float32, alpha float32, accum bool) {
	if np == 0 {
		return
	}
	if kc < 1 || len(x) < kc || len(b) < np*kc*16 || len(y) < np*16 {
		panic("kernel: gemvPanels slice too short")
	}
	if !useAVX2 {
		gemvPanelsGo(kc, x, b, np, y, alpha, accum)
		return
	}
	if useAVX512 && np >= 8 {
		// Groups of eight panels with zmm accumulators (same bits), the
		// rest with the ymm kernel: 1.2-1.3x the rate on an operand in L1
		// (H = 64), the same from L2, which the ymm kernel already
		// saturates (BenchmarkGemvStep).
		ng := np / 8
		sgemvPanelsZ8(kc, &x[0], &b[0], ng, &y[0], alpha, b2i(accum))
		if np == 8*ng {
			return
		}
		b, y, np = b[8*ng*kc*16:], y[8*ng*16:], np-8*ng
	}
	sgemvPanels(kc, &x[0], &b[0], np, &y[0], alpha, b2i(accum))
}

// gemvN computes y[j] = alpha*Σ_{l<k} x[l]*b[l*ldb+j] (+ y[j] if accum), j < n.
func gemvN(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	if n == 0 {
		return
	}
	if k < 1 || len(x) < k || len(b) < (k-1)*ldb+n || len(y) < n {
		panic("kernel: gemvN slice too short")
	}
	n8 := 0
	if useAVX2 {
		n8 = n &^ 7
		if n8 > 0 {
			sgemvN(k, &x[0], &b[0], ldb, n8, &y[0], alpha, b2i(accum))
		}
	}
	gemvNGo(k, x, b[n8:], ldb, n-n8, y[n8:], alpha, accum)
}

// gemvT computes y[j] = alpha*Σ_{l<k} x[l]*b[j*ldb+l] (+ y[j] if accum), j < n.
func gemvT(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	if n == 0 {
		return
	}
	if k < 1 || len(x) < k || len(b) < (n-1)*ldb+k || len(y) < n {
		panic("kernel: gemvT slice too short")
	}
	if !useAVX2 {
		gemvTGo(k, x, b, ldb, n, y, alpha, accum)
		return
	}
	sgemvT(k, &x[0], &b[0], ldb, n, &y[0], alpha, b2i(accum))
}

// fmaProbe runs 192·n flops in an FMA-only loop of the widest vectors
// the kernels use: n iterations of 12 8-lane FMAs, or n/2 (n even) of 12
// 16-lane ones with useAVX512.
func fmaProbe(n int) float32 {
	if !useAVX2 {
		return 0
	}
	if useAVX512 && n%2 == 0 {
		return fmaPeakZ(n / 2)
	}
	return fmaPeak(n)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
