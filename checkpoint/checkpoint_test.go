package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

func sample() *File {
	f := New()
	f.Tensors["lstm.weight_ih_l0"] = tensor.FromSlice([]float32{1, -2, 3.5, 4, 5, 6}, 2, 3)
	f.Tensors["head.bias"] = tensor.FromSlice([]float32{0.25}, 1)
	f.Tensors["scalar"] = tensor.FromSlice([]float32{7})
	f.Tensors["empty"] = tensor.New(0, 3)
	f.Metadata["spec"] = `{"task":"forecast"}`
	return f
}

func encode(t *testing.T, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(b []byte) (*File, error) { return Decode(bytes.NewReader(b), int64(len(b))) }

func TestRoundTrip(t *testing.T) {
	want := sample()
	b := encode(t, want)
	if hl := binary.LittleEndian.Uint64(b); hl%8 != 0 {
		t.Errorf("header length %d is not 8-aligned", hl)
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("got %d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for n, wt := range want.Tensors {
		gt := got.Tensors[n]
		if gt == nil || !tensor.SameShape(gt, wt) {
			t.Fatalf("tensor %q: got %v, want %v", n, gt, wt)
		}
		for i := range wt.Data {
			if gt.Data[i] != wt.Data[i] {
				t.Errorf("tensor %q[%d] = %v, want %v", n, i, gt.Data[i], wt.Data[i])
			}
		}
	}
	if got.Metadata["spec"] != want.Metadata["spec"] || got.Metadata[MetaFormat] != FormatVersion {
		t.Errorf("metadata = %v, want %v", got.Metadata, want.Metadata)
	}
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := Write(path, sample()); err != nil {
		t.Fatal(err)
	}
	f := sample()
	f.Metadata["spec"] = "second"
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["spec"] != "second" {
		t.Errorf("spec = %q, want the second write", got.Metadata["spec"])
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after two writes, want 1 (temporary file left?)", len(ents))
	}
	if err := Write(filepath.Join(dir, "nosuchdir", "m.safetensors"), f); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
	if _, err := Read(filepath.Join(dir, "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("Read(missing) error = %v, want one naming the file", err)
	}
}

func TestJSONMetadata(t *testing.T) {
	f := New()
	type state struct {
		Step int     `json:"step"`
		Best float64 `json:"best"`
	}
	if err := f.SetJSON("train", state{Step: 12, Best: 0.5}); err != nil {
		t.Fatal(err)
	}
	var got state
	if ok, err := f.GetJSON("train", &got); !ok || err != nil || got.Step != 12 || got.Best != 0.5 {
		t.Errorf("GetJSON = %v %v %+v", ok, err, got)
	}
	if ok, err := f.GetJSON("absent", &got); ok || err != nil {
		t.Errorf("GetJSON(absent) = %v %v, want false nil", ok, err)
	}
	f.Metadata["bad"] = "{"
	if _, err := f.GetJSON("bad", &got); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("GetJSON(bad) error = %v, want one naming the key", err)
	}
}

func TestLoadParams(t *testing.T) {
	a := nn.NewParam("w", 2, 2)
	a.Value.Fill(3)
	b := nn.NewParam("b", 2)
	b.Value.Fill(4)
	f := New()
	if err := f.AddParams([]*nn.Param{a, b}); err != nil {
		t.Fatal(err)
	}
	f.Tensors[OptimPrefix+"w.exp_avg"] = tensor.New(2, 2)

	a2, b2, c2 := nn.NewParam("w", 2, 2), nn.NewParam("b", 3), nn.NewParam("c", 1)
	loaded, err := f.LoadParams([]*nn.Param{a2, b2, c2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0] != "w" || a2.Value.Data[0] != 3 || b2.Value.Data[0] != 0 {
		t.Errorf("non-strict load: loaded %v, w=%v b=%v", loaded, a2.Value, b2.Value)
	}
	if _, err := f.LoadParams([]*nn.Param{a2, b2}, true); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("strict load with a wrong shape: error %v, want one naming b", err)
	}
	if _, err := f.LoadParams([]*nn.Param{a2}, true); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("strict load with an extra tensor: error %v, want one naming b", err)
	}
	a3, b3 := nn.NewParam("w", 2, 2), nn.NewParam("b", 2)
	if _, err := f.LoadParams([]*nn.Param{a3, b3}, true); err != nil || b3.Value.Data[1] != 4 {
		t.Errorf("strict load: %v, b=%v", err, b3.Value)
	}
	if err := f.AddParams([]*nn.Param{a}); err == nil {
		t.Error("AddParams accepted a duplicate name")
	}
}

// craft builds a file from a literal header and data.
func craft(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// badFile is a malformed file and a part of the error Decode must give.
type badFile struct {
	name string
	file []byte
	want string
}

// badFiles are malformed and hostile files: truncations of good, a valid
// file, and headers whose lengths, shapes and offsets do not fit the file.
// FuzzRead starts from them too.
func badFiles(good []byte) []badFile {
	f8 := make([]byte, 8)
	return []badFile{
		{"empty", nil, "shorter than"},
		{"truncated data", good[:len(good)-3], "outside"},
		{"truncated header", good[:20], "truncated"},
		{"absurd header length", binary.LittleEndian.AppendUint64(nil, 1<<62), "exceeds the limit"},
		{"header longer than file", binary.LittleEndian.AppendUint64(nil, 1000), "truncated"},
		{"not json", craft("hello!!!", nil), "not a JSON object"},
		{"json array", craft("[1,2]   ", nil), "not a JSON object"},
		{"trailing", craft(`{} {}`, nil), "trailing"},
		{"unknown dtype", craft(`{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, f8), "unsupported dtype"},
		{"f64 unsupported", craft(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, f8), "unsupported dtype"},
		{"unknown field", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, f8), "unknown field"},
		{"size mismatch", craft(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, f8), "needs 4 bytes"},
		{"shape beyond the data area", craft(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f8), "larger than the file's data area of 8 bytes"},
		{"negative dim", craft(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f8), "negative"},
		{"huge shape", craft(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`, f8), "larger than the file"},
		{"offset out of range", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, f8), "outside"},
		{"reversed offsets", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, f8), "outside"},
		{"overlap", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f8), "overlaps"},
		{"gap", craft(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f8), "gap"},
		{"uncovered tail", craft(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f8), "cover 4 bytes"},
		{"bad metadata", craft(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"newer version", craft(`{"__metadata__":{"recur_format":"2"}}`, nil), "newer"},
		{"unknown version", craft(`{"__metadata__":{"recur_format":"beta"}}`, nil), "unknown format version"},
		{"header length 2^63", binary.LittleEndian.AppendUint64(nil, 1<<63), "exceeds the limit"},
		{"header length one past the file", append(binary.LittleEndian.AppendUint64(nil, 9), "{}      "...), "header length 9 but only 8 bytes follow"},
		{"end offset beyond int64", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775808]}}`, f8), `tensor "a"`},
		{"end offset at int64 max", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775807]}}`, f8), "outside"},
		{"negative offset", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, f8), "outside"},
		{"duplicate range", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f8), "overlaps"},
		{"empty tensor inside another", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, f8), "overlaps"},
		{"2^62 elements", craft(`{"a":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,8]}}`, f8), "larger than the file"},
		{"product overflows int64", craft(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`, f8), "larger than the file"},
		{"rank", craft(`{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}`, f8[:4]), "rank"},
	}
}

func TestRejectsBadFiles(t *testing.T) {
	good := encode(t, sample())
	f8 := make([]byte, 8)
	for _, tt := range badFiles(good) {
		_, err := decode(tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	// A plain safetensors file without recur metadata (as written by
	// PyTorch) is accepted.
	if _, err := decode(craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f8)); err != nil {
		t.Errorf("plain safetensors file: %v", err)
	}
	// Malformed-file errors wrap ErrFormat; the newer-version one does not.
	if _, err := decode(good[:len(good)-3]); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated file error %v does not wrap ErrFormat", err)
	}
}

// emptyLast is a valid file whose last tensor in the data area is empty:
// decoding it from a bytes.Reader failed with "tensor "z_empty": EOF"
// (the reader answers io.EOF to an empty read at its end).
func emptyLast() []byte {
	return craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z_empty":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}`, []byte{0, 0, 128, 63, 0, 0, 0, 64})
}

// eofAtEnd is an io.ReaderAt that reports io.EOF with a read that reaches
// the end of its data, as io.ReaderAt allows.
type eofAtEnd struct{ b []byte }

func (r eofAtEnd) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if off+int64(n) == int64(len(r.b)) {
		return n, io.EOF
	}
	return n, nil
}

// TestDecodeEmptyTensors: empty tensors, last in the file or with other
// dimensions larger than the file, decode from every kind of reader.
func TestDecodeEmptyTensors(t *testing.T) {
	f := sample()
	f.Tensors["z_empty"] = tensor.New(3, 0)
	only := New()
	only.Tensors["e"] = tensor.New(1<<40, 0, 7)
	files := map[string][]byte{"last tensor empty": emptyLast(), "sample plus z_empty": encode(t, f), "only an empty tensor": encode(t, only)}
	dir := t.TempDir()
	for name, b := range files {
		path := filepath.Join(dir, "f.safetensors")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fromFile, err := Read(path)
		if err != nil {
			t.Errorf("%s: Read: %v", name, err)
			continue
		}
		for reader, r := range map[string]io.ReaderAt{"bytes.Reader": bytes.NewReader(b), "strings.Reader": strings.NewReader(string(b)), "EOF at the end": eofAtEnd{b}} {
			got, err := Decode(r, int64(len(b)))
			if err != nil {
				t.Errorf("%s: Decode from a %s: %v", name, reader, err)
				continue
			}
			if fmt.Sprint(got.Tensors) != fmt.Sprint(fromFile.Tensors) {
				t.Errorf("%s: Decode from a %s = %v, Read = %v", name, reader, got.Tensors, fromFile.Tensors)
			}
		}
	}
	if got, err := decode(emptyLast()); err != nil || got.Tensors["a"].Data[1] != 2 || got.Tensors["z_empty"].Len() != 0 {
		t.Errorf("decode(emptyLast) = %v, %v", got, err)
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Encode(&buf, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(craft(`{"__metadata__":{"recur_format":"1"}}`, nil))
	f.Add(emptyLast())
	f.Add(craft(`{"q":{"dtype":"I8","shape":[3],"data_offsets":[0,3]},"s":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}`, []byte{1, 255, 127, 0, 0, 128, 63}))
	f.Add(craft(`{"h":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"s":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}`, []byte{0x80, 0x3f, 0xc0, 0x7f, 1, 0, 0, 0, 128, 63}))
	for _, bad := range badFiles(buf.Bytes()) {
		f.Add(bad.file)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decode(b)
		// A reader that reports io.EOF with the last bytes must give the
		// same answer.
		if _, err2 := Decode(eofAtEnd{b}, int64(len(b))); (err == nil) != (err2 == nil) {
			t.Fatalf("bytes.Reader: %v; io.EOF at the end: %v", err, err2)
		}
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same tensors.
		var out bytes.Buffer
		if err := Encode(&out, got); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := decode(out.Bytes())
		if err != nil {
			t.Fatalf("decode of re-encoded file: %v", err)
		}
		for n, tt := range got.Tensors {
			if a := again.Tensors[n]; a == nil || a.Len() != tt.Len() {
				t.Fatalf("tensor %q lost in round trip", n)
			}
		}
		for n, q := range got.Int8 {
			if a := again.Int8[n]; a == nil || !bytes.Equal(int8Bytes(a.Data), int8Bytes(q.Data)) {
				t.Fatalf("int8 tensor %q lost in round trip", n)
			}
		}
		for n, h := range got.BF16 {
			if a := again.BF16[n]; a == nil || !slices.Equal(a.Data, h.Data) || !slices.Equal(a.Shape, h.Shape) {
				t.Fatalf("bf16 tensor %q lost in round trip", n)
			}
		}
	})
}
