//go:build openblas && cgo

package kernel

import "github.com/recur-ml/recur/internal/kernel/internal/openblas"

// With -tags openblas the GEMM benchmarks also run OpenBLAS (through the
// cgo package internal/openblas) on the same operands.
var openblasSgemm = openblas.Sgemm

func openblasThreads(n int) { openblas.SetThreads(n) }
