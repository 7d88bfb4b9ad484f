package kernel

// The GEMV kernels serve every product with one row or one column (batch-1
// inference, an LSTM step at B = 1). Their pure-Go twins are below; the
// wrappers gemvN, gemvT and gemvPanels dispatch to the assembly.

// gemvNGo: y[j] = alpha*Σ_{l<k} x[l]*b[l*ldb+j] (+ y[j] if accum), j < n.
func gemvNGo(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	if n == 0 {
		return
	}
	var buf [64]float32
	for j0 := 0; j0 < n; j0 += len(buf) {
		w := min(len(buf), n-j0)
		acc := buf[:w]
		clear(acc)
		for l := 0; l < k; l++ {
			xv := x[l]
			row := b[l*ldb+j0 : l*ldb+j0+w]
			for j, v := range row {
				acc[j] += xv * v
			}
		}
		out := y[j0 : j0+w]
		for j, v := range acc {
			if accum {
				out[j] += alpha * v
			} else {
				out[j] = alpha * v
			}
		}
	}
}

// gemvTGo: y[j] = alpha*Σ_{l<k} x[l]*b[j*ldb+l] (+ y[j] if accum), j < n.
func gemvTGo(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	x = x[:k]
	for j := 0; j < n; j++ {
		row := b[j*ldb : j*ldb+k]
		var s float32
		for l, v := range row {
			s += x[l] * v
		}
		if accum {
			y[j] += alpha * s
		} else {
			y[j] = alpha * s
		}
	}
}

// gemvPanelsGo: y[q*16+j] = alpha*Σ_{l<kc} x[l]*b[q*kc*16+l*16+j]
// (+ y[q*16+j] if accum), q < np, j < 16.
func gemvPanelsGo(kc int, x, b []float32, np int, y []float32, alpha float32, accum bool) {
	for q := 0; q < np; q++ {
		var acc [16]float32
		panel := b[q*kc*16 : (q+1)*kc*16]
		for l := 0; l < kc; l++ {
			xv := x[l]
			row := (*[16]float32)(panel[l*16 : l*16+16])
			for j := range acc {
				acc[j] += xv * row[j]
			}
		}
		out := (*[16]float32)(y[q*16 : q*16+16])
		for j := range out {
			if accum {
				out[j] += alpha * acc[j]
			} else {
				out[j] = alpha * acc[j]
			}
		}
	}
}
