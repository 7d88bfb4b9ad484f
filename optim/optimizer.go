package optim

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
)

// Optimizer updates parameters from their gradients. Step applies one
// update to every parameter that is neither Frozen nor in a frozen group,
// and leaves the gradients as they are (zero them with [nn.ZeroGrad]).
// An Optimizer is used by one goroutine.
type Optimizer interface {
	// Name is the optimizer's name as given to New ("adam", ...).
	Name() string
	Step()
	// Groups returns the parameter groups. Changing a group's LR,
	// WeightDecay, Frozen or Config fields takes effect at the next Step.
	Groups() []*Group
	// LR and SetLR read and set group g's learning rate (for schedules).
	LR(g int) float64
	SetLR(g int, lr float64)
	// SetMomentum sets group g's momentum (SGD, RMSprop) or β1 (Adam,
	// AdamW), for one-cycle momentum cycling; other optimizers ignore it.
	SetMomentum(g int, m float64)
	// State exports the optimizer state by parameter name; LoadState
	// restores it into an optimizer of the same kind over parameters with
	// the same names and shapes.
	State() *State
	LoadState(s *State) error
}

// Group is a set of parameters with their own hyperparameters.
type Group struct {
	Params []*nn.Param
	// Config holds the group's hyperparameters, defaults filled in; its LR
	// and WeightDecay are the group's.
	Config
	// Frozen groups receive no update.
	Frozen bool
}

// State is an optimizer's exportable state: per parameter name, the
// number of updates it received and its buffers under PyTorch's names
// ("exp_avg", "momentum_buffer", ...).
type State struct {
	Optimizer string
	Steps     map[string]int
	Buffers   map[string]map[string][]float32
}

// paramState is what the optimizer keeps per parameter: its step count and
// one buffer per slot of the rule, allocated at the first update.
type paramState struct {
	step int
	buf  [][]float32
}

// rule is one optimizer's update. Slots names its per-parameter buffers;
// initial returns a slot's starting value; update applies step t (1, 2,
// ...) to p with gradient g and buffers s.
type rule interface {
	slots(c *Config) []string
	initial(c *Config, slot string) float32
	update(c *Config, p, g []float32, s [][]float32, t int)
}

// base holds what every optimizer shares: groups, per-parameter state and
// a rule.
type base struct {
	name   string
	groups []*Group
	state  map[*nn.Param]*paramState
	rule   rule
	split  stepTask // a large parameter's update in parts (Step)
}

// stepSplitMin is the parameter count from which Step splits a rule's
// update over the kernel's threads, as kernel.Adam64 splits Adam's (whose
// rule it leaves alone): every rule is elementwise, so an element's update
// is the same whichever part computes it, and below this a part's work is
// a few microseconds, the order of waking a thread.
const stepSplitMin = 64 << 10

// stepTask is one parameter's update split into parts of per elements
// (kernel.Task); views holds each part's slices of the state buffers, kept
// so that a split step allocates nothing.
type stepTask struct {
	rule  rule
	c     *Config
	p, g  []float32
	s     [][]float32
	t     int
	per   int
	views [][]float32
}

func (k *stepTask) RunPart(part int) {
	lo, hi := part*k.per, min(len(k.p), (part+1)*k.per)
	n := len(k.s)
	v := k.views[part*n : part*n+n]
	for j := range k.s {
		v[j] = k.s[j][lo:hi]
	}
	k.rule.update(k.c, k.p[lo:hi], k.g[lo:hi], v, k.t)
}

// update applies the rule to one parameter, in parts over the kernel's
// threads when it is large.
func (b *base) update(c *Config, p, g []float32, s [][]float32, t int) {
	threads := kernel.Threads()
	if _, own := b.rule.(adam); own || threads == 1 || len(p) < stepSplitMin {
		b.rule.update(c, p, g, s, t)
		return
	}
	parts := 2 * threads
	per := ((len(p)+parts-1)/parts + 63) / 64 * 64
	parts = (len(p) + per - 1) / per
	k := &b.split
	if len(k.views) < parts*len(s) {
		k.views = make([][]float32, parts*len(s))
	}
	k.rule, k.c, k.p, k.g, k.s, k.t, k.per = b.rule, c, p, g, s, t, per
	kernel.Parallel(parts, k)
	k.c, k.p, k.g, k.s = nil, nil, nil, nil
	clear(k.views)
}

// New returns the optimizer called name (sgd, rmsprop, adam, adamw,
// adagrad, adadelta; PyTorch's class names are accepted too) over one
// group holding params. It returns an error naming the field and value of
// an out-of-range hyperparameter or an unknown name.
func New(name string, params []*nn.Param, c Config) (Optimizer, error) {
	return NewGroups(name, []Group{{Params: params, Config: c}})
}

// NewGroups is New with several parameter groups, each with its own
// config (typical: one group with weight decay for matrices, one without
// for biases and norms). A parameter may appear in one group only.
func NewGroups(name string, groups []Group) (Optimizer, error) {
	n, err := normName(name)
	if err != nil {
		return nil, err
	}
	b := &base{name: n, state: map[*nn.Param]*paramState{}}
	names := map[string]bool{}
	for i, g := range groups {
		g.Config = g.Config.withDefaults(n)
		if err := g.Config.validate(n); err != nil {
			if len(groups) == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("optim: group %d: %w", i, err)
		}
		for _, p := range g.Params {
			if _, dup := b.state[p]; dup || names[p.Name] {
				return nil, fmt.Errorf("optim: group %d: parameter %q appears twice", i, p.Name)
			}
			if p.Grad == nil || len(p.Grad.Data) != len(p.Value.Data) {
				return nil, fmt.Errorf("optim: group %d: parameter %q has no gradient of its size", i, p.Name)
			}
			names[p.Name] = true
			b.state[p] = &paramState{}
		}
		b.groups = append(b.groups, &g)
	}
	switch n {
	case "sgd":
		b.rule = sgd{}
	case "rmsprop":
		b.rule = rmsprop{}
	case "adam":
		b.rule = adam{}
	case "adamw":
		b.rule = adam{decoupled: true}
	case "adagrad":
		b.rule = adagrad{}
	case "adadelta":
		b.rule = adadelta{}
	}
	return b, nil
}

func (b *base) Name() string            { return b.name }
func (b *base) Groups() []*Group        { return b.groups }
func (b *base) LR(g int) float64        { return b.groups[g].LR }
func (b *base) SetLR(g int, lr float64) { b.groups[g].LR = lr }
func (b *base) SetMomentum(g int, m float64) {
	c := &b.groups[g].Config
	switch b.name {
	case "sgd", "rmsprop":
		c.Momentum = m
	case "adam", "adamw":
		c.Betas = []float64{m, c.Betas[1]}
	}
}

// Step applies one update to every trainable parameter.
func (b *base) Step() {
	for _, g := range b.groups {
		if g.Frozen {
			continue
		}
		slots := b.rule.slots(&g.Config)
		for _, p := range g.Params {
			if p.Frozen {
				continue
			}
			st := b.state[p]
			if len(st.buf) != len(slots) {
				st.buf = make([][]float32, len(slots))
				for i, s := range slots {
					st.buf[i] = make([]float32, len(p.Value.Data))
					if v := b.rule.initial(&g.Config, s); v != 0 {
						for j := range st.buf[i] {
							st.buf[i][j] = v
						}
					}
				}
			}
			st.step++
			b.update(&g.Config, p.Value.Data, p.Grad.Data, st.buf, st.step)
		}
	}
}

// State returns a deep copy of the optimizer state.
func (b *base) State() *State {
	s := &State{Optimizer: b.name, Steps: map[string]int{}, Buffers: map[string]map[string][]float32{}}
	for _, g := range b.groups {
		slots := b.rule.slots(&g.Config)
		for _, p := range g.Params {
			st := b.state[p]
			s.Steps[p.Name] = st.step
			if len(st.buf) == 0 {
				continue
			}
			m := map[string][]float32{}
			for i, slot := range slots {
				m[slot] = append([]float32(nil), st.buf[i]...)
			}
			s.Buffers[p.Name] = m
		}
	}
	return s
}

// LoadState restores a state exported by State. It checks everything
// before changing anything: the optimizer kind, that every parameter has
// an entry, and the buffers' names and lengths.
func (b *base) LoadState(s *State) error {
	if s.Optimizer != b.name {
		return fmt.Errorf("optim: state of optimizer %q loaded into %q", s.Optimizer, b.name)
	}
	type load struct {
		st   *paramState
		step int
		buf  [][]float32
	}
	var loads []load
	for _, g := range b.groups {
		slots := b.rule.slots(&g.Config)
		for _, p := range g.Params {
			step, ok := s.Steps[p.Name]
			if !ok || step < 0 {
				return fmt.Errorf("optim: state has no step count for parameter %q", p.Name)
			}
			l := load{st: b.state[p], step: step}
			if bufs, ok := s.Buffers[p.Name]; ok {
				for _, slot := range slots {
					v, ok := bufs[slot]
					if !ok {
						return fmt.Errorf("optim: state of parameter %q has no buffer %q", p.Name, slot)
					}
					if len(v) != len(p.Value.Data) {
						return fmt.Errorf("optim: state buffer %q of parameter %q has %d values, want %d", slot, p.Name, len(v), len(p.Value.Data))
					}
					l.buf = append(l.buf, append([]float32(nil), v...))
				}
				if len(bufs) != len(slots) {
					return fmt.Errorf("optim: state of parameter %q has %d buffers, want %d %v", p.Name, len(bufs), len(slots), slots)
				}
			} else if step > 0 && len(slots) > 0 {
				return fmt.Errorf("optim: state of parameter %q has %d steps but no buffers", p.Name, step)
			}
			loads = append(loads, l)
		}
	}
	for _, l := range loads {
		l.st.step, l.st.buf = l.step, l.buf
	}
	return nil
}
