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
