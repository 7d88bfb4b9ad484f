package tensor

import (
	"bytes"
	"math"
	"testing"
)

func TestReshapeSharesData(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	tests := []struct {
		shape []int
		want  []int
	}{
		{[]int{3, 2}, []int{3, 2}},
		{[]int{-1}, []int{6}},
		{[]int{1, -1, 2}, []int{1, 3, 2}},
	}
	for _, tc := range tests {
		v := a.Reshape(tc.shape...)
		if len(v.Shape) != len(tc.want) {
			t.Fatalf("Reshape(%v) shape = %v, want %v", tc.shape, v.Shape, tc.want)
		}
		for i := range tc.want {
			if v.Shape[i] != tc.want[i] {
				t.Errorf("Reshape(%v) shape = %v, want %v", tc.shape, v.Shape, tc.want)
			}
		}
		v.Data[0] = 42
		if a.Data[0] != 42 {
			t.Errorf("Reshape(%v) copied the data; want a view", tc.shape)
		}
		a.Data[0] = 1
	}
}

func TestReshapePanicsOnSizeMismatch(t *testing.T) {
	for _, shape := range [][]int{{4}, {-1, 4}, {-1, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Reshape(%v) of 6 elements did not panic", shape)
				}
			}()
			New(2, 3).Reshape(shape...)
		}()
	}
}

func TestRowAndSlice(t *testing.T) {
	a := FromSlice([]float32{0, 1, 2, 3, 4, 5, 6, 7}, 4, 2)
	if got := a.Row(2).Data; got[0] != 4 || got[1] != 5 || len(got) != 2 {
		t.Errorf("Row(2) = %v, want [4 5]", got)
	}
	s := a.Slice(1, 3)
	if s.Shape[0] != 2 || s.Data[0] != 2 || s.Data[3] != 5 {
		t.Errorf("Slice(1,3) = %v, want rows 1..2", s)
	}
	// Appending to a view must not overwrite the parent.
	_ = append(s.Data, 99)
	if a.Data[6] != 6 {
		t.Errorf("append to a Slice view overwrote the parent: %v", a.Data)
	}
}

func TestElementwise(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3}, 3)
	b := FromSlice([]float32{4, 5, 6}, 3)
	tests := []struct {
		name string
		got  *Tensor
		want []float32
	}{
		{"AddTo", AddTo(nil, a, b), []float32{5, 7, 9}},
		{"SubTo", SubTo(nil, a, b), []float32{-3, -3, -3}},
		{"MulTo", MulTo(nil, a, b), []float32{4, 10, 18}},
		{"ScaleTo", ScaleTo(nil, 2, a), []float32{2, 4, 6}},
	}
	for _, tc := range tests {
		for i, w := range tc.want {
			if tc.got.Data[i] != w {
				t.Errorf("%s = %v, want %v", tc.name, tc.got.Data, tc.want)
				break
			}
		}
	}
	if a.Data[0] != 1 || b.Data[0] != 4 {
		t.Errorf("inputs were modified: a=%v b=%v", a.Data, b.Data)
	}
}

func naiveMatMul(a []float32, ar, ac int, ta bool, b []float32, br, bc int, tb bool) ([]float32, int, int) {
	m, k := ar, ac
	if ta {
		m, k = ac, ar
	}
	n := bc
	if tb {
		n = br
	}
	out := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float32
				if ta {
					av = a[l*ac+i]
				} else {
					av = a[i*ac+l]
				}
				if tb {
					bv = b[j*bc+l]
				} else {
					bv = b[l*bc+j]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = float32(s)
		}
	}
	return out, m, n
}

func TestMatMulLayouts(t *testing.T) {
	g := NewRNG(1)
	for _, ta := range []Transpose{No, Trans} {
		for _, tb := range []Transpose{No, Trans} {
			m, k, n := 5, 7, 3
			as := []int{m, k}
			if ta {
				as = []int{k, m}
			}
			bs := []int{k, n}
			if tb {
				bs = []int{n, k}
			}
			a, b := New(as...), New(bs...)
			g.FillNormal(a, 0, 1)
			g.FillNormal(b, 0, 1)
			got := MatMulTo(nil, a, ta, b, tb, false)
			want, wm, wn := naiveMatMul(a.Data, as[0], as[1], bool(ta), b.Data, bs[0], bs[1], bool(tb))
			if got.Shape[0] != wm || got.Shape[1] != wn {
				t.Fatalf("ta=%v tb=%v: shape %v, want [%d %d]", ta, tb, got.Shape, wm, wn)
			}
			for i := range want {
				if math.Abs(float64(got.Data[i]-want[i])) > 1e-5 {
					t.Fatalf("ta=%v tb=%v: [%d] got %g, want %g", ta, tb, i, got.Data[i], want[i])
				}
			}
			// accumulate adds the product again.
			MatMulTo(got, a, ta, b, tb, true)
			for i := range want {
				if math.Abs(float64(got.Data[i]-2*want[i])) > 1e-5 {
					t.Fatalf("ta=%v tb=%v accumulate: [%d] got %g, want %g", ta, tb, i, got.Data[i], 2*want[i])
				}
			}
		}
	}
}

func TestRNGDeterministicAndRestorable(t *testing.T) {
	a, b := NewRNG(7), NewRNG(7)
	for i := 0; i < 10; i++ {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("draw %d: %d != %d with the same seed", i, x, y)
		}
	}
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	next := a.Float64()
	c := NewRNG(99)
	if err := c.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if got := c.Float64(); got != next {
		t.Errorf("restored RNG drew %v, want %v", got, next)
	}
	s2, _ := c.MarshalBinary()
	if bytes.Equal(state, s2) {
		t.Errorf("state did not advance after a draw")
	}
}

func TestBernoulliScalesKept(t *testing.T) {
	g := NewRNG(3)
	mask := make([]float32, 10000)
	g.Bernoulli(mask, 0.25)
	var kept int
	for _, v := range mask {
		switch v {
		case 0:
		case float32(1 / 0.75):
			kept++
		default:
			t.Fatalf("mask value %v, want 0 or %v", v, 1/0.75)
		}
	}
	if frac := float64(kept) / float64(len(mask)); math.Abs(frac-0.75) > 0.02 {
		t.Errorf("kept fraction %.3f, want about 0.75", frac)
	}
}
