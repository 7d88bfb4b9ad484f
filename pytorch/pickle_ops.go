package pytorch

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// stackOps are the opcodes that rearrange the stack or the memo, build
// containers or call an allowed global.
var stackOps = map[byte]func(u *unpickler) error{
	'q': func(u *unpickler) error { // BINPUT
		n, err := u.bytes(1)
		if err != nil {
			return err
		}
		return u.put(int64(n[0]))
	},
	'r': func(u *unpickler) error { // LONG_BINPUT
		n, err := u.bytes(4)
		if err != nil {
			return err
		}
		return u.put(int64(binary.LittleEndian.Uint32(n)))
	},
	0x94: func(u *unpickler) error { return u.put(int64(len(u.memo))) }, // MEMOIZE
	'0': func(u *unpickler) error { // POP
		_, err := u.pop()
		return err
	},
	'1': func(u *unpickler) error { // POP_MARK
		_, err := u.popMark()
		return err
	},
	'2': func(u *unpickler) error { // DUP
		v, err := u.top()
		if err == nil {
			u.push(v)
		}
		return err
	},
	't': func(u *unpickler) error { // TUPLE
		items, err := u.popMark()
		if err == nil {
			u.push(pyTuple(items))
		}
		return err
	},
	0x85: func(u *unpickler) error { return u.tupleN(1) },
	0x86: func(u *unpickler) error { return u.tupleN(2) },
	0x87: func(u *unpickler) error { return u.tupleN(3) },
	'l': func(u *unpickler) error { // LIST
		items, err := u.popMark()
		if err == nil {
			u.push(&pyList{items: items})
		}
		return err
	},
	'd': func(u *unpickler) error { // DICT
		items, err := u.popMark()
		if err != nil {
			return err
		}
		d := newDict()
		if err := setPairs(d, items); err != nil {
			return err
		}
		u.push(d)
		return nil
	},
	'a': func(u *unpickler) error { // APPEND
		v, err := u.pop()
		if err != nil {
			return err
		}
		return u.appendTo([]any{v})
	},
	'e': func(u *unpickler) error { // APPENDS
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.appendTo(items)
	},
	's': func(u *unpickler) error { // SETITEM
		v, err := u.pop()
		if err != nil {
			return err
		}
		k, err := u.pop()
		if err != nil {
			return err
		}
		return u.setItems([]any{k, v})
	},
	'u': func(u *unpickler) error { // SETITEMS
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.setItems(items)
	},
	0x93: func(u *unpickler) error { // STACK_GLOBAL
		name, err := u.pop()
		if err != nil {
			return err
		}
		module, err := u.pop()
		if err != nil {
			return err
		}
		ms, ok1 := module.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return errors.New("STACK_GLOBAL of values that are not strings")
		}
		g, err := global(ms, ns)
		if err == nil {
			u.push(g)
		}
		return err
	},
	'Q': func(u *unpickler) error { return u.persistent() }, // BINPERSID
	'R': func(u *unpickler) error { return u.reduce() },     // REDUCE
	'b': func(u *unpickler) error { return u.build() },      // BUILD
}

// tupleN builds a tuple of the top n values.
func (u *unpickler) tupleN(n int) error {
	if len(u.stack) < n || len(u.marks) > 0 && u.marks[len(u.marks)-1] > len(u.stack)-n {
		return fmt.Errorf("TUPLE%d with too few values", n)
	}
	t := append(pyTuple(nil), u.stack[len(u.stack)-n:]...)
	u.stack = append(u.stack[:len(u.stack)-n], t)
	return nil
}

// appendTo appends items to the list on top of the stack.
func (u *unpickler) appendTo(items []any) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	l, ok := v.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to a %T", v)
	}
	l.items = append(l.items, items...)
	return nil
}

// setItems sets key-value pairs in the dict on top of the stack.
func (u *unpickler) setItems(items []any) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on a %T", v)
	}
	return setPairs(d, items)
}

func setPairs(d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return errors.New("an odd number of dict items")
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// persistent resolves a persistent id: ('storage', type, key, location,
// numel), torch.save's reference to a storage in data/KEY.
func (u *unpickler) persistent() error {
	v, err := u.pop()
	if err != nil {
		return err
	}
	t, ok := v.(pyTuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return fmt.Errorf("a persistent id that is not a storage: %v", v)
	}
	g, ok1 := t[1].(pyGlobal)
	key, ok2 := t[2].(string)
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || g.module != "torch" || len(g.name) <= len("Storage") || numel < 0 || numel > maxStorage {
		return fmt.Errorf("a storage reference %v", v)
	}
	u.push(&storageRef{dtype: g.name[:len(g.name)-len("Storage")], key: key, numel: numel})
	return nil
}

// reduce calls an allowed global with a tuple of arguments.
func (u *unpickler) reduce() error {
	args, err := u.pop()
	if err != nil {
		return err
	}
	fn, err := u.pop()
	if err != nil {
		return err
	}
	g, ok := fn.(pyGlobal)
	a, ok2 := args.(pyTuple)
	if !ok || !ok2 {
		return fmt.Errorf("REDUCE of a %T with %T", fn, args)
	}
	var v any
	switch g.module + "." + g.name {
	case "collections.OrderedDict":
		if len(a) != 0 {
			return errors.New("OrderedDict with arguments")
		}
		v = newDict()
	case "torch._utils._rebuild_tensor_v2":
		v, err = rebuildTensor(a)
	case "torch._utils._rebuild_parameter":
		if len(a) < 1 {
			return errors.New("_rebuild_parameter without a tensor")
		}
		if _, ok := a[0].(*tensorRef); !ok {
			return fmt.Errorf("_rebuild_parameter of a %T", a[0])
		}
		v = a[0]
	default:
		return fmt.Errorf("%s.%s cannot be called", g.module, g.name)
	}
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, offset,
// size, stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensor(a pyTuple) (*tensorRef, error) {
	if len(a) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 with %d arguments", len(a))
	}
	st, ok := a[0].(*storageRef)
	offset, ok2 := a[1].(int64)
	size, ok3 := a[2].(pyTuple)
	stride, ok4 := a[3].(pyTuple)
	if !ok || !ok2 || !ok3 || !ok4 || len(size) != len(stride) || len(size) > maxRank || offset < 0 {
		return nil, errors.New("_rebuild_tensor_v2: want a storage, an offset and sizes and strides of one rank")
	}
	t := &tensorRef{storage: st, offset: offset}
	for i := range size {
		n, ok1 := size[i].(int64)
		s, ok2 := stride[i].(int64)
		if !ok1 || !ok2 || n < 0 || s < 0 {
			return nil, fmt.Errorf("_rebuild_tensor_v2: size %v, stride %v", size, stride)
		}
		t.size, t.stride = append(t.size, n), append(t.stride, s)
	}
	return t, nil
}

// build is BUILD: setting a state on the object below it. Only an
// OrderedDict's attributes (a state dict's _metadata) are accepted, and
// dropped.
func (u *unpickler) build() error {
	state, err := u.pop()
	if err != nil {
		return err
	}
	obj, err := u.top()
	if err != nil {
		return err
	}
	if _, ok := obj.(*pyDict); !ok {
		return fmt.Errorf("BUILD on a %T", obj)
	}
	if _, ok := state.(*pyDict); !ok {
		return fmt.Errorf("BUILD with a %T state", state)
	}
	return nil
}
