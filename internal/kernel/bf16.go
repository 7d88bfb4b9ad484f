package kernel

//go:generate go run ./internal/gen/bf16 -out bf16_amd64.s -stubs bf16_amd64_stub.go -pkg kernel

import "math"

// The bfloat16 GEMM. Both operands are rounded to bfloat16 (the top 16
// bits of a float32, round to nearest even) and multiplied on AVX512_BF16
// hardware with VDPBF16PS, which takes pairs of bfloat16 along k and adds
// their two products into a float32 accumulator: twice the multiplies per
// instruction of a float32 FMA and half the bytes per operand. C, alpha
// and beta stay float32.
//
// Layout. An operand is stored as pairs: one uint32 holds the bfloat16 of
// k index 2l (low half) and 2l+1 (high half), an odd k padded with a zero.
// A is row-major pairs, a2[i*kp+l] (kp = ceil(k/2)); op(B) is cut like
// the float32 panels of pack.go, into k-blocks of at most bf16KC pairs,
// each block into 16-column panels of kcp×16 pairs, (l, j) at l*16+j.

// bf16KC bounds the pairs of a k-block: a panel of 256 pairs is 16 KiB
// and stays in L1 while the rows of A stream past it.
const bf16KC = 256

// HasBF16 reports whether the bfloat16 kernels run on AVX512_BF16
// hardware. Without it they run their pure-Go twins, exact but some 100
// times slower, so callers should compute in float32 instead.
func HasBF16() bool { return useBF16 }

// SetBF16 forces the bfloat16 kernels onto their twins (false) or back to
// the hardware when it has AVX512_BF16 (true), and returns the previous
// setting: for tests of callers' fallback paths on a machine with BF16.
func SetBF16(on bool) (was bool) {
	was = useBF16
	useBF16 = on && bf16Hardware()
	return was
}

// BF16 rounds f to bfloat16 as VCVTNE2PS2BF16 does and returns its bits:
// round to nearest even; a denormal input becomes a zero of its sign; a
// NaN stays a NaN, made quiet.
func BF16(f float32) uint16 {
	u := math.Float32bits(f)
	switch {
	case u&0x7f800000 == 0:
		return uint16(u>>16) & 0x8000
	case u&0x7fffffff > 0x7f800000:
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// FromBF16 returns the float32 of bfloat16 bits h (exact).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// bf16CvtGo is the pure-Go twin of bf16Cvt: dst[i] = BF16(src[i]).
func bf16CvtGo(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = BF16(f)
	}
}

// dotBF16 returns acc plus the two products of the bfloat16 pairs a and b
// as VDPBF16PS computes one lane: inputs that are denormal count as zero
// (the bfloat16 ones and acc), the product of the high halves is added
// first, then that of the low halves, each sum rounded once to float32
// (nearest even; a product of two bfloat16 is exact) and a denormal sum
// flushed to a zero of its sign.
func dotBF16(acc float32, a, b uint32) float32 {
	acc = ftz32(acc)
	acc = ftz32(addRound32(bf16Product(uint16(a>>16), uint16(b>>16)), float64(acc)))
	return ftz32(addRound32(bf16Product(uint16(a), uint16(b)), float64(acc)))
}

// bf16Product returns x*y for bfloat16 bits x and y, denormals as zero,
// exact in float64.
func bf16Product(x, y uint16) float64 {
	return float64(FromBF16(dazBF16(x))) * float64(FromBF16(dazBF16(y)))
}

func dazBF16(h uint16) uint16 {
	if h&0x7f80 == 0 {
		return h & 0x8000
	}
	return h
}

// ftz32 returns f, or a zero of its sign when f is denormal.
func ftz32(f float32) float32 {
	if u := math.Float32bits(f); u&0x7f800000 == 0 {
		return math.Float32frombits(u & 0x80000000)
	}
	return f
}

// bf16KernelGo is the pure-Go twin of the bf16Kernel micro-kernels:
//
//	c[i*ldc+16*p+j] = alpha*s (+ c[i*ldc+16*p+j] if accum, one FMA),
//	s = dotBF16(…dotBF16(0, a[i*rsa], b[p*pstride+j])…, a[i*rsa+(kc-1)*csa], b[p*pstride+(kc-1)*16+j])
//
// for i < mr, p < np, j < 16: each element one chain over l in order.
func bf16KernelGo(t *bf16Tile) {
	mr, np, kc, a, rsa, csa, b, pstride, c, ldc, alpha := t.mr, t.np, t.kc, t.a, t.rsa, t.csa, t.b, t.pstride, t.c, t.ldc, t.alpha
	for i := 0; i < mr; i++ {
		for p := 0; p < np; p++ {
			bp := b[p*pstride : p*pstride+kc*16]
			cr := c[i*ldc+16*p : i*ldc+16*p+16]
			for j := range cr {
				var s float32
				for l := 0; l < kc; l++ {
					s = dotBF16(s, a[i*rsa+l*csa], bp[l*16+j])
				}
				if t.accum {
					cr[j] = fma32(alpha, s, cr[j])
				} else {
					cr[j] = alpha * s
				}
			}
		}
	}
}

// bf16Tile is one micro-kernel call: an mr×16np tile (1 <= mr <= 6,
// np = 1 or 4, kc >= 1) of C (c, ldc) from kc pairs of A (a, rsa, csa)
// and np panels of B (b, pstride apart), as bf16KernelGo says.
type bf16Tile struct {
	mr, np, kc int
	a          []uint32
	rsa, csa   int
	b          []uint32
	pstride    int
	c          []float32
	ldc        int
	alpha      float32
	accum      bool
}

// run checks the extent of the call and runs the assembly when useBF16,
// the twin otherwise.
func (t *bf16Tile) run() {
	if t.mr < 1 || t.mr > 6 || t.kc < 1 || (t.np != 1 && t.np != 4) {
		panic("kernel: bf16 micro-kernel size out of range")
	}
	if len(t.a) <= (t.mr-1)*t.rsa+(t.kc-1)*t.csa || len(t.b) < (t.np-1)*t.pstride+t.kc*16 || len(t.c) < (t.mr-1)*t.ldc+16*t.np {
		panic("kernel: bf16 micro-kernel slice too short")
	}
	if !useBF16 {
		bf16KernelGo(t)
		return
	}
	bf16TileAsm(t)
}

// bf16InterleaveGo is the pure-Go twin of bf16Interleave:
// dst[g*stride+j] = BF16(r0[16g+j]) | BF16(r1[16g+j])<<16 for g < n/16,
// j < 16.
func bf16InterleaveGo(dst []uint32, stride int, r0, r1 []float32, n int) {
	for g := 0; g < n/16; g++ {
		for j := 0; j < 16; j++ {
			dst[g*stride+j] = uint32(BF16(r0[16*g+j])) | uint32(BF16(r1[16*g+j]))<<16
		}
	}
}

// bf16Rows2 sets dst[(j/16)*stride+j%16] = BF16(r0[j]) | BF16(r1[j])<<16
// for j < len(r0) (r1 as long, or nil for zeros), and zero for the rest
// of the last group of 16: two rows of an operand paired along k, their
// columns in groups of 16 stride apart (the rows of pair panels, or
// contiguous with stride 16).
func bf16Rows2(dst []uint32, stride int, r0, r1 []float32) {
	n := len(r0)
	if r1 == nil {
		var zero [16]float32
		for g := 0; g*16 < n; g++ {
			w := min(16, n-16*g)
			var row [16]float32
			copy(row[:], r0[16*g:16*g+w])
			bf16Interleave(dst[g*stride:], stride, row[:], zero[:], 16)
		}
		return
	}
	whole := n / 16 * 16
	if whole > 0 {
		if len(dst) < (whole/16-1)*stride+16 || len(r1) < whole {
			panic("kernel: bf16Rows2 slice too short")
		}
		bf16Interleave(dst, stride, r0, r1, whole)
	}
	if whole < n {
		var t0, t1 [16]float32
		copy(t0[:], r0[whole:])
		copy(t1[:], r1[whole:n])
		bf16Interleave(dst[whole/16*stride:], stride, t0[:], t1[:], 16)
	}
}

// bf16Row sets dst[0:(len(src)+1)/2] to the pairs of src rounded to
// bfloat16 (an odd last one padded with zero): the bits of BF16(src[i])
// in the low half of dst[i/2] for even i, the high half for odd i.
func bf16Row(dst []uint32, src []float32) {
	n := len(src)
	dst = dst[:(n+1)/2]
	words := n / 32 * 32 // whole groups of 32 floats for the assembly
	if words > 0 {
		bf16CvtPairs(dst[:words/2], src[:words])
	}
	for i := words; i+1 < n; i += 2 {
		dst[i/2] = uint32(BF16(src[i])) | uint32(BF16(src[i+1]))<<16
	}
	if n%2 == 1 {
		dst[n/2] = uint32(BF16(src[n-1]))
	}
}
