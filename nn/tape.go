package nn

import (
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/recur-ml/recur/tensor"
)

// Var is a value in a computation and, once something flows back into it,
// its gradient (same shape). Grad is nil until first needed.
type Var struct {
	Value *tensor.Tensor
	Grad  *tensor.Tensor
	// NoGrad says nobody needs the gradient with respect to this value:
	// a batch of data, as a PyTorch tensor with requires_grad=False. The
	// recurrent layers and Linear then skip computing it (a product as
	// large as the weight gradient's); other ops still compute it into
	// Grad. See Constant.
	NoGrad bool
}

// NewVar wraps a tensor as a Var with no gradient yet.
func NewVar(t *tensor.Tensor) *Var { return &Var{Value: t} }

// Constant wraps a tensor as a Var whose gradient is not needed (NoGrad):
// the input batch of a model.
func Constant(t *tensor.Tensor) *Var { return &Var{Value: t, NoGrad: true} }

// Var wraps t as a Var with no gradient. With a tape the Var header is the
// tape's own (see [NewRecord]): it is valid until the tape's next step,
// when it is reused for another value; with a nil tape it is NewVar(t).
// Layers return their training outputs this way, so a training step
// allocates no Var headers once warm.
func (tp *Tape) Var(t *tensor.Tensor) *Var {
	if tp == nil {
		return NewVar(t)
	}
	v := NewRecord[Var](tp)
	v.Value = t
	return v
}

// G returns the gradient, allocating a zero one of the value's shape first
// if there is none.
func (v *Var) G() *tensor.Tensor {
	if v.Grad == nil {
		v.Grad = tensor.New(v.Value.Shape...)
	}
	return v.Grad
}

// Param is a trainable tensor with a PyTorch-style name. Its Grad is
// always allocated.
type Param struct {
	Var
	// Name is the dotted state_dict name, for example
	// "encoder.lstm.weight_ih_l0". Layers set the last component;
	// containers prefix it with Prefix.
	Name string
	// Frozen parameters receive no update from optimizers (their gradient
	// is still computed where an earlier layer needs it).
	Frozen bool
}

// NewParam returns a zero parameter of the given shape with a zero gradient.
func NewParam(name string, shape ...int) *Param {
	return &Param{Var: Var{Value: tensor.New(shape...), Grad: tensor.New(shape...)}, Name: name}
}

// Module is anything that owns parameters. Params returns them in a
// stable order (PyTorch's state_dict order where one exists).
type Module interface {
	Params() []*Param
}

// Prefix prepends prefix+"." to the name of every parameter of ps and
// returns ps.
func Prefix(prefix string, ps []*Param) []*Param {
	if prefix == "" {
		return ps
	}
	for _, p := range ps {
		p.Name = prefix + "." + p.Name
	}
	return ps
}

// ZeroGrad clears the gradients of ps.
func ZeroGrad(ps []*Param) {
	for _, p := range ps {
		p.Grad.Zero()
	}
}

// Freeze sets Frozen on every parameter of ps whose name matches one of
// patterns (a prefix match, or an exact name; "*" matches all). It returns
// how many it froze.
func Freeze(ps []*Param, frozen bool, patterns ...string) int {
	n := 0
	for _, p := range ps {
		for _, pat := range patterns {
			if pat == "*" || p.Name == pat || strings.HasPrefix(p.Name, strings.TrimSuffix(pat, "*")) && strings.HasSuffix(pat, "*") || strings.HasPrefix(p.Name, pat+".") {
				p.Frozen = frozen
				n++
				break
			}
		}
	}
	return n
}

// ByName indexes ps by name and reports a duplicate name as an error.
func ByName(ps []*Param) (map[string]*Param, error) {
	m := make(map[string]*Param, len(ps))
	for _, p := range ps {
		if _, dup := m[p.Name]; dup {
			return nil, fmt.Errorf("nn: duplicate parameter name %q", p.Name)
		}
		m[p.Name] = p
	}
	return m, nil
}

// Op is one backward step recorded on a tape with AddOp: Backward runs
// during the tape's Backward, in reverse order of recording. An Op that is
// a pointer to a record from [NewRecord] is recorded without allocating,
// where a capturing closure given to Add allocates at every call.
type Op interface{ Backward() }

// dropper is an Op with something to give back when the tape is reset
// instead of running it.
type dropper interface{ drop() }

// funcOp is a closure recorded with Add.
type funcOp func()

func (f funcOp) Backward() { f() }

// Tape records backward closures during a training forward pass.
// The zero value is ready to use. A Tape is used by one goroutine.
//
// Lifetimes: everything a training step takes from a tape (Buffer, Zeros,
// Grad, Var, NewRecord) stays valid through the tape's Backward (or
// Reset) and until the tape hands anything out again after that, that is
// until the tape's next step; then it is reused. So the outputs, states
// and loss a training forward returns must be read (or copied, as
// State.Detach does) before the next step on the same tape, and must not
// be carried across steps.
type Tape struct {
	ops []Op
	// Eval, when true, keeps recording gradients but turns training-only
	// behaviour (dropout, zoneout, weight-drop) off.
	Eval bool
	// Precision is the arithmetic of the large products recorded on the
	// tape (see Precision): FP32, the zero value, or BF16.
	Precision Precision
	// arena holds the buffers handed out by Buffer, Zeros and Grad.
	arena arena
	// ready tracks which gradients Backward has finished (OnReady).
	ready readiness
}

// arena recycles the tape's buffers: used ones go back to free (keyed by
// element count) once the tape starts recording after a Backward or Reset,
// so a tape reused across training steps hands the same memory out again
// instead of allocating (and page-faulting) fresh activation and gradient
// buffers every step.
type arena struct {
	free map[int][]arenaBuf
	used []arenaBuf
	// grads are the Vars given an arena gradient (by Grad or SetGrad);
	// recycling detaches each one still holding it, so a Var that
	// outlives the step (a fixed input) gets a fresh gradient next time
	// instead of writing into a recycled buffer.
	grads []gradRef
	// stale: Backward or Reset ran; recycle before the next hand-out.
	stale bool
	// rec identifies the current recording (0: none assigned yet), unique
	// across all tapes, for layers that cache work valid while the
	// parameters cannot change (between two Backward/Reset calls).
	rec uint64
	// recs are the free lists of NewRecord, one per record type.
	recs map[reflect.Type]recycler
	// pools lists recs' values in a fixed order, for settle.
	pools []recycler
	// ints and vars hand out the slices of Ints (copies of ids, lengths)
	// and vars (the inputs of Concat, Stack, ...).
	ints  sliceArena[int]
	vars  sliceArena[*Var]
	bools sliceArena[bool]
}

// arenaBuf is a tensor of the arena with the shape array the arena owns:
// a holder may reslice the tensor's Shape (Select drops the first axis)
// or replace it, and the arena still writes the next shape into its own
// array, without allocating and without touching one it does not own.
type arenaBuf struct {
	t     *tensor.Tensor
	shape []int
}

// recycler is a NewRecord free list.
type recycler interface{ recycle() }

// recPool is the free list of one record type: used are the records the
// current step took, free those it may take.
type recPool[T any] struct {
	free, used []*T
}

// recycle zeroes the records of the step that ended and frees them.
func (p *recPool[T]) recycle() {
	var zero T
	for i, r := range p.used {
		*r = zero
		p.free = append(p.free, r)
		p.used[i] = nil
	}
	p.used = p.used[:0]
}

// NewRecord returns a zeroed *T that belongs to tp until the tape's next
// step, when it is zeroed and handed out again (see Tape for the
// lifetime): a layer keeps what its backward needs in such a record and
// records it with AddOp, so a training loop allocates no per-op objects
// once warm. Nothing may keep a record past the step. With a nil tape it
// is new(T).
func NewRecord[T any](tp *Tape) *T {
	if tp == nil {
		return new(T)
	}
	a := &tp.arena
	a.settle()
	key := reflect.TypeFor[T]()
	p, _ := a.recs[key].(*recPool[T])
	if p == nil {
		if a.recs == nil {
			a.recs = make(map[reflect.Type]recycler)
		}
		p = new(recPool[T])
		a.recs[key] = p
		a.pools = append(a.pools, p)
	}
	var r *T
	if n := len(p.free); n > 0 {
		r = p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
	} else {
		r = new(T)
	}
	p.used = append(p.used, r)
	return r
}

// sliceArena hands out slices of T from one growing buffer until reset.
type sliceArena[T any] struct {
	buf       []T
	off, need int
}

// take returns n elements with unspecified contents.
func (a *sliceArena[T]) take(n int) []T {
	a.need += n
	if a.off+n > len(a.buf) {
		// Start a new chunk; earlier slices keep the old one alive.
		a.buf = make([]T, max(n, 2*len(a.buf), 64))
		a.off = 0
	}
	s := a.buf[a.off : a.off+n : a.off+n]
	a.off += n
	return s
}

// reset makes the memory reusable, grown to the last step's need, and
// drops what it held (pointers, for the garbage collector).
func (a *sliceArena[T]) reset() {
	if a.need > len(a.buf) {
		a.buf = make([]T, a.need)
	} else {
		clear(a.buf[:a.off])
	}
	a.off, a.need = 0, 0
}

// vars returns room for n Var pointers from the tape (valid until its
// next step), or a fresh slice with a nil tape: the inputs an op of
// several inputs keeps for its backward.
func (tp *Tape) vars(n int) []*Var {
	if tp == nil {
		return make([]*Var, n)
	}
	tp.arena.settle()
	return tp.arena.vars.take(n)
}

// Ints returns n ints with unspecified contents from the tape (valid until
// its next step, see Tape), or a fresh slice with a nil tape: room for the
// ids or lengths an op keeps for its backward.
func (tp *Tape) Ints(n int) []int {
	if tp == nil {
		return make([]int, n)
	}
	tp.arena.settle()
	return tp.arena.ints.take(n)
}

// Bools is Ints for bools (attention masks).
func (tp *Tape) Bools(n int) []bool {
	if tp == nil {
		return make([]bool, n)
	}
	tp.arena.settle()
	return tp.arena.bools.take(n)
}

// recordings numbers the recordings of all tapes.
var recordings atomic.Uint64

// recording returns the id of tp's current recording: the same from the
// first op after a Backward or Reset through the next one, and never
// reused by any tape.
func (tp *Tape) recording() uint64 {
	tp.arena.settle()
	if tp.arena.rec == 0 {
		tp.arena.rec = recordings.Add(1)
	}
	return tp.arena.rec
}

type gradRef struct {
	v *Var
	g *tensor.Tensor
}

func (a *arena) get(shape []int) *tensor.Tensor {
	a.settle()
	n := numel(shape)
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = arenaBuf{}
		a.free[n] = l[:len(l)-1]
		b.shape = append(b.shape[:0], shape...)
		b.t.Shape = b.shape
		a.used = append(a.used, b)
		return b.t
	}
	t := newTensor(shape)
	a.used = append(a.used, arenaBuf{t, t.Shape})
	return t
}

// numel is tensor.Numel without letting shape escape (a variadic shape
// then stays on the caller's stack).
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic("nn: negative dimension in " + fmt.Sprint(append([]int(nil), shape...)))
		}
		n *= d
	}
	return n
}

// newTensor is tensor.New(shape...) keeping shape itself on the caller's
// stack.
func newTensor(shape []int) *tensor.Tensor {
	return &tensor.Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

// settle recycles the buffers of the previous step if it has ended.
func (a *arena) settle() {
	if !a.stale {
		return
	}
	a.stale = false
	a.rec = 0
	for i, r := range a.grads {
		if r.v.Grad == r.g {
			r.v.Grad = nil
		}
		a.grads[i] = gradRef{}
	}
	a.grads = a.grads[:0]
	for _, p := range a.pools {
		p.recycle()
	}
	a.ints.reset()
	a.vars.reset()
	a.bools.reset()
	if a.free == nil {
		a.free = make(map[int][]arenaBuf)
	}
	// Buffers the step just ended did not take are let go, so a tape
	// whose shapes change (variable sequence lengths) holds at most one
	// step's buffers instead of every size it has seen.
	for n, l := range a.free {
		clear(l)
		a.free[n] = l[:0]
	}
	for i, b := range a.used {
		n := len(b.t.Data)
		a.free[n] = append(a.free[n], b)
		a.used[i] = arenaBuf{}
	}
	a.used = a.used[:0]
}

// Buffer returns a tensor of the given shape with unspecified contents.
// With a tape it comes from the tape's arena: it stays valid through the
// tape's next Backward (or Reset) and until the tape hands out buffers
// again after that, so a value read after Backward must be read (or
// copied) before the next forward on the same tape, and must not be kept
// across steps. With a nil tape it is a fresh tensor.New.
func (tp *Tape) Buffer(shape ...int) *tensor.Tensor {
	if tp == nil {
		return newTensor(shape)
	}
	return tp.arena.get(shape)
}

// Zeros is Buffer with the contents cleared.
func (tp *Tape) Zeros(shape ...int) *tensor.Tensor {
	t := tp.Buffer(shape...)
	if tp != nil {
		clear(t.Data)
	}
	return t
}

// Grad returns v's gradient like v.G(), taking a zeroed buffer from the
// tape's arena (see Buffer for its lifetime) when v has none yet. When the
// buffer is recycled, v's Grad is set back to nil.
func (tp *Tape) Grad(v *Var) *tensor.Tensor {
	if tp == nil {
		return v.G()
	}
	tp.arena.settle()
	if v.Grad == nil {
		tp.SetGrad(v, tp.Zeros(v.Value.Shape...))
	}
	return v.Grad
}

// SetGrad sets v's gradient to g, a buffer from this tape's Buffer or
// Zeros; when the buffer is recycled, v's Grad is set back to nil.
func (tp *Tape) SetGrad(v *Var, g *tensor.Tensor) {
	v.Grad = g
	tp.arena.grads = append(tp.arena.grads, gradRef{v, g})
}

// Training reports whether training-only behaviour is on: tp is not nil
// and not in Eval mode. A nil tape is inference.
func (tp *Tape) Training() bool { return tp != nil && !tp.Eval }

// Add appends a backward closure. Closures run in reverse order.
func (tp *Tape) Add(back func()) { tp.ops = append(tp.ops, funcOp(back)) }

// AddOp appends a backward step, run in reverse order with the closures
// of Add.
func (tp *Tape) AddOp(op Op) { tp.ops = append(tp.ops, op) }

// Len returns the number of recorded closures.
func (tp *Tape) Len() int { return len(tp.ops) }

// Backward sets y's gradient to dy (added to any gradient already there;
// dy nil means ones, for a scalar loss), runs the recorded closures in
// reverse and clears the tape. A gradient y does not have yet comes from
// the tape (see Grad).
func (tp *Tape) Backward(y *Var, dy *tensor.Tensor) {
	g := tp.Grad(y)
	if dy == nil {
		for i := range g.Data {
			g.Data[i] += 1
		}
	} else {
		g.Add(dy)
	}
	left := len(tp.ready.order)
	for i := len(tp.ops) - 1; i >= 0; i-- {
		tp.ops[i].Backward()
		tp.ops[i] = nil
		if left > 0 {
			tp.ready.fire(i, &left)
		}
	}
	tp.ops = tp.ops[:0]
	tp.arena.stale = true
	tp.ready.forget()
}

// Reset drops the recorded closures without running them and makes the
// arena's buffers available again. Ops that hold memory of their layer
// until their backward (the recurrent layers' and cells' arenas) give it
// back, so a loop that records and resets (validation on an Eval tape)
// reuses it too.
func (tp *Tape) Reset() {
	for _, op := range tp.ops {
		if d, ok := op.(dropper); ok {
			d.drop()
		}
	}
	clear(tp.ops)
	tp.ops = tp.ops[:0]
	tp.arena.stale = true
	tp.ready.forget()
}
