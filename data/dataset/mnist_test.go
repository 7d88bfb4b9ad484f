package dataset

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinyMNIST writes 2 images of 3×2 pixels and their labels.
func tinyMNIST(t *testing.T, zip bool) (string, string) {
	dir := t.TempDir()
	im := EncodeIDX([]int{2, 3, 2}, []byte{0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6})
	lb := EncodeIDX([]int{2}, []byte{7, 0})
	if zip {
		im, lb = gz(t, im), gz(t, lb)
	}
	ip, lp := filepath.Join(dir, "images.idx"), filepath.Join(dir, "labels.idx")
	if err := os.WriteFile(ip, im, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lp, lb, 0o644); err != nil {
		t.Fatal(err)
	}
	return ip, lp
}

func TestLoadMNIST(t *testing.T) {
	for _, zip := range []bool{false, true} {
		m, err := LoadMNIST(tinyMNIST(t, zip))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.Images.Shape, []int{2, 3, 2}) || !slices.Equal(m.Labels, []int{7, 0}) {
			t.Fatalf("gzip %v: got shape %v labels %v, want [2 3 2] [7 0]", zip, m.Images.Shape, m.Labels)
		}
		// Image 0, row 1 (time step 1) is pixels 51, 102.
		if got, want := m.Images.Row(0).Row(1).Data, []float32{0.2, 0.4}; !slices.Equal(got, want) {
			t.Errorf("gzip %v: step 1 of image 0 = %v, want %v", zip, got, want)
		}
		if m.Images.Data[1] != 1 || m.Images.Data[0] != 0 {
			t.Errorf("gzip %v: pixels 0, 255 read as %v %v, want 0 1", zip, m.Images.Data[0], m.Images.Data[1])
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := EncodeIDX([]int{2, 2}, []byte{1, 2, 3, 4})
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "x.idx: empty file"},
		{"short magic", []byte{0, 0}, "x.idx: truncated header: 2 of 4 magic bytes"},
		{"bad magic", []byte{1, 2, 8, 1, 0, 0, 0, 1, 0}, "x.idx: offset 0: bad magic 01 02 08 01"},
		{"float type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "x.idx: offset 2: data type 0x0d"},
		{"no dims", []byte{0, 0, 8, 0}, "x.idx: offset 3: zero dimensions"},
		{"short dims", []byte{0, 0, 8, 2, 0, 0, 0, 2, 0}, "x.idx: offset 8: truncated header: dimension 2 of 2 missing"},
		{"zero dim", EncodeIDX([]int{0}, nil), "x.idx: offset 4: dimension 1 is 0"},
		{"huge dims", EncodeIDX([]int{1 << 16, 1 << 16}, []byte{1}), "x.idx: offset 8: dimension 2 is 65536 (total over"},
		{"truncated data", good[:len(good)-1], "x.idx: offset 15: truncated data: 3 of 4 bytes for shape [2 2]"},
		{"trailing", append(slices.Clone(good), 9), "x.idx: offset 16: trailing bytes after 4 values of shape [2 2]"},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, "x.idx: gzip:"},
		{"truncated gzip", gz(t, good)[:20], "x.idx:"},
	}
	for _, tt := range tests {
		_, err := ReadIDX(bytes.NewReader(tt.b), "x.idx")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error starting %q", tt.name, err, tt.want)
		}
	}
	if x, err := ReadIDX(bytes.NewReader(good), "x.idx"); err != nil || !slices.Equal(x.Data, []byte{1, 2, 3, 4}) {
		t.Errorf("good file: got %v %v", x, err)
	}
}

func TestNewMNISTErrors(t *testing.T) {
	im := &IDX{Dims: []int{2, 1, 1}, Data: []byte{1, 2}}
	tests := []struct {
		im, lb *IDX
		want   string
	}{
		{im, &IDX{Dims: []int{3}, Data: []byte{1, 2, 3}}, "2 images but 3 labels"},
		{im, &IDX{Dims: []int{2}, Data: []byte{1, 10}}, "label 1 is 10"},
		{&IDX{Dims: []int{2}, Data: []byte{1, 2}}, &IDX{Dims: []int{2}, Data: []byte{1, 2}}, "images have shape [2]"},
		{im, im, "labels have shape [2 1 1]"},
	}
	for _, tt := range tests {
		if _, err := NewMNIST(tt.im, tt.lb); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want an error containing %q", err, tt.want)
		}
	}
	ip, _ := tinyMNIST(t, false)
	if _, err := LoadMNIST(ip, ip); err == nil || !strings.Contains(err.Error(), "images.idx, images.idx: dataset: labels have shape") {
		t.Errorf("images as labels: got %v", err)
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(EncodeIDX([]int{2, 2}, []byte{1, 2, 3, 4}))
	f.Add(gz(f, EncodeIDX([]int{3}, []byte{1, 2, 3})))
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadIDX(bytes.NewReader(b), "fuzz.idx")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.idx: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("shape %v with %d values", x.Dims, len(x.Data))
		}
	})
}

func TestHoldOut(t *testing.T) {
	m, err := LoadMNIST(tinyMNIST(t, false))
	if err != nil {
		t.Fatal(err)
	}
	tr, va, err := m.HoldOut(1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 1 || va.Len() != 1 || va.Labels[0] != 0 || !slices.Equal(va.Images.Shape, []int{1, 3, 2}) || va.Images.Data[0] != m.Images.Data[6] {
		t.Errorf("got train %d valid %d %v %v", tr.Len(), va.Len(), va.Labels, va.Images.Shape)
	}
	for _, n := range []int{0, 2} {
		if _, _, err := m.HoldOut(n); err == nil {
			t.Errorf("HoldOut(%d) of 2: got no error", n)
		}
	}
}
