package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// qpath is one instruction-set path of the int8 GEMV.
type qpath struct {
	name                         string
	avx2, avx512, vnni512, vnniY bool
}

// qpaths returns the paths this machine can run: the twin always, then
// AVX2, AVX-VNNI and AVX-512 VNNI where the CPU (and build) has them.
func qpaths() []qpath {
	ps := []qpath{{name: "twin"}}
	if useAVX2 {
		ps = append(ps, qpath{name: "avx2", avx2: true})
	}
	if useAVXVNNI {
		ps = append(ps, qpath{name: "avxvnni", avx2: true, vnniY: true})
	}
	if useVNNI512 {
		ps = append(ps, qpath{name: "avx512vnni", avx2: true, avx512: true, vnni512: true})
	}
	return ps
}

// withQPath runs f with the kernel flags set to p's, then restores them.
func withQPath(p qpath, f func()) {
	a, b, c, d := useAVX2, useAVX512, useVNNI512, useAVXVNNI
	defer func() { useAVX2, useAVX512, useVNNI512, useAVXVNNI = a, b, c, d }()
	useAVX2, useAVX512, useVNNI512, useAVXVNNI = p.avx2, p.avx512, p.vnni512, p.vnniY
	f()
}

func randQMatrix(r *rand.Rand, N, K int) (*QMatrix, []float32) {
	w := make([]float32, N*K)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	q, s := make([]int8, N*K), make([]float32, N)
	QuantizeRows(q, s, w, N, K)
	return NewQMatrix(q, s, N, K), w
}

// qref is MulRows computed from the unpacked weights (QMatrix.Row) and
// quantizeRow by the definition: it checks the packing and the kernels'
// dequantization.
func qref(m *QMatrix, M int, x []float32, ldx int, y []float32, ldy int, accum bool) {
	u := make([]uint8, 4*m.kg)
	row := make([]int8, m.K)
	for i := 0; i < M; i++ {
		sx, zp := quantizeRow(u, x[i*ldx:i*ldx+m.K])
		for n := 0; n < m.N; n++ {
			m.Row(row, n)
			var acc, sum int32
			for k, v := range row {
				acc += int32(u[k]) * int32(v)
				sum += int32(v)
			}
			f := float32(acc - zp*sum)
			s := m.Scale()[n] * sx
			if accum {
				y[i*ldy+n] = fma32(f, s, y[i*ldy+n])
			} else {
				y[i*ldy+n] = f * s
			}
		}
	}
}

// TestQMatrixPathsAgree runs MulRows on every path this machine has at
// odd sizes, with a leading dimension wider than the rows and guard
// values around them, against the definition (qref): bit for bit.
func TestQMatrixPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range qpaths() {
		t.Log("path", p.name)
	}
	const guard = float32(-12345)
	for _, N := range []int{1, 7, 15, 16, 17, 32, 129, 136, 512} {
		for _, K := range []int{1, 3, 4, 5, 31, 128, 259} {
			m, _ := randQMatrix(r, N, K)
			M, ldx, ldy := 9, K+2, N+3 // two groups of four rows, then one
			x := make([]float32, M*ldx)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 2)
			}
			x[0] = 0
			for _, accum := range []bool{false, true} {
				want := make([]float32, M*ldy)
				for i := range want {
					want[i] = guard
					if i%ldy < N {
						want[i] = float32(r.NormFloat64())
					}
				}
				y0 := append([]float32(nil), want...)
				qref(m, M, x, ldx, want, ldy, accum)
				for _, p := range qpaths() {
					got := append([]float32(nil), y0...)
					withQPath(p, func() {
						if accum {
							m.MulAddRows(got, x, ldy, ldx, M)
						} else {
							m.MulRows(got, x, ldy, ldx, M)
						}
					})
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s N=%d K=%d accum=%v: y[%d] = %v, want %v", p.name, N, K, accum, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestQuantizeRowsRoundTrip checks |w − scale·q| ≤ scale/2 and that the
// largest weight of each row maps to ±127.
func TestQuantizeRowsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	N, K := 37, 53
	w := make([]float32, N*K)
	for i := range w {
		w[i] = float32(r.NormFloat64() * math.Pow(10, float64(i%5-2)))
	}
	copy(w[5*K:6*K], make([]float32, K)) // a row of zeros
	q, s := make([]int8, N*K), make([]float32, N)
	QuantizeRows(q, s, w, N, K)
	for n := 0; n < N; n++ {
		top := 0
		for k := 0; k < K; k++ {
			i := n*K + k
			if d := math.Abs(float64(w[i]) - float64(s[n])*float64(q[i])); d > float64(s[n])/2*(1+1e-6) {
				t.Fatalf("row %d col %d: |%v − %v·%d| = %g > scale/2", n, k, w[i], s[n], q[i], d)
			}
			top = max(top, int(math.Abs(float64(q[i]))))
		}
		if n != 5 && top != 127 {
			t.Errorf("row %d: largest |q| = %d, want 127", n, top)
		}
	}
}

// TestQuantizeRow checks the activation quantization: within sx/2 of x,
// 0 exact, padding zeroed, and a constant row.
func TestQuantizeRow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name string
		x    []float32
	}{
		{"normal", nil}, {"positive", nil}, {"zeros", make([]float32, 9)},
	} {
		x := c.x
		if x == nil {
			x = make([]float32, 61)
			for i := range x {
				x[i] = float32(r.NormFloat64())
				if c.name == "positive" {
					x[i] = float32(math.Abs(float64(x[i])))
				}
			}
			x[7] = 0
		}
		u := make([]uint8, len(x)+3)
		for i := range u {
			u[i] = 99
		}
		sx, zp := quantizeRow(u, x)
		for k, v := range x {
			back := float64(sx) * float64(int32(u[k])-zp)
			if d := math.Abs(float64(v) - back); d > float64(sx)/2*(1+1e-5) {
				t.Fatalf("%s: x[%d] = %v comes back as %v (sx %v zp %d)", c.name, k, v, back, sx, zp)
			}
			if v == 0 && int32(u[k]) != zp {
				t.Errorf("%s: 0 quantized to %d, zero point %d", c.name, u[k], zp)
			}
		}
		for _, b := range u[len(x):] {
			if b != 0 {
				t.Errorf("%s: padding %v, want zeros", c.name, u[len(x):])
				break
			}
		}
	}
}

// TestQMatrixApproximates checks the dequantized product against the
// float64 product of the float weights: within the error the two
// quantizations allow.
func TestQMatrixApproximates(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	N, K := 64, 96
	m, w := randQMatrix(r, N, K)
	x := make([]float32, K)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]float32, N)
	m.MulRows(y, x, N, K, 1)
	for n := 0; n < N; n++ {
		var ref, norm float64
		for k := 0; k < K; k++ {
			ref += float64(x[k]) * float64(w[n*K+k])
			norm += math.Abs(float64(x[k])) * math.Abs(float64(w[n*K+k]))
		}
		if d := math.Abs(float64(y[n]) - ref); d > 0.02*norm {
			t.Errorf("row %d: %v, float64 product %v (|x|·|w| %v)", n, y[n], ref, norm)
		}
	}
}

func ExampleQMatrix() {
	w := []float32{1, -2, 0.5, 4, 0, 0, 0, 1} // 2 × 4
	q, s := make([]int8, 8), make([]float32, 2)
	QuantizeRows(q, s, w, 2, 4)
	m := NewQMatrix(q, s, 2, 4)
	y := make([]float32, 2)
	m.MulRows(y, []float32{1, 1, 1, 1}, 2, 4, 1)
	fmt.Printf("%.2f %.2f\n", y[0], y[1])
	// Output: 3.50 1.00
}

// TestQuantizeRowPaths quantizes rows of odd lengths with special values
// (±0, NaN, ±Inf, huge, tiny) on every path against the twins alone.
func TestQuantizeRowPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e38, -3e38, 1e-40, 127.5, -0.5}
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 64, 129} {
		for trial := 0; trial < 6; trial++ {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * math.Pow(10, float64(trial%3-1)))
				if trial >= 3 && r.IntN(4) == 0 {
					x[i] = special[r.IntN(len(special))]
				}
			}
			// qpaths starts with the twin, whose results the others must give.
			want := make([]uint8, n+3)
			var wsx float32
			var wzp int32
			for _, p := range qpaths() {
				got := make([]uint8, n+3)
				for i := range got {
					got[i] = 7
				}
				var sx float32
				var zp int32
				withQPath(p, func() { sx, zp = quantizeRow(got, x) })
				if p.name == "twin" {
					copy(want, got)
					wsx, wzp = sx, zp
					continue
				}
				if sx != wsx || zp != wzp || string(got) != string(want) {
					t.Fatalf("%s n=%d trial %d: sx %v zp %d %v, twin sx %v zp %d %v (x %v)", p.name, n, trial, sx, zp, got, wsx, wzp, want, x)
				}
			}
		}
	}
}
