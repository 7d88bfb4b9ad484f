package kernel

import (
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// On a shared machine wall-clock GFLOP/s mostly measure the neighbours.
// The benchmarks below run on one locked thread and divide by that
// thread's CPU time instead (CLOCK_THREAD_CPUTIME_ID), which leaves out the
// time the thread spent descheduled: GFLOP/s-cpu.

func threadCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// cpuLoop runs f in b.Loop on a locked OS thread and reports flops per
// call over the thread's CPU time.
func cpuLoop(b *testing.B, flops float64, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	start := threadCPU()
	for b.Loop() {
		f()
	}
	b.ReportMetric(flops*float64(b.N)/(threadCPU()-start)/1e9, "GFLOP/s-cpu")
}

// BenchmarkSgemmCPU is BenchmarkSgemm on one thread in CPU time, with the
// FMA peak and (with -tags openblas) OpenBLAS measured the same way:
// SgemmCPU/peak, SgemmCPU/<layout>/m<M>n<N>k<K>, SgemmCPU/openblas-<layout>/...,
// SgemmCPU/packed/....
func BenchmarkSgemmCPU(b *testing.B) {
	defer SetThreads(0)
	SetThreads(1)
	if useAVX2 {
		b.Run("peak", func(b *testing.B) {
			const iters = 1 << 14
			cpuLoop(b, 192*iters, func() { fmaProbe(iters) })
		})
	}
	for _, lay := range []string{"NN", "NT", "TN"} {
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
			flops := 2 * float64(m) * float64(n) * float64(k)
			b.Run(fmt.Sprintf("%s/m%dn%dk%d", lay, m, n, k), func(b *testing.B) {
				cpuLoop(b, flops, func() { Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n) })
			})
			if openblasSgemm != nil {
				b.Run(fmt.Sprintf("openblas-%s/m%dn%dk%d", lay, m, n, k), func(b *testing.B) {
					openblasThreads(1)
					cpuLoop(b, flops, func() { openblasSgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n) })
				})
			}
			if lay == "NT" {
				p := NewPackedB(true, k, n, bb, k)
				b.Run(fmt.Sprintf("packed/m%dn%dk%d", m, n, k), func(b *testing.B) {
					cpuLoop(b, flops, func() { SgemmPacked(false, m, 1, a, lda, p, 0, c, n) })
				})
			}
		}
	}
}

// BenchmarkSgemmISACPU is BenchmarkSgemmISA on one thread in CPU time:
// SgemmISACPU/<ymm|zmm>/<layout|packed>/m<M>n<N>k<K>, with the FMA peak of
// each width as SgemmISACPU/<ymm|zmm>/peak.
func BenchmarkSgemmISACPU(b *testing.B) {
	defer SetThreads(0)
	SetThreads(1)
	if !useAVX2 || !useAVX512 {
		b.Skip("no AVX-512 kernels on this CPU or build")
	}
	for _, isa := range []string{"ymm", "zmm"} {
		zmm := isa == "zmm"
		b.Run(isa+"/peak", func(b *testing.B) {
			defer setAVX512(setAVX512(zmm))
			const iters = 1 << 14
			cpuLoop(b, 192*iters, func() { fmaProbe(iters) })
		})
		for _, s := range zmmShapes {
			m, n, k := s[0], s[1], s[2]
			a, bb, c := benchMatrices(m, n, k)
			flops := 2 * float64(m) * float64(n) * float64(k)
			for _, lay := range []string{"NN", "NT", "TN", "TT", "packed"} {
				tA, tB := lay[0] == 'T', lay[1] == 'T' || lay == "packed"
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				f := func() { Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n) }
				if lay == "packed" {
					p := NewPackedB(true, k, n, bb, ldb)
					f = func() { SgemmPacked(false, m, 1, a, lda, p, 0, c, n) }
				}
				b.Run(fmt.Sprintf("%s/%s/m%dn%dk%d", isa, lay, m, n, k), func(b *testing.B) {
					defer setAVX512(setAVX512(zmm))
					cpuLoop(b, flops, f)
				})
			}
		}
	}
}
