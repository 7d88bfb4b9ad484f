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
