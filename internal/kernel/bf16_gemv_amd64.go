//go:build amd64 && !noasm

package kernel

// bf16GemvRun runs g (checked by run) on VDPBF16PS when useBF16, on the
// AVX2 emulation when useAVX2, else on the twin.
func bf16GemvRun(g *bf16Gemv) {
	x, b, y, acc := &g.x[0], &g.b[0], &g.y[0], b2i(g.accum)
	switch {
	case useBF16:
		bf16GemvZ(g.kc, x, b, g.pstride, g.np, y, acc)
	case useAVX2:
		bf16GemvY(g.kc, x, b, g.pstride, g.np, y, acc)
	default:
		bf16GemvGo(g)
	}
}
