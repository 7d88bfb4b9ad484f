package tensor

import (
	"math/rand/v2"
)

// RNG is the seeded random source every random choice in recur draws from
// (initialization, shuffling, dropout masks). It is a PCG generator whose
// state can be saved in a checkpoint and restored, so a resumed run draws
// the same numbers as an uninterrupted one. An RNG is not safe for
// concurrent use.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &RNG{src: src, r: rand.New(src)}
}

// Split returns a new independent generator derived from the next value
// of g; use it to give a component its own stream.
func (g *RNG) Split() *RNG { return NewRNG(g.r.Uint64()) }

// Uint64 returns a uniformly random uint64.
func (g *RNG) Uint64() uint64 { return g.r.Uint64() }

// Float64 returns a uniform value in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// Float32 returns a uniform value in [0, 1).
func (g *RNG) Float32() float32 { return g.r.Float32() }

// Uniform returns a uniform value in [lo, hi).
func (g *RNG) Uniform(lo, hi float64) float64 { return lo + (hi-lo)*g.r.Float64() }

// Normal returns a normal value with the given mean and standard deviation.
func (g *RNG) Normal(mean, std float64) float64 { return mean + std*g.r.NormFloat64() }

// IntN returns a uniform int in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Perm returns a random permutation of 0..n-1.
func (g *RNG) Perm(n int) []int { return g.r.Perm(n) }

// Shuffle shuffles n elements with swap.
func (g *RNG) Shuffle(n int, swap func(i, j int)) { g.r.Shuffle(n, swap) }

// MarshalBinary returns the generator state.
func (g *RNG) MarshalBinary() ([]byte, error) { return g.src.MarshalBinary() }

// UnmarshalBinary restores a state returned by MarshalBinary.
func (g *RNG) UnmarshalBinary(b []byte) error { return g.src.UnmarshalBinary(b) }

// FillUniform fills t with uniform values in [lo, hi).
func (g *RNG) FillUniform(t *Tensor, lo, hi float64) {
	for i := range t.Data {
		t.Data[i] = float32(g.Uniform(lo, hi))
	}
}

// FillNormal fills t with normal values.
func (g *RNG) FillNormal(t *Tensor, mean, std float64) {
	for i := range t.Data {
		t.Data[i] = float32(g.Normal(mean, std))
	}
}

// Bernoulli fills mask with 1/(1-p) with probability 1-p and 0 with
// probability p (inverted dropout scaling). p must be in [0, 1).
func (g *RNG) Bernoulli(mask []float32, p float64) {
	if p <= 0 {
		for i := range mask {
			mask[i] = 1
		}
		return
	}
	keep := float32(1 / (1 - p))
	for i := range mask {
		if g.r.Float64() < p {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
	}
}
