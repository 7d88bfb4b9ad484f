package kernel

// qgemvGo is the twin of the int8 GEMV kernels (qgemm_amd64.s): for rows
// lo ≤ n < hi of m, with n = 16p+j,
//
//	acc    = Σ_{g<kg} Σ_{c<4} int32(r.x[4g+c])·int32(m.panels[(p·kg+g)·64+4j+c])
//	f      = float32(acc − r.zp·m.sum[n])    (int32 arithmetic, wrapping)
//	r.y[n] = f·(m.scale[n]·r.sx), or fma32(f, m.scale[n]·r.sx, r.y[n]) when r.accum.
//
// The int32 sums are exact, so their order is free; the float32
// operations are those of the assembly.
func qgemvGo(m *QMatrix, r *qrow, lo, hi int) {
	kg, x := m.kg, r.x[:4*m.kg]
	for n := lo; n < hi; n++ {
		p, j := n/16, n%16
		panel := m.panels[p*kg*64 : (p+1)*kg*64]
		var acc int32
		for g := 0; g < kg; g++ {
			b := panel[g*64+4*j : g*64+4*j+4]
			acc += int32(x[4*g])*int32(b[0]) + int32(x[4*g+1])*int32(b[1]) + int32(x[4*g+2])*int32(b[2]) + int32(x[4*g+3])*int32(b[3])
		}
		f := float32(acc - r.zp*m.sum[n])
		s := m.scale[n] * r.sx
		if r.accum {
			r.y[n] = fma32(f, s, r.y[n])
		} else {
			r.y[n] = f * s
		}
	}
}
