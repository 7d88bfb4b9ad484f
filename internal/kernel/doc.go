// Package kernel holds recur's float32 compute primitives: packed SGEMM,
// GEMV, fused recurrent gate kernels, activations, vector ops and optimizer
// update loops, with a persistent worker team.
//
// Every exported kernel dispatches to assembly when the CPU has AVX2 and
// FMA (and the noasm build tag is absent), and otherwise to a pure-Go twin.
// On CPUs with AVX-512 (F, VL, BW, DQ) the compute-bound kernels use zmm
// versions: the SGEMM micro-kernels (mr×64 and mr×32 tiles over groups of
// 16-column panels), the fused gate kernels, activations, softmax rows,
// Adam and the BLAS-1 loops. This project's machine kind is a two-vCPU AMD
// EPYC whose model varies between hosts: a Zen 5, whose cores run a 512-bit
// FMA at twice the 256-bit rate and take the zmm kernels, on some; a Zen 3,
// with AVX2 and FMA only, on others. Hence the dispatch at run time, and
// tests that force the lower paths, so that every path is tested on every
// host. The zmm and ymm kernels compute every element with the same
// operations, so they give bit-identical results (tested), except the
// reductions (Dot, SumSq, SqDiff, softmax row sums), whose partial sums
// are grouped by vector width. GEMV stays on ymm: it is bound by cache
// bandwidth, not FMA rate.
//
// # Twins
//
// The twins are compiled on every architecture, are the reference the
// assembly is tested against, and their doc comments give the exact loop
// each kernel computes. They compute what the assembly computes bit for
// bit, so that a noasm build trains the same model as the assembly build
// (tested kernel by kernel, on special values, and on short training runs
// through nn, loss and optim): per element the same float32 operations in
// the same order, each FMA of the assembly as one rounding (fma32, a
// correctly rounded float32 FMA in portable Go), the polynomial exp,
// sigmoid and tanh of the assembly rather than package math, and in the
// float64 reductions the same partial sums (one per lane, and per stream
// in the unrolled AVX-512 row loops) combined in the same order. The
// reductions follow useAVX512 like the assembly; a noasm build on amd64
// sets it from the CPU as the assembly build would, so both builds agree
// on the same machine, whichever vector width it has. (The SGEMM's
// K-blocking, panel layout and the Go code around the kernels are shared
// by both builds.)
//
// # bfloat16
//
// SgemmBF16 and PackedBF16 (bf16.go, bf16_gemm.go) are the one exception
// to float32 arithmetic: for mixed-precision training (nn.Precision) they
// round both operands to bfloat16 and multiply pairs of them along k with
// VDPBF16PS (AVX512_BF16: Zen 4/5, Sapphire Rapids), summing in float32.
// Their twins follow the instruction exactly (the odd pair's product
// added first, then the even one's, each sum rounded to nearest even,
// denormal inputs and sums flushed to zero), tested bit for bit against
// the hardware. Without AVX512_BF16 (HasBF16 false) the twins run, exact
// but slow, and callers compute in float32 instead. BF16Matrix
// (bf16_gemv.go) holds inference weights stored in bfloat16 and multiplies
// by the same rule: a GEMV for one row at a time, the GEMM from four rows,
// and, without AVX512_BF16, an AVX2 kernel that emulates VDPBF16PS bit for
// bit (slower than float32: the weights are bfloat16, so no float32 path
// can replace it).
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
