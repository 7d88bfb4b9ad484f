//go:build amd64 && !noasm

package kernel

// bf16GemvRun runs g (checked by run) on VDPBF16PS when useBF16, on the
// AVX2 emulation when useAVX2, else on the twin. The emulation first runs
// without flushing denormal sums (bf16GemvYFast) and, only where that
// reports that a sum may have been denormal, again with it (bf16GemvY)
// from y as it was: the same bits either way, at a fraction of the work
// for the sums of ordinary weights.
func bf16GemvRun(g *bf16Gemv) {
	x, b, y, acc := &g.x[0], &g.b[0], &g.y[0], b2i(g.accum)
	switch {
	case useBF16:
		bf16GemvZ(g.kc, x, b, g.pstride, g.np, y, acc)
	case useAVX2:
		var saved *[]float32
		if g.accum {
			saved = getScratch(16 * g.np)
			copy(*saved, g.y[:16*g.np])
			defer putScratch(saved)
		}
		if bf16GemvYFast(g.kc, x, b, g.pstride, g.np, y, acc) == 0 {
			return
		}
		if saved != nil {
			copy(g.y, (*saved)[:16*g.np])
		}
		bf16GemvY(g.kc, x, b, g.pstride, g.np, y, acc)
	default:
		bf16GemvGo(g)
	}
}

// has4RowsBF16 reports whether bf16Gemv4 has a kernel: the AVX2
// emulation's four-row one, where the CPU lacks AVX512_BF16 (with it, four
// rows or more run the bf16 GEMM).
func has4RowsBF16() bool { return useAVX2 && !useBF16 }

// run checks the extent of g and runs bf16GemvY4Fast, reporting whether a
// sum may have been denormal (y then to be recomputed).
func (g *bf16Gemv4) run() bool {
	if g.np == 0 {
		return false
	}
	if g.kc < 1 || g.ldx < g.kc || len(g.x) < 3*g.ldx+g.kc || len(g.b) < (g.np-1)*g.pstride+g.kc*16 || len(g.y) < 3*g.ldy+16*g.np {
		panic("kernel: bf16 four-row GEMV: bad size or slice too short")
	}
	return bf16GemvY4Fast(g.kc, &g.x[0], g.ldx, &g.b[0], g.pstride, g.np, &g.y[0], g.ldy, b2i(g.accum)) != 0
}
