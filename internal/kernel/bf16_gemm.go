package kernel

import "unsafe"

// SgemmBF16 computes C = alpha*op(A)*op(B) + beta*C as Sgemm does (same
// shapes, leading dimensions and beta rules), with the elements of op(A)
// and op(B) rounded to bfloat16 (BF16) and their products summed in
// float32 by pairs along k (dotBF16, VDPBF16PS): an element of C is
// alpha*s (+ beta*C, one FMA when beta is 1), s one chain of dotBF16 over
// the pairs of a k-block of at most 2·bf16KC, the blocks' results added
// into C in order. Relative to the float32 product the error is that of
// rounding the operands, about 2⁻⁸·sqrt(k) of Σ|a||b| for random signs.
//
// It runs the AVX512_BF16 kernels when HasBF16 and their pure-Go twins
// (bit-identical, much slower) otherwise; products with one row or column
// take the same path.
func SgemmBF16(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	j := bf16Job{tA: tA, m: m, k: k, n: n, alpha: alpha, a: a, lda: lda, beta: beta, c: c, ldc: ldc}
	if !j.check("SgemmBF16") {
		return
	}
	checkMatrix("SgemmBF16 a", tA, m, k, a, lda)
	checkMatrix("SgemmBF16 b", tB, k, n, b, ldb)
	buf, pb := getBF16Scratch(bf16PackedLen(k, n))
	bf16PackB(pb, bf16Op{tB, k, n, b, ldb})
	j.pb = pb
	bf16Multiply(j)
	putScratch(buf)
}

// PackedBF16 is a k×n right-hand operand rounded to bfloat16 and packed
// into the pair panels the bfloat16 kernels read, for repeated use (a
// recurrent weight, T times per pass). The zero value is an empty 0×0
// operand.
type PackedBF16 struct {
	K, N int
	data []uint32
}

// Pack (re)packs op(B) (k×n; tB means b is stored n×k) into p, reusing p's
// memory when it is large enough.
func (p *PackedBF16) Pack(tB bool, k, n int, b []float32, ldb int) {
	if k < 0 || n < 0 {
		panic("kernel: negative PackedBF16 size")
	}
	if k > 0 && n > 0 {
		checkMatrix("PackedBF16 b", tB, k, n, b, ldb)
	}
	p.K, p.N = k, n
	if size := bf16PackedLen(k, n); cap(p.data) >= size {
		p.data = p.data[:size]
	} else {
		p.data = make([]uint32, size)
	}
	if k > 0 && n > 0 {
		bf16PackB(p.data, bf16Op{tB, k, n, b, ldb})
	}
}

// Gemm computes C = A·B + beta*C against the packed operand, A (m×p.K)
// row-major with leading dimension lda, C (m×p.N) with ldc, as SgemmBF16.
func (p *PackedBF16) Gemm(m int, a []float32, lda int, beta float32, c []float32, ldc int) {
	j := bf16Job{m: m, k: p.K, n: p.N, alpha: 1, a: a, lda: lda, pb: p.data, beta: beta, c: c, ldc: ldc}
	if j.check("PackedBF16.Gemm") {
		bf16Multiply(j)
	}
}

// check panics unless j's sizes and slices are consistent (its operand B
// excepted), applies beta alone when there is nothing to multiply, and
// reports whether a product remains to be computed.
func (j *bf16Job) check(what string) bool {
	if j.m < 0 || j.n < 0 || j.k < 0 {
		panic("kernel: negative " + what + " size")
	}
	if j.m == 0 || j.n == 0 {
		return false
	}
	if j.ldc < j.n {
		panic("kernel: " + what + " ldc < n")
	}
	checkLen(what+" c", j.c, (j.m-1)*j.ldc+j.n)
	if j.k == 0 || j.alpha == 0 {
		scaleC(j.m, j.n, j.beta, j.c, j.ldc)
		return false
	}
	checkMatrix(what+" a", j.tA, j.m, j.k, j.a, j.lda)
	return true
}

// bf16Op is an operand op(S), rows×cols, stored as s with leading
// dimension ld, transposed (cols×rows) when t.
type bf16Op struct {
	t          bool
	rows, cols int
	s          []float32
	ld         int
}

// bf16PackedLen is the length of the pair panels of a k×n operand.
func bf16PackedLen(k, n int) int { return (k + 1) / 2 * ((n + 15) / 16) * 16 }

// bf16Block returns the k-block height in pairs for kp pairs, the blocks
// as even as possible (as kcBlock).
func bf16Block(kp int) int {
	if kp <= bf16KC {
		return kp
	}
	nb := (kp + bf16KC - 1) / bf16KC
	return (kp + nb - 1) / nb
}

// bf16PackB packs op(B) (k×n) into dst in the pair-panel layout: the pair
// (l, j) of the k-block starting at pair l0 (kcp pairs) at
// dst[l0*np*16 + (j/16)*kcp*16 + (l-l0)*16 + j%16], columns past n and the
// high half of an odd k's last pair zero.
func bf16PackB(dst []uint32, op bf16Op) {
	tB, k, n, b, ldb := op.t, op.rows, op.cols, op.s, op.ld
	kp, np := (k+1)/2, (n+15)/16
	kc := bf16Block(kp)
	buf, tmp := getBF16Scratch(2 * max(kp, n))
	defer putScratch(buf)
	if tB {
		// Column j of op(B) is row j of b: its pairs are contiguous.
		clear(dst[(n/16)*kp*16:]) // the padded columns of the last panel
		row := tmp[:kp]
		for j := 0; j < n; j++ {
			bf16Row(row, b[j*ldb:j*ldb+k])
			q, jj := j/16, j%16
			for l0 := 0; l0 < kp; l0 += kc {
				kcp := min(kc, kp-l0)
				panel := dst[l0*np*16+q*kcp*16:]
				for l, v := range row[l0 : l0+kcp] {
					panel[l*16+jj] = v
				}
			}
		}
		return
	}
	// Rows 2l and 2l+1 of b paired, 16 columns to a panel.
	for l := 0; l < kp; l++ {
		l0 := l / kc * kc
		kcp := min(kc, kp-l0)
		var r1 []float32
		if 2*l+1 < k {
			r1 = b[(2*l+1)*ldb : (2*l+1)*ldb+n]
		}
		bf16Rows2(dst[l0*np*16+(l-l0)*16:], kcp*16, b[2*l*ldb:2*l*ldb+n], r1)
	}
}

// bf16PackA packs rows i0 <= i < i1 of op(A) (m×k; tA: a is stored k×m)
// into dst as pairs and returns their strides: pair l of row i at
// dst[(i-i0)*rsa+l*csa]. A row-major A is packed by rows (rsa = kp =
// ceil(k/2), csa = 1); a transposed one by pairs of its rows (rsa = 1,
// csa = the rows rounded up to 16).
func bf16PackA(dst []uint32, op bf16Op, i0, i1 int) (rsa, csa int) {
	tA, k, a, lda := op.t, op.cols, op.s, op.ld
	kp := (k + 1) / 2
	if !tA {
		for i := i0; i < i1; i++ {
			bf16Row(dst[(i-i0)*kp:(i-i0+1)*kp], a[i*lda:i*lda+k])
		}
		return kp, 1
	}
	w := (i1 - i0 + 15) / 16 * 16
	for l := 0; l < kp; l++ {
		var r1 []float32
		if 2*l+1 < k {
			r1 = a[(2*l+1)*lda+i0 : (2*l+1)*lda+i1]
		}
		bf16Rows2(dst[l*w:(l+1)*w], 16, a[2*l*lda+i0:2*l*lda+i1], r1)
	}
	return 1, w
}

// bf16PackALen is the length bf16PackA needs for rows rows.
func bf16PackALen(k, rows int) int { return (k + 1) / 2 * ((rows + 15) / 16 * 16) }

// getBF16Scratch returns cached scratch of n uint32 (contents undefined),
// as the float32 buffer to give back with putScratch and its words.
func getBF16Scratch(n int) (*[]float32, []uint32) {
	s := getScratch(n)
	return s, unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(*s))), n)
}

// bf16MC is the row-block height: 288 rows of 256 pairs (288 KiB of A)
// stay in L2 while the panels of B stream past, as mcBlockZ.
const bf16MC = 288

// bf16Job is one product C = alpha*op(A)*B + beta*C for bf16Multiply,
// B packed (pb); the team runs it in parts of rows or of panels.
type bf16Job struct {
	tA          bool
	m, k, n     int
	alpha, beta float32
	a           []float32
	lda         int
	pb          []uint32
	c           []float32
	ldc         int
	byPanels    bool
	per         int // rows or panels per part
}

// bf16Multiply runs j, on the worker team when it is large enough: by
// rows (each part packs its rows of A) or, for few rows, by panels.
func bf16Multiply(j bf16Job) {
	np := (j.n + 15) / 16
	threads := Threads()
	parts := 1
	if threads > 1 && worthSplitting(2*j.m*j.n*j.k) {
		switch {
		case j.m >= 12*threads:
			parts = min((j.m+5)/6, 2*threads)
		case np >= 4*threads:
			parts, j.byPanels = 2*threads, true
		}
	}
	if j.byPanels {
		j.per = (np + parts - 1) / parts
		j.per = (j.per + 3) / 4 * 4 // whole groups of four panels
		parts = (np + j.per - 1) / j.per
	} else {
		j.per = ((j.m+parts-1)/parts + 5) / 6 * 6
		parts = (j.m + j.per - 1) / j.per
	}
	if parts == 1 {
		j.rows(0, j.m, 0, np)
		return
	}
	Parallel(parts, &j)
}

// RunPart runs part p (Parallel).
func (j *bf16Job) RunPart(p int) {
	np := (j.n + 15) / 16
	if j.byPanels {
		j.rows(0, j.m, p*j.per, min(np, (p+1)*j.per))
		return
	}
	j.rows(p*j.per, min(j.m, (p+1)*j.per), 0, np)
}

// rows computes rows i0 <= i < i1 of C over panels q0 <= q < q1, in row
// blocks of bf16MC.
func (j *bf16Job) rows(i0, i1, q0, q1 int) {
	buf, ap := getBF16Scratch(bf16PackALen(j.k, min(bf16MC, i1-i0)))
	defer putScratch(buf)
	for ib := i0; ib < i1; ib += bf16MC {
		ie := min(ib+bf16MC, i1)
		rsa, csa := bf16PackA(ap, bf16Op{j.tA, j.m, j.k, j.a, j.lda}, ib, ie)
		if j.beta != 0 && j.beta != 1 {
			for i := ib; i < ie; i++ {
				row := j.c[i*j.ldc+q0*16 : i*j.ldc+min(q1*16, j.n)]
				for x := range row {
					row[x] *= j.beta
				}
			}
		}
		j.block(bf16A{ap, rsa, csa}, ib, ie, q0, q1)
	}
}

// bf16A is a block of packed rows of A (see bf16PackA).
type bf16A struct {
	p        []uint32
	rsa, csa int
}

// at returns the pairs of A from row r (of the block) and pair l on.
func (a bf16A) at(r, l int) []uint32 { return a.p[r*a.rsa+l*a.csa:] }

// block runs the micro-kernels over rows ib..ie (packed in ap) and panels q0..q1, k-block after k-block: groups of four
// whole panels, then single ones; a partial last panel through a scratch
// tile.
func (j *bf16Job) block(ap bf16A, ib, ie, q0, q1 int) {
	kp, np := (j.k+1)/2, (j.n+15)/16
	kc := bf16Block(kp)
	full := min(q1, j.n/16)
	for l0 := 0; l0 < kp; l0 += kc {
		kcp := min(kc, kp-l0)
		accum := l0 > 0 || j.beta != 0
		blk := j.pb[l0*np*16:]
		q := q0
		for w := 4; w >= 1; w -= 3 {
			for ; q+w <= full; q += w {
				for i, mr := ib, 0; i < ie; i += mr {
					mr = stripHeight(ie - i)
					t := bf16Tile{mr: mr, np: w, kc: kcp, a: ap.at(i-ib, l0), rsa: ap.rsa, csa: ap.csa,
						b: blk[q*kcp*16:], pstride: kcp * 16, c: j.c[i*j.ldc+q*16:], ldc: j.ldc, alpha: j.alpha, accum: accum}
					t.run()
				}
			}
		}
		if q < q1 {
			t := bf16Tile{np: 1, kc: kcp, rsa: ap.rsa, csa: ap.csa, b: blk[q*kcp*16:], pstride: kcp * 16, alpha: j.alpha, accum: accum}
			j.partial(&t, bf16A{ap.at(0, l0), ap.rsa, ap.csa}, ib, ie, q)
		}
	}
}

// partial runs t, the last, partial panel q of a k-block (its pairs of A
// from ap), for rows ib..ie through a scratch tile: alpha*s, then added
// to C (two roundings where whole panels take one FMA).
func (j *bf16Job) partial(t *bf16Tile, ap bf16A, ib, ie, q int) {
	accum := t.accum
	w := j.n - q*16
	var tmp [6 * 16]float32
	for i, mr := ib, 0; i < ie; i += mr {
		mr = stripHeight(ie - i)
		t.mr, t.a, t.c, t.ldc, t.accum = mr, ap.at(i-ib, 0), tmp[:], 16, false
		t.run()
		for r := 0; r < mr; r++ {
			crow := j.c[(i+r)*j.ldc+q*16 : (i+r)*j.ldc+q*16+w]
			if !accum {
				copy(crow, tmp[r*16:r*16+w])
				continue
			}
			for x, v := range tmp[r*16 : r*16+w] {
				crow[x] += v
			}
		}
	}
}
