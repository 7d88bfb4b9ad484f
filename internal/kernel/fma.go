package kernel

import "math"

// fma32 returns a*b + c rounded once to float32: what the assembly's
// float32 FMA instructions (VFMADD…PS, VFNMADD…PS, VFMADD…SS) compute, so
// that the twins can follow them bit for bit on any architecture.
//
// float32(math.FMA(float64(a), float64(b), float64(c))) is not that: it
// rounds twice, to float64 and then to float32, and the second rounding can
// err. With a = b = 1+2⁻¹² and c = 2⁻⁶⁰, a*b + c lies just above the
// midpoint 1+2⁻¹¹+2⁻²⁴ of two float32 neighbours; float64 rounds it onto
// the midpoint (c is below half a float64 ulp), and float32 then rounds the
// tie to even, down, where a single rounding goes up. See addRound32 for
// what is done instead.
func fma32(a, b, c float32) float32 {
	return addRound32(float64(a)*float64(b), float64(c))
}

// addRound32 returns p + c rounded once to float32, where c is a float32
// and p the product of two float32, both held in float64: fma32 with the
// conversions left to the caller, which can convert an operand once for
// several products.
//
// The product of two 24-bit significands has at most 48 bits and its
// exponent lies within float64's range, so p is exact, and s = p + c
// rounded to float64 is the first of two roundings. The second, to
// float32, can only err when s falls exactly on a float32 rounding
// boundary: a midpoint between two neighbouring float32 (normal or
// subnormal) or the overflow threshold. Otherwise the exact sum, which
// lies between s and a float64 neighbour of s, with no float64 strictly
// between, is on the same side of every boundary (boundaries are float64
// numbers) and rounds as s does. A boundary has at most 25 significant
// bits, so its float64 encoding ends in 28 zero bits, and it is no float32
// itself; any other s rounds directly. (Testing the zero bits alone would
// also send the exact sums of zero products, common in training, the long
// way.)
//
// For s on a boundary, TwoSum gives the exact error e = p + c - s. When e
// is not zero, s moves toward the exact sum by 2¹¹ to 2¹³ float64 ulps:
// past the exact sum (at most half an ulp from s) and short of any other
// boundary (at least 2²⁷ ulps away: boundaries are 2²⁹ ulps apart, 2²⁸
// below a power of two), so the moved value rounds to float32 as the exact
// sum does. This is the argument of round-to-odd (Boldo and Melquiond,
// "Emulation of FMA and correctly rounded sums", 2008) with a wider step,
// cheaper to take. The code stays within the inlining budget, so that the
// twins' loops pay no call.
func addRound32(p, c float64) float32 {
	s := p + c
	r := float32(s)
	if math.Float64bits(s)&(1<<28-1) == 0 && float64(r) != s {
		// TwoSum (Knuth): s + e == p + c exactly, whatever the
		// magnitudes; additions only, so nothing can be fused. (A NaN
		// takes this path too, and stays NaN.)
		if e := (p - (s - (s - p))) + (c - (s - p)); e != 0 {
			s *= 1 - 0x1p-40 // toward zero; if the exact sum lies away
			if e*s > 0 {     // from zero, the other way instead
				s *= 1 + 0x1p-39
			}
			r = float32(s)
		}
	}
	return r
}
