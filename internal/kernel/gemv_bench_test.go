package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkGemvStep is one batch-of-one LSTM step's recurrent product at
// H = 64, 128 and 256 (W_hh 4H×H: 64 KiB, in L1 and L2; 256 KiB and 1 MiB,
// in L2): as a row-dot GEMV (Sgemv), as four H/2-row blocks (one half of
// the split layer), and against the packed operand (panel GEMV, what the
// layer runs; panels-ymm with the AVX-512 kernels off).
func BenchmarkGemvStep(b *testing.B) {
	for _, H := range []int{64, 128, 256} {
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
		p := NewPackedB(true, H, G, w, H)
		for _, zmm := range []bool{true, false} {
			name := "panels"
			if !zmm {
				if !useAVX512 {
					continue
				}
				name = "panels-ymm"
			}
			b.Run(fmt.Sprintf("%s/H%d", name, H), func(b *testing.B) {
				defer setAVX512(setAVX512(zmm && useAVX512))
				for b.Loop() {
					SgemmPacked(false, 1, 1, x, H, p, 1, y, G)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
