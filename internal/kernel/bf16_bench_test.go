package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSgemmBF16 times SgemmBF16 beside Sgemm at the products of an
// LSTM training step, T100 B64 I128 H512 (N = 6400 rows, G = 2048): the
// input projection (NT), the weight gradients (TN) and one time step
// against packed W_hh. Compare the pairs within one run.
func BenchmarkSgemmBF16(b *testing.B) {
	shapes := []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"proj-6400x2048x128-NT", false, true, 6400, 2048, 128},
		{"dWih-2048x128x6400-TN", true, false, 2048, 128, 6400},
		{"dWhh-2048x512x6400-TN", true, false, 2048, 512, 6400},
		{"dX-6400x512x2048-NN", false, false, 6400, 512, 2048},
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		ra, ca := s.m, s.k
		if s.tA {
			ra, ca = s.k, s.m
		}
		rb, cb := s.k, s.n
		if s.tB {
			rb, cb = s.n, s.k
		}
		a, bb, c := randFloats(rng, ra*ca), randFloats(rng, rb*cb), make([]float32, s.m*s.n)
		for _, bf := range []bool{false, true} {
			name := "fp32"
			if bf {
				name = "bf16"
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, name), func(b *testing.B) {
				b.SetBytes(0)
				for b.Loop() {
					if bf {
						SgemmBF16(s.tA, s.tB, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
					} else {
						Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
					}
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
	for _, m := range []int{32, 64} {
		w := randFloats(rng, 2048*512)
		h := randFloats(rng, m*512)
		c := make([]float32, m*2048)
		p32 := NewPackedB(true, 512, 2048, w, 512)
		var p16 PackedBF16
		p16.Pack(true, 512, 2048, w, 512)
		b.Run(fmt.Sprintf("step-%dx2048x512/fp32", m), func(b *testing.B) {
			for b.Loop() {
				p32.Gemm(m, h, 512, 1, c, 2048, false)
			}
			b.ReportMetric(2*float64(m*2048*512)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("step-%dx2048x512/bf16", m), func(b *testing.B) {
			for b.Loop() {
				p16.Gemm(m, h, 512, 1, c, 2048)
			}
			b.ReportMetric(2*float64(m*2048*512)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
