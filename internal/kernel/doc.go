// Package kernel holds recur's float32 compute primitives: packed SGEMM,
// GEMV, fused recurrent gate kernels, activations, vector ops and optimizer
// update loops, with a persistent worker team.
//
// Every exported kernel dispatches to an AVX2/FMA assembly implementation
// when the CPU has it (and the noasm build tag is absent), and otherwise to
// a pure-Go twin. The twins are compiled on every architecture, are the
// reference the assembly is tested against, and their doc comments give the
// exact loop each kernel computes.
//
// Conventions: matrices are row-major with an explicit leading dimension
// (the distance between rows, in elements); the written slice is named dst
// or c and comes first where it is the only output; inputs are never
// written. Kernels panic with a "kernel: " message on programmer errors
// (short slices, negative sizes).
//
// Steady-state calls allocate nothing: scratch (packed operands, strips,
// gathered vectors) comes from a small persistent cache that survives
// garbage collections, and a parallel call keeps its job and task in the
// worker team's own storage.
package kernel
