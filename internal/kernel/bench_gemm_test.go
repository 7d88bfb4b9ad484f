package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are the (M, N, K) shapes of issue 2: LSTM steps (B×4H by H),
// weight-gradient GEMMs and a square reference.
var benchShapes = [][3]int{{32, 1024, 256}, {64, 2048, 512}, {1600, 1024, 64}, {1024, 256, 1600}, {512, 512, 512}, {1, 512, 128}}

func benchMatrices(m, n, k int) (a, b, c []float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	mk := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.Float64()*2 - 1)
		}
		return s
	}
	return mk(m * k), mk(k * n), mk(m * n)
}

func reportGFLOPS(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// benchThreads are the team sizes benchmarked: 1 and, when the scheduler
// gives more, 2.
func benchThreads() []int {
	SetThreads(0)
	if Threads() >= 2 {
		return []int{1, 2}
	}
	return []int{1}
}

// BenchmarkSgemm reports GFLOP/s per layout, shape and thread count, as
// Sgemm/<layout>/m<M>n<N>k<K>/threads<P>; built with -tags openblas it also
// runs OpenBLAS as Sgemm/openblas-<layout>/... on the same operands.
func BenchmarkSgemm(b *testing.B) {
	defer SetThreads(0)
	for _, lay := range []string{"NN", "NT", "TN", "TT"} {
		tA, tB := lay[0] == 'T', lay[1] == 'T'
		for _, s := range benchShapes {
			m, n, k := s[0], s[1], s[2]
			a, bb, c := benchMatrices(m, n, k)
			lda, ldb := k, n
			if tA {
				lda = m
			}
			if tB {
				ldb = k
			}
			for _, th := range benchThreads() {
				b.Run(fmt.Sprintf("%s/m%dn%dk%d/threads%d", lay, m, n, k, th), func(b *testing.B) {
					SetThreads(th)
					for b.Loop() {
						Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
					}
					reportGFLOPS(b, m, n, k)
				})
				if openblasSgemm != nil {
					b.Run(fmt.Sprintf("openblas-%s/m%dn%dk%d/threads%d", lay, m, n, k, th), func(b *testing.B) {
						openblasThreads(th)
						for b.Loop() {
							openblasSgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
						}
						reportGFLOPS(b, m, n, k)
					})
				}
			}
		}
	}
}

// BenchmarkSgemmPacked is the LSTM step: C (B×4H) = X·Wᵀ + C with the
// weight packed once, as SgemmPacked/m<M>n<N>k<K>/threads<P>.
func BenchmarkSgemmPacked(b *testing.B) {
	defer SetThreads(0)
	for _, s := range [][3]int{{1, 512, 128}, {1, 2048, 512}, {32, 1024, 256}, {64, 2048, 512}, {128, 2048, 512}} {
		m, n, k := s[0], s[1], s[2]
		a, bb, c := benchMatrices(m, n, k)
		p := NewPackedB(true, k, n, bb, k)
		for _, th := range benchThreads() {
			b.Run(fmt.Sprintf("m%dn%dk%d/threads%d", m, n, k, th), func(b *testing.B) {
				SetThreads(th)
				for b.Loop() {
					SgemmPacked(false, m, 1, a, k, p, 1, c, n)
				}
				reportGFLOPS(b, m, n, k)
			})
		}
	}
}

// BenchmarkSgemmPackedFewRows is the step of a variable-length batch's
// tail, where few sequences are still running: m rows against an H = 256
// LSTM's packed W_hh, forward (k = H, n = 4H) and backward (k = 4H,
// n = H), the worker kept awake as a recurrent layer's loop keeps it
// (Wake, then back-to-back calls).
func BenchmarkSgemmPackedFewRows(b *testing.B) {
	defer SetThreads(0)
	const H = 256
	for _, dir := range []struct {
		name string
		k, n int
	}{{"fwd", H, 4 * H}, {"bwd", 4 * H, H}} {
		for _, m := range []int{1, 2, 4, 8, 12, 16} {
			a, bb, c := benchMatrices(m, dir.n, dir.k)
			p := NewPackedB(true, dir.k, dir.n, bb, dir.k)
			for _, th := range benchThreads() {
				b.Run(fmt.Sprintf("%s/m%d/threads%d", dir.name, m, th), func(b *testing.B) {
					SetThreads(th)
					for b.Loop() {
						Wake()
						SgemmPacked(false, m, 1, a, dir.k, p, 1, c, dir.n)
					}
					reportGFLOPS(b, m, dir.n, dir.k)
				})
			}
		}
	}
}

// BenchmarkFMAPeak measures one core's FMA throughput with an FMA-only
// assembly loop (12 independent accumulators of the widest vectors the
// kernels use: 16 lanes with useAVX512, else 8): the ceiling the SGEMM
// figures are compared against.
func BenchmarkFMAPeak(b *testing.B) {
	if !useAVX2 {
		b.Skip("no AVX2/FMA assembly in this build")
	}
	const iters = 1 << 16
	for b.Loop() {
		fmaProbe(iters)
	}
	b.ReportMetric(192*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMicroKernel runs the 6×16 micro-kernel on cache-resident
// operands (kc = 256): the in-L1 ceiling of the SGEMM.
func BenchmarkMicroKernel(b *testing.B) {
	const kc = 256
	a, bb, c := benchMatrices(6, 16, kc)
	for b.Loop() {
		microKernel(6, kc, a, 1, 6, bb, c, 16, 1, true)
	}
	reportGFLOPS(b, 6, 16, kc)
}

// zmmShapes are compute-bound shapes where the AVX-512 kernels should
// approach twice the AVX2 rate: a square product, an LSTM step (B×4H by
// H), the whole-sequence input GEMM (B·T×4H by I) and a language-model
// decoder (B·T×V by H).
var zmmShapes = [][3]int{{512, 512, 512}, {64, 2048, 512}, {1600, 1024, 256}, {32, 1024, 256}, {700, 10000, 200}}

// BenchmarkSgemmISA compares the AVX-512 kernels with the AVX2 ones on
// zmmShapes, as SgemmISA/<ymm|zmm>/<layout>/m<M>n<N>k<K>/threads<P>, and
// SgemmPacked as SgemmISA/<ymm|zmm>/packed/m<M>n<N>k<K>/threads<P>.
func BenchmarkSgemmISA(b *testing.B) {
	defer SetThreads(0)
	if !useAVX2 || !useAVX512 {
		b.Skip("no AVX-512 kernels on this CPU or build")
	}
	for _, isa := range []string{"ymm", "zmm"} {
		zmm := isa == "zmm"
		for _, s := range zmmShapes {
			m, n, k := s[0], s[1], s[2]
			a, bb, c := benchMatrices(m, n, k)
			for _, lay := range []string{"NN", "NT", "TN", "TT", "packed"} {
				tA, tB := lay[0] == 'T', lay[1] == 'T' || lay == "packed"
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				var p *PackedB
				if lay == "packed" {
					p = NewPackedB(true, k, n, bb, ldb)
				}
				for _, th := range benchThreads() {
					b.Run(fmt.Sprintf("%s/%s/m%dn%dk%d/threads%d", isa, lay, m, n, k, th), func(b *testing.B) {
						defer setAVX512(setAVX512(zmm))
						SetThreads(th)
						for b.Loop() {
							if p != nil {
								SgemmPacked(false, m, 1, a, lda, p, 0, c, n)
							} else {
								Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
							}
						}
						reportGFLOPS(b, m, n, k)
					})
				}
			}
		}
	}
}

// BenchmarkPackTeam packs an H = 256 LSTM's W_hh for the forward (W_hhᵀ,
// k = 256, n = 1024) and the backward (k = 1024, n = 256) on one and two
// threads with the worker team awake, as a recurrent layer does after its
// input projection: wall time per pack.
func BenchmarkPackTeam(b *testing.B) {
	const H = 256
	_, w, _ := benchMatrices(1, 4*H, H)
	var p PackedB
	benchTeamAwake(b, "fwd", "µs/pack", func() { p.Pack(true, H, 4*H, w, H) })
	benchTeamAwake(b, "bwd", "µs/pack", func() { p.Pack(false, 4*H, H, w, H) })
}
