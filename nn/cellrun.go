package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
)

// CellRun runs an LSTMCell step by step through one tape recording (a
// decoder loop with attention or input feeding, where each step's input
// depends on the previous step's output) faster than calling the cell's
// Forward at every step:
//
//   - x·W_ihᵀ and h·W_hhᵀ run against weights packed once per recording
//     (the same arithmetic as Forward, so the values are identical), and
//     the backward's input gradients are one product dpre·[W_ih | W_hh]
//     against the packed concatenation;
//   - the weight and bias gradients are formed once, after the backward of
//     the last step, as single GEMMs over the rows of all the steps
//     (Σ_t dpre_tᵀ·[x_t | h_t]), instead of one thin rank-B update of the
//     whole (4H, I+H) gradient per step.
//
// Step has the semantics of LSTMCell.Forward and returns the same values;
// gradients equal the cell's to float32 rounding (their sums are grouped
// differently). A CellRun keeps its buffers
// between recordings, so a training loop reuses them. It serves one tape
// recording at a time: training one cell on several tapes at once is not
// supported (nor is it with the cell itself: gradients would race). With
// a nil tape (inference) Step is the cell's Forward.
type CellRun struct {
	cell    *cellCore
	rec     uint64
	I, H, K int // K = I + H

	fwdI, fwdH kernel.PackedB // W_ihᵀ, W_hhᵀ of rec
	wcat       []float32      // (4H, K) [W_ih | W_hh], once backward starts
	bwd        kernel.PackedB // wcat
	bwdOK      bool
	bias       []float32 // (4H) b_ih + b_hh, nil without biases
	biasBuf    []float32

	xh   []float32 // (rows, K): each step's [x | h], in forward order
	da   []float32 // (rows, 4H): each step's gradient of the pre-activations
	rows int

	steps []*cellStep // recycled step records
	nstep int
	flush func() // r.flushGrads, bound once
}

// cellStep is what one step keeps for its backward.
type cellStep struct {
	r         *CellRun
	tp        *Tape
	off, B    int
	x, h, cx  *Var
	act       []float32 // (B, 4H) gate activations
	c1, cprev []float32 // (B, H)
	h1v, c1v  Var
	back      func() // s.backward, bound once
}

// NewCellRun returns a CellRun for an LSTMCell.
func NewCellRun(c *LSTMCell) *CellRun {
	r := &CellRun{cell: &c.core, I: c.core.in, H: c.core.hidden}
	r.K = r.I + r.H
	r.flush = r.flushGrads
	return r
}

// begin starts recording rec: packs the weights and records the closure
// that forms the weight gradients, ahead of every step's so that it runs
// after all of them.
func (r *CellRun) begin(tp *Tape, rec uint64) {
	c := r.cell
	I, H := r.I, r.H
	G := 4 * H
	r.rec, r.rows, r.nstep, r.bwdOK = rec, 0, 0, false
	r.fwdI.Pack(true, I, G, c.wih.Value.Data, I)
	r.fwdH.Pack(true, H, G, c.whh.Value.Data, H)
	r.bias = nil
	if c.bih != nil {
		if len(r.biasBuf) < G {
			r.biasBuf = make([]float32, G)
		}
		r.bias = r.biasBuf[:G]
		for i := range r.bias {
			r.bias[i] = c.bih.Value.Data[i] + c.bhh.Value.Data[i]
		}
	}
	tp.Add(r.flush)
}

// Step runs the cell on x (B, I) from h and cx (B, H; nil means zeros)
// and returns h1 and c1 (B, H), recorded on tp. The returned Vars are
// valid until tp's next recording.
func (r *CellRun) Step(tp *Tape, x, h, cx *Var) (h1, c1 *Var) {
	if tp == nil {
		return r.cell.step(nil, x, h, cx)
	}
	I, H, K := r.I, r.H, r.K
	G := 4 * H
	if x == nil || len(x.Value.Shape) != 2 || x.Value.Shape[1] != I {
		panic(fmt.Sprintf("nn: CellRun.Step: x must be (B, %d)", I))
	}
	B := x.Value.Shape[0]
	for _, s := range []*Var{h, cx} {
		if s != nil && !shapeIs(s.Value, B, H) {
			panic(fmt.Sprintf("nn: CellRun.Step: state shape %v, want (%d, %d)", s.Value.Shape, B, H))
		}
	}
	if rec := tp.recording(); rec != r.rec {
		r.begin(tp, rec)
	}
	off := r.rows
	r.rows += B
	if need := r.rows * K; need > len(r.xh) {
		grown := make([]float32, max(need, 2*len(r.xh)))
		copy(grown, r.xh[:off*K])
		r.xh = grown
	}
	xh := r.xh[off*K : r.rows*K]
	for b := 0; b < B; b++ {
		row := xh[b*K : (b+1)*K]
		copy(row[:I], x.Value.Data[b*I:(b+1)*I])
		if h != nil {
			copy(row[I:], h.Value.Data[b*H:(b+1)*H])
		} else {
			clear(row[I:])
		}
	}
	pre := tp.Buffer(B, G).Data
	if r.bias != nil {
		for b := 0; b < B; b++ {
			copy(pre[b*G:(b+1)*G], r.bias)
		}
	} else {
		clear(pre)
	}
	kernel.SgemmPacked(false, B, 1, xh, K, &r.fwdI, 1, pre, G)
	if h != nil {
		kernel.SgemmPacked(false, B, 1, xh[I:], K, &r.fwdH, 1, pre, G)
	}
	cprev := tp.Buffer(B, H).Data
	if cx != nil {
		copy(cprev, cx.Value.Data)
	} else {
		clear(cprev)
	}
	h1t, c1t := tp.Buffer(B, H), tp.Buffer(B, H)
	kernel.LSTMForward(pre, c1t.Data, h1t.Data, pre, cprev, B, H)

	s := r.nextStep()
	s.tp, s.off, s.B, s.x, s.h, s.cx = tp, off, B, x, h, cx
	s.act, s.c1, s.cprev = pre, c1t.Data, cprev
	s.h1v = Var{Value: h1t}
	s.c1v = Var{Value: c1t}
	tp.Add(s.back)
	return &s.h1v, &s.c1v
}

// nextStep returns a recycled step record.
func (r *CellRun) nextStep() *cellStep {
	if r.nstep == len(r.steps) {
		s := &cellStep{r: r}
		s.back = s.backward
		r.steps = append(r.steps, s)
	}
	s := r.steps[r.nstep]
	r.nstep++
	return s
}

// backward is one step's backward: the gradient of its pre-activations
// (kept for flushGrads) and those of x, h and cx.
func (s *cellStep) backward() {
	r, tp := s.r, s.tp
	I, H, K, B := r.I, r.H, r.K, s.B
	G := 4 * H
	if need := r.rows * G; len(r.da) < need {
		r.da = make([]float32, need)
	}
	dA := r.da[s.off*G : (s.off+B)*G]
	dh := tp.Zeros(B, H).Data
	if s.h1v.Grad != nil {
		copy(dh, s.h1v.Grad.Data)
	}
	dc := tp.Zeros(B, H).Data
	if s.c1v.Grad != nil {
		copy(dc, s.c1v.Grad.Data)
	}
	kernel.LSTMBackward(dA, dc, s.act, s.c1, s.cprev, dh, dc, B, H)
	if s.cx != nil {
		kernel.Axpy(1, dc, tp.Grad(s.cx).Data)
	}
	if !r.bwdOK {
		r.packBackward()
	}
	dxh := tp.Buffer(B, K).Data
	kernel.SgemmPacked(false, B, 1, dA, G, &r.bwd, 0, dxh, K)
	dx := tp.Grad(s.x).Data
	var dhp []float32
	if s.h != nil {
		dhp = tp.Grad(s.h).Data
	}
	for b := 0; b < B; b++ {
		kernel.Axpy(1, dxh[b*K:b*K+I], dx[b*I:(b+1)*I])
		if dhp != nil {
			kernel.Axpy(1, dxh[b*K+I:(b+1)*K], dhp[b*H:(b+1)*H])
		}
	}
	// h1v and c1v stay readable until the next recording reuses them.
	s.x, s.h, s.cx, s.tp = nil, nil, nil, nil
}

// packBackward packs [W_ih | W_hh] (4H, K) for the input gradients.
func (r *CellRun) packBackward() {
	c := r.cell
	I, H, K := r.I, r.H, r.K
	G := 4 * H
	if len(r.wcat) < G*K {
		r.wcat = make([]float32, G*K)
	}
	wih, whh := c.wih.Value.Data, c.whh.Value.Data
	for g := 0; g < G; g++ {
		copy(r.wcat[g*K:g*K+I], wih[g*I:(g+1)*I])
		copy(r.wcat[g*K+I:(g+1)*K], whh[g*H:(g+1)*H])
	}
	r.bwd.Pack(false, G, K, r.wcat, K)
	r.bwdOK = true
}

// flushGrads adds the weight and bias gradients of every step of the
// recording: dW_ih += dAᵀ·X, dW_hh += dAᵀ·Hprev, db += Σ rows of dA.
// It runs after every step's backward (it was recorded first).
func (r *CellRun) flushGrads() {
	c := r.cell
	I, H, K, N := r.I, r.H, r.K, r.rows
	G := 4 * H
	if N == 0 || len(r.da) < N*G {
		return
	}
	dA := r.da[:N*G]
	kernel.Sgemm(true, false, G, I, N, 1, dA, G, r.xh, K, 1, c.wih.Grad.Data, I)
	kernel.Sgemm(true, false, G, H, N, 1, dA, G, r.xh[I:], K, 1, c.whh.Grad.Data, H)
	if c.bih != nil {
		colSumAdd(c.bih.Grad.Data, dA, N, G)
		colSumAdd(c.bhh.Grad.Data, dA, N, G)
	}
	r.rows, r.nstep = 0, 0
	r.rec = 0 // the next Step starts a new recording
}
