package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
)

// Precision is the arithmetic of the large products a training tape
// records (Tape.Precision): the recurrent layers' input projections over
// all steps, their per-step products with W_hh for groups of at least
// bf16MinRows sequences, their weight- and input-gradient products, and
// Linear's products (but for the packed calls of a decoder loop). With
// BF16 their operands are rounded to bfloat16 and multiplied with float32
// accumulation (kernel.SgemmBF16); the parameters, their gradients, the
// optimizer state, the gate nonlinearities, biases and losses stay
// float32, and so do inference and evaluation (no tape, or one without
// BF16).
type Precision uint8

const (
	// FP32 computes every product in float32 (the zero value).
	FP32 Precision = iota
	// BF16 computes the large products in bfloat16 with float32 sums
	// where the CPU has AVX512_BF16, and in float32 elsewhere (see
	// Precision.Effective).
	BF16
)

// ParsePrecision reads "fp32" (or "float32", or empty) and "bf16" (or
// "bfloat16").
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "fp32", "float32":
		return FP32, nil
	case "bf16", "bfloat16":
		return BF16, nil
	}
	return FP32, fmt.Errorf("nn: precision %q: want fp32 or bf16", s)
}

func (p Precision) String() string {
	if p == BF16 {
		return "bf16"
	}
	return "fp32"
}

// Effective returns the precision p runs in on this CPU: BF16 only where
// the bfloat16 kernels run on hardware (AVX512_BF16, kernel.HasBF16);
// elsewhere a BF16 tape computes in float32, since the kernels' portable
// twins are exact but some hundred times slower.
func (p Precision) Effective() Precision {
	if p == BF16 && kernel.HasBF16() {
		return BF16
	}
	return FP32
}

// bf16 reports whether the products recorded on tp run in bfloat16.
func (tp *Tape) bf16() bool { return tp != nil && tp.Precision.Effective() == BF16 }

// sgemmFunc is the shape of kernel.Sgemm and kernel.SgemmBF16.
type sgemmFunc = func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// sgemmFor returns the GEMM of a call site: kernel.SgemmBF16 when bf16 is
// set, kernel.Sgemm otherwise.
func sgemmFor(bf16 bool) sgemmFunc {
	if bf16 {
		return kernel.SgemmBF16
	}
	return kernel.Sgemm
}

// bf16MinRows is the smallest number of rows for which a recurrent step's
// product with W_hh runs in bfloat16. The bfloat16 micro-kernel keeps
// 4·rows VDPBF16PS chains in flight over 64 columns; from 4 rows (16
// chains) that hides the instruction's latency at two issues per cycle,
// while one to three rows leave it latency-bound, where the float32 GEMV
// and GEMM kernels are not. (A shape argument: the kernel's tile, not a
// timing.)
const bf16MinRows = 4

// packBF16 packs W_hh into w.pb for the step loops' bfloat16 products
// when bf16 is set and a group of the batch (B sequences, split in up to
// two groups) can have bf16MinRows rows: transposed for forward (h·W_hhᵀ)
// or as it is for backward (dA·W_hh), into p (the layer's own, reused
// across calls). It leaves w.pb nil otherwise.
func (w *recWeights) packBF16(p *kernel.PackedBF16, bf16, forward bool, B int) {
	w.pb = nil
	if !bf16 || B < bf16MinRows {
		return
	}
	if forward {
		p.Pack(true, w.Ho, w.G, w.whh, w.Ho)
	} else {
		p.Pack(false, w.G, w.Ho, w.whh, w.Ho)
	}
	w.pb = p
}

// mulBF16 sets dst (n, cols) = a (n, inner)·W + beta·dst with W_hh in
// bfloat16 (w.pb: W_hhᵀ, inner Ho and G columns, in forward; W_hh, inner G
// and Ho columns, in backward) and reports whether it did: only for
// n >= bf16MinRows rows with w.pb packed.
func (w *recWeights) mulBF16(dst, a []float32, n int, beta float32) bool {
	if w.pb == nil || n < bf16MinRows {
		return false
	}
	w.pb.Gemm(n, a, w.pb.K, beta, dst, w.pb.N)
	return true
}
