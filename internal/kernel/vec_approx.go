package kernel

import "math"

// The assembly's exp, sigmoid and tanh are polynomial approximations (see
// internal/gen/vec: the Cephes expf scheme). The functions below are their
// scalar twins: per element the same float32 operations in the same order,
// FMAs as fma32, min and max with the instructions' NaN rules, so they
// give the assembly's bits, not those of math.Exp or math.Tanh (from which
// they differ by up to about 4e-7).

// Constants of the approximations, as float32 (the generator's values).
const (
	expShifter = 12582912 // 1.5·2^23: x + expShifter rounds x to an integer in the low mantissa bits
	expLog2e   = float32(1.44269504088896341)
	expLn2Hi   = float32(0.693359375)
	expLn2Lo   = float32(-2.12194440e-4)
)

// expPoly are the coefficients of P in exp(r) ≈ 1 + r + r²·P(r).
var expPoly = [6]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// expRange is a clamp interval and rounding shifter of an exp variant:
// the full one (Exp, softmax) and the fast one inside sigmoid and tanh,
// whose shifter carries the exponent bias 127.
type expRange struct{ hi, lo, shift float32 }

var (
	expFull = expRange{89, -105, expShifter}
	expFast = expRange{88.7, -88, expShifter + 127}
)

// expReduce is the generator's reduce: it clamps x to rg (a NaN passes),
// splits it as n·ln2 + r and returns q = exp(r) - 1 ≈ r + r²·P(r) and
// j = x·log2e + shift, whose low mantissa bits hold n (plus the bias in
// the shifter).
func expReduce(x float32, rg expRange) (q, j float32) {
	t := x
	if rg.hi < t { // VMINPS: hi < x ? hi : x
		t = rg.hi
	}
	if rg.lo > t { // VMAXPS: lo > t ? lo : t
		t = rg.lo
	}
	j = fma32(t, expLog2e, rg.shift)
	fx := j - rg.shift // n, exactly
	t = fma32(-fx, expLn2Hi, t)
	t = fma32(-fx, expLn2Lo, t) // r = x - n·ln2
	p := expPoly[0]
	for _, c := range expPoly[1:] {
		p = fma32(p, t, c)
	}
	return fma32(p, t*t, t), j
}

// expApprox is the assembly's exp: exp(r)·2^n with 2^n applied as
// 2^(n>>1)·2^(n-(n>>1)), so that results overflow to +Inf and underflow
// through the subnormals to 0, each with one rounding.
func expApprox(x float32) float32 {
	q, j := expReduce(x, expFull)
	n := int32(math.Float32bits(j)) - int32(math.Float32bits(expShifter))
	n1 := n >> 1
	n -= n1
	s1 := math.Float32frombits(uint32(n1+127) << 23)
	s2 := math.Float32frombits(uint32(n+127) << 23)
	return (q + 1) * s1 * s2
}

// fastScale is 2^n from expReduce(x, expFast): n+127 lies in [0, 255], so
// the exponent field alone makes 0 (for n = -127) up to +Inf.
func fastScale(j float32) float32 {
	return math.Float32frombits(math.Float32bits(j) << 23)
}

// sigmoidApprox is the assembly's sigmoid: 1/(1 + 2^n·exp(r)) for -x =
// n·ln2 + r, the sum fused.
func sigmoidApprox(x float32) float32 {
	u := math.Float32frombits(math.Float32bits(x) ^ 0x80000000) // -x, NaN too
	q, j := expReduce(u, expFast)
	return 1 / fma32(q+1, fastScale(j), 1)
}

// tanhApprox is the assembly's tanh: with m = expm1(-2|x|) =
// 2^n·q + (2^n - 1), tanh|x| = -m/(2+m), and the sign of x copied.
func tanhApprox(x float32) float32 {
	bits := math.Float32bits(x)
	ax := math.Float32frombits(bits&0x7fffffff) * -2
	q, j := expReduce(ax, expFast)
	s := fastScale(j)
	m := fma32(q, s, s-1)
	m /= m + 2
	return math.Float32frombits(math.Float32bits(m)&0x7fffffff | bits&0x80000000)
}
