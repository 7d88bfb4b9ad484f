package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
)

// vecLens are the vector lengths every elementwise kernel is checked at:
// empty, shorter than a vector, around one and two vectors, and long.
var vecLens = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1023}

// vecOffsets shift the slices off 32-byte alignment.
var vecOffsets = []int{0, 1, 3}

const (
	vecGuard    = 11
	vecSentinel = float32(-7.25e30)
)

// vecImpls runs f once per available implementation ("twin", and "asm"
// when the assembly is in use: as subtests asm-zmm with the AVX-512
// kernels where the CPU has them, and asm with the AVX2 ones), restoring
// the dispatch flags afterwards.
func vecImpls(t *testing.T, f func(t *testing.T, impl string)) {
	t.Helper()
	saved, saved512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = saved, saved512 }()
	useAVX2 = false
	t.Run("twin", func(t *testing.T) { f(t, "twin") })
	if saved {
		useAVX2 = true
		if saved512 {
			useAVX512 = true
			t.Run("asm-zmm", func(t *testing.T) { f(t, "asm") })
		}
		useAVX512 = false
		t.Run("asm", func(t *testing.T) { f(t, "asm") })
	}
}

// asmOnly runs f with the assembly, or skips when this build has none.
func asmOnly(t *testing.T) {
	t.Helper()
	if !HasAsm() {
		t.Skip("no AVX2/FMA assembly in this build (noasm tag, other arch or CPU)")
	}
}

// eachWidth runs f with the ZMM kernels selected (when this CPU has
// AVX-512) and then with the YMM ones, restoring useAVX512 afterwards.
func eachWidth(f func(width string)) {
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	if saved {
		f("zmm")
	}
	useAVX512 = false
	f("ymm")
}

// asTwin runs f with the pure-Go twins selected.
func asTwin(f func()) {
	saved := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = saved }()
	f()
}

// guarded is a slice of n floats at offset off inside a buffer whose other
// elements hold a sentinel, to catch out-of-bounds writes.
type guarded struct {
	buf    []float32
	off, n int
}

func newGuarded(n, off int) *guarded {
	g := &guarded{buf: make([]float32, vecGuard+off+n+vecGuard), off: vecGuard + off, n: n}
	for i := range g.buf {
		g.buf[i] = vecSentinel
	}
	return g
}

// randGuarded is newGuarded filled with uniform values in [lo, hi).
func randGuarded(rng *rand.Rand, n, off int, lo, hi float32) *guarded {
	g := newGuarded(n, off)
	s := g.s()
	for i := range s {
		s[i] = lo + (hi-lo)*rng.Float32()
	}
	return g
}

func (g *guarded) s() []float32 { return g.buf[g.off : g.off+g.n : g.off+g.n] }

func (g *guarded) clone() *guarded {
	c := *g
	c.buf = append([]float32(nil), g.buf...)
	return &c
}

func (g *guarded) check(t *testing.T, name string) {
	t.Helper()
	for i, v := range g.buf {
		if (i < g.off || i >= g.off+g.n) && v != vecSentinel {
			t.Fatalf("%s: guard element %d (slice is [%d,%d)) = %g, want sentinel untouched", name, i, g.off, g.off+g.n, v)
		}
	}
}

// closeTo reports whether got is within tol·max(1, |want|) of want, with
// NaN equal to NaN and infinities equal only to themselves.
func closeTo(got, want float32, tol float64) bool {
	g, w := float64(got), float64(want)
	if math.IsNaN(w) || math.IsNaN(g) {
		return math.IsNaN(w) && math.IsNaN(g)
	}
	if math.IsInf(w, 0) || math.IsInf(g, 0) {
		return g == w
	}
	return math.Abs(g-w) <= tol*math.Max(1, math.Abs(w))
}

func compareSlices(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		if !closeTo(got[i], want[i], tol) {
			t.Fatalf("%s[%d]: got %.9g, want %.9g (tol %g)", name, i, got[i], want[i], tol)
		}
	}
}

// ---------------------------------------------------------------------------
// Activations.

type activation struct {
	name string
	f    func(dst, x []float32)
	ref  func(float64) float64
}

var activations = []activation{
	{"Exp", Exp, math.Exp},
	{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
	{"Tanh", Tanh, math.Tanh},
}

// actErr is the error measure of the accuracy contract: absolute for
// sigmoid and tanh, relative for exp (whose values span 1e-13..1e13 on
// [-30, 30]).
func actErr(name string, got float32, want float64) float64 {
	d := math.Abs(float64(got) - want)
	if name == "Exp" {
		return d / want
	}
	return d
}

const (
	actAbsTol = 5e-7 // sigmoid, tanh: absolute
	expRelTol = 4e-7 // exp: relative, normal results
)

func TestActivationsAccuracySweep(t *testing.T) {
	// Every 1e-4 across [-30, 30], plus the first points around 0 where
	// tanh must stay relatively accurate.
	var xs []float32
	for i := -300000; i <= 300000; i++ {
		xs = append(xs, float32(i)*1e-4)
	}
	for e := -40; e <= 0; e++ {
		v := float32(math.Ldexp(1.37, e))
		xs = append(xs, v, -v)
	}
	for _, a := range activations {
		t.Run(a.name, func(t *testing.T) {
			vecImpls(t, func(t *testing.T, impl string) {
				dst := make([]float32, len(xs))
				a.f(dst, xs)
				worst, at := 0.0, float32(0)
				for i, x := range xs {
					if e := actErr(a.name, dst[i], a.ref(float64(x))); e > worst || math.IsNaN(e) {
						worst, at = e, x
					}
				}
				tol := actAbsTol
				if a.name == "Exp" {
					tol = expRelTol
				}
				if !(worst <= tol) {
					t.Fatalf("%s(%.9g): error %.3g, want <= %g", a.name, at, worst, tol)
				}
				t.Logf("%s %s: worst error %.3g at %.9g", impl, a.name, worst, at)
			})
		})
	}
}

func TestTanhSmallRelative(t *testing.T) {
	// Near 0 tanh(x) ≈ x: the result must not lose relative accuracy.
	vecImpls(t, func(t *testing.T, impl string) {
		var xs []float32
		for e := -30; e <= -1; e++ {
			for _, m := range []float64{1, 1.3, 1.7} {
				xs = append(xs, float32(math.Ldexp(m, e)), -float32(math.Ldexp(m, e)))
			}
		}
		dst := make([]float32, len(xs))
		Tanh(dst, xs)
		for i, x := range xs {
			want := math.Tanh(float64(x))
			if rel := math.Abs(float64(dst[i])-want) / math.Abs(want); rel > 4e-7 {
				t.Errorf("Tanh(%g) = %.9g, want %.9g (relative error %.3g)", x, dst[i], want, rel)
			}
		}
	})
}

func TestExpRangeEdges(t *testing.T) {
	// Relative accuracy over the whole normal range, overflow to +Inf,
	// gradual underflow to 0.
	vecImpls(t, func(t *testing.T, impl string) {
		var xs []float32
		for x := -87.0; x <= 88.7; x += 0.01 {
			xs = append(xs, float32(x))
		}
		dst := make([]float32, len(xs))
		Exp(dst, xs)
		for i, x := range xs {
			want := math.Exp(float64(x))
			if rel := math.Abs(float64(dst[i])-want) / want; rel > expRelTol {
				t.Fatalf("Exp(%g) = %.9g, want %.9g (relative error %.3g)", x, dst[i], want, rel)
			}
		}
		// Subnormal results: absolute error within a few of the smallest
		// subnormals.
		for x := float32(-104); x < -87.4; x += 0.0625 {
			got := make([]float32, 1)
			Exp(got, []float32{x})
			want := math.Exp(float64(x))
			if d := math.Abs(float64(got[0]) - want); d > 4*math.SmallestNonzeroFloat32 {
				t.Fatalf("Exp(%g) = %g, want %g", x, got[0], want)
			}
		}
	})
}

func TestActivationSpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	tests := []struct {
		x                float32
		exp, sig, tanh   float32
		tanhNegativeZero bool
	}{
		{x: inf, exp: inf, sig: 1, tanh: 1},
		{x: -inf, exp: 0, sig: 0, tanh: -1},
		{x: nan, exp: nan, sig: nan, tanh: nan},
		{x: 0, exp: 1, sig: 0.5, tanh: 0},
		{x: negZero, exp: 1, sig: 0.5, tanh: negZero, tanhNegativeZero: true},
		{x: 1e30, exp: inf, sig: 1, tanh: 1},
		{x: -1e30, exp: 0, sig: 0, tanh: -1},
		{x: math.MaxFloat32, exp: inf, sig: 1, tanh: 1},
		{x: -math.MaxFloat32, exp: 0, sig: 0, tanh: -1},
		{x: 89, exp: inf, sig: 1, tanh: 1},
		{x: 88.8, exp: inf, sig: 1, tanh: 1},
		{x: 88.7, exp: float32(math.Exp(float64(float32(88.7)))), sig: 1, tanh: 1},
		{x: -120, exp: 0, sig: float32(math.Exp(-120)), tanh: -1},
		{x: 40, exp: float32(math.Exp(40)), sig: 1, tanh: 1},
		{x: -40, exp: float32(math.Exp(-40)), sig: float32(math.Exp(-40)), tanh: -1},
	}
	vecImpls(t, func(t *testing.T, impl string) {
		for _, tt := range tests {
			// Put the value in every lane position, in a full vector and
			// in a masked tail.
			for _, n := range []int{1, 5, 8, 13} {
				xs := make([]float32, n)
				for i := range xs {
					xs[i] = tt.x
				}
				for _, c := range []struct {
					name string
					f    func(dst, x []float32)
					want float32
				}{{"Exp", Exp, tt.exp}, {"Sigmoid", Sigmoid, tt.sig}, {"Tanh", Tanh, tt.tanh}} {
					dst := make([]float32, n)
					c.f(dst, xs)
					for i, got := range dst {
						if !closeTo(got, c.want, 4e-7) {
							t.Fatalf("%s(%g) lane %d of %d = %g, want %g", c.name, tt.x, i, n, got, c.want)
						}
						if c.name == "Tanh" && tt.tanhNegativeZero && !math.Signbit(float64(got)) {
							t.Fatalf("Tanh(-0) = %g, want -0", got)
						}
					}
				}
			}
		}
	})
}

// TestActivationsMatchTwin checks the activations against their twins bit
// for bit (the twins compute the same polynomial approximations with the
// same operations), on inputs sprinkled with special values.
func TestActivationsMatchTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, a := range activations {
		for _, n := range vecLens {
			for _, off := range vecOffsets {
				name := fmt.Sprintf("%s/n%d/off%d", a.name, n, off)
				x := specialGuarded(rng, n, off, -20, 20)
				xCopy := x.clone()
				want := make([]float32, n)
				asTwin(func() { a.f(want, x.s()) })
				eachWidth(func(width string) {
					name := name + "/" + width
					x := xCopy.clone()
					got := newGuarded(n, (off+2)%4)
					a.f(got.s(), x.s())
					got.check(t, name+" dst")
					sameFloats(t, name, got.s(), want)
					compareSlices(t, name+" input", x.buf, xCopy.buf, 0)
					// In place.
					a.f(x.s(), x.s())
					x.check(t, name+" in place")
					compareSlices(t, name+" in place", x.s(), got.s(), 0)
				})
			}
		}
	}
}

// TestVecAsmAVX2Only checks the generated file: the AVX2 kernels must run
// on CPUs without AVX-512, so no register above Y15 (or mask/ZMM register)
// may appear outside the functions named ...AVX512, and every function
// (AVX512 ones included) clears the upper vector state before each of its
// returns.
func TestVecAsmAVX2Only(t *testing.T) {
	src, err := os.ReadFile("vec_amd64.s")
	if err != nil {
		t.Fatalf("reading the generated assembly: %v", err)
	}
	avx512 := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[1-7])\b`)
	fn, cleared, wide := "", false, 0
	for i, line := range strings.Split(string(src), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if m := avx512.FindString(line); m != "" && f[0] != "DATA" && !strings.HasSuffix(fn, "AVX512(SB),") {
			t.Errorf("vec_amd64.s:%d: AVX-512 register %s in %q", i+1, m, strings.TrimSpace(line))
		}
		switch f[0] {
		case "TEXT":
			fn, cleared = f[1], false
			if strings.HasSuffix(fn, "AVX512(SB),") {
				wide++
			}
		case "VZEROUPPER":
			cleared = true
		case "RET":
			if !cleared {
				t.Errorf("vec_amd64.s:%d: %s returns without VZEROUPPER", i+1, fn)
			}
		}
	}
	if fn == "" {
		t.Fatalf("vec_amd64.s: no TEXT blocks found")
	}
	if wide == 0 {
		t.Errorf("vec_amd64.s: no ...AVX512 functions found")
	}
}

// FuzzActivations checks the accuracy contract at arbitrary float32
// inputs (run with -fuzz for new ones; the seeds run as a test).
func FuzzActivations(f *testing.F) {
	for _, v := range []float32{0, -0.3, 1e-20, 7.5, -29.9, 88.72, -104, float32(math.Inf(1)), float32(math.NaN())} {
		f.Add(math.Float32bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint32) {
		x := []float32{math.Float32frombits(bits)}
		for _, a := range activations {
			got := make([]float32, 1)
			a.f(got, x)
			want := a.ref(float64(x[0]))
			w32 := float32(want)
			switch {
			case math.IsNaN(want) || math.IsInf(float64(w32), 0) || w32 == 0:
				if !closeTo(got[0], w32, 0) {
					t.Fatalf("%s(%g) = %g, want %g", a.name, x[0], got[0], w32)
				}
			case a.name == "Exp" && math.Abs(want) < 0x1p-126:
				if d := math.Abs(float64(got[0]) - want); d > 4*math.SmallestNonzeroFloat32 {
					t.Fatalf("Exp(%g) = %g, want %g", x[0], got[0], want)
				}
			default:
				tol := actAbsTol
				if a.name == "Exp" {
					tol = expRelTol
				}
				if e := actErr(a.name, got[0], want); !(e <= tol) {
					t.Fatalf("%s(%g) = %.9g, want %.9g (error %.3g)", a.name, x[0], got[0], want, e)
				}
			}
		}
	})
}
