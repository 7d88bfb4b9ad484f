package checkpoint

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// TestInt8RoundTrip writes int8 tensors beside float32 ones (odd sizes,
// so that the float32 data after them is not 4-aligned) and reads them
// back exactly, with the header naming dtype I8.
func TestInt8RoundTrip(t *testing.T) {
	f := sample()
	f.Int8["rnn.weight_hh_l0"] = &Int8Tensor{Shape: []int{3, 1}, Data: []int8{-127, 0, 127}}
	f.Int8["a.first"] = &Int8Tensor{Shape: []int{5}, Data: []int8{1, -2, 3, -4, 5}}
	f.Int8["z.empty"] = &Int8Tensor{Shape: []int{0}, Data: nil}
	b := encode(t, f)
	if !bytes.Contains(b, []byte(`"dtype":"I8"`)) {
		t.Fatalf("header has no I8 dtype: %s", b[8:200])
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for n, q := range f.Int8 {
		g := got.Int8[n]
		if g == nil || !slices.Equal(g.Shape, q.Shape) || !bytes.Equal(int8Bytes(g.Data), int8Bytes(q.Data)) {
			t.Errorf("int8 %q: got %+v, want %+v", n, g, q)
		}
	}
	for n, x := range f.Tensors {
		if g := got.Tensors[n]; g == nil || !slices.Equal(g.Data, x.Data) {
			t.Errorf("float32 %q: got %v, want %v", n, g, x.Data)
		}
	}
}

// TestInt8Errors checks the writer's and reader's errors for int8
// tensors: a name in both maps, a value count that is not the shape's, a
// size that is not one byte an element, an unknown dtype still named, and
// a strict LoadParams that refuses int8 tensors a float model lacks.
func TestInt8Errors(t *testing.T) {
	f := New()
	f.Tensors["w"] = tensor.New(2)
	f.Int8["w"] = &Int8Tensor{Shape: []int{2}, Data: make([]int8, 2)}
	var buf bytes.Buffer
	if err := Encode(&buf, f); err == nil || !strings.Contains(err.Error(), "both float32 and int8") {
		t.Errorf("duplicate name: %v", err)
	}
	delete(f.Tensors, "w")
	f.Int8["w"].Shape = []int{3}
	if err := Encode(&buf, f); err == nil || !strings.Contains(err.Error(), "2 values for shape [3]") {
		t.Errorf("short data: %v", err)
	}
	for _, c := range []struct{ name, header, want string }{
		{"size", `{"q":{"dtype":"I8","shape":[3],"data_offsets":[0,4]}}`, "needs 3 bytes"},
		{"dtype", `{"q":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, `unsupported dtype "U8" (recur reads F32, I8 and BF16)`},
	} {
		if _, err := decode(craft(c.header, make([]byte, 4))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	f.Int8["w"].Shape = []int{2}
	if _, err := f.LoadParams(nil, true); err == nil || !strings.Contains(err.Error(), `int8 tensor "w"`) {
		t.Errorf("strict load: %v", err)
	}
}
