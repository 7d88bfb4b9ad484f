//go:build amd64 && !noasm

package kernel

// qgemv computes rows 0 .. 16·np−1 of r.y as qgemvGo does, for the first
// np whole panels of m, with the widest int8 kernel the flags allow.
func qgemv(m *QMatrix, r *qrow, np int) {
	if np == 0 {
		return
	}
	if len(r.x) < 4*m.kg || np > m.np || len(r.y) < 16*np {
		panic("kernel: qgemv: slice too short")
	}
	x, w, sum, ws, y, acc := &r.x[0], &m.panels[0], &m.sum[0], &m.scale[0], &r.y[0], b2i(r.accum)
	switch {
	case !useAVX2:
		qgemvGo(m, r, 0, 16*np)
	case useAVX512 && useVNNI512:
		qgemvVNNIZ(m.kg, x, w, np, sum, ws, r.zp, r.sx, y, acc)
	case useAVXVNNI:
		qgemvVNNIY(m.kg, x, w, np, sum, ws, r.zp, r.sx, y, acc)
	default:
		qgemvAVX2(m.kg, x, w, np, sum, ws, r.zp, r.sx, y, acc)
	}
}

// has4Rows reports whether qgemv4 has a kernel on this CPU (AVX-512 VNNI).
func has4Rows() bool { return useAVX2 && useAVX512 && useVNNI512 }

// qgemv4 computes rows 0 .. 16·np−1 of four output rows as qgemvGo does
// for each, for the first np whole panels of m (has4Rows must hold).
func qgemv4(m *QMatrix, r *qrows4, np int) {
	if len(r.x) < 16*m.kg || np > m.np || len(r.y) < 3*r.ldy+16*np {
		panic("kernel: qgemv4: slice too short")
	}
	qgemv4VNNIZ(m.kg, &r.x[0], &m.panels[0], np, &m.sum[0], &m.scale[0], &r.zp[0], &r.sx[0], &r.y[0], r.ldy, b2i(r.accum))
}

// qMinMax returns min(0, x…) and max(0, x…) ignoring NaNs (qMinMaxGo),
// the leading multiple of the vector width by qMinMaxZ or qMinMaxY.
func qMinMax(x []float32) (lo, hi float32) {
	n := 0
	switch {
	case useAVX512 && len(x) >= 16:
		n = len(x) &^ 15
		lo, hi = qMinMaxZ(&x[0], n)
	case useAVX2 && len(x) >= 8:
		n = len(x) &^ 7
		lo, hi = qMinMaxY(&x[0], n)
	}
	return qMinMaxGo(x[n:], lo, hi)
}

// qQuant quantizes x into dst (qQuantGo), the leading multiple of the
// vector width by qQuantZ or qQuantY.
func qQuant(dst []uint8, x []float32, inv float32, zp int32) {
	n := 0
	if len(dst) < len(x) {
		panic("kernel: qQuant: dst too short")
	}
	switch {
	case useAVX512 && len(x) >= 16:
		n = len(x) &^ 15
		qQuantZ(&dst[0], &x[0], n, inv, zp)
	case useAVX2 && len(x) >= 8:
		n = len(x) &^ 7
		qQuantY(&dst[0], &x[0], n, inv, zp)
	}
	qQuantGo(dst[n:], x[n:], inv, zp)
}
