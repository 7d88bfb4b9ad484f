package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkGemvStep is one batch-of-one LSTM step's recurrent product at
// H = 128 (W_hh 512×128, 256 KiB): as a row-dot GEMV (Sgemv, what the
// layer runs), as four 64-row blocks (one half of the split layer), and
// against the packed operand (panel GEMV).
func BenchmarkGemvStep(b *testing.B) {
	for _, H := range []int{128, 256} {
		G := 4 * H
		w := make([]float32, G*H)
		for i := range w {
			w[i] = float32(i%13) * 0.01
		}
		x := make([]float32, H)
		y := make([]float32, G)
		flops := float64(2 * G * H)
		b.Run(fmt.Sprintf("rows/H%d", H), func(b *testing.B) {
			for b.Loop() {
				Sgemv(false, G, H, 1, w, H, x, 1, y)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("half/H%d", H), func(b *testing.B) {
			hp := H / 2
			for b.Loop() {
				for g := 0; g < 4; g++ {
					Sgemv(false, hp, H, 1, w[g*H*H:], H, x, 1, y[g*hp:])
				}
			}
			b.ReportMetric(flops/2*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("panels/H%d", H), func(b *testing.B) {
			p := NewPackedB(true, H, G, w, H)
			for b.Loop() {
				SgemmPacked(false, 1, 1, x, H, p, 1, y, G)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
