//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2/FMA assembly kernels. It and useAVX512 are the
// only mutable package-level state; tests flip them to compare the assembly
// against the pure-Go twins and the two instruction sets against each other.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 additionally selects the AVX-512 (zmm) kernels where one exists.
// It only takes effect while useAVX2 is set: wrappers test useAVX2 first.
// On a Zen 5 (the AVX-512 hosts of this project's machine kind; the others
// are Zen 3, AVX2 only) a 512-bit FMA loop runs at twice the 256-bit rate;
// cache bandwidth is the same, so bandwidth-bound kernels (GEMV) keep ymm.
// x/sys/cpu reports AVX-512 only when the OS saves the zmm and mask state.
// The twins' float64 reductions follow the flag too (sumLanes, rowStreams):
// the two widths group their partial sums differently.
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ

// useVNNI512 selects the int8 GEMV with AVX-512 VNNI (VPDPBUSD on zmm),
// useAVXVNNI the one with AVX-VNNI (its VEX form on ymm, for CPUs that
// have it without AVX-512); with neither, the int8 GEMV runs on AVX2
// (qgemm.go). Both take effect only while useAVX2 is set, useVNNI512 only
// with useAVX512. Integer sums are exact, so every path gives the same
// bits; tests flip the flags to run each one.
var (
	useVNNI512 = useAVX512 && cpu.X86.HasAVX512VNNI
	useAVXVNNI = useAVX2 && cpu.X86.HasAVXVNNI
)

// useBF16 selects the AVX512_BF16 kernels of the bfloat16 GEMM (SgemmBF16,
// PackedBF16); without it those run their pure-Go twins and HasBF16
// reports false, so that callers choose float32 instead.
var useBF16 = useAVX512 && cpu.X86.HasAVX512BF16
