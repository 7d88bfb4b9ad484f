package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkQGemvStep times one recurrent step's product at batch one,
// y (G) += h (H)·W_hhᵀ with G = 4H, by the packed float32 GEMV the
// recurrent layers use and by the int8 GEMV on each path this machine
// has, side by side.
func BenchmarkQGemvStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, H := range []int{128, 256} {
		G := 4 * H
		m, w := randQMatrix(r, G, H)
		x := make([]float32, H)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		y := make([]float32, G)
		pk := NewPackedB(true, H, G, w, H)
		b.Run(fmt.Sprintf("H%d/float32", H), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pk.Gemm(1, x, H, 1, y, G, false)
			}
		})
		for _, p := range qpaths() {
			b.Run(fmt.Sprintf("H%d/int8-%s", H, p.name), func(b *testing.B) {
				withQPath(p, func() {
					b.ReportAllocs()
					for b.Loop() {
						m.MulAddRows(y, x, G, H, 1)
					}
				})
			})
		}
	}
}
