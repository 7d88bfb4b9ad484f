//go:build !amd64 || noasm

package kernel

// qgemv computes rows 0 .. 16·np−1 of r.y with the twin (see
// qgemm_asm_amd64.go).
func qgemv(m *QMatrix, r *qrow, np int) { qgemvGo(m, r, 0, 16*np) }

func qMinMax(x []float32) (lo, hi float32) { return qMinMaxGo(x, 0, 0) }

func qQuant(dst []uint8, x []float32, inv float32, zp int32) { qQuantGo(dst, x, inv, zp) }

func has4Rows() bool { return false }

func qgemv4(m *QMatrix, r *qrows4, np int) { panic("kernel: qgemv4 without assembly") }
