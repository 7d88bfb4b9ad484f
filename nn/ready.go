package nn

// Gradient readiness: data-parallel training sums each gradient over the
// processes as soon as the backward pass has finished it, while the pass
// goes on with the layers below (PyTorch DDP's overlap). The tape knows
// when that is from the layers themselves: every layer that owns
// parameters touches them (Touch) at the start of its training forward,
// before it records anything, so every op that may write a parameter's
// gradient is recorded at or after the parameter's first touch of the
// step. Backward runs the ops in reverse; once it has run the op at the
// first touch's position, nothing more flows into that gradient.
//
// A layer that owns parameters and records ops writing their gradients
// without touching them would make a shared parameter (a tied embedding
// and output layer) look finished early; every parameter-owning layer of
// this package touches, and parameters that are never touched are
// simply never reported.

// readiness is a tape's record of the parameters touched this step.
type readiness struct {
	on    func(p *Param)
	first map[*Param]int // first touch: the index of the next op then
	order []*Param       // touched parameters, by first touch
}

// OnReady asks Backward to call f with each touched parameter as soon as
// its gradient is final for this backward pass, in reverse order of
// first touch, on Backward's goroutine (nil: stop). It applies from the
// next recording on; touches are forgotten after each Backward or Reset.
func (tp *Tape) OnReady(f func(p *Param)) {
	tp.ready.on = f
	tp.ready.forget()
}

// Touch records that the ops recorded from now on may write the
// gradients of ps (nil entries are skipped). Layers call it at the start
// of a training forward; without OnReady it does nothing.
func (tp *Tape) Touch(ps ...*Param) {
	if tp == nil || tp.ready.on == nil {
		return
	}
	r := &tp.ready
	if r.first == nil {
		r.first = map[*Param]int{}
	}
	for _, p := range ps {
		if p == nil {
			continue
		}
		if _, seen := r.first[p]; !seen {
			r.first[p] = len(tp.ops)
			r.order = append(r.order, p)
		}
	}
}

// fire reports the parameters whose first touch is at or after op i,
// which Backward has just run; left is how many of order are unreported.
func (r *readiness) fire(i int, left *int) {
	for *left > 0 {
		p := r.order[*left-1]
		if r.first[p] < i {
			return
		}
		*left--
		r.on(p)
	}
}

func (r *readiness) forget() {
	clear(r.first)
	clear(r.order)
	r.order = r.order[:0]
}
