package kernel

// checkTile panics unless every element an mr×16 micro-kernel call reads or
// writes lies inside its slice.
func checkTile(mr, kc int, a []float32, rsa, csa int, b []float32, c []float32, ldc int) {
	if mr < 1 || mr > 6 || kc < 1 {
		panic("kernel: micro-kernel size out of range")
	}
	if len(a) <= (mr-1)*rsa+(kc-1)*csa || len(b) < kc*16 || len(c) < (mr-1)*ldc+16 {
		panic("kernel: micro-kernel slice too short")
	}
}

// microKernelGo is the pure-Go twin of the assembly micro-kernels:
//
//	c[i*ldc+j] = alpha*Σ_{l<kc} a[i*rsa+l*csa]*b[l*16+j] (+ c[i*ldc+j] if accum)
//
// for i < mr, j < 16, bit for bit as the assembly computes it: each
// element is one chain of float32 FMAs from zero over l in increasing
// order, then fma(alpha, sum, c) when accum and alpha*sum otherwise. It
// works on 2×4 blocks held in scalar registers (the Go compiler keeps
// about 15).
func microKernelGo(mr, kc int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha float32, accum bool) {
	b = b[:kc*16]
	for i := 0; i < mr; i += 2 {
		a0 := a[i*rsa:]
		a1 := a0 // a second row, or the first again when mr is odd
		if i+1 < mr {
			a1 = a[(i+1)*rsa:]
		}
		for j := 0; j < 16; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for l, o := 0, 0; l < kc; l, o = l+1, o+csa {
				bl := (*[4]float32)(b[l*16+j : l*16+j+4])
				x, y := float64(a0[o]), float64(a1[o])
				b0, b1, b2, b3 := float64(bl[0]), float64(bl[1]), float64(bl[2]), float64(bl[3])
				c00 = addRound32(x*b0, float64(c00)) // fma32, operands converted once
				c01 = addRound32(x*b1, float64(c01))
				c02 = addRound32(x*b2, float64(c02))
				c03 = addRound32(x*b3, float64(c03))
				c10 = addRound32(y*b0, float64(c10))
				c11 = addRound32(y*b1, float64(c11))
				c12 = addRound32(y*b2, float64(c12))
				c13 = addRound32(y*b3, float64(c13))
			}
			storeGo(c[i*ldc+j:], alpha, accum, c00, c01, c02, c03)
			if i+1 < mr {
				storeGo(c[(i+1)*ldc+j:], alpha, accum, c10, c11, c12, c13)
			}
		}
	}
}

// microKernelZGo is the pure-Go twin of the AVX-512 micro-kernels:
// microKernelGo on panels b[p*pstride:] into c[16*p:], p < np.
func microKernelZGo(np, mr, kc int, a []float32, rsa, csa int, b []float32, pstride int, c []float32, ldc int, alpha float32, accum bool) {
	for p := 0; p < np; p++ {
		microKernelGo(mr, kc, a, rsa, csa, b[p*pstride:], c[16*p:], ldc, alpha, accum)
	}
}

// storeGo sets c[0:4] = alpha*v, or fma(alpha, v, c[0:4]) if accum, as
// the assembly's stores (VMULPS, VFMADD213PS) do.
func storeGo(c []float32, alpha float32, accum bool, v0, v1, v2, v3 float32) {
	d := (*[4]float32)(c[:4])
	if accum {
		d[0] = fma32(alpha, v0, d[0])
		d[1] = fma32(alpha, v1, d[1])
		d[2] = fma32(alpha, v2, d[2])
		d[3] = fma32(alpha, v3, d[3])
		return
	}
	d[0], d[1], d[2], d[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
}
