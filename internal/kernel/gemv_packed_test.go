package kernel

import (
	"fmt"
	"math"
	"testing"
)

// TestPackedGemvReverse checks PackedB.Gemv in both directions against
// SgemmPacked with one row, bit for bit: the panel order must not change
// any element, whatever the width (partial last panel), depth (several
// k-blocks) and beta.
func TestPackedGemvReverse(t *testing.T) {
	for _, k := range []int{1, 7, 128, 300, 600} {
		for _, n := range []int{1, 16, 40, 64, 65, 200, 512} {
			for _, beta := range []float32{0, 1, 0.5} {
				name := fmt.Sprintf("k%d/n%d/beta%v", k, n, beta)
				w := make([]float32, n*k)
				x := make([]float32, k)
				y0 := make([]float32, n)
				for i := range w {
					w[i] = float32(math.Sin(float64(i)*0.37)) / 3
				}
				for i := range x {
					x[i] = float32(math.Cos(float64(i) * 0.11))
				}
				for i := range y0 {
					y0[i] = float32(i%7) - 3
				}
				p := NewPackedB(true, k, n, w, k)
				want := append([]float32(nil), y0...)
				SgemmPacked(false, 1, 1, x, k, p, beta, want, n)
				for _, rev := range []bool{false, true} {
					got := append(append([]float32(nil), y0...), 42) // guard
					p.Gemv(x, beta, got[:n], rev)
					for j := 0; j < n; j++ {
						if got[j] != want[j] {
							t.Fatalf("%s reverse=%v: y[%d] = %v, want %v", name, rev, j, got[j], want[j])
						}
					}
					if got[n] != 42 {
						t.Fatalf("%s reverse=%v: wrote past y", name, rev)
					}
				}
			}
		}
	}
}

// TestPackedGemmReverse checks PackedB.Gemm in both directions against
// SgemmPacked bit for bit, on one thread (where reverse applies): rows from
// one (the GEMV) to past a 6-row strip, a partial last panel, fewer panels
// than a zmm group, several k-blocks, a padded ldc (left untouched between
// rows) and every kind of beta.
func TestPackedGemmReverse(t *testing.T) {
	defer SetThreads(0)
	SetThreads(1)
	for _, s := range [][2]int{{256, 1024}, {1024, 256}, {300, 1000}, {513, 259}, {64, 40}, {7, 17}} {
		k, n := s[0], s[1]
		w := make([]float32, n*k)
		for i := range w {
			w[i] = float32(math.Sin(float64(i)*0.37)) / 3
		}
		p := NewPackedB(true, k, n, w, k)
		for _, m := range []int{1, 2, 5, 7, 13, 16} {
			lda, ldc := k+3, n+5
			a := make([]float32, m*lda)
			for i := range a {
				a[i] = float32(math.Cos(float64(i) * 0.11))
			}
			c0 := make([]float32, m*ldc)
			for i := range c0 {
				c0[i] = float32(i%7) - 3
			}
			for _, beta := range []float32{0, 1, 0.5} {
				want := append([]float32(nil), c0...)
				SgemmPacked(false, m, 1, a, lda, p, beta, want, ldc)
				for _, rev := range []bool{false, true} {
					got := append([]float32(nil), c0...)
					p.Gemm(m, a, lda, beta, got, ldc, rev)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("k%d n%d m%d beta%v reverse=%v: c[%d] = %v, want %v", k, n, m, beta, rev, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
