package kernel

import "math"

//go:generate go run ./internal/gen/qgemm -out qgemm_amd64.s -stubs qgemm_amd64_stub.go -pkg kernel

// The int8 kernels: dynamic quantization for inference, as PyTorch's
// quantize_dynamic does it. A weight matrix W (N × K) is quantized once,
// symmetrically per row, W[n][k] ≈ ws[n]·q[n][k] with q in [-127, 127]
// (QuantizeRows), and packed (NewQMatrix). At run time each row of the
// activations x (K floats) is quantized asymmetrically to unsigned bytes,
// x[k] ≈ sx·(u[k] − zp) with u in [0, 255] (quantizeRow), because the VNNI
// instruction (VPDPBUSD) multiplies unsigned by signed bytes. Then
//
//	Σ_k x[k]·W[n][k] ≈ sx·ws[n]·(Σ_k u[k]·q[n][k] − zp·Σ_k q[n][k])
//
// where the first sum is the int32 dot product the kernels compute and
// the second, sum[n], is precomputed with the weights. The int32 sums are
// exact, so the AVX-512 VNNI, AVX-VNNI and AVX2 kernels (see the
// generator, internal/gen/qgemm) and the pure-Go twin (qgemvGo) give the
// same bits; the dequantization is the same float32 operations in each.

// QMaxK is the largest K of a QMatrix: the int32 sums stay exact while
// 2·K·255·127 < 2^31.
const QMaxK = 32768

// QuantizeRows quantizes w (N × K, row-major) symmetrically per row:
// scale[n] = max_k |w[n][k]| / 127 (1 for a row of zeros) and
// q[n][k] = round(w[n][k] / scale[n]) (to nearest, ties to even), so that
// |w − scale·q| ≤ scale/2 elementwise. q is N × K, scale N. Non-finite
// weights panic.
func QuantizeRows(q []int8, scale []float32, w []float32, N, K int) {
	if N < 0 || K < 0 || len(w) < N*K || len(q) < N*K || len(scale) < N {
		panic("kernel: QuantizeRows: slice too short")
	}
	for n := 0; n < N; n++ {
		row := w[n*K : (n+1)*K]
		var m float32
		for _, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				panic("kernel: QuantizeRows: weight not finite")
			}
			m = max(m, abs32(v))
		}
		s := m / 127
		if s == 0 {
			s = 1
		}
		scale[n] = s
		for k, v := range row {
			r := math.RoundToEven(float64(v / s))
			q[n*K+k] = int8(min(127, max(-127, r)))
		}
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// QMatrix is a weight matrix W (N × K) quantized by QuantizeRows and
// packed for the int8 GEMV: panels of 16 rows (the last zero-padded), in
// each, per group g of four columns (the last zero-padded), 64 bytes:
// the weights W[16p+j][4g .. 4g+3] at bytes 4j .. 4j+3. It is immutable,
// so one QMatrix serves concurrent calls.
type QMatrix struct {
	N, K   int
	kg, np int       // groups of four columns, panels of 16 rows
	panels []int8    // np·kg·64 bytes
	scale  []float32 // (16·np) ws[n], zero-padded
	sum    []int32   // (16·np) Σ_k q[n][k]
}

// NewQMatrix packs q (N × K, row-major) with its row scales (N), as
// QuantizeRows returns them. K must be at most QMaxK.
func NewQMatrix(q []int8, scale []float32, N, K int) *QMatrix {
	if N < 1 || K < 1 || K > QMaxK || len(q) < N*K || len(scale) < N {
		panic("kernel: NewQMatrix: bad size or slice too short")
	}
	m := &QMatrix{N: N, K: K, kg: (K + 3) / 4, np: (N + 15) / 16}
	m.panels = make([]int8, m.np*m.kg*64)
	m.scale = make([]float32, 16*m.np)
	m.sum = make([]int32, 16*m.np)
	copy(m.scale, scale[:N])
	for n := 0; n < N; n++ {
		p, j := n/16, n%16
		for k, v := range q[n*K : (n+1)*K] {
			m.panels[(p*m.kg+k/4)*64+4*j+k%4] = v
			m.sum[n] += int32(v)
		}
	}
	return m
}

// Row returns row n of the quantized weights, unpacked, in dst (K).
func (m *QMatrix) Row(dst []int8, n int) {
	p, j := n/16, n%16
	for k := range dst[:m.K] {
		dst[k] = m.panels[(p*m.kg+k/4)*64+4*j+k%4]
	}
}

// Scale returns the row scales (N); the slice is the matrix's, not to be
// written.
func (m *QMatrix) Scale() []float32 { return m.scale[:m.N] }

// MulRows sets y[i*ldy+n] = Σ_k x[i*ldx+k]·W[n][k] for i < M and n < N,
// with each row of x (K floats) quantized at run time (see the top of
// this file): y is the dequantized int32 dot product,
// float32(acc − zp·sum[n])·(ws[n]·sx).
func (m *QMatrix) MulRows(y, x []float32, ldy, ldx, M int) {
	m.mulRows(qjob{y: y, x: x, ldy: ldy, ldx: ldx, M: M})
}

// MulAddRows is MulRows adding to y: y[i*ldy+n] = fma(f, ws[n]·sx,
// y[i*ldy+n]) with f the int32 sum as a float32.
func (m *QMatrix) MulAddRows(y, x []float32, ldy, ldx, M int) {
	m.mulRows(qjob{y: y, x: x, ldy: ldy, ldx: ldx, M: M, accum: true})
}

// qjob is one MulRows call: y (M × N, rows ldy apart) from x (M × K,
// rows ldx apart), added to y when accum.
type qjob struct {
	y, x        []float32
	ldy, ldx, M int
	accum       bool
}

// qrow is one row's int8 GEMV: the quantized activations x (4·kg bytes),
// their scale and zero point, the output row y (N) and whether the
// products are added to it.
type qrow struct {
	x     []uint8
	sx    float32
	zp    int32
	y     []float32
	accum bool
}

// qrows4 is four rows' int8 GEMV (qgemv4): their quantized activations
// (4·kg bytes each, one after another), scales and zero points, and the
// output rows, ldy floats apart.
type qrows4 struct {
	x     []uint8
	zp    [4]int32
	sx    [4]float32
	y     []float32
	ldy   int
	accum bool
}

func (m *QMatrix) mulRows(j qjob) {
	if j.M == 0 {
		return
	}
	if j.M < 0 || j.ldx < m.K || j.ldy < m.N || len(j.x) < (j.M-1)*j.ldx+m.K || len(j.y) < (j.M-1)*j.ldy+m.N {
		panic("kernel: QMatrix.MulRows: bad size or slice too short")
	}
	kb := 4 * m.kg
	var stack [8192]uint8
	buf := stack[:]
	if 4*kb > len(buf) {
		buf = make([]uint8, 4*kb)
	}
	full, i := m.N/16, 0
	// Four rows at a time where a kernel reads each weight block once for
	// the four (AVX-512 VNNI); the twin gives each row the same bits.
	for r4 := (qrows4{x: buf[:4*kb], ldy: j.ldy, accum: j.accum}); i+4 <= j.M && full > 0 && has4Rows(); i += 4 {
		for r := range 4 {
			r4.sx[r], r4.zp[r] = quantizeRow(r4.x[r*kb:(r+1)*kb], j.x[(i+r)*j.ldx:(i+r)*j.ldx+m.K])
		}
		r4.y = j.y[i*j.ldy:]
		qgemv4(m, &r4, full)
		for r := range 4 {
			row := qrow{x: r4.x[r*kb : (r+1)*kb], sx: r4.sx[r], zp: r4.zp[r], y: j.y[(i+r)*j.ldy : (i+r)*j.ldy+m.N], accum: j.accum}
			qgemvGo(m, &row, 16*full, m.N) // the last, partial panel
		}
	}
	r := qrow{x: buf[:kb], accum: j.accum}
	for ; i < j.M; i++ {
		r.sx, r.zp = quantizeRow(r.x, j.x[i*j.ldx:i*j.ldx+m.K])
		r.y = j.y[i*j.ldy : i*j.ldy+m.N]
		qgemv(m, &r, full)
		qgemvGo(m, &r, 16*full, m.N) // the last, partial panel
	}
}

// quantizeRow quantizes x into dst[:len(x)] (dst[len(x):] set to 0)
// asymmetrically: with lo = min(0, min x) and hi = max(0, max x) (NaNs
// ignored), sx = (hi − lo)/255 (1 when that is 0 or not finite),
// zp = round(−lo/sx) in [0, 255], and dst[k] = clamp(cvt(x[k]·(1/sx)) + zp,
// 0, 255), cvt rounding a float32 to the nearest int32 (ties to even) as
// VCVTPS2DQ does, out of range or NaN giving −2^31 (so 0 here). Including
// 0 in the range makes 0 exact (zero padding, ReLU outputs). The vector
// kernels (qMinMax, qQuant) take the multiples of their width and the
// twins the rest.
func quantizeRow(dst []uint8, x []float32) (sx float32, zp int32) {
	lo, hi := qMinMax(x)
	sx = (hi - lo) / 255
	if !(sx > 0) || math.IsInf(float64(sx), 0) {
		sx = 1
	}
	inv := 1 / sx
	zp = int32(min(255, max(0, math.RoundToEven(float64(-lo*inv)))))
	qQuant(dst, x, inv, zp)
	clear(dst[len(x):])
	return sx, zp
}

// qMinMaxGo is the twin of qMinMaxZ/Y: lo = min(0, x…) and hi =
// max(0, x…), each element replacing lo only when v < lo (hi when v > hi),
// so NaNs are ignored.
func qMinMaxGo(x []float32, lo, hi float32) (float32, float32) {
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// qQuantGo is the twin of qQuantZ/Y: dst[k] = clamp(cvt(x[k]·inv) + zp,
// 0, 255) with cvt as VCVTPS2DQ (see quantizeRow) and the int32 sum
// wrapping.
func qQuantGo(dst []uint8, x []float32, inv float32, zp int32) {
	dst = dst[:len(x)]
	for k, v := range x {
		f := v * inv
		c := int32(math.MinInt32)
		if f >= -(1<<31) && f < 1<<31 {
			c = int32(math.RoundToEven(float64(f)))
		}
		dst[k] = uint8(min(255, max(0, c+zp)))
	}
}
