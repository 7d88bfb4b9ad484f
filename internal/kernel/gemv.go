package kernel

// The GEMV kernels serve every product with one row or one column (batch-1
// inference, an LSTM step at B = 1). Their pure-Go twins are below; the
// wrappers gemvN, gemvT and gemvPanels dispatch to the assembly. Each twin
// computes what its wrapper computes with the assembly, bit for bit: the
// same float32 FMA chains (fma32) in the same order, the same partial sums
// and the same reduction.

// gemvNGo: y[j] = alpha*Σ_{l<k} x[l]*b[l*ldb+j] (+ y[j] if accum), j < n.
// The first n&^7 columns are sgemvN's: per column a chain of float32 FMAs
// from zero over l in order, stored as by storeRow. The last n%8 are
// those the assembly build leaves to this loop (the wrapper calls it for
// them): products and sums each rounded to float32, no FMA (the
// conversions keep a compiler from fusing them).
func gemvNGo(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	var buf [64]float32
	n8 := n &^ 7
	for j0 := 0; j0 < n; j0 += len(buf) {
		w := min(len(buf), n-j0)
		f := min(w, max(0, n8-j0)) // columns j0..j0+f take FMAs
		acc := buf[:w]
		clear(acc)
		for l := 0; l < k; l++ {
			xv := x[l]
			row := b[l*ldb+j0 : l*ldb+j0+w]
			for j, v := range row[:f] {
				acc[j] = fma32(xv, v, acc[j])
			}
			for j, v := range row[f:] {
				acc[f+j] += float32(xv * v)
			}
		}
		out := y[j0 : j0+w]
		storeRow(out[:f], acc[:f], alpha, accum)
		for j, v := range acc[f:] {
			if accum {
				out[f+j] += float32(alpha * v)
			} else {
				out[f+j] = alpha * v
			}
		}
	}
}

// storeRow sets y[j] = alpha*acc[j], or fma(alpha, acc[j], y[j]) when
// accum: the store of the assembly's GEMV and GEMM kernels.
func storeRow(y, acc []float32, alpha float32, accum bool) {
	y = y[:len(acc)]
	for j, v := range acc {
		if accum {
			y[j] = fma32(alpha, v, y[j])
		} else {
			y[j] = alpha * v
		}
	}
}

// gemvTGo: y[j] = alpha*Σ_{l<k} x[l]*b[j*ldb+l] (+ y[j] if accum), j < n,
// each sum as sgemvT computes it (dotT), then stored as by storeRow.
func gemvTGo(k int, x, b []float32, ldb, n int, y []float32, alpha float32, accum bool) {
	x = x[:k]
	for j := 0; j < n; j++ {
		s := dotT(x, b[j*ldb:j*ldb+k])
		if accum {
			y[j] = fma32(alpha, s, y[j])
		} else {
			y[j] = alpha * s
		}
	}
}

// dotT is sgemvT's float32 dot product of x and row (same length): 16
// lane sums, lane i taking the elements l ≡ i (mod 16) of the leading
// multiple of 16 by FMA, then lanes 0-7 one more block of 8 if 8 or more
// elements remain; lanes i and i+8 added, the 8 sums reduced pairwise
// (i + i+4, then i + i+2, then 0 + 1), and the last k%8 elements added to
// that by FMA, in order.
func dotT(x, row []float32) float32 {
	var acc [16]float32
	k, l := len(x), 0
	row = row[:k]
	for ; k-l >= 16; l += 16 {
		xs, rs := (*[16]float32)(x[l:l+16]), (*[16]float32)(row[l:l+16])
		for i := range acc {
			acc[i] = fma32(xs[i], rs[i], acc[i])
		}
	}
	if k-l >= 8 {
		for i := range 8 {
			acc[i] = fma32(x[l+i], row[l+i], acc[i])
		}
		l += 8
	}
	for i := range 8 {
		acc[i] += acc[i+8]
	}
	for w := 4; w >= 1; w /= 2 {
		for i := range w {
			acc[i] += acc[i+w]
		}
	}
	s := acc[0]
	for ; l < k; l++ {
		s = fma32(x[l], row[l], s)
	}
	return s
}

// gemvPanelsGo: y[q*16+j] = alpha*Σ_{l<kc} x[l]*b[q*kc*16+l*16+j]
// (+ y[q*16+j] if accum), q < np, j < 16: per element a chain of float32
// FMAs from zero over l in order, stored as by storeRow (the ymm and zmm
// kernels alike).
func gemvPanelsGo(kc int, x, b []float32, np int, y []float32, alpha float32, accum bool) {
	for q := 0; q < np; q++ {
		var acc [16]float32
		panel := b[q*kc*16 : (q+1)*kc*16]
		for l := 0; l < kc; l++ {
			xv := x[l]
			row := (*[16]float32)(panel[l*16 : l*16+16])
			for j := range acc {
				acc[j] = fma32(xv, row[j], acc[j])
			}
		}
		storeRow(y[q*16:q*16+16], acc[:], alpha, accum)
	}
}
