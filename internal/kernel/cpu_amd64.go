//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2/FMA assembly kernels. It is the only mutable
// package-level state; tests flip it to compare the assembly against the
// pure-Go twins.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
