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
// for i < mr, j < 16, summing l in increasing order.
func microKernelGo(mr, kc int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha float32, accum bool) {
	var acc [6][16]float32
	for l := 0; l < kc; l++ {
		brow := (*[16]float32)(b[l*16 : l*16+16])
		for i := 0; i < mr; i++ {
			av := a[i*rsa+l*csa]
			row := &acc[i]
			for j := range row {
				row[j] += av * brow[j]
			}
		}
	}
	for i := 0; i < mr; i++ {
		crow := (*[16]float32)(c[i*ldc : i*ldc+16])
		for j := range crow {
			if accum {
				crow[j] += alpha * acc[i][j]
			} else {
				crow[j] = alpha * acc[i][j]
			}
		}
	}
}
