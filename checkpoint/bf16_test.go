package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBF16RoundTrip writes bfloat16 tensors beside float32 and int8 ones
// (odd sizes, so that the data after them is not 4-aligned) and reads
// them back bit for bit, the header naming dtype BF16 and the data the
// little-endian halves safetensors and PyTorch read.
func TestBF16RoundTrip(t *testing.T) {
	f := sample()
	f.Int8["b.q"] = &Int8Tensor{Shape: []int{3}, Data: []int8{1, 2, 3}}
	f.BF16["rnn.weight_hh_l0"] = &BF16Tensor{Shape: []int{3, 1}, Data: []uint16{0x3f80, 0xc020, 0x7fc0}}
	f.BF16["a.first"] = &BF16Tensor{Shape: []int{1}, Data: []uint16{0x8000}}
	f.BF16["z.empty"] = &BF16Tensor{Shape: []int{0, 4}}
	b := encode(t, f)
	if !bytes.Contains(b, []byte(`"dtype":"BF16"`)) {
		t.Fatalf("header has no BF16 dtype: %s", b[8:200])
	}
	n := binary.LittleEndian.Uint64(b)
	if first := b[8+n : 8+n+2]; !bytes.Equal(first, []byte{0x00, 0x80}) { // a.first sorts first
		t.Errorf("the first tensor's bytes are %#v, want the little-endian 0x8000", first)
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for n, h := range f.BF16 {
		g := got.BF16[n]
		if g == nil || !slices.Equal(g.Shape, h.Shape) || !slices.Equal(g.Data, h.Data) {
			t.Errorf("bf16 %q: got %+v, want %+v", n, g, h)
		}
	}
	if g := got.Int8["b.q"]; g == nil || g.Data[2] != 3 {
		t.Errorf("int8 tensor after bf16 ones: %+v", g)
	}
	for n, x := range f.Tensors {
		if g := got.Tensors[n]; g == nil || !slices.Equal(g.Data, x.Data) {
			t.Errorf("float32 %q: got %v, want %v", n, g, x.Data)
		}
	}
	w := got.BF16["rnn.weight_hh_l0"].Float32()
	if !slices.Equal(w.Shape, []int{3, 1}) || w.Data[0] != 1 || w.Data[1] != -2.5 || !math.IsNaN(float64(w.Data[2])) {
		t.Errorf("Float32() = %v %v, want [3 1] [1 -2.5 NaN]", w.Shape, w.Data)
	}
}

// TestBF16Errors checks the writer's and reader's errors for bfloat16
// tensors: a name in two maps, a value count that is not the shape's, a
// byte size that is not two an element, and a strict LoadParams that
// refuses bf16 tensors a float model lacks.
func TestBF16Errors(t *testing.T) {
	f := New()
	f.Int8["w"] = &Int8Tensor{Shape: []int{2}, Data: make([]int8, 2)}
	f.BF16["w"] = &BF16Tensor{Shape: []int{2}, Data: make([]uint16, 2)}
	var buf bytes.Buffer
	if err := Encode(&buf, f); err == nil || !strings.Contains(err.Error(), `"w" is both int8 and bf16`) {
		t.Errorf("duplicate name: %v", err)
	}
	delete(f.Int8, "w")
	f.BF16["w"].Shape = []int{3}
	if err := Encode(&buf, f); err == nil || !strings.Contains(err.Error(), "2 values for shape [3]") {
		t.Errorf("short data: %v", err)
	}
	if _, err := decode(craft(`{"h":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8))); err == nil || !strings.Contains(err.Error(), "needs 6 bytes") {
		t.Errorf("size: %v", err)
	}
	f.BF16["w"].Shape = []int{2}
	if _, err := f.LoadParams(nil, true); err == nil || !strings.Contains(err.Error(), `bf16 tensor "w"`) {
		t.Errorf("strict load: %v", err)
	}
}

// torchBF16Script reads the BF16 tensor "w" of a recur file as PyTorch's
// bfloat16 (struct and json for the layout, torch for the dtype) and
// prints its values as float32, with its shape, as JSON.
const torchBF16Script = `
import json, struct, sys
try:
    import torch
except ImportError:
    print("NO_TORCH")
    sys.exit(0)
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    e = json.loads(f.read(n))["w"]
    data = f.read()
assert e["dtype"] == "BF16"
b, end = e["data_offsets"]
w = torch.frombuffer(bytearray(data[b:end]), dtype=torch.bfloat16).reshape(e["shape"])
print(json.dumps([list(w.shape), w.float().flatten().tolist()]))
`

// TestTorchReadsBF16 checks that PyTorch reads recur's BF16 tensors as
// torch.bfloat16 with the same values.
func TestTorchReadsBF16(t *testing.T) {
	skipWithoutPython(t)
	f := New()
	w := &BF16Tensor{Shape: []int{2, 3}, Data: []uint16{0x3f80, 0xc020, 0x0000, 0x8000, 0x4049, 0x3dcd}}
	f.BF16["w"] = w
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	out := runTorch(t, torchBF16Script, path)
	var got [2][]float64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	want := w.Float32()
	if len(got[0]) != 2 || got[0][0] != 2 || got[0][1] != 3 || len(got[1]) != len(want.Data) {
		t.Fatalf("torch read shape %v and %d values, want [2 3] and %d", got[0], len(got[1]), len(want.Data))
	}
	for i, v := range want.Data {
		if got[1][i] != float64(v) || math.Signbit(got[1][i]) != math.Signbit(float64(v)) {
			t.Errorf("w[%d]: torch %v, recur %v", i, got[1][i], v)
		}
	}
}
