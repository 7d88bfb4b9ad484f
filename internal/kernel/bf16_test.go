package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// withBF16 runs f with useBF16 set to on, restoring it afterwards.
func withBF16(t *testing.T, on bool, f func()) {
	t.Helper()
	was := useBF16
	useBF16 = on
	defer func() { useBF16 = was }()
	f()
}

// bf16Specials are float32 bit patterns where conversion and the dot
// product have edge cases: zeros, denormals, the smallest and largest
// normals, infinities, NaNs, rounding ties.
var bf16Specials = []uint32{
	0, 0x80000000, 1, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff,
	0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffa00000,
	0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0x7f7f8000, 0x3f800000, 0xbf800000,
	0x00400000, 0x0080ffff, 0x1f800000, 0x20000000, 0x5f800000, 0x60000000,
}

// randBits returns a float32 from a wide spread of exponents (2^-140 ..
// 2^120), a tenth of them special values.
func randBits(rng *rand.Rand) float32 {
	if rng.IntN(10) == 0 {
		return math.Float32frombits(bf16Specials[rng.IntN(len(bf16Specials))])
	}
	e := rng.IntN(260) - 140
	f := float32(math.Ldexp(1+rng.Float64(), e))
	if rng.IntN(2) == 0 {
		f = -f
	}
	return f
}

func TestBF16CvtMatchesTwin(t *testing.T) {
	if !bf16Hardware() {
		t.Skip("no AVX512_BF16 on this CPU: the conversion runs its twin only")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, 32*64)
	for i := range src {
		src[i] = randBits(rng)
	}
	for i, u := range bf16Specials {
		src[i] = math.Float32frombits(u)
	}
	got := make([]uint32, len(src)/2+1)
	got[len(got)-1] = 0xdeadbeef
	withBF16(t, true, func() { bf16CvtPairs(got, src) })
	if got[len(got)-1] != 0xdeadbeef {
		t.Fatal("bf16CvtPairs wrote past its output")
	}
	for i, f := range src {
		g := uint16(got[i/2] >> (16 * (i % 2)))
		if want := BF16(f); g != want {
			t.Errorf("BF16(%#08x): assembly %#04x, twin %#04x", math.Float32bits(f), g, want)
		}
	}
}

// TestBF16KernelMatchesTwin runs every micro-kernel on the hardware and as
// the twin on the same pairs, wide exponents and special values included,
// and wants the same bits.
func TestBF16KernelMatchesTwin(t *testing.T) {
	if !bf16Hardware() {
		t.Skip("no AVX512_BF16 on this CPU: the kernels run their twins only")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, np := range []int{1, 4} {
		for mr := 1; mr <= 6; mr++ {
			for _, kc := range []int{1, 2, 7, 33} {
				for _, wide := range []bool{false, true} {
					checkBF16Tile(t, rng, mr, np, kc, wide)
				}
			}
		}
	}
}

func checkBF16Tile(t *testing.T, rng *rand.Rand, mr, np, kc int, wide bool) {
	t.Helper()
	rsa, csa, pstride, ldc := kc+3, 1, kc*16+5, 16*np+7
	if kc%2 == 0 {
		rsa, csa = 1, mr+2 // a transposed A's packing
	}
	val := func() uint32 {
		var x, y float32
		if wide {
			x, y = randBits(rng), randBits(rng)
		} else {
			x, y = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		return uint32(BF16(x)) | uint32(BF16(y))<<16
	}
	a := make([]uint32, (mr-1)*rsa+(kc-1)*csa+1)
	b := make([]uint32, (np-1)*pstride+kc*16)
	for i := range a {
		a[i] = val()
	}
	for i := range b {
		b[i] = val()
	}
	c0 := make([]float32, (mr-1)*ldc+16*np+1)
	for i := range c0 {
		c0[i] = float32(rng.NormFloat64())
	}
	for _, accum := range []bool{false, true} {
		got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
		tile := bf16Tile{mr: mr, np: np, kc: kc, a: a, rsa: rsa, csa: csa, b: b, pstride: pstride, c: got, ldc: ldc, alpha: 0.75, accum: accum}
		withBF16(t, true, tile.run)
		tile.c = want
		withBF16(t, false, tile.run)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Errorf("bf16 %dx%d kc=%d wide=%v accum=%v: c[%d] = %g (%#08x) assembly, %g (%#08x) twin",
					mr, 16*np, kc, wide, accum, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				return
			}
		}
	}
}

// bf16Case is one SgemmBF16 shape.
type bf16Case struct {
	tA, tB  bool
	m, n, k int
	beta    float32
}

var bf16Cases = []bf16Case{
	{false, true, 1, 1, 1, 0}, {false, false, 7, 17, 3, 1}, {true, false, 13, 70, 9, 0.5},
	{true, true, 6, 64, 64, 0}, {false, true, 100, 200, 129, 1}, {true, false, 33, 48, 1100, 1},
	{false, false, 300, 130, 40, 0}, {false, true, 2, 300, 517, 0},
}

func bf16Operands(rng *rand.Rand, cs bf16Case) (a, b, c []float32, lda, ldb, ldc int) {
	lda, ldb, ldc = cs.k+2, cs.n+1, cs.n+3
	ra, rb := cs.m, cs.k
	if cs.tA {
		lda, ra = cs.m+1, cs.k
	}
	if cs.tB {
		ldb, rb = cs.k+5, cs.n
	}
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	return fill(ra * lda), fill(rb * ldb), fill(cs.m * ldc), lda, ldb, ldc
}

// TestSgemmBF16AsmMatchesTwin runs whole products (k-blocks, partial
// panels, odd k, transposes, team splits) both ways and wants the same
// bits, and PackedBF16.Gemm to give SgemmBF16's.
func TestSgemmBF16AsmMatchesTwin(t *testing.T) {
	if !bf16Hardware() {
		t.Skip("no AVX512_BF16 on this CPU: SgemmBF16 runs its twin only")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cs := range bf16Cases {
		a, b, c, lda, ldb, ldc := bf16Operands(rng, cs)
		got, want := append([]float32(nil), c...), append([]float32(nil), c...)
		withBF16(t, true, func() { SgemmBF16(cs.tA, cs.tB, cs.m, cs.n, cs.k, 0.5, a, lda, b, ldb, cs.beta, got, ldc) })
		withBF16(t, false, func() { SgemmBF16(cs.tA, cs.tB, cs.m, cs.n, cs.k, 0.5, a, lda, b, ldb, cs.beta, want, ldc) })
		if i := firstDiff(got, want); i >= 0 {
			t.Errorf("SgemmBF16 %+v: c[%d] = %g assembly, %g twin", cs, i, got[i], want[i])
		}
		if cs.tA {
			continue
		}
		var p PackedBF16
		p.Pack(cs.tB, cs.k, cs.n, b, ldb)
		pg := append([]float32(nil), c...)
		want2 := append([]float32(nil), c...)
		SgemmBF16(false, cs.tB, cs.m, cs.n, cs.k, 1, a, lda, b, ldb, cs.beta, want2, ldc)
		p.Gemm(cs.m, a, lda, cs.beta, pg, ldc)
		if i := firstDiff(pg, want2); i >= 0 {
			t.Errorf("PackedBF16.Gemm %+v: c[%d] = %g, SgemmBF16 %g", cs, i, pg[i], want2[i])
		}
	}
}

func firstDiff(x, y []float32) int {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}

// TestSgemmBF16ErrorBound compares SgemmBF16 with the float32 Sgemm.
// Rounding each operand to bfloat16 (unit roundoff u = 2⁻⁸) moves each
// product by at most (2u+u²)|a||b|, so per element
// |C_bf16 - C_fp32| <= (2⁻⁷ + 2⁻¹⁶ + k·2⁻²³)·Σ_l |a||b| (the last term for
// float32 summation in both); over random operands the errors partly
// cancel, and the root-mean-square difference relative to C's must stay
// below 2⁻⁸. Beside that, a float64 product of the rounded operands must
// match SgemmBF16 to float32 accumulation error.
func TestSgemmBF16ErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, cs := range bf16Cases {
		a, b, _, lda, ldb, _ := bf16Operands(rng, cs)
		ldc := cs.n
		got := make([]float32, cs.m*ldc)
		ref := make([]float32, cs.m*ldc)
		SgemmBF16(cs.tA, cs.tB, cs.m, cs.n, cs.k, 1, a, lda, b, ldb, 0, got, ldc)
		Sgemm(cs.tA, cs.tB, cs.m, cs.n, cs.k, 1, a, lda, b, ldb, 0, ref, ldc)
		at := func(i, l int) float32 {
			if cs.tA {
				return a[l*lda+i]
			}
			return a[i*lda+l]
		}
		bt := func(l, j int) float32 {
			if cs.tB {
				return b[j*ldb+l]
			}
			return b[l*ldb+j]
		}
		var sqErr, sqRef float64
		for i := 0; i < cs.m; i++ {
			for j := 0; j < cs.n; j++ {
				var abs, rounded float64
				for l := 0; l < cs.k; l++ {
					x, y := at(i, l), bt(l, j)
					abs += math.Abs(float64(x) * float64(y))
					rounded += float64(FromBF16(BF16(x))) * float64(FromBF16(BF16(y)))
				}
				g, r := float64(got[i*ldc+j]), float64(ref[i*ldc+j])
				sqErr += (g - r) * (g - r)
				sqRef += r * r
				acc := float64(cs.k) * 0x1p-23 * abs
				if bound := (0x1p-7+0x1p-16)*abs + acc; math.Abs(g-r) > bound {
					t.Fatalf("SgemmBF16 %+v: C[%d,%d] = %g, float32 %g: off by %g, bound %g", cs, i, j, g, r, math.Abs(g-r), bound)
				}
				if math.Abs(g-rounded) > acc {
					t.Fatalf("SgemmBF16 %+v: C[%d,%d] = %g, exact product of the rounded operands %g", cs, i, j, g, rounded)
				}
			}
		}
		if rel := math.Sqrt(sqErr / sqRef); cs.m*cs.n >= 64 && rel > 0x1p-8 {
			t.Errorf("SgemmBF16 %+v: RMS difference from float32 %.3g of C's RMS, want <= 2^-8 (%.3g)", cs, rel, 0x1p-8)
		}
	}
}

// TestBF16Rows2MatchesTwin pairs two rows with the assembly and the twin
// at lengths around the 16-column groups, with a guard after the output.
func TestBF16Rows2MatchesTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 15, 16, 17, 33, 64, 100} {
		r0, r1 := make([]float32, n), make([]float32, n)
		for i := range r0 {
			r0[i], r1[i] = randBits(rng), randBits(rng)
		}
		for _, second := range []bool{true, false} {
			stride := 16 + 5
			groups := (n + 15) / 16
			var outs [2][]uint32
			for v, on := range []bool{true, false} {
				out := make([]uint32, (groups-1)*stride+16+1)
				out[len(out)-1] = 0xfeedface
				var s1 []float32
				if second {
					s1 = r1
				}
				withBF16(t, on && bf16Hardware(), func() { bf16Rows2(out, stride, r0, s1) })
				if out[len(out)-1] != 0xfeedface {
					t.Fatalf("bf16Rows2 n=%d wrote past its output", n)
				}
				outs[v] = out
			}
			for g := 0; g < groups; g++ {
				for j := 0; j < 16; j++ {
					x, want := outs[0][g*stride+j], uint32(0)
					if c := 16*g + j; c < n {
						want = uint32(BF16(r0[c]))
						if second {
							want |= uint32(BF16(r1[c])) << 16
						}
					}
					if x != want || outs[1][g*stride+j] != want {
						t.Fatalf("bf16Rows2 n=%d second=%v: column %d = %#x assembly, %#x twin, want %#x", n, second, 16*g+j, x, outs[1][g*stride+j], want)
					}
				}
			}
		}
	}
}
