package kernel

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// BenchmarkBF16GemvStep times one recurrent step's product at batch one,
// y (G) += h (H)·W_hhᵀ with G = 4H, by the packed float32 GEMV, the
// bfloat16 one on each path this machine has (the twin excepted: some
// hundred times slower) and the one-row bfloat16 GEMM it replaces, side by
// side with BenchmarkQGemvStep's int8 figures.
func BenchmarkBF16GemvStep(b *testing.B) {
	for _, H := range []int{128, 256} {
		s := newBF16Step(H)
		pre := "H" + strconv.Itoa(H) + "/"
		b.Run(pre+"float32", func(b *testing.B) {
			for b.Loop() {
				s.pk.Gemm(1, s.x, H, 1, s.y, 4*H, false)
			}
		})
		if bf16Hardware() {
			b.Run(pre+"bf16-gemm1row", func(b *testing.B) {
				for b.Loop() {
					s.m.p.Gemm(1, s.x, H, 1, s.y, 4*H)
				}
			})
		}
		for _, p := range bf16Paths() {
			if p.name == "twin" {
				continue
			}
			b.Run(pre+"bf16-"+p.name, func(b *testing.B) {
				withPath(p.bf16, p.avx, func() {
					b.ReportAllocs()
					for b.Loop() {
						s.m.MulAddRows(s.y, s.x, 4*H, H, 1)
					}
				})
			})
		}
	}
}

// bf16Step is one step's operands: W_hh (4H × H) packed in float32 (pk)
// and bfloat16 (m), h (H) and the gates y (4H).
type bf16Step struct {
	pk   *PackedB
	m    *BF16Matrix
	x, y []float32
}

func newBF16Step(H int) bf16Step {
	r := rand.New(rand.NewPCG(1, 1))
	w, x := make([]float32, 4*H*H), make([]float32, H)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	wb := make([]uint16, len(w))
	if err := RoundBF16(wb, w); err != nil {
		panic(err)
	}
	return bf16Step{pk: NewPackedB(true, H, 4*H, w, H), m: NewBF16Matrix(wb, 4*H, H), x: x, y: make([]float32, 4*H)}
}
