package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// Metadata keys that recur itself uses.
const (
	// MetaFormat holds the recur file format version, FormatVersion.
	MetaFormat = "recur_format"
	// FormatVersion is the version Write records and the newest Read accepts.
	FormatVersion = "1"
	// OptimPrefix prefixes optimizer-state tensors ("optim.<param>.<state>").
	OptimPrefix = "optim."
	// TrainPrefix prefixes other training-only tensors, such as the
	// recurrent state carried across truncated-BPTT chunks.
	TrainPrefix = "train."
)

// Limits that Read enforces before it allocates.
const (
	// MaxHeader is the largest JSON header Read accepts (64 MiB).
	MaxHeader = 64 << 20
	// MaxRank is the largest number of dimensions of a tensor.
	MaxRank = 8
)

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("checkpoint: malformed file")

// File is the content of a checkpoint: named float32 tensors (dtype
// F32), named int8 tensors (dtype I8: the weights of an int8 model),
// named bfloat16 tensors (dtype BF16: the weights of a bf16 model, or any
// tensor of a file another program wrote in bfloat16) and string
// metadata. A name belongs to one of the three maps at most.
type File struct {
	Tensors  map[string]*tensor.Tensor
	Int8     map[string]*Int8Tensor
	BF16     map[string]*BF16Tensor
	Metadata map[string]string
}

// Int8Tensor is a dense int8 tensor: Data holds the product of Shape's
// dimensions in row-major order.
type Int8Tensor struct {
	Shape []int
	Data  []int8
}

// BF16Tensor is a dense bfloat16 tensor: Data holds the bits of the
// product of Shape's dimensions in row-major order, each the top half of
// a float32 (safetensors' and PyTorch's bfloat16).
type BF16Tensor struct {
	Shape []int
	Data  []uint16
}

// Float32 returns t's values as a float32 tensor (exact).
func (t *BF16Tensor) Float32() *tensor.Tensor {
	f := tensor.New(t.Shape...)
	for i, h := range t.Data {
		f.Data[i] = math.Float32frombits(uint32(h) << 16)
	}
	return f
}

// New returns an empty File whose metadata holds the format version.
func New() *File {
	return &File{Tensors: map[string]*tensor.Tensor{}, Int8: map[string]*Int8Tensor{}, BF16: map[string]*BF16Tensor{}, Metadata: map[string]string{MetaFormat: FormatVersion}}
}

// Names returns the float32 tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Int8Names returns the int8 tensor names in sorted order.
func (f *File) Int8Names() []string { return sortedKeys(f.Int8) }

// BF16Names returns the bfloat16 tensor names in sorted order.
func (f *File) BF16Names() []string { return sortedKeys(f.BF16) }

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetJSON stores v, encoded as JSON, in the metadata under key.
func (f *File) SetJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("checkpoint: metadata %q: %w", key, err)
	}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	f.Metadata[key] = string(b)
	return nil
}

// GetJSON decodes the JSON metadata under key into v. It reports whether
// the key was present.
func (f *File) GetJSON(key string, v any) (bool, error) {
	s, ok := f.Metadata[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return true, fmt.Errorf("checkpoint: metadata %q: %w", key, err)
	}
	return true, nil
}

// AddParams stores the values of ps under their names.
// The tensors are shared with the parameters, not copied.
func (f *File) AddParams(ps []*nn.Param) error {
	for _, p := range ps {
		if _, dup := f.Tensors[p.Name]; dup {
			return fmt.Errorf("checkpoint: duplicate tensor name %q", p.Name)
		}
		f.Tensors[p.Name] = p.Value
	}
	return nil
}

// LoadParams copies the tensors named like the parameters of ps into them.
// With strict, every parameter must be present with its shape, and every
// tensor outside OptimPrefix and TrainPrefix must belong to a parameter; otherwise
// parameters without a tensor of the same shape are left as they are.
// It returns the names of the parameters it loaded.
func (f *File) LoadParams(ps []*nn.Param, strict bool) (loaded []string, err error) {
	seen := map[string]bool{}
	for _, p := range ps {
		t, ok := f.Tensors[p.Name]
		seen[p.Name] = true
		switch {
		case !ok:
			if strict {
				return nil, fmt.Errorf("checkpoint: parameter %q missing from file", p.Name)
			}
			continue
		case !slices.Equal(t.Shape, p.Value.Shape):
			if strict {
				return nil, fmt.Errorf("checkpoint: parameter %q has shape %v in file, model wants %v", p.Name, t.Shape, p.Value.Shape)
			}
			continue
		}
		p.Value.CopyFrom(t)
		loaded = append(loaded, p.Name)
	}
	if strict {
		for _, n := range f.Names() {
			if !seen[n] && !hasPrefix(n, OptimPrefix) && !hasPrefix(n, TrainPrefix) {
				return nil, fmt.Errorf("checkpoint: file has tensor %q that the model lacks", n)
			}
		}
		if ns := f.Int8Names(); len(ns) > 0 {
			return nil, fmt.Errorf("checkpoint: file has int8 tensor %q that a float32 model lacks (a quantized model's file loads through model.Load)", ns[0])
		}
		if ns := f.BF16Names(); len(ns) > 0 {
			return nil, fmt.Errorf("checkpoint: file has bf16 tensor %q that a float32 model lacks (a bf16 model's file loads through model.Load)", ns[0])
		}
	}
	return loaded, nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

type headerEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// dtypeSize is the size in bytes of an element of each dtype recur reads.
var dtypeSize = map[string]int64{"F32": 4, "I8": 1, "BF16": 2}

// entry validates h, the header of tensor name, against a data area of
// dataLen bytes: rank, dimensions, a byte size that fits the data area
// (computed without overflow) and offsets inside it that span that size.
func (h headerEntry) entry(name string, dataLen int64) (entry, error) {
	es := dtypeSize[h.DType]
	if len(h.Shape) > MaxRank {
		return entry{}, fmt.Errorf("%w: tensor %q: rank %d exceeds %d", ErrFormat, name, len(h.Shape), MaxRank)
	}
	for _, d := range h.Shape {
		if d < 0 {
			return entry{}, fmt.Errorf("%w: tensor %q: negative dimension in shape %v", ErrFormat, name, h.Shape)
		}
	}
	n := int64(0)
	if !slices.Contains(h.Shape, 0) { // an empty tensor fits any file, whatever its other dimensions
		n = 1
		for _, d := range h.Shape {
			if n > dataLen/es/int64(d) {
				return entry{}, fmt.Errorf("%w: tensor %q: shape %v is larger than the file's data area of %d bytes", ErrFormat, name, h.Shape, dataLen)
			}
			n *= int64(d)
		}
	}
	b, e := h.DataOffsets[0], h.DataOffsets[1]
	if b < 0 || e < b || e > dataLen {
		return entry{}, fmt.Errorf("%w: tensor %q: data offsets [%d, %d] outside the data area of %d bytes", ErrFormat, name, b, e, dataLen)
	}
	if e-b != es*n {
		return entry{}, fmt.Errorf("%w: tensor %q: shape %v needs %d bytes, offsets give %d", ErrFormat, name, h.Shape, es*n, e-b)
	}
	return entry{name: name, shape: h.Shape, begin: b, end: e, dtype: h.DType}, nil
}

// Encode writes f to w in the safetensors layout, tensors (float32, int8
// and bfloat16 together) in name order.
func Encode(w io.Writer, f *File) error {
	names, err := f.allNames()
	if err != nil {
		return err
	}
	header := make(map[string]any, len(names)+1)
	var off int64
	for _, n := range names {
		h, err := f.headerOf(n, off)
		if err != nil {
			return err
		}
		header[n] = h
		off = h.DataOffsets[1]
	}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("checkpoint: header: %w", err)
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	bw := &errWriter{w: w}
	var n8 [8]byte
	binary.LittleEndian.PutUint64(n8[:], uint64(len(hb)))
	bw.write(n8[:])
	bw.write(hb)
	buf := make([]byte, 0, 1<<16)
	flush := func() {
		if len(buf) >= cap(buf)-4 {
			bw.write(buf)
			buf = buf[:0]
		}
	}
	for _, n := range names {
		if q, ok := f.Int8[n]; ok {
			for _, v := range q.Data {
				buf = append(buf, byte(v))
				flush()
			}
			continue
		}
		if h, ok := f.BF16[n]; ok {
			for _, v := range h.Data {
				buf = binary.LittleEndian.AppendUint16(buf, v)
				flush()
			}
			continue
		}
		for _, v := range f.Tensors[n].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			flush()
		}
	}
	bw.write(buf)
	return bw.err
}

// allNames returns the names of f's float32, int8 and bfloat16 tensors,
// sorted, checking that none is in two maps or is reserved.
func (f *File) allNames() ([]string, error) {
	names := append(append(f.Names(), f.Int8Names()...), f.BF16Names()...)
	sort.Strings(names)
	for i, n := range names {
		switch {
		case n == "__metadata__" || n == "":
			return nil, fmt.Errorf("checkpoint: invalid tensor name %q", n)
		case i > 0 && names[i-1] == n:
			return nil, fmt.Errorf("checkpoint: tensor name %q is both %s", n, f.dtypesOf(n))
		}
	}
	return names, nil
}

// dtypesOf names the maps that hold n ("float32 and int8").
func (f *File) dtypesOf(n string) string {
	var in []string
	if _, ok := f.Tensors[n]; ok {
		in = append(in, "float32")
	}
	if _, ok := f.Int8[n]; ok {
		in = append(in, "int8")
	}
	if _, ok := f.BF16[n]; ok {
		in = append(in, "bf16")
	}
	return strings.Join(in, " and ")
}

// headerOf returns the header entry of tensor n with its data at byte off.
func (f *File) headerOf(n string, off int64) (headerEntry, error) {
	dtype, shape, size, numel := "F32", []int(nil), 0, 0
	if q, ok := f.Int8[n]; ok {
		dtype, shape, size, numel = "I8", q.Shape, len(q.Data), len(q.Data)
	} else if h, ok := f.BF16[n]; ok {
		dtype, shape, size, numel = "BF16", h.Shape, 2*len(h.Data), len(h.Data)
	} else {
		t := f.Tensors[n]
		shape, size, numel = t.Shape, 4*t.Len(), t.Len()
	}
	if numel != tensor.Numel(shape) {
		return headerEntry{}, fmt.Errorf("checkpoint: tensor %q: %d values for shape %v", n, numel, shape)
	}
	if shape == nil {
		shape = []int{}
	}
	return headerEntry{DType: dtype, Shape: shape, DataOffsets: [2]int64{off, off + int64(size)}}, nil
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// Write writes f to path atomically (see [WriteAtomic]).
func Write(path string, f *File) error {
	return WriteAtomic(path, func(w io.Writer) error { return Encode(w, f) })
}

// WriteAtomic writes a file at path through write, atomically: write
// fills a new temporary file in the same directory (created 0644, never
// through a symbolic link), which is synced and renamed over path, and the
// directory is synced. On any error the temporary file is removed and
// whatever was at path is left as it was. Errors name the path.
func WriteAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("checkpoint: syncing directory: %w", err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("checkpoint: syncing directory %s: %w", dir, serr)
	}
	if cerr != nil {
		return fmt.Errorf("checkpoint: closing directory %s: %w", dir, cerr)
	}
	return nil
}

// Read reads and validates the checkpoint at path. Errors name the file.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	f, err := Decode(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Decode reads a checkpoint of size bytes from r. It validates the header
// completely before allocating tensors, so a hostile size or offset costs
// no memory beyond the header itself (at most MaxHeader bytes, and never
// more than size).
func Decode(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the 8-byte header length", ErrFormat, size)
	}
	var n8 [8]byte
	if err := readFull(r, n8[:], 0); err != nil {
		return nil, fmt.Errorf("%w: reading header length: %v", ErrFormat, err)
	}
	hlen := binary.LittleEndian.Uint64(n8[:])
	if hlen > MaxHeader {
		return nil, fmt.Errorf("%w: header length %d exceeds the limit %d", ErrFormat, hlen, MaxHeader)
	}
	if int64(hlen) > size-8 {
		return nil, fmt.Errorf("%w: header length %d but only %d bytes follow (truncated?)", ErrFormat, hlen, size-8)
	}
	hb := make([]byte, hlen)
	if err := readFull(r, hb, 8); err != nil {
		return nil, fmt.Errorf("%w: reading header: %v", ErrFormat, err)
	}
	dataStart := 8 + int64(hlen)
	dataLen := size - dataStart
	entries, meta, err := parseHeader(hb, dataLen)
	if err != nil {
		return nil, err
	}
	if v, ok := meta[MetaFormat]; ok && v != FormatVersion {
		if n, err := strconv.Atoi(v); err == nil && n > 1 {
			return nil, fmt.Errorf("checkpoint: format version %s is newer than this recur reads (%s); upgrade recur", v, FormatVersion)
		}
		return nil, fmt.Errorf("%w: unknown format version %q", ErrFormat, v)
	}
	f := &File{Tensors: make(map[string]*tensor.Tensor, len(entries)), Int8: map[string]*Int8Tensor{}, BF16: map[string]*BF16Tensor{}, Metadata: meta}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	raw := make([]byte, 0)
	for _, e := range entries {
		nb := int(e.end - e.begin)
		if cap(raw) < nb {
			raw = make([]byte, nb)
		}
		raw = raw[:nb]
		if err := readFull(r, raw, dataStart+e.begin); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, e.name, err)
		}
		switch e.dtype {
		case "I8":
			q := &Int8Tensor{Shape: e.shape, Data: make([]int8, nb)}
			for i, b := range raw {
				q.Data[i] = int8(b)
			}
			f.Int8[e.name] = q
			continue
		case "BF16":
			h := &BF16Tensor{Shape: e.shape, Data: make([]uint16, nb/2)}
			for i := range h.Data {
				h.Data[i] = binary.LittleEndian.Uint16(raw[2*i:])
			}
			f.BF16[e.name] = h
			continue
		}
		t := tensor.New(e.shape...)
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		f.Tensors[e.name] = t
	}
	return f, nil
}

// readFull reads len(p) bytes of r at off. An empty p reads nothing: a
// bytes.Reader answers io.EOF even to an empty read at the end of its data,
// which made a file whose last tensor is empty unreadable. A full read that
// also reports io.EOF (which io.ReaderAt allows at the end of the input)
// succeeds.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := r.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil || err == io.EOF:
		return io.ErrUnexpectedEOF
	}
	return err
}

type entry struct {
	name       string
	shape      []int
	begin, end int64
	dtype      string // F32, I8 or BF16
}

// parseHeader decodes and validates the JSON header against a data area of
// dataLen bytes. The entries it returns are sorted by offset and tile
// [0, dataLen) exactly.
func parseHeader(hb []byte, dataLen int64) ([]entry, map[string]string, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hb))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("%w: header is not a JSON object: %v", ErrFormat, err)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimRight(rest, " ")) > 0 {
		return nil, nil, fmt.Errorf("%w: trailing bytes after the JSON header", ErrFormat)
	}
	var meta map[string]string
	entries := make([]entry, 0, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrFormat, err)
			}
			continue
		}
		if name == "" {
			return nil, nil, fmt.Errorf("%w: empty tensor name", ErrFormat)
		}
		var h headerEntry
		d := json.NewDecoder(bytes.NewReader(msg))
		d.DisallowUnknownFields()
		if err := d.Decode(&h); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, name, err)
		}
		if dtypeSize[h.DType] == 0 {
			return nil, nil, fmt.Errorf("%w: tensor %q: unsupported dtype %q (recur reads F32, I8 and BF16)", ErrFormat, name, h.DType)
		}
		e, err := h.entry(name, dataLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var at int64
	for _, e := range entries {
		switch {
		case e.begin < at:
			return nil, nil, fmt.Errorf("%w: tensor %q overlaps the tensor before it (offset %d < %d)", ErrFormat, e.name, e.begin, at)
		case e.begin > at:
			return nil, nil, fmt.Errorf("%w: gap in the data area before tensor %q (offset %d, expected %d)", ErrFormat, e.name, e.begin, at)
		}
		at = e.end
	}
	if at != dataLen {
		return nil, nil, fmt.Errorf("%w: tensors cover %d bytes of a %d-byte data area", ErrFormat, at, dataLen)
	}
	return entries, meta, nil
}
