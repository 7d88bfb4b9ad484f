package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/tensor"
)

// IDX is the content of an IDX file of unsigned bytes (type 0x08), the
// format of the MNIST files: a shape and the values in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

// maxIDX bounds the size an IDX header may claim (MNIST's training images
// are 47 MB).
const maxIDX = 1 << 30

// ReadIDX reads an IDX file of unsigned bytes, gzipped or raw (detected by
// the gzip magic). name is used in errors, which say what is wrong and at
// which byte offset: a bad magic number, a zero or oversized dimension,
// truncated data or trailing bytes.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	br := bufio.NewReader(r)
	if m, err := br.Peek(2); err == nil && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var magic [4]byte
	if n, err := io.ReadFull(br, magic[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, fmt.Errorf("%s: empty file", name)
		}
		return nil, fmt.Errorf("%s: truncated header: %d of 4 magic bytes", name, n)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%s: offset 0: bad magic % x, want 00 00 08 <ndims>", name, magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("%s: offset 2: data type 0x%02x, only unsigned bytes (0x08) are supported", name, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, fmt.Errorf("%s: offset 3: zero dimensions", name)
	}
	x := &IDX{Dims: make([]int, nd)}
	total := 1
	for i := range x.Dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%s: offset %d: truncated header: dimension %d of %d missing", name, 4+4*i, i+1, nd)
		}
		if d == 0 || uint64(total)*uint64(d) > maxIDX {
			return nil, fmt.Errorf("%s: offset %d: dimension %d is %d (total over %d values or zero)", name, 4+4*i, i+1, d, maxIDX)
		}
		x.Dims[i] = int(d)
		total *= int(d)
	}
	// Read what is there, at most one byte more than claimed, so a hostile
	// header cannot make us allocate more than the file holds.
	data, err := io.ReadAll(io.LimitReader(br, int64(total)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	hdr := 4 + 4*nd
	switch {
	case len(data) < total:
		return nil, fmt.Errorf("%s: offset %d: truncated data: %d of %d bytes for shape %v", name, hdr+len(data), len(data), total, x.Dims)
	case len(data) > total:
		return nil, fmt.Errorf("%s: offset %d: trailing bytes after %d values of shape %v", name, hdr+total, total, x.Dims)
	}
	x.Data = data
	return x, nil
}

// ReadIDXFile opens and reads an IDX file (see ReadIDX).
func ReadIDXFile(path string) (*IDX, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return ReadIDX(fh, filepath.Base(path))
}

// MNIST is a set of images as row-by-row sequences, with their labels.
type MNIST struct {
	// Images is (N, T, I) with T the image rows and I the columns
	// (28 × 28 for MNIST): step t of sequence n is row t of image n,
	// pixels scaled to [0, 1] (byte / 255).
	Images *tensor.Tensor
	Labels []int // N class indices
}

// Len returns the number of images.
func (m *MNIST) Len() int { return len(m.Labels) }

// NewMNIST pairs image and label IDX data: images must be 3-D (N, rows,
// columns), labels 1-D (N) with values below 10.
func NewMNIST(images, labels *IDX) (*MNIST, error) {
	if len(images.Dims) != 3 {
		return nil, fmt.Errorf("dataset: images have shape %v, want (N, rows, columns)", images.Dims)
	}
	if len(labels.Dims) != 1 {
		return nil, fmt.Errorf("dataset: labels have shape %v, want (N)", labels.Dims)
	}
	if images.Dims[0] != labels.Dims[0] {
		return nil, fmt.Errorf("dataset: %d images but %d labels", images.Dims[0], labels.Dims[0])
	}
	m := &MNIST{Images: tensor.New(images.Dims...), Labels: make([]int, labels.Dims[0])}
	var lut [256]float32
	for b := range lut {
		lut[b] = float32(b) / 255
	}
	for i, b := range images.Data {
		m.Images.Data[i] = lut[b]
	}
	for i, b := range labels.Data {
		if b > 9 {
			return nil, fmt.Errorf("dataset: label %d is %d, want 0-9", i, b)
		}
		m.Labels[i] = int(b)
	}
	return m, nil
}

// LoadMNIST reads an image file and its label file (gzipped or raw), for
// example train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz.
func LoadMNIST(imagesPath, labelsPath string) (*MNIST, error) {
	im, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	m, err := NewMNIST(im, lb)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", filepath.Base(imagesPath), filepath.Base(labelsPath), err)
	}
	return m, nil
}

// EncodeIDX returns the raw IDX encoding of unsigned bytes with the given
// shape; tests and tools use it to write small files.
func EncodeIDX(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

// HoldOut splits off the last n images as a validation set: train holds
// the first Len()−n. Both share m's memory.
func (m *MNIST) HoldOut(n int) (train, valid *MNIST, err error) {
	if n < 1 || n >= m.Len() {
		return nil, nil, fmt.Errorf("dataset: hold out %d of %d images, want 1 to %d", n, m.Len(), m.Len()-1)
	}
	k := m.Len() - n
	train = &MNIST{Images: m.Images.Slice(0, k), Labels: m.Labels[:k:k]}
	valid = &MNIST{Images: m.Images.Slice(k, m.Len()), Labels: m.Labels[k:]}
	return train, valid, nil
}
