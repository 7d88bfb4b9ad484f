package kernel

import "fmt"

// The bfloat16 weights of inference. A weight matrix W (N × K) is rounded
// to bfloat16 once (RoundBF16) and kept packed as the right-hand operand
// Wᵀ of the bfloat16 GEMM (PackedBF16: pairs of k interleaved, as
// VDPBF16PS takes them); at run time each row of the activations x is
// rounded to bfloat16 and y = x·Wᵀ is summed in float32, every element one
// chain of dotBF16 over the pairs in order. A row at a time (a batch of
// one) runs a GEMV that keeps eight chains in flight; from bf16GemmRows
// rows on hardware the GEMM micro-kernels take over. Both give the twin's
// bits, and so does the AVX2 kernel that runs where the CPU lacks
// AVX512_BF16 (Zen 3): it widens each pair to float32 and emulates the
// instruction's rounding and flushing (bf16_gemv_amd64.go), exact but
// slower than the float32 GEMV, whose operands need no widening.

// bf16GemmRows is the least number of rows a BF16Matrix product runs
// through the GEMM micro-kernels (as nn's bf16MinRows: from four rows
// their tile hides VDPBF16PS's latency); fewer rows run the GEMV.
const bf16GemmRows = 4

// RoundBF16 sets dst[i] to the bfloat16 bits of w[i] (BF16: round to
// nearest even, denormals to zero). It returns an error naming the first
// non-finite weight, which has no bfloat16 weight's meaning.
func RoundBF16(dst []uint16, w []float32) error {
	if len(dst) < len(w) {
		panic("kernel: RoundBF16: dst too short")
	}
	for i, v := range w {
		if v != v || v > 3.4028235e38 || v < -3.4028235e38 {
			return fmt.Errorf("kernel: RoundBF16: weight %d is %v, not finite", i, v)
		}
		dst[i] = BF16(v)
	}
	return nil
}

// BF16Matrix is a weight matrix W (N × K) in bfloat16, packed for the
// products y = x·Wᵀ of inference (see the top of this file). It is
// immutable, so one BF16Matrix serves concurrent calls.
type BF16Matrix struct {
	N, K int
	p    PackedBF16 // Wᵀ, K × N
}

// NewBF16Matrix packs w (N × K bfloat16 bits, row-major, as RoundBF16
// returns them). Denormal values count as zero, as VDPBF16PS takes them.
func NewBF16Matrix(w []uint16, N, K int) *BF16Matrix {
	if N < 1 || K < 1 || len(w) < N*K {
		panic("kernel: NewBF16Matrix: bad size or slice too short")
	}
	f := make([]float32, N*K)
	for i, h := range w[:N*K] {
		f[i] = FromBF16(h)
	}
	m := &BF16Matrix{N: N, K: K}
	m.p.Pack(true, K, N, f, K)
	return m
}

// MulRows sets y[i*ldy+n] = Σ_k x[i*ldx+k]·W[n][k] for i < M and n < N,
// x rounded to bfloat16 and the sum as SgemmBF16 computes it (one chain
// of dotBF16 per k-block of 2·bf16KC, the blocks added in order).
func (m *BF16Matrix) MulRows(y, x []float32, ldy, ldx, M int) {
	m.mulRows(qjob{y: y, x: x, ldy: ldy, ldx: ldx, M: M})
}

// MulAddRows is MulRows adding to y: each k-block's sum added to
// y[i*ldy+n] with one rounding.
func (m *BF16Matrix) MulAddRows(y, x []float32, ldy, ldx, M int) {
	m.mulRows(qjob{y: y, x: x, ldy: ldy, ldx: ldx, M: M, accum: true})
}

func (m *BF16Matrix) mulRows(j qjob) {
	if j.M == 0 {
		return
	}
	if j.M < 0 || j.ldx < m.K || j.ldy < m.N || len(j.x) < (j.M-1)*j.ldx+m.K || len(j.y) < (j.M-1)*j.ldy+m.N {
		panic("kernel: BF16Matrix.MulRows: bad size or slice too short")
	}
	if useBF16 && j.M >= bf16GemmRows {
		var beta float32
		if j.accum {
			beta = 1
		}
		m.p.Gemm(j.M, j.x, j.ldx, beta, j.y, j.ldy)
		return
	}
	kp := (m.K + 1) / 2
	buf, xp := getBF16Scratch(4 * kp)
	defer putScratch(buf)
	i := 0
	if has4RowsBF16() && m.N >= 16 {
		for ; i+4 <= j.M; i += 4 {
			for r := range 4 {
				bf16Row(xp[r*kp:(r+1)*kp], j.x[(i+r)*j.ldx:(i+r)*j.ldx+m.K])
			}
			m.gemv4(j, i, xp)
		}
	}
	for ; i < j.M; i++ {
		bf16Row(xp, j.x[i*j.ldx:i*j.ldx+m.K])
		m.gemv(j.y[i*j.ldy:i*j.ldy+m.N], xp, j.accum, 0)
	}
}

// gemv4 sets rows i..i+3 of j.y from the pairs of four rows of x (xp, kp
// pairs each) as four gemv calls do: the whole panels by the four-row
// kernel (has4RowsBF16), the partial one row by row. Where the kernel
// reports a sum that may have been denormal, the rows are computed again
// from y as it was by gemv.
func (m *BF16Matrix) gemv4(j qjob, i int, xp []uint32) {
	kp, np, full := (m.K+1)/2, (m.N+15)/16, m.N/16
	kc := bf16Block(kp)
	var saved *[]float32
	if j.accum {
		saved = getScratch(4 * m.N)
		defer putScratch(saved)
		for r := range 4 {
			copy((*saved)[r*m.N:(r+1)*m.N], j.y[(i+r)*j.ldy:(i+r)*j.ldy+m.N])
		}
	}
	tiny := false
	for l0 := 0; l0 < kp; l0 += kc {
		kcp := min(kc, kp-l0)
		g := bf16Gemv4{kc: kcp, x: xp[l0:], ldx: kp, b: m.p.data[l0*np*16:], pstride: kcp * 16, np: full, y: j.y[i*j.ldy:], ldy: j.ldy, accum: j.accum || l0 > 0}
		tiny = g.run() || tiny
	}
	for r := range 4 {
		y, x := j.y[(i+r)*j.ldy:(i+r)*j.ldy+m.N], xp[r*kp:(r+1)*kp]
		if tiny {
			if saved != nil {
				copy(y, (*saved)[r*m.N:(r+1)*m.N])
			}
			m.gemv(y, x, j.accum, 0)
			continue
		}
		m.gemv(y, x, j.accum, full) // the partial panel
	}
}

// bf16Gemv4 is one call of the four-row kernel: bf16Gemv for the pairs
// x[r*ldx:] into y[r*ldy:], r < 4.
type bf16Gemv4 struct {
	kc      int
	x       []uint32
	ldx     int
	b       []uint32
	pstride int
	np      int
	y       []float32
	ldy     int
	accum   bool
}

// gemv sets y (N) to xp·Wᵀ (xp: the ceil(K/2) pairs of one row), added to
// y when accum, k-block after k-block as PackedBF16.Gemm: whole panels
// from panel p0 on by the kernels, the last, partial one through a
// scratch row.
func (m *BF16Matrix) gemv(y []float32, xp []uint32, accum bool, p0 int) {
	kp, np, full := (m.K+1)/2, (m.N+15)/16, m.N/16
	kc := bf16Block(kp)
	for l0 := 0; l0 < kp; l0 += kc {
		kcp := min(kc, kp-l0)
		g := bf16Gemv{kc: kcp, x: xp[l0 : l0+kcp], b: m.p.data[l0*np*16+p0*kcp*16:], pstride: kcp * 16, np: full - p0, y: y[16*p0:], accum: accum || l0 > 0}
		g.run()
		if full == np {
			continue
		}
		var tmp [16]float32
		g.b, g.np, g.y, g.accum = m.p.data[l0*np*16+full*kcp*16:], 1, tmp[:], false
		g.run()
		out := y[16*full : m.N]
		if !accum && l0 == 0 {
			copy(out, tmp[:])
			continue
		}
		for i, v := range tmp[:len(out)] {
			out[i] += v
		}
	}
}

// bf16Gemv is one GEMV kernel call: np panels of a k-block (kc pairs,
// panels pstride pairs apart, from b) against the pairs x, into y
// (16·np), added to y when accum.
type bf16Gemv struct {
	kc      int
	x, b    []uint32
	pstride int
	np      int
	y       []float32
	accum   bool
}

// run checks the extent of the call and runs the widest kernel the flags
// allow: VDPBF16PS (useBF16), its AVX2 emulation (useAVX2), or the twin.
func (g *bf16Gemv) run() {
	if g.np == 0 {
		return
	}
	if g.kc < 1 || g.np < 0 || len(g.x) < g.kc || len(g.b) < (g.np-1)*g.pstride+g.kc*16 || len(g.y) < 16*g.np {
		panic("kernel: bf16 GEMV: bad size or slice too short")
	}
	bf16GemvRun(g)
}

// bf16GemvGo is the twin of the GEMV kernels (bf16GemvZ, bf16GemvY): for
// p < g.np and j < 16,
//
//	s = dotBF16(…dotBF16(0, x[0], b[p*pstride+j])…, x[kc-1], b[p*pstride+(kc-1)*16+j])
//	y[16p+j] = s, or y[16p+j] + s (one rounding) when accum.
func bf16GemvGo(g *bf16Gemv) {
	for p := 0; p < g.np; p++ {
		panel := g.b[p*g.pstride : p*g.pstride+g.kc*16]
		for j := 0; j < 16; j++ {
			var s float32
			for l, x := range g.x[:g.kc] {
				s = dotBF16(s, x, panel[l*16+j])
			}
			if g.accum {
				s += g.y[16*p+j]
			}
			g.y[16*p+j] = s
		}
	}
}
