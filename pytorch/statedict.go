package pytorch

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/tensor"
)

// StateDict is the tensors of a torch.save file, by key.
type StateDict struct {
	// Keys are the tensors' keys in the file's order; a dict inside the
	// saved dict (a checkpoint's {"model": state_dict, ...}) has its keys
	// prefixed with the outer key and a dot.
	Keys []string
	// Tensors are the tensors by key, as float32 whatever their element
	// type in the file (integers converted).
	Tensors map[string]*tensor.Tensor
}

// Limits on a file.
const (
	// MaxPickle bounds the size of data.pkl, the file's object graph:
	// a state dict's is a few bytes per tensor.
	MaxPickle = 64 << 20
	// maxNesting bounds how deep dicts nest inside the saved one.
	maxNesting = 8
)

// elemSizes are the bytes per element of the storages read.
var elemSizes = map[string]int{"Float": 4, "Double": 8, "Half": 2, "BFloat16": 2, "Long": 8, "Int": 4, "Short": 2, "Char": 1, "Byte": 1, "Bool": 1}

// Open reads a torch.save file (see Read).
func Open(path string) (*StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sd, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sd, nil
}

// Read reads a file torch.save wrote (PyTorch 1.6 and later: a zip of
// ARCHIVE/data.pkl, the pickled object, and ARCHIVE/data/KEY, each
// storage's raw little-endian bytes) holding a state dict, or dicts of
// them. The pickle may hold only what a state dict holds (see the package
// documentation); anything else is an error, and nothing is executed.
func Read(r io.ReaderAt, size int64) (*StateDict, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("pytorch: not a torch.save zip file (PyTorch 1.6 or later; an older file must be saved again): %w", err)
	}
	files := map[string]*zip.File{}
	var pkl *zip.File
	for _, f := range z.File {
		files[f.Name] = f
		dir, base, ok := strings.Cut(f.Name, "/")
		if ok && base == "data.pkl" && !strings.Contains(dir, "/") {
			if pkl != nil {
				return nil, errors.New("pytorch: two data.pkl in the archive")
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, errors.New("pytorch: no ARCHIVE/data.pkl: not a file torch.save wrote")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	b, err := readEntry(pkl, MaxPickle, true)
	if err != nil {
		return nil, err
	}
	obj, err := unpickle(b)
	if err != nil {
		return nil, fmt.Errorf("pytorch: %s: %w", pkl.Name, err)
	}
	d, ok := obj.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("pytorch: the file holds a %s, not a state dict", pyType(obj))
	}
	sd := &StateDict{Tensors: map[string]*tensor.Tensor{}}
	cache := map[string][]byte{}
	load := func(s *storageRef) ([]byte, error) {
		if b, ok := cache[s.key]; ok && int64(len(b)) == s.numel*int64(elemSizes[s.dtype]) {
			return b, nil
		}
		f, ok := files[prefix+"data/"+s.key]
		if !ok {
			return nil, fmt.Errorf("pytorch: storage %q is not in the archive", s.key)
		}
		b, err := readEntry(f, s.numel*int64(elemSizes[s.dtype]), false)
		if err == nil {
			cache[s.key] = b
		}
		return b, err
	}
	if err := sd.add("", d, load, 0); err != nil {
		return nil, err
	}
	return sd, nil
}

// readEntry reads a zip entry of want bytes (with atMost, of at most
// want), checking its declared size before it allocates.
func readEntry(f *zip.File, want int64, atMost bool) ([]byte, error) {
	n := int64(f.UncompressedSize64)
	if f.UncompressedSize64 > math.MaxInt32 || atMost && n > want || !atMost && n != want {
		return nil, fmt.Errorf("pytorch: %s holds %d bytes, want %s%d", f.Name, f.UncompressedSize64, map[bool]string{true: "at most ", false: ""}[atMost], want)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("pytorch: %s: %w", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("pytorch: %s: %w", f.Name, err)
	}
	return b, nil
}

// add adds the tensors of dict d under prefix, and those of the dicts it
// holds; other values (numbers, strings, lists) are not tensors and are
// skipped.
func (sd *StateDict) add(prefix string, d *pyDict, load func(*storageRef) ([]byte, error), depth int) error {
	if depth > maxNesting {
		return errors.New("pytorch: dicts nested too deep")
	}
	for _, k := range d.keys {
		key := prefix + keyString(k)
		switch v := d.vals[k].(type) {
		case *tensorRef:
			if _, dup := sd.Tensors[key]; dup {
				return fmt.Errorf("pytorch: two tensors named %q", key)
			}
			t, err := v.materialize(load)
			if err != nil {
				return fmt.Errorf("pytorch: tensor %q: %w", key, err)
			}
			sd.Keys = append(sd.Keys, key)
			sd.Tensors[key] = t
		case *pyDict:
			if err := sd.add(key+".", v, load, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func keyString(k any) string {
	switch v := k.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(k)
}

func pyType(v any) string {
	switch v.(type) {
	case *pyList:
		return "list"
	case pyTuple:
		return "tuple"
	case *tensorRef:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

// materialize reads t's elements from its storage as float32: the view
// (offset, sizes, strides) must lie inside the storage and hold no more
// elements than it, so a file cannot ask for more memory than it holds.
func (t *tensorRef) materialize(load func(*storageRef) ([]byte, error)) (*tensor.Tensor, error) {
	size, ok := elemSizes[t.storage.dtype]
	if !ok {
		return nil, fmt.Errorf("storage type %sStorage is not supported", t.storage.dtype)
	}
	numel := t.storage.numel
	n, last := int64(1), t.offset
	for i, d := range t.size {
		if d > 1 && t.stride[i] > numel || d > numel && numel > 0 {
			return nil, fmt.Errorf("size %v and stride %v do not fit its storage of %d elements", t.size, t.stride, numel)
		}
		n *= d
		if d > 0 {
			last += (d - 1) * t.stride[i]
		}
		if n > numel || last > numel {
			break
		}
	}
	if n > 0 && (n > numel || last >= numel) {
		return nil, fmt.Errorf("size %v, stride %v and offset %d reach past its storage of %d elements", t.size, t.stride, t.offset, numel)
	}
	raw, err := load(t.storage)
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(t.size))
	for i, d := range t.size {
		shape[i] = int(d)
	}
	out := tensor.New(shape...)
	idx := make([]int64, len(t.size))
	for j := range out.Data {
		off := t.offset
		for i, v := range idx {
			off += v * t.stride[i]
		}
		out.Data[j] = element(raw[off*int64(size):], t.storage.dtype)
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < t.size[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

// element decodes one little-endian element of type dtype as float32.
func element(b []byte, dtype string) float32 {
	le := binary.LittleEndian
	switch dtype {
	case "Float":
		return math.Float32frombits(le.Uint32(b))
	case "Double":
		return float32(math.Float64frombits(le.Uint64(b)))
	case "Half":
		return half(le.Uint16(b))
	case "BFloat16":
		return math.Float32frombits(uint32(le.Uint16(b)) << 16)
	case "Long":
		return float32(int64(le.Uint64(b)))
	case "Int":
		return float32(int32(le.Uint32(b)))
	case "Short":
		return float32(int16(le.Uint16(b)))
	case "Char":
		return float32(int8(b[0]))
	}
	return float32(b[0]) // Byte, Bool
}

// half converts IEEE 754 binary16 bits to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
