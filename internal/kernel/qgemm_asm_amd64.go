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
