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
//  2. Per layer and direction, computes the input projection of all steps
//     as one (N × I)·(I × G) GEMM with both biases folded in, packs W_hh
//     once (kernel.PackedB; a batch of one uses GEMV instead), then per
//     step runs one (n × Ho)·(Ho × G) GEMM into the step's rows and one
//     fused gate kernel (kernel.LSTMForward / GRUForward). The state
//     buffers hc (B × Ho) and cc (B × H) are updated for the first n rows
//     only, so each sequence's final state stays in place after its last
//     step; the reverse direction walks t = T-1 … 0 and picks up a sequence
//     at its own last step with its initial state still in place.
//  3. With a tape, keeps what backward needs (activations, c before and
//     after, h before each step) in an arena from the layer's free list;
//     the arena goes back when the backward closure has run, so a training
//     loop reuses the same memory every step. Inference (nil tape) uses a
//     pooled arena per call, mutates nothing and is safe for concurrent use.
//
// Backward mirrors forward in reverse time with the transposed packed W_hh,
// then forms the weight gradients as single GEMMs over all N rows
// (dW_ih += dPreᵀ·X, dW_hh += dPreᵀ·H_prev, dX += dPre·W_ih) and the bias
// gradients as column sums. Regularizers (dropout masks, weight-drop,
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
}

// rnnDir holds the parameters of one layer and direction.
type rnnDir struct {
	wih, whh, bih, bhh, whr *Param
	in                      int
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

func checkProb(what string, p float64) error {
	if p < 0 || p >= 1 || p != p {
		return fmt.Errorf("%s = %v: want a probability in [0, 1)", what, p)
	}
	return nil
}

func newRNNCore(o rnnOpts, rng *tensor.RNG) (*rnnCore, error) {
	name := o.kind.String()
	if o.layers == 0 {
		o.layers = 1
	}
	switch {
	case o.in <= 0:
		return nil, fmt.Errorf("nn: %s: InputSize = %d: want > 0", name, o.in)
	case o.hidden <= 0:
		return nil, fmt.Errorf("nn: %s: HiddenSize = %d: want > 0", name, o.hidden)
	case o.layers < 0:
		return nil, fmt.Errorf("nn: %s: NumLayers = %d: want >= 0", name, o.layers)
	case o.proj < 0 || o.proj > 0 && o.proj >= o.hidden:
		return nil, fmt.Errorf("nn: %s: ProjSize = %d: want 0 or in [1, HiddenSize=%d)", name, o.proj, o.hidden)
	case o.proj > 0 && o.kind != kindLSTM:
		return nil, fmt.Errorf("nn: %s: ProjSize is for LSTM only", name)
	}
	for _, c := range []struct {
		what string
		p    float64
	}{{"Dropout", o.dropout}, {"InputDropout", o.inDrop}, {"RecurrentDropout", o.recDrop}, {"WeightDrop", o.wDrop}, {"Zoneout", o.zoneout}} {
		if err := checkProb(c.what, c.p); err != nil {
			return nil, fmt.Errorf("nn: %s: %w", name, err)
		}
	}
	if rng == nil {
		return nil, fmt.Errorf("nn: %s: nil RNG", name)
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

// rnnRecord is what a training forward keeps for its backward. It lives
// in the forward's arena (floatArena.record) and is reused with it, so a
// training loop allocates none: the arena goes back to the layer's free
// list when Backward has run. An inference call uses only its plan.
type rnnRecord struct {
	r    *rnnCore
	tp   *Tape
	ws   *floatArena
	p    seqPlan
	x    *Var
	h0   *State
	out  *Var
	st   *State
	lrec []layerRec
}

// Backward is the tape op of a training forward: it runs the backward and
// returns the arena to the layer.
func (rec *rnnRecord) Backward() {
	rec.r.backward(rec)
	rec.drop()
}

// drop returns the arena to the layer (after Backward, or on Tape.Reset).
func (rec *rnnRecord) drop() {
	r, ws := rec.r, rec.ws
	rec.r, rec.tp, rec.ws, rec.x, rec.h0, rec.out, rec.st = nil, nil, nil, nil, nil, nil, nil
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
// caller's.
func (r *rnnCore) forward(tp *Tape, x *Var, lengths []int, h0 *State) (*Var, *State) {
	name := r.kind
	if x == nil || x.Value == nil || len(x.Value.Shape) != 3 || x.Value.Shape[2] != r.in {
		var s []int
		if x != nil && x.Value != nil {
			s = x.Value.Shape
		}
		panic(fmt.Sprintf("nn: %s.Forward: input shape %v, want (T, B, %d)", name, s, r.in))
	}
	T, B := x.Value.Shape[0], x.Value.Shape[1]
	if r.batchFirst {
		T, B = B, T
	}
	if T == 0 || B == 0 {
		panic(fmt.Sprintf("nn: %s.Forward: empty input %v", name, x.Value.Shape))
	}
	H, Ho, D, L := r.hidden, r.ho(), r.dirs, r.layers
	lstm := r.kind == kindLSTM
	if h0 != nil {
		if h0.H == nil || !shapeIs(h0.H.Value, L*D, B, Ho) {
			panic(fmt.Sprintf("nn: %s.Forward: h0.H must be (%d, %d, %d)", name, L*D, B, Ho))
		}
		if h0.C != nil && (!lstm || !shapeIs(h0.C.Value, L*D, B, H)) {
			panic(fmt.Sprintf("nn: %s.Forward: h0.C must be (%d, %d, %d) for an LSTM, nil otherwise", name, L*D, B, H))
		}
	}
	training := tp.Training()
	ws := r.arenas.get()
	if tp == nil {
		defer r.arenas.put(ws)
	}
	rec := ws.record()
	p := &rec.p
	p.reset(r.kind, T, B, lengths)
	N := p.N

	// The results come from the tape's arena when there is a tape (valid
	// until the tape's next step; State.Detach copies), so a training loop
	// allocates no activation memory after its first step.
	direct := p.identity && !r.batchFirst
	var out *tensor.Tensor
	if r.batchFirst {
		out = tp.Buffer(B, T, D*Ho)
	} else {
		out = tp.Buffer(T, B, D*Ho)
	}
	hn := tp.Buffer(L*D, B, Ho)
	var cn *tensor.Tensor
	if lstm {
		cn = tp.Buffer(L*D, B, H)
	}
	X := x.Value.Data
	if !direct {
		X = ws.takeRaw(N * r.in)
		p.gather(X, x.Value.Data, r.in, r.batchFirst)
	}
	var lrec []layerRec
	if tp != nil {
		lrec = rec.layers(L, D)
	}
	var mask []float32
	if training && r.inDrop > 0 {
		// Variational input dropout: one mask per sequence for all steps.
		mask = ws.takeRaw(B * r.in)
		r.rng.Bernoulli(mask, r.inDrop)
		X = maskRows(ws.takeRaw(N*r.in), X, mask, p, r.in)
	}
	var Y []float32
	piped := tp == nil && r.canPipeline(B)
	if piped {
		Y = r.forwardPipelined(ws, p, X, out.Data, direct, h0, hn, cn)
	}
	for k := 0; k < L && !piped; k++ {
		in := r.w[k][0].in
		if tp != nil {
			lrec[k].x, lrec[k].mask = X, mask
		}
		var ymap []int
		switch {
		case k == L-1 && direct:
			Y = out.Data
		case k == L-1:
			// The top layer writes its rows straight into the output,
			// each at its (step, sequence) position: no packed copy to
			// scatter afterwards.
			Y, ymap = out.Data, p.rowMap(r.batchFirst)
		default:
			Y = ws.takeRaw(N * D * Ho)
		}
		for d := 0; d < D; d++ {
			s := k*D + d
			hc := ws.take(B * Ho)
			if h0 != nil {
				p.gatherRows(hc, h0.H.Value.Data[s*B*Ho:(s+1)*B*Ho], Ho)
			}
			var cc []float32
			if lstm {
				cc = ws.take(B * H)
				if h0 != nil && h0.C != nil {
					p.gatherRows(cc, h0.C.Value.Data[s*B*H:(s+1)*B*H], H)
				}
			}
			var dr *dirRec
			if tp != nil {
				dr = &lrec[k].dirs[d]
			}
			r.runDir(ws, p, &r.w[k][d], d, X, in, Y, D*Ho, d*Ho, hc, cc, dr, training, nil, ymap)
			p.scatterRows(hn.Data[s*B*Ho:(s+1)*B*Ho], hc, Ho, false)
			if lstm {
				p.scatterRows(cn.Data[s*B*H:(s+1)*B*H], cc, H, false)
			}
		}
		mask = nil
		X = Y
		if k < L-1 && training && r.dropout > 0 {
			mask = ws.takeRaw(N * D * Ho)
			r.rng.Bernoulli(mask, r.dropout)
			X = ws.takeRaw(N * D * Ho)
			for i := range X {
				X[i] = Y[i] * mask[i]
			}
		}
	}
	if piped && !direct {
		p.scatter(out.Data, Y, D*Ho, r.batchFirst, false)
	} // else the top layer wrote its rows in place (rowMap), and zeroed
	// the padded positions of a tape's buffer, which comes back dirty
	// (a fresh tensor is zero already): see fwdLoop.
	outV := tp.Var(out)
	st := NewRecord[State](tp)
	st.H = tp.Var(hn)
	if lstm {
		st.C = tp.Var(cn)
	}
	if tp == nil {
		return outV, st
	}
	rec.r, rec.tp, rec.ws = r, tp, ws
	rec.x, rec.h0, rec.out, rec.st = x, h0, outV, st
	tp.AddOp(rec)
	return outV, st
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

// soloGemmFlops bounds (as 2·m·n·k) the row blocks of a batch-of-one
// input projection; it is half the kernel's threshold for waking its
// worker team (internal/kernel parallelMinFlops, 4 Mi), so no block does.
const soloGemmFlops = 2 << 20

// recGemm sets dst (n, G) += hin (n, Ho) · W_hhᵀ, through the packed
// operand when there is one, else as a GEMV (batch of one), walking the
// packed panels in the direction reverse gives: the step loops alternate
// it so that each step starts on the panels the previous one read last,
// still in cache (see kernel.PackedB.Gemm; W_hh is 1 MiB at H = 256, as
// large as L2, and read in full at every step of each group of rows).
func recGemm(dst, hin []float32, n, Ho, G int, whh []float32, pk *kernel.PackedB, reverse bool) {
	if pk == nil {
		kernel.Sgemv(false, G, Ho, 1, whh, Ho, hin, 1, dst)
		return
	}
	pk.Gemm(n, hin, Ho, 1, dst, G, reverse)
}

// recGemmT sets dst (n, Ho) = dA (n, G) · W_hh, the packed panels walked
// as reverse says (see recGemm).
func recGemmT(dst, dA []float32, n, Ho, G int, whh []float32, pk *kernel.PackedB, reverse bool) {
	if pk == nil {
		kernel.Sgemv(true, G, Ho, 1, whh, Ho, dA, 0, dst)
		return
	}
	pk.Gemm(n, dA, G, 0, dst, Ho, reverse)
}

// runDir runs one direction of one layer over the packed input X (N, in)
// and writes h of every step into columns [yoff, yoff+Ho) of Y (N, ldy).
// hc (B, Ho) and cc (B, H) hold the initial states in sorted order and are
// left holding each sequence's final state. dr, when not nil, receives
// what backward needs.
func (r *rnnCore) runDir(ws *floatArena, p *seqPlan, w *rnnDir, d int, X []float32, in int, Y []float32, ldy, yoff int, hc, cc []float32, dr *dirRec, training bool, pipe *layerPipe, ymap []int) {
	H, Ho, B, N, T := r.hidden, r.ho(), p.B, p.N, p.T
	G := r.kind.gates() * H
	lstm, gru := r.kind == kindLSTM, r.kind == kindGRU

	if B > 1 && T > 1 {
		// The step loop's products are small; see kernel.Wake.
		kernel.Wake()
	}

	// Input projection of every step in one GEMM. The biases (summed, but
	// for a GRU's b_hh) are added step by step below, to rows the
	// recurrence is about to read anyway, rather than pre-filled into the
	// whole (N, G) buffer: that was one more pass over a buffer far larger
	// than the caches.
	XW := ws.takeRaw(N * G)
	var beta float32
	var bias []float32
	if r.bias {
		bias = w.bih.Value.Data
		if !gru {
			bias = ws.takeRaw(G)
			for i := range bias {
				bias[i] = w.bih.Value.Data[i] + w.bhh.Value.Data[i]
			}
		}
	}
	if B == 1 && bias != nil {
		// A batch of one has N = T rows: the bias goes into the
		// projection (the GEMM adds onto it), which saves a call per step
		// on its latency-bound path. For inputs up to one k-block (256
		// features) the sums are those of the step loop's Axpy onto the
		// finished product; beyond, the bias joins the first partial sum
		// (a last-bit difference from a larger batch). The split path
		// (recurrent_split.go) folds it the same way as this one.
		for j := 0; j < N; j++ {
			copy(XW[j*G:(j+1)*G], bias)
		}
		beta, bias = 1, nil
	}
	split := dr == nil && r.canSplitB1(B, training)
	if split {
		r.prepareSplit(ws, w.whh.Value.Data, X, in, w.wih.Value.Data, beta, XW, N)
	}
	switch {
	case pipe != nil && pipe.src != nil:
		// Projected chunk by chunk in the step loop, as the layer below
		// produces its rows (see layerPipe).
	case split && N >= 2:
		// prepareSplit has computed it.
	case B == 1 && 2*N*G*in > soloGemmFlops:
		// A batch of one is a chain of single-core GEMVs; a projection big
		// enough to wake the kernel's worker team costs more in the wake
		// (and the worker's spin competing with the chain) than the split
		// saves, so it runs here in row blocks that each stay on this core.
		pw := ws.packed()
		pw.Pack(true, in, G, w.wih.Value.Data, in)
		rows := max(1, soloGemmFlops/(2*G*in))
		for r0 := 0; r0 < N; r0 += rows {
			m := min(rows, N-r0)
			kernel.SgemmPacked(false, m, 1, X[r0*in:], in, pw, beta, XW[r0*G:], G)
		}
	default:
		kernel.Sgemm(false, true, N, G, in, 1, X, in, w.wih.Value.Data, in, beta, XW, G)
	}

	whh := w.whh.Value.Data
	var recMask []float32
	if training {
		if r.wDrop > 0 {
			m := ws.takeRaw(G * Ho)
			r.rng.Bernoulli(m, r.wDrop)
			we := ws.takeRaw(G * Ho)
			for i := range we {
				we[i] = whh[i] * m[i]
			}
			whh = we
			dr.wdMask = m
		}
		if r.recDrop > 0 {
			recMask = ws.takeRaw(B * Ho)
			r.rng.Bernoulli(recMask, r.recDrop)
		}
	}
	if split {
		r.runSplitB1(ws, p, whh, XW, d, Y, ldy, yoff, hc, cc)
		return
	}
	// W_hh packed once: a batch of one then runs the panel GEMV, which
	// streams the packed operand without the row-dot reductions.
	pk := ws.packed()
	pk.Pack(true, Ho, G, whh, Ho)
	zo := training && r.zoneout > 0
	if dr != nil {
		dr.whh = whh
		dr.recMask = recMask
		dr.act = XW
		dr.hprev = ws.takeRaw(N * Ho)
		dr.hin = dr.hprev
		if recMask != nil {
			dr.hin = ws.takeRaw(N * Ho)
		}
		switch {
		case lstm:
			dr.c = ws.takeRaw(N * H)
			dr.cprev = ws.takeRaw(N * H)
			if r.proj > 0 {
				dr.m = ws.takeRaw(N * H)
			}
		case gru:
			dr.act = ws.takeRaw(N * G)
			dr.hg = ws.takeRaw(N * G)
		}
		if zo {
			dr.zh = ws.takeRaw(N * Ho)
			if lstm {
				dr.zc = ws.takeRaw(N * H)
			}
		}
	}
	// Per-step scratch, B rows, and the loop's state (see fwdLoop).
	lp := ws.fwdLoop()
	*lp = fwdLoop{r: r, p: p, w: w, d: d, X: X, in: in, Y: Y, ldy: ldy, yoff: yoff, hc: hc, cc: cc,
		dr: dr, pipe: pipe, ymap: ymap, pad: ymap != nil && dr != nil, XW: XW, beta: beta, bias: bias, whh: whh, pk: pk,
		recMask: recMask, zo: zo}
	lp.hm = ws.takeRaw(B * Ho)   // masked h for W_hh
	lp.hnew = ws.takeRaw(B * Ho) // new h before zoneout
	if lstm {
		lp.cnew = ws.takeRaw(B * H)
		if r.proj > 0 {
			lp.mscr = ws.takeRaw(B * H)
		}
	}
	if gru {
		lp.act = ws.takeRaw(B * G)
		lp.hg = ws.takeRaw(B * G)
	}
	if r.proj > 0 {
		// Packed, so that a product of one row is the same FMA chains
		// as one of several (a group of rows may be down to one).
		lp.pr = ws.packed()
		lp.pr.Pack(true, H, Ho, w.whr.Value.Data, H)
	}
	if k := r.rowSplit(p, zo || pipe != nil); k > 0 {
		lp.bounds = [3]int{0, k, B}
		kernel.Parallel(2, lp)
	} else {
		lp.run(0, B)
	}
	*lp = fwdLoop{}
}

// fwdLoop is runDir's step loop over the sorted sequences [jlo, jhi) of
// the batch (all of them, or one of two groups run side by side; see
// rowSplit). A step's running sequences are a prefix of the sorted order,
// so a group's rows of every step are contiguous in the packed layout and
// its per-sequence buffers (states, scratch) are rows jlo.. of theirs.
type fwdLoop struct {
	r              *rnnCore
	p              *seqPlan
	w              *rnnDir
	d, in, ldy     int
	yoff           int
	beta           float32
	X, Y, XW       []float32
	hc, cc         []float32
	bias, whh      []float32
	recMask        []float32
	hm, hnew, cnew []float32
	mscr, act, hg  []float32
	dr             *dirRec
	pipe           *layerPipe
	ymap           []int
	pad            bool // zero Y's padded positions (ymap set, a tape's dirty buffer)
	pk             *kernel.PackedB
	pr             *kernel.PackedB // W_hrᵀ packed (LSTMP)
	zo             bool
	bounds         [3]int // group g runs sorted sequences bounds[g]..bounds[g+1]
}

// RunPart runs group g's loop (kernel.Parallel).
func (lp *fwdLoop) RunPart(g int) { lp.run(lp.bounds[g], lp.bounds[g+1]) }

// run is the step loop for the sorted sequences [jlo, jhi).
func (lp *fwdLoop) run(jlo, jhi int) {
	r, p, w, d, X, in, Y, ldy, yoff := lp.r, lp.p, lp.w, lp.d, lp.X, lp.in, lp.Y, lp.ldy, lp.yoff
	XW, beta, bias, whh, pk, recMask, zo := lp.XW, lp.beta, lp.bias, lp.whh, lp.pk, lp.recMask, lp.zo
	dr, pipe, ymap := lp.dr, lp.pipe, lp.ymap
	H, Ho, N, T := r.hidden, r.ho(), p.N, p.T
	G := r.kind.gates() * H
	hc, cc := rowsFrom(lp.hc, jlo, Ho), rowsFrom(lp.cc, jlo, H)
	hm, hnew := rowsFrom(lp.hm, jlo, Ho), rowsFrom(lp.hnew, jlo, Ho)
	cnew, mscr := rowsFrom(lp.cnew, jlo, H), rowsFrom(lp.mscr, jlo, H)
	act, hg := rowsFrom(lp.act, jlo, G), rowsFrom(lp.hg, jlo, G)
	recMask = rowsFrom(recMask, jlo, Ho)
	for s := 0; s < T; s++ {
		t := s
		if d == 1 {
			t = T - 1 - s
		}
		if lp.pad {
			p.zeroEnded(Y, t, jlo, jhi, ldy, yoff, Ho, r.batchFirst)
		}
		// This group's running sequences and their first packed row.
		n, o := min(p.n[t], jhi)-jlo, p.off[t]+jlo
		if n <= 0 {
			continue // every sequence has ended (lengths all < T)
		}
		if pipe != nil && pipe.src != nil && o >= pipe.projected {
			pipe.project(X, in, w.wih.Value.Data, beta, XW, G, N)
		}
		if bias != nil {
			for j := o; j < o+n; j++ {
				kernel.Axpy(1, bias, XW[j*G:(j+1)*G])
			}
		}
		hprev := hc[:n*Ho]
		hin := hprev
		if recMask != nil {
			hin = hm[:n*Ho]
			for i := range hin {
				hin[i] = hprev[i] * recMask[i]
			}
		}
		if dr != nil {
			copy(dr.hprev[o*Ho:], hprev)
			if recMask != nil {
				copy(dr.hin[o*Ho:], hin)
			}
		}
		// The new h: straight into the state for an LSTM (the GEMM has
		// consumed the old one), through scratch where the kernel must not
		// alias it (GRU) or zoneout needs both.
		hout := hnew[:n*Ho]
		if r.kind == kindLSTM && !zo {
			hout = hprev
		}
		switch r.kind {
		case kindLSTM:
			pre := XW[o*G : (o+n)*G]
			recGemm(pre, hin, n, Ho, G, whh, pk, s&1 == 1)
			cprev := cc[:n*H]
			cout := cnew[:n*H]
			if dr != nil {
				copy(dr.cprev[o*H:], cprev)
				cout = dr.c[o*H : (o+n)*H]
			}
			m := hout
			if r.proj > 0 {
				m = mscr[:n*H]
				if dr != nil {
					m = dr.m[o*H : (o+n)*H]
				}
			}
			kernel.LSTMForward(pre, cout, m, pre, cprev, n, H)
			if r.proj > 0 {
				kernel.SgemmPacked(false, n, 1, m, H, lp.pr, 0, hout, Ho)
			}
			if zo {
				zc := dr.zc[o*H : (o+n)*H]
				zoneMask(r.rng, zc, r.zoneout)
				for i, z := range zc {
					cprev[i] = z*cprev[i] + (1-z)*cout[i]
				}
			} else {
				copy(cprev, cout)
			}
		case kindGRU:
			g := hg[:n*G]
			a := act[:n*G]
			if dr != nil {
				g = dr.hg[o*G : (o+n)*G]
				a = dr.act[o*G : (o+n)*G]
			}
			if r.bias {
				for j := 0; j < n; j++ {
					copy(g[j*G:(j+1)*G], w.bhh.Value.Data)
				}
			} else {
				clear(g)
			}
			recGemm(g, hin, n, Ho, G, whh, pk, s&1 == 1)
			kernel.GRUForward(a, hout, XW[o*G:(o+n)*G], g, hprev, n, H)
		default:
			pre := XW[o*G : (o+n)*G]
			recGemm(pre, hin, n, Ho, G, whh, pk, s&1 == 1)
			if r.kind == kindRNNTanh {
				kernel.Tanh(pre, pre)
			} else {
				for i, v := range pre {
					if v < 0 {
						pre[i] = 0
					}
				}
			}
			hout = pre
		}
		if zo {
			zh := dr.zh[o*Ho : (o+n)*Ho]
			zoneMask(r.rng, zh, r.zoneout)
			for i, z := range zh {
				hprev[i] = z*hprev[i] + (1-z)*hout[i]
			}
		} else if &hout[0] != &hprev[0] {
			copy(hprev, hout)
		}
		switch {
		case ymap != nil:
			for j := 0; j < n; j++ {
				row := ymap[o+j]*ldy + yoff
				copy(Y[row:row+Ho], hprev[j*Ho:(j+1)*Ho])
			}
		case ldy == Ho:
			copy(Y[o*Ho:(o+n)*Ho], hprev)
		default:
			for j := 0; j < n; j++ {
				copy(Y[(o+j)*ldy+yoff:(o+j)*ldy+yoff+Ho], hprev[j*Ho:(j+1)*Ho])
			}
		}
		if pipe != nil && pipe.dst != nil {
			pipe.dst.Store(int64(o + n))
		}
	}
}

// zoneMask fills z with 1 (keep the previous state) with probability p,
// else 0.
func zoneMask(rng *tensor.RNG, z []float32, p float64) {
	for i := range z {
		if rng.Float64() < p {
			z[i] = 1
		} else {
			z[i] = 0
		}
	}
}

// backward is the backward of forward, from its record. The gradients of
// x and h0 come from the tape's arena (tp.Grad), as every other layer's
// input gradients.
func (r *rnnCore) backward(rec *rnnRecord) {
	tp, p, x, h0, outV, st, lrec := rec.tp, &rec.p, rec.x, rec.h0, rec.out, rec.st, rec.lrec
	H, Ho, D, L, B, N := r.hidden, r.ho(), r.dirs, r.layers, p.B, p.N
	lstm := r.kind == kindLSTM
	ws := r.arenas.get()
	defer r.arenas.put(ws)
	direct := p.identity && !r.batchFirst
	// The top layer reads its output gradient in place, through the row
	// map when the packed order is not the tensor's (see forward).
	var dY []float32
	var dymap []int
	if outV.Grad != nil {
		dY = outV.Grad.Data
		if !direct {
			dymap = p.rowMap(r.batchFirst)
		}
	}
	for k := L - 1; k >= 0; k-- {
		lr := &lrec[k]
		in := r.w[k][0].in
		var dX []float32
		noDX := k == 0 && x.NoGrad // nobody wants the input's gradient
		inPlace := k == 0 && direct && lr.mask == nil
		switch {
		case noDX:
		case inPlace:
			dX = tp.Grad(x).Data
		default:
			dX = ws.take(N * in)
		}
		for d := 0; d < D; d++ {
			s := k*D + d
			dhc := ws.take(B * Ho)
			if st.H.Grad != nil {
				p.gatherRows(dhc, st.H.Grad.Data[s*B*Ho:(s+1)*B*Ho], Ho)
			}
			var dcc []float32
			if lstm {
				dcc = ws.take(B * H)
				if st.C.Grad != nil {
					p.gatherRows(dcc, st.C.Grad.Data[s*B*H:(s+1)*B*H], H)
				}
			}
			r.backDir(ws, p, &r.w[k][d], d, &lr.dirs[d], lr.x, in, dY, dymap, D*Ho, d*Ho, dX, dhc, dcc)
			if h0 != nil {
				p.scatterRows(tp.Grad(h0.H).Data[s*B*Ho:(s+1)*B*Ho], dhc, Ho, true)
				if h0.C != nil {
					p.scatterRows(tp.Grad(h0.C).Data[s*B*H:(s+1)*B*H], dcc, H, true)
				}
			}
		}
		if k > 0 {
			if lr.mask != nil {
				for i, m := range lr.mask {
					dX[i] *= m
				}
			}
			dY, dymap = dX, nil
			continue
		}
		if inPlace || noDX {
			continue
		}
		if lr.mask != nil {
			maskRows(dX, dX, lr.mask, p, in)
		}
		if direct {
			kernel.Axpy(1, dX, tp.Grad(x).Data)
		} else {
			p.scatter(tp.Grad(x).Data, dX, in, r.batchFirst, true)
		}
	}
}

// backDir is the backward of runDir. dY (N, ldy) holds the output
// gradient (nil for none); dhc (B, Ho) and dcc (B, H) enter holding the
// gradient of the final states and leave holding that of the initial
// states; dX (N, in), unless nil (no input gradient wanted), and the
// parameter gradients are accumulated.
func (r *rnnCore) backDir(ws *floatArena, p *seqPlan, w *rnnDir, d int, dr *dirRec, X []float32, in int, dY []float32, dymap []int, ldy, yoff int, dX, dhc, dcc []float32) {
	H, Ho, B, N := r.hidden, r.ho(), p.B, p.N
	G := r.kind.gates() * H
	gru := r.kind == kindGRU
	var pk *kernel.PackedB
	if B > 1 {
		// The backward follows the loss, a pause in which the kernel's
		// workers park: wake them for the step loop's small products
		// (the shortest sequences' steps come first).
		kernel.Wake()
		pk = ws.packed()
		pk.Pack(false, G, Ho, dr.whh, Ho)
	}
	dA := ws.takeRaw(N * G) // dPre (LSTM, RNN) or dxg (GRU)
	var dhg []float32
	if gru {
		dhg = ws.takeRaw(N * G)
	}
	if r.proj > 0 {
		dr.dH = ws.takeRaw(N * Ho)
	}
	dht := ws.takeRaw(B * Ho)
	dsc := ws.takeRaw(B * H)    // dm (LSTMP) or GRU direct dhPrev
	carry := ws.takeRaw(B * Ho) // backRec scratch
	var dcs []float32
	if dr.zc != nil {
		dcs = ws.takeRaw(B * H)
	}
	lp := ws.bwdLoop()
	*lp = bwdLoop{r: r, p: p, d: d, dr: dr, dY: dY, dymap: dymap, ldy: ldy, yoff: yoff,
		dhc: dhc, dcc: dcc, dA: dA, dhg: dhg, dht: dht, dsc: dsc, carry: carry, dcs: dcs, pk: pk}
	if r.proj > 0 {
		lp.pr = ws.packed()
		lp.pr.Pack(false, Ho, H, w.whr.Value.Data, H)
	}
	if k := r.rowSplit(p, false); k > 0 {
		lp.bounds = [3]int{0, k, B}
		kernel.Parallel(2, lp)
	} else {
		lp.run(0, B)
	}
	*lp = bwdLoop{}
	// Weight gradients as large GEMMs over all steps.
	kernel.Sgemm(true, false, G, in, N, 1, dA, G, X, in, 1, w.wih.Grad.Data, in)
	if dX != nil {
		kernel.Sgemm(false, false, N, in, G, 1, dA, G, w.wih.Value.Data, in, 1, dX, in)
	}
	dR := dA
	if gru {
		dR = dhg
	}
	if dr.wdMask != nil {
		tmp := ws.takeRaw(G * Ho)
		kernel.Sgemm(true, false, G, Ho, N, 1, dR, G, dr.hin, Ho, 0, tmp, Ho)
		gw := w.whh.Grad.Data
		for i, m := range dr.wdMask {
			gw[i] += tmp[i] * m
		}
	} else {
		kernel.Sgemm(true, false, G, Ho, N, 1, dR, G, dr.hin, Ho, 1, w.whh.Grad.Data, Ho)
	}
	if r.bias {
		if gru {
			colSumAdd(w.bih.Grad.Data, dA, N, G)
			colSumAdd(w.bhh.Grad.Data, dR, N, G)
		} else {
			// Both biases enter the same pre-activation: one column sum.
			db := ws.take(G)
			colSumAdd(db, dA, N, G)
			kernel.Axpy(1, db, w.bih.Grad.Data)
			kernel.Axpy(1, db, w.bhh.Grad.Data)
		}
	}
	if r.proj > 0 {
		kernel.Sgemm(true, false, Ho, H, N, 1, dr.dH, Ho, dr.m, H, 1, w.whr.Grad.Data, H)
	}
}

// rowsFrom returns the per-sequence buffer b (rows of w) from sorted
// sequence j on, nil for nil.
func rowsFrom(b []float32, j, w int) []float32 {
	if b == nil {
		return nil
	}
	return b[j*w:]
}

// bwdLoop is backDir's step loop over the sorted sequences [jlo, jhi) of
// the batch, as fwdLoop is runDir's.
type bwdLoop struct {
	r                    *rnnCore
	p                    *seqPlan
	d, ldy, yoff         int
	dr                   *dirRec
	dY                   []float32
	dymap                []int
	dhc, dcc, dA, dhg    []float32
	dht, dsc, carry, dcs []float32
	pk                   *kernel.PackedB
	pr                   *kernel.PackedB // W_hr packed (LSTMP)
	bounds               [3]int
}

// RunPart runs group g's loop (kernel.Parallel).
func (lp *bwdLoop) RunPart(g int) { lp.run(lp.bounds[g], lp.bounds[g+1]) }

// run is the backward step loop for the sorted sequences [jlo, jhi).
func (lp *bwdLoop) run(jlo, jhi int) {
	r, p, d, dr, dY, dymap, ldy, yoff := lp.r, lp.p, lp.d, lp.dr, lp.dY, lp.dymap, lp.ldy, lp.yoff
	dA, dhg, pk := lp.dA, lp.dhg, lp.pk
	H, Ho, T := r.hidden, r.ho(), p.T
	G := r.kind.gates() * H
	dhc, dcc := rowsFrom(lp.dhc, jlo, Ho), rowsFrom(lp.dcc, jlo, H)
	dht, dsc := rowsFrom(lp.dht, jlo, Ho), rowsFrom(lp.dsc, jlo, H)
	carry, dcs := rowsFrom(lp.carry, jlo, Ho), rowsFrom(lp.dcs, jlo, H)
	recMask := rowsFrom(dr.recMask, jlo, Ho)
	for s := T - 1; s >= 0; s-- {
		t := s
		if d == 1 {
			t = T - 1 - s
		}
		// This group's running sequences and their first packed row.
		n, o := min(p.n[t], jhi)-jlo, p.off[t]+jlo
		if n <= 0 {
			continue
		}
		dh := dht[:n*Ho]
		copy(dh, dhc[:n*Ho])
		switch {
		case dY == nil:
		case dymap != nil:
			for j := 0; j < n; j++ {
				row := dymap[o+j]*ldy + yoff
				kernel.Axpy(1, dY[row:row+Ho], dh[j*Ho:(j+1)*Ho])
			}
		case ldy == Ho:
			kernel.Axpy(1, dY[o*Ho:(o+n)*Ho], dh)
		default:
			for j := 0; j < n; j++ {
				row := (o+j)*ldy + yoff
				kernel.Axpy(1, dY[row:row+Ho], dh[j*Ho:(j+1)*Ho])
			}
		}
		// Zoneout: dh (the state after the step) splits between the new h
		// and the previous state.
		var zh []float32
		if dr.zh != nil {
			zh = dr.zh[o*Ho : (o+n)*Ho]
			for i, z := range zh {
				dhc[i] = z * dh[i]
				dh[i] *= 1 - z
			}
		}
		a := dA[o*G : (o+n)*G]
		dprev := dhc[:n*Ho]
		switch r.kind {
		case kindLSTM:
			dhk := dh
			if r.proj > 0 {
				copy(dr.dH[o*Ho:], dh)
				dhk = dsc[:n*H]
				kernel.SgemmPacked(false, n, 1, dh, Ho, lp.pr, 0, dhk, H)
			}
			dc := dcc[:n*H]
			if dr.zc != nil {
				zc := dr.zc[o*H : (o+n)*H]
				ds := dcs[:n*H]
				for i, z := range zc {
					ds[i] = z * dc[i]
					dc[i] *= 1 - z
				}
				kernel.LSTMBackward(a, dc, dr.act[o*G:(o+n)*G], dr.c[o*H:(o+n)*H], dr.cprev[o*H:(o+n)*H], dhk, dc, n, H)
				kernel.Axpy(1, ds, dc)
			} else {
				kernel.LSTMBackward(a, dc, dr.act[o*G:(o+n)*G], dr.c[o*H:(o+n)*H], dr.cprev[o*H:(o+n)*H], dhk, dc, n, H)
			}
			r.backRec(dprev, a, n, dr, recMask, pk, zh, carry, s&1 == 1)
		case kindGRU:
			direct := dsc[:n*H]
			kernel.GRUBackward(a, dhg[o*G:(o+n)*G], direct, dr.act[o*G:(o+n)*G], dr.hg[o*G:(o+n)*G], dr.hprev[o*H:(o+n)*H], dh, n, H)
			r.backRec(dprev, dhg[o*G:(o+n)*G], n, dr, recMask, pk, zh, carry, s&1 == 1)
			kernel.Axpy(1, direct, dprev)
		default:
			h := dr.act[o*G : (o+n)*G]
			for i, v := range h {
				if r.kind == kindRNNTanh {
					a[i] = dh[i] * (1 - v*v)
				} else if v > 0 {
					a[i] = dh[i]
				} else {
					a[i] = 0
				}
			}
			r.backRec(dprev, a, n, dr, recMask, pk, zh, carry, s&1 == 1)
		}
	}
}

// backRec sets dprev (n, Ho) = mask ⊙ (dR · W_hh) plus, when zh is not
// nil, the zoneout carry that dprev holds on entry. scratch has room for
// B·Ho floats; reverse is recGemmT's.
func (r *rnnCore) backRec(dprev, dR []float32, n int, dr *dirRec, recMask []float32, pk *kernel.PackedB, zh, scratch []float32, reverse bool) {
	Ho, G := r.ho(), r.kind.gates()*r.hidden
	if zh == nil && recMask == nil {
		recGemmT(dprev, dR, n, Ho, G, dr.whh, pk, reverse)
		return
	}
	carry := scratch[:len(dprev)]
	if zh != nil {
		copy(carry, dprev)
	}
	recGemmT(dprev, dR, n, Ho, G, dr.whh, pk, reverse)
	if recMask != nil {
		for i := range dprev {
			dprev[i] *= recMask[i]
		}
	}
	if zh != nil {
		kernel.Axpy(1, carry, dprev)
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
