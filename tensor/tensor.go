// Package tensor is recur's dense row-major float32 tensor: a shape and a
// flat []float32.
//
// Operations put the written tensor first and name it dst; inputs are never
// modified. A nil or empty dst passed to an XxxTo function is allocated with
// the right shape and returned. Views (Reshape, Row, Slice) share the
// backing array with their source; Clone copies.
//
// Shape errors are programmer errors and panic with a "tensor: " message.
package tensor

import (
	"fmt"
	"strings"
)

// Tensor is a dense row-major float32 array. The zero value is an empty
// tensor of shape [].
type Tensor struct {
	Shape []int
	Data  []float32
}

// Numel returns the product of the dimensions in shape.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in %v", shape))
		}
		n *= d
	}
	return n
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Numel(shape))}
}

// FromSlice wraps data (not copied) as a tensor of the given shape.
func FromSlice(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b *Tensor) bool {
	if len(a.Shape) != len(b.Shape) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	return true
}

// Reshape returns a view of t with a new shape of the same size. One
// dimension may be -1 and is inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	s := append([]int(nil), shape...)
	infer, n := -1, 1
	for i, d := range s {
		if d == -1 {
			if infer >= 0 {
				panic("tensor: Reshape with two -1 dimensions")
			}
			infer = i
			continue
		}
		n *= d
	}
	if infer >= 0 {
		if n == 0 || len(t.Data)%n != 0 {
			panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.Shape, shape))
		}
		s[infer] = len(t.Data) / n
		n *= s[infer]
	}
	if n != len(t.Data) {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.Shape, shape))
	}
	return &Tensor{Shape: s, Data: t.Data}
}

// Row returns a view of index i along the first dimension.
func (t *Tensor) Row(i int) *Tensor {
	if len(t.Shape) == 0 || i < 0 || i >= t.Shape[0] {
		panic(fmt.Sprintf("tensor: Row(%d) of shape %v", i, t.Shape))
	}
	n := len(t.Data) / t.Shape[0]
	return &Tensor{Shape: append([]int(nil), t.Shape[1:]...), Data: t.Data[i*n : (i+1)*n : (i+1)*n]}
}

// Slice returns a view of rows [from, to) along the first dimension.
func (t *Tensor) Slice(from, to int) *Tensor {
	if len(t.Shape) == 0 || from < 0 || to < from || to > t.Shape[0] {
		panic(fmt.Sprintf("tensor: Slice(%d, %d) of shape %v", from, to, t.Shape))
	}
	n := 0
	if t.Shape[0] > 0 {
		n = len(t.Data) / t.Shape[0]
	}
	s := append([]int{to - from}, t.Shape[1:]...)
	return &Tensor{Shape: s, Data: t.Data[from*n : to*n : to*n]}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// CopyFrom copies src's values into t; the sizes must match.
func (t *Tensor) CopyFrom(src *Tensor) {
	if len(t.Data) != len(src.Data) {
		panic(fmt.Sprintf("tensor: CopyFrom %v into %v", src.Shape, t.Shape))
	}
	copy(t.Data, src.Data)
}

// String prints the shape and up to 8 values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.Shape)
	for i, v := range t.Data {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%g", v)
	}
	b.WriteByte(']')
	return b.String()
}

// ensure returns dst if it has the shape, allocates when dst is nil, and
// panics on a mismatch.
func ensure(dst *Tensor, shape []int) *Tensor {
	if dst == nil {
		return New(shape...)
	}
	if len(dst.Data) == 0 && len(dst.Shape) == 0 {
		*dst = *New(shape...)
		return dst
	}
	if Numel(shape) != len(dst.Data) {
		panic(fmt.Sprintf("tensor: dst shape %v, want %v", dst.Shape, shape))
	}
	return dst
}
