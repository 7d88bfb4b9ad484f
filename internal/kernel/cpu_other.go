//go:build !amd64 || noasm

package kernel

import "golang.org/x/sys/cpu"

// Without amd64 assembly (or with -tags noasm) useAVX2 is false: every
// kernel runs its pure-Go twin. useAVX512 then selects no kernel; it says
// whether the assembly build would run the AVX-512 kernels on this CPU
// (the same test as in cpu_amd64.go, false off x86), because the twins'
// float64 reductions group their partial sums as the kernels in use do
// (sumLanes, rowStreams): so both builds give the same bits on the same
// machine.
var (
	useAVX2   = false
	useAVX512 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ
)

// useVNNI512 and useAVXVNNI (the int8 GEMV's instruction sets, see
// cpu_amd64.go) are false without the assembly: the int8 twin has no
// reduction order to follow, its integer sums being exact.
var (
	useVNNI512 = false
	useAVXVNNI = false
)

// useBF16 is false without the assembly: SgemmBF16 runs its twin and
// HasBF16 reports false.
var useBF16 = false
