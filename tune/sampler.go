package tune

import (
	"fmt"
	"math/rand/v2"
)

// A Sampler gives the points of a search in the unit cube: Point writes
// point i (0-based) into dst, one coordinate in [0, 1) per dimension. A
// point is a pure function of the sampler's seed and i, so a resumed
// study draws the same trials as an uninterrupted one.
type Sampler interface {
	Point(dst []float64, i int)
}

// Samplers are the names NewSampler knows.
var Samplers = []string{"halton", "random"}

// NewSampler returns the sampler called name ("halton" or "random") for
// points of dims dimensions, drawn from seed.
func NewSampler(name string, dims int, seed uint64) (Sampler, error) {
	switch name {
	case "random":
		return random{seed: seed}, nil
	case "halton":
		return newHalton(dims, seed), nil
	}
	return nil, fmt.Errorf("tune: unknown sampler %q (want halton or random)", name)
}

// random draws every coordinate independently and uniformly: point i
// comes from its own PCG stream (seed, i).
type random struct{ seed uint64 }

func (r random) Point(dst []float64, i int) {
	g := rand.New(rand.NewPCG(r.seed, uint64(i)))
	for d := range dst {
		dst[d] = g.Float64()
	}
}

// halton is the Halton sequence scrambled by random digit permutations
// (Braaten and Weller 1979; Owen 2017, "A randomized Halton algorithm"):
// dimension d is the radical inverse of i+1 in the d-th prime base, each
// digit mapped through a permutation of the base's digits that keeps 0 and
// is drawn from the seed.
//
// A quasi-random sequence covers the cube more evenly than independent
// draws at the few dozen points a search affords: no two trials crowd one
// corner while another is empty. Halton rather than Sobol: it needs no
// table of direction numbers, every prefix is evenly spread (Sobol's
// balance holds at powers of two, and trial counts are rarely one), and
// the scrambling both removes the correlation between high-prime
// dimensions that plain Halton shows at small counts and lets the seed
// pick a different, equally even sequence.
type halton struct {
	perms [][]uint16 // per dimension, a permutation of its base's digits
}

// primes are the bases of the first MaxParams dimensions.
var primes = func() []int {
	var ps []int
	for n := 2; len(ps) < MaxParams; n++ {
		prime := true
		for _, p := range ps {
			if n%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			ps = append(ps, n)
		}
	}
	return ps
}()

func newHalton(dims int, seed uint64) *halton {
	g := rand.New(rand.NewPCG(seed, 0x4861_6c74_6f6e)) // "Halton"
	h := &halton{perms: make([][]uint16, dims)}
	for d := range dims {
		b := primes[d%len(primes)]
		perm := make([]uint16, b)
		for j := range perm {
			perm[j] = uint16(j)
		}
		// Shuffle the nonzero digits: a permuted 0 would turn the
		// infinite run of leading zeros into a nonzero tail.
		g.Shuffle(b-1, func(x, y int) { perm[x+1], perm[y+1] = perm[y+1], perm[x+1] })
		h.perms[d] = perm
	}
	return h
}

// Point writes the radical inverses of i+1: point 0 of plain Halton is
// the cube's corner, the worst first trial.
func (h *halton) Point(dst []float64, i int) {
	for d := range dst {
		perm := h.perms[d]
		b := len(perm)
		x, f := 0.0, 1.0/float64(b)
		for n := i + 1; n > 0; n /= b {
			x += float64(perm[n%b]) * f
			f /= float64(b)
		}
		dst[d] = x
	}
}
