package nn

import (
	"fmt"
	"strings"

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
}

// Reset drops the recorded closures without running them.
func (tp *Tape) Reset() {
	clear(tp.ops)
	tp.ops = tp.ops[:0]
}
