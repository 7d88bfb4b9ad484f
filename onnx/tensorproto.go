package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/tensor"
)

// konst is a tensor whose value the graph fixes: an initializer, a
// Constant node, a bound input, or what shape operations make of them.
// Floating-point types are held as float32 (f), integer and boolean types
// as int64 (i); one of the two is set.
type konst struct {
	shape []int
	f     []float32
	i     []int64
}

func (k *konst) len() int { return numel(k.shape) }

// isInt reports whether k holds integers.
func (k *konst) isInt() bool { return k.f == nil }

// ints returns k's values as int64 (floats truncated).
func (k *konst) ints() []int64 {
	if k.isInt() {
		return k.i
	}
	out := make([]int64, len(k.f))
	for j, v := range k.f {
		out[j] = int64(v)
	}
	return out
}

// floats returns k's values as float32.
func (k *konst) floats() []float32 {
	if !k.isInt() {
		return k.f
	}
	out := make([]float32, len(k.i))
	for j, v := range k.i {
		out[j] = float32(v)
	}
	return out
}

// allZero reports whether every value of k is 0.
func (k *konst) allZero() bool {
	for _, v := range k.f {
		if v != 0 {
			return false
		}
	}
	for _, v := range k.i {
		if v != 0 {
			return false
		}
	}
	return true
}

// tensor returns k as a float32 tensor (a copy).
func (k *konst) tensor() *tensor.Tensor {
	return tensor.FromSlice(append([]float32(nil), k.floats()...), k.shape...)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxElements bounds the elements of one tensor: the protobuf format
// holds at most 2 GiB, so no honest tensor has more.
const maxElements = 1 << 31

// decodeTensor converts a TensorProto to a konst. Its dimensions must be
// non-negative and agree with the data it carries (raw_data or the typed
// field), which bounds every allocation by the file's size; data stored
// outside the file, strings and complex numbers are refused.
func decodeTensor(t *pb.TensorProto) (*konst, error) {
	name := t.GetName()
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fmt.Errorf("tensor %q: its data is stored outside the file (external data): not supported", name)
	}
	if t.GetSegment() != nil {
		return nil, fmt.Errorf("tensor %q: segmented tensors are not supported", name)
	}
	k := &konst{shape: make([]int, len(t.GetDims()))}
	n := int64(1)
	for j, d := range t.GetDims() {
		if d < 0 || d > maxElements || n*d > maxElements {
			return nil, fmt.Errorf("tensor %q: dimensions %v: want non-negative sizes of at most %d elements in all", name, t.GetDims(), maxElements)
		}
		k.shape[j] = int(d)
		n *= d
	}
	if err := k.fill(t, int(n)); err != nil {
		return nil, fmt.Errorf("tensor %q (dimensions %v): %w", name, t.GetDims(), err)
	}
	return k, nil
}

// elemSize is the size in raw_data of each element type read.
var elemSize = map[pb.TensorProto_DataType]int{
	pb.TensorProto_FLOAT: 4, pb.TensorProto_DOUBLE: 8, pb.TensorProto_FLOAT16: 2,
	pb.TensorProto_INT64: 8, pb.TensorProto_INT32: 4, pb.TensorProto_INT16: 2, pb.TensorProto_INT8: 1,
	pb.TensorProto_UINT8: 1, pb.TensorProto_UINT16: 2, pb.TensorProto_UINT32: 4, pb.TensorProto_UINT64: 8, pb.TensorProto_BOOL: 1,
}

// fill reads the n values of t into k.
func (k *konst) fill(t *pb.TensorProto, n int) error {
	dt := pb.TensorProto_DataType(t.GetDataType())
	size, ok := elemSize[dt]
	if !ok {
		return fmt.Errorf("element type %v is not supported (want a float or integer type)", dt)
	}
	if raw := t.GetRawData(); len(raw) > 0 || n == 0 {
		if len(raw) != n*size {
			return fmt.Errorf("raw_data holds %d bytes, want %d (%d elements of %d bytes)", len(raw), n*size, n, size)
		}
		k.fromRaw(dt, raw, n)
		return nil
	}
	return k.fromFields(t, dt, n)
}

// fromRaw decodes n little-endian elements of type dt.
func (k *konst) fromRaw(dt pb.TensorProto_DataType, raw []byte, n int) {
	le := binary.LittleEndian
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16:
		k.f = make([]float32, n)
		for j := range k.f {
			switch dt {
			case pb.TensorProto_FLOAT:
				k.f[j] = math.Float32frombits(le.Uint32(raw[4*j:]))
			case pb.TensorProto_DOUBLE:
				k.f[j] = float32(math.Float64frombits(le.Uint64(raw[8*j:])))
			default:
				k.f[j] = half(le.Uint16(raw[2*j:]))
			}
		}
		return
	}
	k.i = make([]int64, n)
	for j := range k.i {
		switch dt {
		case pb.TensorProto_INT64, pb.TensorProto_UINT64:
			k.i[j] = int64(le.Uint64(raw[8*j:]))
		case pb.TensorProto_INT32:
			k.i[j] = int64(int32(le.Uint32(raw[4*j:])))
		case pb.TensorProto_UINT32:
			k.i[j] = int64(le.Uint32(raw[4*j:]))
		case pb.TensorProto_INT16:
			k.i[j] = int64(int16(le.Uint16(raw[2*j:])))
		case pb.TensorProto_UINT16:
			k.i[j] = int64(le.Uint16(raw[2*j:]))
		case pb.TensorProto_INT8:
			k.i[j] = int64(int8(raw[j]))
		default: // UINT8, BOOL
			k.i[j] = int64(raw[j])
		}
	}
}

// fromFields reads n elements of type dt from t's typed field (float_data
// for float, double_data for double, int32_data for float16 bits and the
// small integer types, int64_data, uint64_data).
func (k *konst) fromFields(t *pb.TensorProto, dt pb.TensorProto_DataType, n int) error {
	var got int
	switch dt {
	case pb.TensorProto_FLOAT:
		k.f, got = append([]float32(nil), t.GetFloatData()...), len(t.GetFloatData())
	case pb.TensorProto_DOUBLE:
		got = len(t.GetDoubleData())
		for _, v := range t.GetDoubleData() {
			k.f = append(k.f, float32(v))
		}
	case pb.TensorProto_FLOAT16:
		got = len(t.GetInt32Data())
		for _, v := range t.GetInt32Data() {
			k.f = append(k.f, half(uint16(v)))
		}
	case pb.TensorProto_INT64:
		k.i, got = append([]int64(nil), t.GetInt64Data()...), len(t.GetInt64Data())
	case pb.TensorProto_UINT64, pb.TensorProto_UINT32:
		got = len(t.GetUint64Data())
		for _, v := range t.GetUint64Data() {
			k.i = append(k.i, int64(v))
		}
	default:
		got = len(t.GetInt32Data())
		for _, v := range t.GetInt32Data() {
			k.i = append(k.i, int64(v))
		}
	}
	if got != n {
		return fmt.Errorf("holds %d values, want %d", got, n)
	}
	if k.f == nil && k.i == nil { // n == 0
		k.i = []int64{}
	}
	return nil
}

// half converts IEEE 754 binary16 bits to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac · 2^-24
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
