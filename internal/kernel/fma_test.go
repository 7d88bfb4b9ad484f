package kernel

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fmaRef is a*b + c computed exactly with big.Float and rounded once to
// float32 (to nearest even, subnormals and overflow included).
func fmaRef(a, b, c float32) float32 {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) || math.IsNaN(float64(c)) ||
		math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) {
		return float32(float64(a)*float64(b) + float64(c)) // exact product: one rounding
	}
	// 48 bits of product and an exponent span below 600: 1000 bits hold
	// the sum exactly.
	x := new(big.Float).SetPrec(1000).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	if x.Sign() == 0 {
		// big.Float has no signed zero sums: IEEE gives -0 only for
		// (-0) + (-0), that is a negative zero product and c = -0.
		return float32(float64(a)*float64(b) + float64(c))
	}
	f, _ := x.Float32()
	return f
}

// fmaCases returns operands that put a*b + c on and next to float32
// rounding boundaries (products of 13-bit significands, which are often
// midpoints, plus tiny or subnormal c of either sign), at the edges of the
// range, and at random.
func fmaCases(rng *rand.Rand) [][3]float32 {
	var cases [][3]float32
	tiny := []float32{0, float32(math.Copysign(0, -1)), 0x1p-60, -0x1p-60, 0x1p-30, -0x1p-25, 0x1p-149, -0x1p-149, 0x1p-126, 1e-40}
	for range 20000 {
		a := float32(1<<12+rng.IntN(1<<12)) * 0x1p-12
		b := float32(1<<12+rng.IntN(1<<12)) * 0x1p-12
		if rng.IntN(2) == 0 {
			b = -b
		}
		e := rng.IntN(200) - 100 // scale: products from 2⁻¹⁰⁰ to 2¹⁰⁰
		a = float32(math.Ldexp(float64(a), e/2))
		b = float32(math.Ldexp(float64(b), e-e/2))
		c := tiny[rng.IntN(len(tiny))]
		c = float32(math.Ldexp(float64(c), e))
		cases = append(cases, [3]float32{a, b, c})
	}
	// Subnormal results, where the boundaries are farther apart.
	for range 20000 {
		a := float32(1+rng.IntN(1<<12)) * 0x1p-80
		b := float32(1+rng.IntN(1<<12)) * 0x1p-80
		c := float32(rng.IntN(1<<10)-1<<9) * 0x1p-149
		cases = append(cases, [3]float32{a, b, c})
	}
	// Random bit patterns (NaN, ±Inf, subnormals, overflow included) and
	// random values with cancellation.
	for range 200000 {
		a := math.Float32frombits(rng.Uint32())
		b := math.Float32frombits(rng.Uint32())
		c := math.Float32frombits(rng.Uint32())
		cases = append(cases, [3]float32{a, b, c})
		x, y := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		cases = append(cases, [3]float32{x, y, -x * y}, [3]float32{x, y, float32(rng.NormFloat64())})
	}
	max32 := float32(math.MaxFloat32)
	cases = append(cases,
		[3]float32{1 + 0x1p-12, 1 + 0x1p-12, 0x1p-60}, // the double-rounding example of fma32's doc
		[3]float32{max32, 1, max32}, [3]float32{max32, 2, -max32}, [3]float32{0x1p64, 0x1p63, -0x1p103},
		[3]float32{0, -1, float32(math.Copysign(0, -1))}, [3]float32{-0x1p-149, 0x1p-1, 0},
	)
	return cases
}

func TestFMA32Exact(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	naiveWrong := 0
	for _, c := range fmaCases(rng) {
		want := fmaRef(c[0], c[1], c[2])
		got := fma32(c[0], c[1], c[2])
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%g, %g, %g) = %g (%#08x), want %g (%#08x)", c[0], c[1], c[2], got, math.Float32bits(got), want, math.Float32bits(want))
		}
		if naive := float32(math.FMA(float64(c[0]), float64(c[1]), float64(c[2]))); naive != want && want == want {
			naiveWrong++
		}
	}
	// The cases must include double roundings, or they test little.
	if naiveWrong == 0 {
		t.Errorf("no case where float32(math.FMA(...)) rounds wrongly: the cases miss the boundaries")
	}
	t.Logf("float32(math.FMA) rounded wrongly in %d cases", naiveWrong)
}
