package kernel

// Panel layout. The micro-kernels read op(B) as panels of 16 columns: a
// panel holding rows l0..l0+kc of columns j0..j0+16 is kc×16 floats,
// element (l, j) at l*16+j-j0. Columns past n are zero. A k×n operand is cut
// into k-blocks of at most kcMax rows (kcBlock), and each block into
// ceil(n/16) panels stored one after another.

// kcMax bounds the rows of a k-block: a 16-wide panel of 256 rows is 16 KiB,
// half of Zen 3's L1d, and stays there while the A rows stream past it.
const kcMax = 256

// kcBlock returns the k-block height for an inner dimension k: the blocks
// are as even as possible (1600 = 7 blocks of 229, not 6×256 + 64).
func kcBlock(k int) int {
	if k <= kcMax {
		return k
	}
	nb := (k + kcMax - 1) / kcMax
	return (k + nb - 1) / nb
}

// packedLen is the length of the panel layout of a k×n operand.
func packedLen(k, n int) int { return k * ((n + 15) / 16) * 16 }

// packPanels packs panels q0 <= q < q1 of every k-block of op(B) (k×n; tB
// means b is stored n×k with leading dimension ldb) into dst, laid out as
// described above for the whole k×n operand.
func packPanels(dst []float32, tB bool, k, n int, b []float32, ldb int, q0, q1 int) {
	packRange(dst, tB, k, n, b, ldb, q0, q1, 0, k)
}

// packRange is packPanels for the k-blocks starting at rows l0 with
// lo <= l0 < hi only.
func packRange(dst []float32, tB bool, k, n int, b []float32, ldb int, q0, q1, lo, hi int) {
	kc := kcBlock(k)
	np := (n + 15) / 16
	for l0 := (lo + kc - 1) / kc * kc; l0 < min(k, hi); l0 += kc {
		kcp := min(kc, k-l0)
		blk := dst[l0*np*16 : (l0+kcp)*np*16]
		packBlock(blk[q0*kcp*16:], tB, n, b, ldb, l0, kcp, q0, q1)
	}
}

// packBlock packs panels q0 <= q < q1 of rows l0 <= l < l0+kcp of op(B)
// (n columns) into dst, panel q at dst[(q-q0)*kcp*16:].
func packBlock(dst []float32, tB bool, n int, b []float32, ldb int, l0, kcp, q0, q1 int) {
	for q := q0; q < q1; q++ {
		panel := dst[(q-q0)*kcp*16 : (q-q0+1)*kcp*16]
		j0 := q * 16
		w := min(16, n-j0)
		if tB {
			src := b[j0*ldb+l0:]
			if w == 16 {
				packBT16(kcp, src, ldb, panel)
			} else {
				clear(panel)
				packBTGo(0, kcp, w, src, ldb, panel)
			}
			continue
		}
		if w == 16 {
			// Up to 8 full panels in one pass over the rows: more would
			// write to more lines kcp*64 bytes apart (the same cache set)
			// than the caches have ways.
			cnt := min(q1, n/16, q+8) - q
			packBN16(kcp, b[l0*ldb+j0:], ldb, dst[(q-q0)*kcp*16:], cnt)
			q += cnt - 1
			continue
		}
		clear(panel)
		for l := 0; l < kcp; l++ {
			s := (l0+l)*ldb + j0
			copy(panel[l*16:l*16+w], b[s:s+w])
		}
	}
}

// packBNGo is the pure-Go twin of sgemmPackBN:
// dst[p*kc*16+l*16+j] = b[l*ldb+p*16+j] for l < kc, p < np, j < 16.
func packBNGo(kc int, b []float32, ldb int, dst []float32, np int) {
	for p := 0; p < np; p++ {
		panel := dst[p*kc*16 : (p+1)*kc*16]
		for l := 0; l < kc; l++ {
			s := l*ldb + p*16
			*(*[16]float32)(panel[l*16 : l*16+16]) = *(*[16]float32)(b[s : s+16])
		}
	}
}

// packBTGo sets dst[l*16+j] = b[j*ldb+l] for j < w, l0 <= l < l1: the
// pure-Go twin of sgemmPackBT (and its tail). It walks 4 columns of b at a
// time so each source row is read sequentially.
func packBTGo(l0, l1, w int, b []float32, ldb int, dst []float32) {
	if l1 <= l0 {
		return
	}
	j := 0
	for ; j+4 <= w; j += 4 {
		r0 := b[j*ldb+l0 : j*ldb+l1]
		r1 := b[(j+1)*ldb+l0 : (j+1)*ldb+l1]
		r2 := b[(j+2)*ldb+l0 : (j+2)*ldb+l1]
		r3 := b[(j+3)*ldb+l0 : (j+3)*ldb+l1]
		r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
		for l := range r0 {
			d := (*[4]float32)(dst[(l0+l)*16+j : (l0+l)*16+j+4])
			d[0], d[1], d[2], d[3] = r0[l], r1[l], r2[l], r3[l]
		}
	}
	for ; j < w; j++ {
		r := b[j*ldb+l0 : j*ldb+l1]
		for l, v := range r {
			dst[(l0+l)*16+j] = v
		}
	}
}

// packAT copies rows i0 <= i < i1, columns l0 <= l < l0+kcp of op(A) for a
// transposed A (A(i, l) = a[l*lda+i]) into strips of stripHeight rows: a
// strip of h rows starting at row i holds kcp groups of h floats,
// dst[(i-i0)*kcp+l*h+r] = A(i+r, l0+l).
func packAT(dst, a []float32, lda, i0, i1, l0, kcp int) {
	full := 0 // leading 6-row strips, copied in one pass
	for i := i0; stripHeight(i1-i) == 6; i += 6 {
		full++
	}
	// Up to atChunk strips per pass over the rows: more write heads
	// kcp*24 bytes apart would crowd a few L1 sets (two with kcp = 256)
	// and evict each other.
	for s := 0; s < full; s += atChunk {
		packAT6(kcp, a[l0*lda+i0+6*s:], lda, dst[6*s*kcp:], min(atChunk, full-s))
	}
	for i, h := i0+6*full, 0; i < i1; i += h {
		h = stripHeight(i1 - i)
		strip := dst[(i-i0)*kcp : (i-i0+h)*kcp]
		for l := 0; l < kcp; l++ {
			s := (l0+l)*lda + i
			copy(strip[l*h:l*h+h], a[s:s+h])
		}
	}
}

// atChunk is the number of 6-row strips of a transposed A packed per pass
// over its rows (see packAT): 8 took the AVX-512 TN SGEMM from 160 to 190
// GFLOP/s at 512×512×512 (one Zen 5 core), where one pass over 48 strips
// thrashed L1.
const atChunk = 8

// packAT6Go is the pure-Go twin of sgemmPackAT:
// dst[s*6*kc+l*6+r] = a[l*lda+s*6+r] for l < kc, s < ns, r < 6.
func packAT6Go(kc int, a []float32, lda int, dst []float32, ns int) {
	for l := 0; l < kc; l++ {
		row := a[l*lda : l*lda+ns*6]
		for s := 0; s < ns; s++ {
			*(*[6]float32)(dst[s*6*kc+l*6 : s*6*kc+l*6+6]) = *(*[6]float32)(row[s*6 : s*6+6])
		}
	}
}
