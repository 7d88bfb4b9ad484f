package pytorch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// A pickle reader restricted to what torch.save writes for a state dict:
// the opcodes of protocols 2 to 5 that build dicts, lists, tuples,
// strings, numbers and booleans, and calls of an allow-list of globals,
// PyTorch's own for torch.load(weights_only=True) reduced to state dicts:
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// _rebuild_parameter, and the typed storages (torch.FloatStorage, ...),
// which only name an element type. Nothing is executed: a call of an
// allowed global is interpreted here, and any other global, or an opcode
// outside the list, is an error.

// pyTuple and pyList are Python's tuple and list.
type (
	pyTuple []any
	pyList  struct{ items []any }
)

// pyDict is a dict or OrderedDict, keys in insertion order.
type pyDict struct {
	keys []any
	vals map[any]any
}

func newDict() *pyDict { return &pyDict{vals: map[any]any{}} }

func (d *pyDict) set(k, v any) error {
	if !hashable(k) {
		return fmt.Errorf("pickle: an unhashable dict key (%T)", k)
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return nil
}

func hashable(k any) bool {
	switch k.(type) {
	case string, int64, float64, bool, pyNone:
		return true
	}
	return false
}

// pyNone is Python's None.
type pyNone struct{}

// pyGlobal is an allowed global: a class or function a REDUCE may call.
type pyGlobal struct{ module, name string }

// storageRef is a tensor storage a persistent id names: its element
// type, its key in the archive (data/KEY) and its number of elements.
type storageRef struct {
	dtype string // Float, Double, Half, BFloat16, Long, Int, Short, Char, Byte, Bool
	key   string
	numel int64
}

// tensorRef is a tensor rebuilt from a storage: its offset, sizes and
// strides in elements.
type tensorRef struct {
	storage      *storageRef
	offset       int64
	size, stride []int64
}

// mark is the stack marker of MARK.
type mark struct{}

// allowedGlobals are the globals a state dict's pickle may name.
var allowedGlobals = map[string]bool{
	"collections.OrderedDict":         true,
	"torch._utils._rebuild_tensor_v2": true,
	"torch._utils._rebuild_parameter": true,
	"torch.FloatStorage":              true,
	"torch.DoubleStorage":             true,
	"torch.HalfStorage":               true,
	"torch.BFloat16Storage":           true,
	"torch.LongStorage":               true,
	"torch.IntStorage":                true,
	"torch.ShortStorage":              true,
	"torch.CharStorage":               true,
	"torch.ByteStorage":               true,
	"torch.BoolStorage":               true,
}

// Limits on what a pickle may build, far above a state dict's needs.
const (
	maxStack = 1 << 16 // values on the stack (and in one MARK group)
	maxMemo  = 1 << 20 // memo entries
	maxRank  = 8       // tensor dimensions
	// maxStorage bounds a storage's elements (8 GiB of float32 would be
	// twice that: no state dict recur trains has a tensor near it).
	maxStorage = 1 << 31
)

// unpickler is the state of one unpickling.
type unpickler struct {
	b     []byte
	pos   int
	stack []any
	marks []int
	memo  map[int64]any
}

// unpickle runs the pickle b and returns the object it builds.
func unpickle(b []byte) (any, error) {
	u := &unpickler{b: b, memo: map[int64]any{}}
	for {
		if u.pos >= len(u.b) {
			return nil, errors.New("pickle: truncated: no STOP")
		}
		op := u.b[u.pos]
		u.pos++
		done, err := u.step(op)
		if err != nil {
			return nil, fmt.Errorf("pickle: at byte %d (opcode 0x%02x): %w", u.pos-1, op, err)
		}
		if done {
			if len(u.stack) != 1 || len(u.marks) != 0 {
				return nil, fmt.Errorf("pickle: STOP with %d values on the stack", len(u.stack))
			}
			return u.stack[0], nil
		}
		if len(u.stack) > maxStack {
			return nil, errors.New("pickle: the stack is too deep")
		}
	}
}

// step runs one opcode; done is set by STOP.
func (u *unpickler) step(op byte) (done bool, err error) {
	switch op {
	case '.': // STOP
		return true, nil
	case 0x80: // PROTO
		v, err := u.bytes(1)
		if err == nil && (v[0] < 2 || v[0] > 5) {
			err = fmt.Errorf("protocol %d: want 2 to 5", v[0])
		}
		return false, err
	case 0x95: // FRAME: a length, the frame itself is inline
		_, err := u.bytes(8)
		return false, err
	case '(': // MARK
		u.marks = append(u.marks, len(u.stack))
		if len(u.marks) > maxStack {
			return false, errors.New("too many marks")
		}
		return false, nil
	}
	if f, ok := pushOps[op]; ok {
		v, err := f(u)
		if err != nil {
			return false, err
		}
		u.push(v)
		return false, nil
	}
	if f, ok := stackOps[op]; ok {
		return false, f(u)
	}
	return false, fmt.Errorf("opcode 0x%02x is not one a state dict uses", op)
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

// pop removes and returns the top value.
func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || len(u.marks) > 0 && u.marks[len(u.marks)-1] == len(u.stack) {
		return nil, errors.New("pop from an empty stack")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

// top returns the top value without removing it.
func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 {
		return nil, errors.New("empty stack")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark removes and returns the values above the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

// bytes consumes n bytes.
func (u *unpickler) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(u.b)-u.pos {
		return nil, fmt.Errorf("truncated: %d bytes wanted, %d left", n, len(u.b)-u.pos)
	}
	v := u.b[u.pos : u.pos+n]
	u.pos += n
	return v, nil
}

// length reads a little-endian length of size 1, 4 or 8 bytes.
func (u *unpickler) length(size int) (int, error) {
	v, err := u.bytes(size)
	if err != nil {
		return 0, err
	}
	var n uint64
	switch size {
	case 1:
		n = uint64(v[0])
	case 4:
		n = uint64(binary.LittleEndian.Uint32(v))
	default:
		n = binary.LittleEndian.Uint64(v)
	}
	if n > uint64(len(u.b)-u.pos) {
		return 0, fmt.Errorf("a length of %d with %d bytes left", n, len(u.b)-u.pos)
	}
	return int(n), nil
}

// str reads a UTF-8 string whose length takes size bytes.
func (u *unpickler) str(size int) (any, error) {
	n, err := u.length(size)
	if err != nil {
		return nil, err
	}
	v, _ := u.bytes(n)
	if !utf8.Valid(v) {
		return nil, errors.New("a string that is not UTF-8")
	}
	return string(v), nil
}

// line reads a newline-terminated line (GLOBAL's module and name).
func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.b) && i-u.pos < 256; i++ {
		if u.b[i] == '\n' {
			s := string(u.b[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", errors.New("an unterminated line (or one over 256 bytes)")
}

// global returns the allowed global module.name.
func global(module, name string) (any, error) {
	if !allowedGlobals[module+"."+name] {
		return nil, fmt.Errorf("global %s.%s is not allowed: a state dict holds only tensors and ordered dicts (the rule of torch.load(weights_only=True)); nothing of the file is run", module, name)
	}
	return pyGlobal{module, name}, nil
}

// pushOps are the opcodes that push one new value.
var pushOps = map[byte]func(u *unpickler) (any, error){
	'N':  func(*unpickler) (any, error) { return pyNone{}, nil },
	0x88: func(*unpickler) (any, error) { return true, nil },
	0x89: func(*unpickler) (any, error) { return false, nil },
	')':  func(*unpickler) (any, error) { return pyTuple{}, nil },
	']':  func(*unpickler) (any, error) { return &pyList{}, nil },
	'}':  func(*unpickler) (any, error) { return newDict(), nil },
	'K': func(u *unpickler) (any, error) { // BININT1
		v, err := u.bytes(1)
		if err != nil {
			return nil, err
		}
		return int64(v[0]), nil
	},
	'M': func(u *unpickler) (any, error) { // BININT2
		v, err := u.bytes(2)
		if err != nil {
			return nil, err
		}
		return int64(binary.LittleEndian.Uint16(v)), nil
	},
	'J': func(u *unpickler) (any, error) { // BININT
		v, err := u.bytes(4)
		if err != nil {
			return nil, err
		}
		return int64(int32(binary.LittleEndian.Uint32(v))), nil
	},
	0x8a: func(u *unpickler) (any, error) { return u.long1() }, // LONG1
	'G': func(u *unpickler) (any, error) { // BINFLOAT, big-endian
		v, err := u.bytes(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(v)), nil
	},
	'X':  func(u *unpickler) (any, error) { return u.str(4) }, // BINUNICODE
	0x8c: func(u *unpickler) (any, error) { return u.str(1) }, // SHORT_BINUNICODE
	0x8d: func(u *unpickler) (any, error) { return u.str(8) }, // BINUNICODE8
	'T':  func(u *unpickler) (any, error) { return u.str(4) }, // BINSTRING (protocol 1 str)
	'U':  func(u *unpickler) (any, error) { return u.str(1) }, // SHORT_BINSTRING
	'C': func(u *unpickler) (any, error) { // SHORT_BINBYTES
		n, err := u.length(1)
		if err != nil {
			return nil, err
		}
		v, _ := u.bytes(n)
		return string(v), nil
	},
	'B': func(u *unpickler) (any, error) { // BINBYTES
		n, err := u.length(4)
		if err != nil {
			return nil, err
		}
		v, _ := u.bytes(n)
		return string(v), nil
	},
	'c': func(u *unpickler) (any, error) { // GLOBAL
		module, err := u.line()
		if err != nil {
			return nil, err
		}
		name, err := u.line()
		if err != nil {
			return nil, err
		}
		return global(module, name)
	},
	'h': func(u *unpickler) (any, error) { // BINGET
		n, err := u.bytes(1)
		if err != nil {
			return nil, err
		}
		return u.get(int64(n[0]))
	},
	'j': func(u *unpickler) (any, error) { // LONG_BINGET
		n, err := u.bytes(4)
		if err != nil {
			return nil, err
		}
		return u.get(int64(binary.LittleEndian.Uint32(n)))
	},
}

// long1 reads LONG1: a little-endian two's complement integer of up to 8
// bytes.
func (u *unpickler) long1() (any, error) {
	n, err := u.length(1)
	if err != nil {
		return nil, err
	}
	if n > 8 {
		return nil, fmt.Errorf("an integer of %d bytes", n)
	}
	v, _ := u.bytes(n)
	var x uint64
	for i := n - 1; i >= 0; i-- {
		x = x<<8 | uint64(v[i])
	}
	if n > 0 && n < 8 && v[n-1]&0x80 != 0 {
		x |= ^uint64(0) << (8 * n) // sign-extend
	}
	return int64(x), nil
}

// get returns memo entry i.
func (u *unpickler) get(i int64) (any, error) {
	v, ok := u.memo[i]
	if !ok {
		return nil, fmt.Errorf("memo %d is not set", i)
	}
	return v, nil
}

// put stores the top of the stack as memo entry i.
func (u *unpickler) put(i int64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	if _, ok := u.memo[i]; !ok && len(u.memo) >= maxMemo {
		return errors.New("too many memo entries")
	}
	u.memo[i] = v
	return nil
}
