package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// How the recurrent layers run
//
// LSTM, GRU and RNN share one engine, rnnCore. A forward pass:
//
//  1. Orders the batch by length (descending, stable) into a packed layout
//     (seqPlan): step t owns the rows off[t] .. off[t]+n[t] of every packed
//     buffer, n[t] being the sequences still running, so finished sequences
//     cost nothing. Without lengths the plan is the identity and the input
//     tensor itself is the packed buffer (no copy).
//  2. Per layer and direction (runDir, recurrent_fwd.go), computes the
//     input projection of all steps as one (N × I)·(I × G) GEMM, packs
//     W_hh once (kernel.PackedB), then per step runs one
//     (n × Ho)·(Ho × G) product into the step's rows (a panel GEMV for a
//     single row) and one fused gate kernel (kernel.LSTMForward /
//     GRUForward). The state buffers hc (B × Ho) and cc (B × H) are
//     updated for the first n rows only, so each sequence's final state
//     stays in place after its last step; the reverse direction walks
//     t = T-1 … 0 and picks up a sequence at its own last step with its
//     initial state still in place. How the step loops are spread over
//     the cores, and how the projection is computed, is chosen once per
//     call by the rules of recurrent_strategy.go.
//  3. With a tape, keeps what backward needs (activations, c before and
//     after, h before each step) in an arena from the layer's free list;
//     the arena goes back when the backward closure has run, so a training
//     loop reuses the same memory every step. Inference (nil tape) uses a
//     pooled arena per call, mutates nothing and is safe for concurrent use.
//
// Backward (runDirBack, recurrent_bwd.go) mirrors forward in reverse time
// with the transposed packed W_hh, then forms the weight gradients as
// single GEMMs over all N rows (dW_ih += dPreᵀ·X, dW_hh += dPreᵀ·H_prev,
// dX += dPre·W_ih) and the bias gradients as column sums. Regularizers (dropout masks, weight-drop,
// zoneout) are drawn from the layer's RNG in training only and replayed in
// backward from the record.

// State holds the initial or final states of a recurrent layer, one slice
// per layer and direction (index k·D + d, d = 1 the reverse direction):
// H is (L·D, B, Ho) and C is (L·D, B, H) for an LSTM, nil for GRU and RNN.
//
// The State a training forward returns (non-nil tape) is the tape's, with
// its Vars and their buffers: valid until the tape's next step, when all
// of it is reused. To carry it into the next batch, Detach it.
type State struct {
	H, C *Var
}

// Detach returns a copy of s cut from the graph: new Vars holding copies
// of the values and no gradients. Carry it into the next batch for
// truncated backpropagation through time.
func (s *State) Detach() *State {
	if s == nil {
		return nil
	}
	d := &State{}
	if s.H != nil {
		d.H = NewVar(s.H.Value.Clone())
	}
	if s.C != nil {
		d.C = NewVar(s.C.Value.Clone())
	}
	return d
}

// DetachInto is Detach into dst's tensors when their shapes match s's
// (otherwise it allocates as Detach does) and returns dst: a training loop
// that carries state from batch to batch alternates two States and
// allocates nothing. dst may be nil.
func (s *State) DetachInto(dst *State) *State {
	if s == nil {
		return nil
	}
	if dst == nil {
		return s.Detach()
	}
	dst.H = detachVarInto(s.H, dst.H)
	dst.C = detachVarInto(s.C, dst.C)
	return dst
}

// detachVarInto copies v's value into d's when the shapes match and
// returns d with no gradient, or a new copy otherwise; nil for a nil v.
func detachVarInto(v, d *Var) *Var {
	if v == nil {
		return nil
	}
	if d == nil || d.Value == nil || !shapeIs(d.Value, v.Value.Shape...) {
		return NewVar(v.Value.Clone())
	}
	copy(d.Value.Data, v.Value.Data)
	d.Grad = nil
	return d
}

// Recurrent is a sequence layer: LSTM, GRU or RNN.
type Recurrent interface {
	Module
	// Forward runs x (T,B,I), or (B,T,I) when batch-first, from h0 (nil
	// means zeros) over the valid steps given by lengths (nil means all T)
	// and returns the output (T,B,D·Ho) (or (B,T,D·Ho)) and final states.
	// With a tape both are the tape's, valid until its next step (see
	// Tape); with a nil tape they are fresh and the caller's.
	Forward(tp *Tape, x *Var, lengths []int, h0 *State) (*Var, *State)
	// RNG returns the generator of the layer's training-time masks
	// (dropout between layers, the recurrent regularizers).
	RNG() *tensor.RNG
}

var (
	_ Recurrent = (*LSTM)(nil)
	_ Recurrent = (*GRU)(nil)
	_ Recurrent = (*RNN)(nil)
)

type cellKind int

const (
	kindLSTM cellKind = iota
	kindGRU
	kindRNNTanh
	kindRNNReLU
)

func (k cellKind) gates() int {
	switch k {
	case kindLSTM:
		return 4
	case kindGRU:
		return 3
	}
	return 1
}

func (k cellKind) String() string {
	switch k {
	case kindLSTM:
		return "LSTM"
	case kindGRU:
		return "GRU"
	}
	return "RNN"
}

// rnnOpts is the configuration shared by the three sequence layers.
type rnnOpts struct {
	kind                                     cellKind
	in, hidden, proj, layers, dirs           int
	bias, batchFirst                         bool
	dropout, inDrop, recDrop, wDrop, zoneout float64
	init                                     Init
	forgetBias                               float64
	// peephole adds an LSTM's peephole weights (LSTMConfig.Peephole);
	// resetBefore makes a GRU apply r before its recurrent product
	// (GRUConfig.ResetBefore).
	peephole, resetBefore bool
}

// rnnDir holds the parameters of one layer and direction.
type rnnDir struct {
	// bf16 holds W_hh in bfloat16 for the step loops of a BF16 tape,
	// forward and backward (precision.go), reused across calls.
	bf16 [2]kernel.PackedBF16

	wih, whh, bih, bhh, whr *Param
	ph                      *Param // (3H) peephole weights p_i, p_f, p_o (LSTMConfig.Peephole); nil without
	in                      int
	q                       *quantDir // quantized W_ih and W_hh for inference (quant.go); nil for a float layer
}

// rnnCore is the fused multi-layer, bidirectional recurrent engine behind
// LSTM, GRU and RNN.
type rnnCore struct {
	rnnOpts
	w      [][]rnnDir // [layer][direction]
	params []*Param
	rng    *tensor.RNG // dropout masks (training only)
	arenas *arenaList  // scratch memory reused across calls
}

// validate checks the options of layer typ, o.layers being 0 for 1.
func (o *rnnOpts) validate(typ string) error {
	if err := checkMin(typ, 1, intField{"input_size", o.in}, intField{"hidden_size", o.hidden}); err != nil {
		return err
	}
	switch {
	case o.layers < 0:
		return fieldError(typ, "num_layers", o.layers, ">= 0 (0 means 1)")
	case o.proj < 0 || o.proj > 0 && o.proj >= o.hidden:
		return fieldError(typ, "proj_size", o.proj, fmt.Sprintf("0 or in [1, %d) (below hidden_size)", o.hidden))
	case o.proj > 0 && o.kind != kindLSTM:
		return fieldError(typ, "proj_size", o.proj, "0 (a projection is for LSTM only)")
	case o.peephole && o.kind != kindLSTM:
		return fieldError(typ, "peephole", true, "false (peepholes are for LSTM only)")
	case o.resetBefore && o.kind != kindGRU:
		return fieldError(typ, "reset_before", true, "false (it is for GRU only)")
	}
	for _, c := range []struct {
		field string
		p     float64
	}{{"dropout", o.dropout}, {"input_dropout", o.inDrop}, {"recurrent_dropout", o.recDrop}, {"weight_drop", o.wDrop}, {"zoneout", o.zoneout}} {
		if !isProb(c.p) {
			return fieldError(typ, c.field, c.p, wantProb)
		}
	}
	return nil
}

func newRNNCore(o rnnOpts, rng *tensor.RNG) (*rnnCore, error) {
	name := o.kind.String()
	if err := o.validate(name); err != nil {
		return nil, err
	}
	if o.layers == 0 {
		o.layers = 1
	}
	if rng == nil {
		return nil, fieldError(name, "rng", literal("nil"), "a generator")
	}
	r := &rnnCore{rnnOpts: o, arenas: new(arenaList)}
	G, H, Ho := o.kind.gates()*o.hidden, o.hidden, r.ho()
	r.w = make([][]rnnDir, o.layers)
	for k := range r.w {
		r.w[k] = make([]rnnDir, o.dirs)
		in := o.in
		if k > 0 {
			in = o.dirs * Ho
		}
		for d := range r.w[k] {
			sfx := fmt.Sprintf("_l%d", k)
			if d == 1 {
				sfx += "_reverse"
			}
			w := &r.w[k][d]
			w.in = in
			w.wih = NewParam("weight_ih"+sfx, G, in)
			w.whh = NewParam("weight_hh"+sfx, G, Ho)
			r.params = append(r.params, w.wih, w.whh)
			if o.bias {
				w.bih = NewParam("bias_ih"+sfx, G)
				w.bhh = NewParam("bias_hh"+sfx, G)
				r.params = append(r.params, w.bih, w.bhh)
			}
			if o.peephole {
				w.ph = NewParam("weight_peephole"+sfx, 3*H)
				r.params = append(r.params, w.ph)
			}
			if o.proj > 0 {
				w.whr = NewParam("weight_hr"+sfx, Ho, H)
				r.params = append(r.params, w.whr)
			}
		}
	}
	if err := o.init.apply(name, r.params, o.kind, H, o.forgetBias, rng); err != nil {
		return nil, err
	}
	r.rng = rng.Split()
	return r, nil
}

// ho is the width of h: the projection size, or H.
func (r *rnnCore) ho() int {
	if r.proj > 0 {
		return r.proj
	}
	return r.hidden
}

func (r *rnnCore) paramList() []*Param { return append([]*Param(nil), r.params...) }

// dirRec is what one direction of one layer keeps for backward. Packed
// buffers have N rows.
type dirRec struct {
	act     []float32 // (N, G): LSTM [i f g o] activations, GRU [r z n], RNN h
	c       []float32 // (N, H) LSTM cell after each step
	cprev   []float32 // (N, H) LSTM cell before each step
	hprev   []float32 // (N, Ho) h before each step
	hin     []float32 // (N, Ho) h as fed to W_hh (recurrent dropout); else hprev
	hg      []float32 // (N, G) GRU W_hh h + b_hh
	m       []float32 // (N, H) LSTMP o⊙tanh(c) before the projection
	dH      []float32 // (N, Ho) LSTMP gradient into h, filled in backward
	whh     []float32 // W_hh as used (after weight-drop)
	wdMask  []float32 // (G, Ho) weight-drop mask
	recMask []float32 // (B, Ho) recurrent dropout mask, sorted order
	zh, zc  []float32 // (N, Ho), (N, H) zoneout masks: 1 keeps the old state
}

// layerRec is what one layer keeps for backward.
type layerRec struct {
	x    []float32 // (N, in) packed input as the layer saw it
	mask []float32 // dropout (k>0) or variational input dropout (k=0) mask
	dirs []dirRec
}

// rnnRecord is the state of one forward call and, for a training forward,
// what it keeps for its backward. It lives in the call's arena
// (floatArena.record) and is reused with it, so a training loop allocates
// none: the arena goes back to the layer's free list when Backward has run
// (an inference call's, when the call returns).
type rnnRecord struct {
	r      *rnnCore
	tp     *Tape
	ws     *floatArena
	p      seqPlan
	ex     execPlan
	x      *Var
	h0     *State
	outT   *tensor.Tensor // the output (T, B, D·Ho) or (B, T, D·Ho)
	hn, cn *tensor.Tensor // the final states (L·D, B, Ho) and (L·D, B, H); cn nil but for an LSTM
	out    *Var
	st     *State
	lrec   []layerRec
}

// Backward is the tape op of a training forward: it runs the backward and
// returns the arena to the layer.
func (rec *rnnRecord) Backward() {
	rec.r.backward(rec)
	rec.drop()
}

// drop returns the arena to the layer (after Backward, on Tape.Reset, or
// at the end of an inference call).
func (rec *rnnRecord) drop() {
	r, ws := rec.r, rec.ws
	rec.r, rec.tp, rec.ws, rec.x, rec.h0, rec.out, rec.st = nil, nil, nil, nil, nil, nil, nil
	rec.outT, rec.hn, rec.cn = nil, nil, nil
	r.arenas.put(ws)
}

// layers returns rec.lrec with L layers of D cleared directions, reusing
// its slices.
func (rec *rnnRecord) layers(L, D int) []layerRec {
	if cap(rec.lrec) < L {
		rec.lrec = make([]layerRec, L)
	}
	rec.lrec = rec.lrec[:L]
	for k := range rec.lrec {
		lr := &rec.lrec[k]
		if cap(lr.dirs) < D {
			lr.dirs = make([]dirRec, D)
		}
		lr.dirs = lr.dirs[:D]
		clear(lr.dirs)
		lr.x, lr.mask = nil, nil
	}
	return rec.lrec
}

// forward runs the layer (see LSTM.Forward). With a tape the output and
// state Vars, their buffers and the State are the tape's (valid until its
// next step; State.Detach copies); with a nil tape they are fresh and the

// forward runs the layer (see LSTM.Forward). With a tape the output and
// state Vars, their buffers and the State are the tape's (valid until its
// next step; State.Detach copies); with a nil tape they are fresh and the
// caller's.
func (r *rnnCore) forward(tp *Tape, x *Var, lengths []int, h0 *State) (*Var, *State) {
	T, B := r.checkInput(x, h0)
	ws := r.arenas.get()
	rec := ws.record()
	rec.r, rec.tp, rec.ws, rec.x, rec.h0 = r, tp, ws, x, h0
	if tp == nil {
		defer rec.drop()
	}
	rec.p.reset(r.kind, T, B, lengths)
	rec.ex = r.planExec(tp, &rec.p)
	r.quantPlan(&rec.ex, tp)
	rec.newResults()
	X, mask := rec.packInput()
	if rec.ex.pipeline {
		rec.forwardPipelined(X)
	} else {
		rec.forwardLayers(X, mask)
	}
	out := tp.Var(rec.outT)
	st := NewRecord[State](tp)
	st.H = tp.Var(rec.hn)
	if rec.cn != nil {
		st.C = tp.Var(rec.cn)
	}
	if tp != nil {
		rec.out, rec.st = out, st
		tp.AddOp(rec)
	}
	return out, st
}

// checkInput panics unless x is (T, B, I), or (B, T, I) when batch-first,
// with T and B not 0, and h0 (when not nil) holds states of the layer's
// shapes for that batch; it returns T and B.
func (r *rnnCore) checkInput(x *Var, h0 *State) (T, B int) {
	name := r.kind
	if x == nil || x.Value == nil || len(x.Value.Shape) != 3 || x.Value.Shape[2] != r.in {
		var s []int
		if x != nil && x.Value != nil {
			s = x.Value.Shape
		}
		panic(fmt.Sprintf("nn: %s.Forward: input shape %v, want (T, B, %d)", name, s, r.in))
	}
	T, B = x.Value.Shape[0], x.Value.Shape[1]
	if r.batchFirst {
		T, B = B, T
	}
	if T == 0 || B == 0 {
		panic(fmt.Sprintf("nn: %s.Forward: empty input %v", name, x.Value.Shape))
	}
	if h0 == nil {
		return T, B
	}
	H, Ho, LD := r.hidden, r.ho(), r.layers*r.dirs
	if h0.H == nil || !shapeIs(h0.H.Value, LD, B, Ho) {
		panic(fmt.Sprintf("nn: %s.Forward: h0.H must be (%d, %d, %d)", name, LD, B, Ho))
	}
	if h0.C != nil && (r.kind != kindLSTM || !shapeIs(h0.C.Value, LD, B, H)) {
		panic(fmt.Sprintf("nn: %s.Forward: h0.C must be (%d, %d, %d) for an LSTM, nil otherwise", name, LD, B, H))
	}
	return T, B
}

// direct reports whether the input and output tensors have the packed
// layout (all lengths T, time-major), so that the layers read and write
// them in place.
func (rec *rnnRecord) direct() bool { return rec.p.identity && !rec.r.batchFirst }

// newResults takes the call's output and final-state tensors: the tape's
// when there is one, so that a training loop allocates no activation
// memory after its first step.
func (rec *rnnRecord) newResults() {
	r, tp, T, B := rec.r, rec.tp, rec.p.T, rec.p.B
	H, Ho, D, L := r.hidden, r.ho(), r.dirs, r.layers
	if r.batchFirst {
		rec.outT = tp.Buffer(B, T, D*Ho)
	} else {
		rec.outT = tp.Buffer(T, B, D*Ho)
	}
	rec.hn, rec.cn = tp.Buffer(L*D, B, Ho), nil
	if r.kind == kindLSTM {
		rec.cn = tp.Buffer(L*D, B, H)
	}
}

// packInput returns the first layer's packed input (N, I), the input
// tensor's data itself when the layouts agree, and its variational dropout
// mask (training; nil for none).
func (rec *rnnRecord) packInput() (X, mask []float32) {
	r, ws, p := rec.r, rec.ws, &rec.p
	X = rec.x.Value.Data
	if !rec.direct() {
		X = ws.takeRaw(p.N * r.in)
		p.gather(X, rec.x.Value.Data, r.in, r.batchFirst)
	}
	if rec.tp != nil {
		rec.layers(r.layers, r.dirs)
	}
	if rec.ex.training && r.inDrop > 0 {
		// Variational input dropout: one mask per sequence for all steps.
		mask = ws.takeRaw(p.B * r.in)
		r.rng.Bernoulli(mask, r.inDrop)
		X = maskRows(ws.takeRaw(p.N*r.in), X, mask, p, r.in)
	}
	return X, mask
}

// forwardLayers runs the layers one after another (all rules but the
// pipeline): layer k reads X, the packed output of layer k-1 (for k = 0
// the packed input), which dropout mask produced.
func (rec *rnnRecord) forwardLayers(X, mask []float32) {
	r := rec.r
	for k := 0; k < r.layers; k++ {
		Y := rec.layerOutput(k)
		if rec.tp != nil {
			rec.lrec[k].x, rec.lrec[k].mask = X, mask
		}
		for d := 0; d < r.dirs; d++ {
			rec.forwardDir(k, d, X, Y)
		}
		X, mask = rec.dropoutAfter(k, Y.buf)
	}
}

// layerOutput is where layer k writes its rows: below the top, a packed
// buffer; the top layer writes straight into the output tensor, each row
// at its (step, sequence) position, so there is no packed copy to scatter
// afterwards. It also zeroes the padded positions of a tape's buffer,
// which comes back dirty (a fresh tensor is zero already): see fwdLoop.
func (rec *rnnRecord) layerOutput(k int) outRows {
	r, p := rec.r, &rec.p
	ld := r.dirs * r.ho()
	switch {
	case k < r.layers-1:
		return outRows{buf: rec.ws.takeRaw(p.N * ld), ld: ld}
	case rec.direct():
		return outRows{buf: rec.outT.Data, ld: ld}
	}
	return outRows{buf: rec.outT.Data, ld: ld, rowmap: p.rowMap(r.batchFirst)}
}

// forwardDir runs direction d of layer k over X into its columns of Y.
func (rec *rnnRecord) forwardDir(k, d int, X []float32, Y outRows) {
	r := rec.r
	s := k*r.dirs + d
	j := dirJob{ws: rec.ws, w: &r.w[k][d], d: d, X: X, in: r.w[k][0].in, Y: Y}
	j.Y.off = d * r.ho()
	j.hc, j.cc = rec.gatherState(rec.ws, s, rec.initial())
	if rec.tp != nil {
		j.dr = &rec.lrec[k].dirs[d]
	}
	r.runDir(&rec.p, &rec.ex, &j)
	rec.scatterState(s, j.hc, j.cc, stateTensors{rec.hn, rec.cn}, false)
}

// dropoutAfter returns the input of layer k+1 from Y, the packed output of
// layer k, and its dropout mask (training; nil for none).
func (rec *rnnRecord) dropoutAfter(k int, Y []float32) (X, mask []float32) {
	r, ws := rec.r, rec.ws
	if k == r.layers-1 || !rec.ex.training || r.dropout <= 0 {
		return Y, nil
	}
	mask = ws.takeRaw(len(Y))
	r.rng.Bernoulli(mask, r.dropout)
	X = ws.takeRaw(len(Y))
	for i := range X {
		X[i] = Y[i] * mask[i]
	}
	return X, mask
}

// stateTensors are an (L·D, B, Ho) and an (L·D, B, H) tensor of states or
// their gradients; either may be nil.
type stateTensors struct{ h, c *tensor.Tensor }

// initial returns h0's tensors (none for a nil h0: zeros).
func (rec *rnnRecord) initial() stateTensors {
	var s stateTensors
	if h0 := rec.h0; h0 != nil {
		s.h = h0.H.Value
		if h0.C != nil {
			s.c = h0.C.Value
		}
	}
	return s
}

// gatherState takes zeroed (B, Ho) and, for an LSTM, (B, H) rows from ws
// and copies into them, in sorted order, block s of src's tensors that
// are not nil.
func (rec *rnnRecord) gatherState(ws *floatArena, s int, src stateTensors) (h, c []float32) {
	r, p := rec.r, &rec.p
	B, H, Ho := p.B, r.hidden, r.ho()
	h = ws.take(B * Ho)
	if src.h != nil {
		p.gatherRows(h, src.h.Data[s*B*Ho:(s+1)*B*Ho], Ho)
	}
	if r.kind == kindLSTM {
		c = ws.take(B * H)
		if src.c != nil {
			p.gatherRows(c, src.c.Data[s*B*H:(s+1)*B*H], H)
		}
	}
	return h, c
}

// scatterState writes (or adds, when add) the sorted rows h and c into
// block s of dst's tensors that are not nil, in batch order.
func (rec *rnnRecord) scatterState(s int, h, c []float32, dst stateTensors, add bool) {
	r, p := rec.r, &rec.p
	B, H, Ho := p.B, r.hidden, r.ho()
	if dst.h != nil {
		p.scatterRows(dst.h.Data[s*B*Ho:(s+1)*B*Ho], h, Ho, add)
	}
	if dst.c != nil {
		p.scatterRows(dst.c.Data[s*B*H:(s+1)*B*H], c, H, add)
	}
}

func shapeIs(t *tensor.Tensor, dims ...int) bool {
	if t == nil || len(t.Shape) != len(dims) {
		return false
	}
	for i, d := range dims {
		if t.Shape[i] != d {
			return false
		}
	}
	return true
}

// maskRows sets dst = x ⊙ mask for packed x (N, w), where the (B, w) mask
// row of sorted position j applies to that sequence at every step.
func maskRows(dst, x, mask []float32, p *seqPlan, w int) []float32 {
	for t := 0; t < p.T; t++ {
		for j := 0; j < p.n[t]; j++ {
			row := (p.off[t] + j) * w
			for i := 0; i < w; i++ {
				dst[row+i] = x[row+i] * mask[j*w+i]
			}
		}
	}
	return dst
}

// backward is the backward of forward, from its record. The gradients of
// x and h0 come from the tape's arena (tp.Grad), as every other layer's
// input gradients.
func (r *rnnCore) backward(rec *rnnRecord) {
	ws := r.arenas.get()
	defer r.arenas.put(ws)
	// The top layer reads its output gradient in place, through the row
	// map when the packed order is not the tensor's (see forward).
	var dY outRows
	if g := rec.out.Grad; g != nil {
		dY = outRows{buf: g.Data, ld: r.dirs * r.ho()}
		if !rec.direct() {
			dY.rowmap = rec.p.rowMap(r.batchFirst)
		}
	}
	for k := r.layers - 1; k >= 0; k-- {
		dY = rec.backLayer(ws, k, dY)
	}
}

// backLayer runs the backward of layer k from the gradient of its output
// dY and returns that of its input, the output of layer k-1 (nothing for
// k = 0, whose input gradient goes to x's).
func (rec *rnnRecord) backLayer(ws *floatArena, k int, dY outRows) outRows {
	r, lr := rec.r, &rec.lrec[k]
	in := r.w[k][0].in
	var dX []float32
	switch {
	case k == 0 && rec.x.NoGrad: // nobody wants the input's gradient
	case k == 0 && rec.inputGradInPlace():
		dX = rec.tp.Grad(rec.x).Data
	default:
		dX = ws.take(rec.p.N * in)
	}
	for d := 0; d < r.dirs; d++ {
		rec.backwardDir(ws, k, d, dY, dX)
	}
	if k > 0 {
		if lr.mask != nil {
			for i, m := range lr.mask {
				dX[i] *= m
			}
		}
		return outRows{buf: dX, ld: in}
	}
	rec.addInputGrad(dX)
	return outRows{}
}

// inputGradInPlace reports whether the first layer accumulates its input
// gradient straight into x's.
func (rec *rnnRecord) inputGradInPlace() bool { return rec.direct() && rec.lrec[0].mask == nil }

// addInputGrad adds the first layer's packed input gradient dX into x's,
// through its input dropout mask (nothing to do when there is none, or
// when dX is x's gradient already).
func (rec *rnnRecord) addInputGrad(dX []float32) {
	if dX == nil || rec.inputGradInPlace() {
		return
	}
	r, p := rec.r, &rec.p
	if mask := rec.lrec[0].mask; mask != nil {
		maskRows(dX, dX, mask, p, r.in)
	}
	if rec.direct() {
		kernel.Axpy(1, dX, rec.tp.Grad(rec.x).Data)
	} else {
		p.scatter(rec.tp.Grad(rec.x).Data, dX, r.in, r.batchFirst, true)
	}
}

// backwardDir runs the backward of direction d of layer k: from dY, the
// gradient of the layer's output, into dX, that of its input (nil: not
// wanted), and the gradients of the parameters and of h0.
func (rec *rnnRecord) backwardDir(ws *floatArena, k, d int, dY outRows, dX []float32) {
	r, lr := rec.r, &rec.lrec[k]
	s := k*r.dirs + d
	j := bwdJob{ws: ws, w: &r.w[k][d], d: d, dr: &lr.dirs[d], X: lr.x, in: r.w[k][0].in, dY: dY, dX: dX}
	j.dY.off = d * r.ho()
	final := stateTensors{h: rec.st.H.Grad}
	if rec.st.C != nil {
		final.c = rec.st.C.Grad
	}
	j.dhc, j.dcc = rec.gatherState(ws, s, final)
	r.runDirBack(&rec.p, &rec.ex, &j)
	if h0 := rec.h0; h0 != nil {
		dh0 := stateTensors{h: rec.tp.Grad(h0.H)}
		if h0.C != nil {
			dh0.c = rec.tp.Grad(h0.C)
		}
		rec.scatterState(s, j.dhc, j.dcc, dh0, true)
	}
}

// colSumAdd adds the column sums of a (rows, cols) into dst (cols).
func colSumAdd(dst, a []float32, rows, cols int) {
	for i := 0; i < rows; i++ {
		kernel.Axpy(1, a[i*cols:(i+1)*cols], dst)
	}
}

// outputSize is D·Ho, the last dimension of the output.
func (r *rnnCore) outputSize() int { return r.dirs * r.ho() }

// zeroState returns zero states for a batch of B.
func (r *rnnCore) zeroState(B int) *State {
	s := &State{H: NewVar(tensor.New(r.layers*r.dirs, B, r.ho()))}
	if r.kind == kindLSTM {
		s.C = NewVar(tensor.New(r.layers*r.dirs, B, r.hidden))
	}
	return s
}
