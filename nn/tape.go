package nn

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/recur-ml/recur/tensor"
)

// Var is a value in a computation and, once something flows back into it,
// its gradient (same shape). Grad is nil until first needed.
type Var struct {
	Value *tensor.Tensor
	Grad  *tensor.Tensor
}

// NewVar wraps a tensor as a Var with no gradient yet.
func NewVar(t *tensor.Tensor) *Var { return &Var{Value: t} }

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

// Tape records backward closures during a training forward pass.
// The zero value is ready to use. A Tape is used by one goroutine.
type Tape struct {
	ops []func()
	// Eval, when true, keeps recording gradients but turns training-only
	// behaviour (dropout, zoneout, weight-drop) off.
	Eval bool
	// arena holds the buffers handed out by Buffer, Zeros and Grad.
	arena arena
}

// arena recycles the tape's buffers: used ones go back to free (keyed by
// element count) once the tape starts recording after a Backward or Reset,
// so a tape reused across training steps hands the same memory out again
// instead of allocating (and page-faulting) fresh activation and gradient
// buffers every step.
type arena struct {
	free map[int][]*tensor.Tensor
	used []*tensor.Tensor
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
	n := tensor.Numel(shape)
	if l := a.free[n]; len(l) > 0 {
		t := l[len(l)-1]
		l[len(l)-1] = nil
		a.free[n] = l[:len(l)-1]
		t.Shape = append(t.Shape[:0], shape...)
		a.used = append(a.used, t)
		return t
	}
	t := tensor.New(shape...)
	a.used = append(a.used, t)
	return t
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
	if a.free == nil {
		a.free = make(map[int][]*tensor.Tensor)
	}
	// Buffers the step just ended did not take are let go, so a tape
	// whose shapes change (variable sequence lengths) holds at most one
	// step's buffers instead of every size it has seen.
	for n, l := range a.free {
		clear(l)
		a.free[n] = l[:0]
	}
	for i, t := range a.used {
		n := len(t.Data)
		a.free[n] = append(a.free[n], t)
		a.used[i] = nil
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
		return tensor.New(shape...)
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
func (tp *Tape) Add(back func()) { tp.ops = append(tp.ops, back) }

// Len returns the number of recorded closures.
func (tp *Tape) Len() int { return len(tp.ops) }

// Backward sets y's gradient to dy (added to any gradient already there;
// dy nil means ones, for a scalar loss), runs the recorded closures in
// reverse and clears the tape.
func (tp *Tape) Backward(y *Var, dy *tensor.Tensor) {
	g := y.G()
	if dy == nil {
		for i := range g.Data {
			g.Data[i] += 1
		}
	} else {
		g.Add(dy)
	}
	for i := len(tp.ops) - 1; i >= 0; i-- {
		tp.ops[i]()
		tp.ops[i] = nil
	}
	tp.ops = tp.ops[:0]
	tp.arena.stale = true
}

// Reset drops the recorded closures without running them and makes the
// arena's buffers available again.
func (tp *Tape) Reset() {
	clear(tp.ops)
	tp.ops = tp.ops[:0]
	tp.arena.stale = true
}
