package tune

import (
	"math"
	"slices"
	"testing"
)

func TestSamplers(t *testing.T) {
	for _, name := range Samplers {
		a, err := NewSampler(name, 7, 3)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewSampler(name, 7, 3)
		c, _ := NewSampler(name, 7, 4)
		p, q, r := make([]float64, 7), make([]float64, 7), make([]float64, 7)
		for i := range 300 {
			a.Point(p, i)
			b.Point(q, i)
			c.Point(r, i)
			if !slices.Equal(p, q) {
				t.Fatalf("%s: point %d differs between two samplers of one seed: %v, %v", name, i, p, q)
			}
			if i > 0 && slices.Equal(p, r) {
				t.Fatalf("%s: point %d is the same for seeds 3 and 4", name, i)
			}
			for _, x := range p {
				if !(x >= 0 && x < 1) {
					t.Fatalf("%s: point %d = %v, outside [0, 1)", name, i, p)
				}
			}
		}
	}
	if _, err := NewSampler("sobol", 2, 1); err == nil {
		t.Error("NewSampler(sobol) succeeded")
	}
}

// TestHaltonStrata checks the low discrepancy the scrambling keeps: in
// dimension d with base b, the first b^k points fall one in each of the
// b^k intervals [j/b^k, (j+1)/b^k).
func TestHaltonStrata(t *testing.T) {
	h := newHalton(5, 9)
	for d, b := range primes[:5] {
		n := b
		for n*b <= 200 {
			n *= b
		}
		hit := make([]int, n)
		p := make([]float64, 5)
		for i := range n {
			h.Point(p, i)
			hit[int(math.Floor(p[d]*float64(n)+1e-9))]++ // points on a boundary are its upper stratum's
		}
		for j, c := range hit {
			if c != 1 {
				t.Fatalf("dimension %d (base %d): %d of the first %d points in stratum %d, want 1", d, b, c, n, j)
			}
		}
	}
}
