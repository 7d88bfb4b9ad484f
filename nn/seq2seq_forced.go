package nn

import "github.com/recur-ml/recur/internal/kernel"

// Teacher-forced training of an LSTM decoder with dot or general attention,
// as one op over all target steps.
//
// Input feeding makes the decoder sequential: step t's cell input is
// [embed(y_{t−1}); ã_{t−1}], and ã_{t−1} needs step t−1's attention and
// combine layer, so neither the cell nor the attention nor the combine
// layer can run for all steps at once (forward or backward). What does not
// depend on the previous step is taken out of the step loop:
//
//   - the embedding half of the cell's input product, embed·W_ieᵀ + b, one
//     (Tt·B, E)·(E, 4H) GEMM before the loop, and its input gradient
//     dPre·W_ie one GEMM after the backward loop;
//   - every weight gradient (W_ih, W_hh, the biases, W_c) as one GEMM over
//     the Tt·B rows of all steps instead of Tt rank-B updates;
//   - the gradients of the keys and projected keys as one (Ts, Tt)·(Tt, H)
//     product per sequence, instead of one AXPY per step, sequence and
//     source position;
//   - the output projection (as before, in forwardForced's caller).
//
// What stays per step is two products of B rows against weights packed
// once per call, [ã_{t−1} | h_{t−1}]·[W_if | W_hh]ᵀ and [context | h]·W_cᵀ
// forward and their transposes backward, and the B small attention
// products; each step runs its sequences split over the kernel threads
// (forcedLoop), every value bit-identical for any split
// (TestSeq2SeqForcedThreadsIdentical). The values equal the per-step path's to float32 rounding (the
// pre-activation sums are grouped differently); TestSeq2SeqForcedOpMatches
// compares the two.

// forcedPacks holds the decoder's weights packed for one forcedDecode
// call; the model keeps it so that a training loop reuses its memory. So,
// as with CellRun, one model trains on one tape at a time (two at once
// would race on the gradients anyway).
type forcedPacks struct {
	wcat     []float32      // (4H, 2H) [W_if | W_hh]
	fwd, bwd kernel.PackedB // wcatᵀ (2H×4H) and wcat (4H×2H)
	cfwd     kernel.PackedB // W_cᵀ (2H×H)
	cbwd     kernel.PackedB // W_c (H×2H)
	bias     []float32      // (4H) b_ih + b_hh; nil without biases
}

// pack packs the current weights of the decoder cell c (input E + H) and
// of the combine layer wc (H, 2H).
func (p *forcedPacks) pack(c *cellCore, wc []float32, E, H int) {
	G, K := 4*H, 2*H
	if len(p.wcat) < G*K {
		p.wcat = make([]float32, G*K)
	}
	wih, whh := c.wih.Value.Data, c.whh.Value.Data
	for g := 0; g < G; g++ {
		copy(p.wcat[g*K:g*K+H], wih[g*(E+H)+E:(g+1)*(E+H)])
		copy(p.wcat[g*K+H:(g+1)*K], whh[g*H:(g+1)*H])
	}
	p.fwd.Pack(true, K, G, p.wcat, K)
	p.bwd.Pack(false, G, K, p.wcat, K)
	p.cfwd.Pack(true, K, H, wc, K)
	p.cbwd.Pack(false, H, K, wc, K)
	if c.bih == nil {
		p.bias = nil
		return
	}
	if cap(p.bias) < G {
		p.bias = make([]float32, G)
	}
	p.bias = p.bias[:G]
	for i := range p.bias {
		p.bias[i] = c.bih.Value.Data[i] + c.bhh.Value.Data[i]
	}
}

// forcedOp is forcedDecode's record: what its backward reads. Rows are
// time-major, row t·B + b for step t and sequence b; N = Tt·B.
type forcedOp struct {
	m              *Seq2Seq
	tp             *Tape
	p              *forcedPacks
	enc            *Encoded
	emb            *Var // (Tt, B, E) the cell's embedding inputs
	feeds, weights *Var // outputs: ã (Tt, B, H) and attention (Tt, B, Ts)
	Tt, B, Ts      int
	fh             []float32 // (N, 2H) [ã_{t−1} | h_{t−1}], the rest of each step's cell input
	act            []float32 // (N, 4H) gate activations
	hs, cs         []float32 // (N, H) h_t and c_t
	c0             []float32 // (B, H) c_{−1}: the start state's, or zeros
	ch             []float32 // (N, 2H) [context_t | h_t], the combine layer's input
	scores         []float32 // (B, Ts) one step's scores
	d              forcedGrads
	loop           forcedLoop
}

// forcedLoop runs the steps, forward or backward, with the batch's
// sequences split over the kernel threads: the sequences are independent,
// so part p runs step t for the sequences [p·B/parts, (p+1)·B/parts) with
// products of its rows alone, where splitting each step's few-row products
// would hand work over at every product and leave the cell's, attention's
// and combine layer's element-wise work to one thread. A step is one
// kernel.Parallel call, so that a thread that does not come (busy, or
// descheduled on a shared machine) leaves its part to the caller instead
// of holding up the whole loop.
type forcedLoop struct {
	o     *forcedOp
	parts int
	back  bool
	t     int // the step being run
}

func (l *forcedLoop) RunPart(part int) {
	o := l.o
	s := span{part * o.B / l.parts, (part + 1) * o.B / l.parts}
	if l.back {
		o.stepBackward(l.t, s)
	} else {
		o.stepForward(l.t, s)
	}
}

// run runs every step of o, in reverse order for the backward.
func (l *forcedLoop) run(o *forcedOp, back bool) {
	*l = forcedLoop{o: o, parts: max(1, min(kernel.Threads(), o.B)), back: back}
	for i := 0; i < o.Tt; i++ {
		l.t = i
		if back {
			l.t = o.Tt - 1 - i
		}
		kernel.Parallel(l.parts, l)
	}
}

// span is the sequences [b0, b1) of a batch.
type span struct{ b0, b1 int }

// rows returns the rows of step t and the sequences of s in a (N, w)
// matrix x, or with t = 0 those of s in a (B, w) one.
func (o *forcedOp) rows(x []float32, t, w int, s span) []float32 {
	return x[(t*o.B+s.b0)*w : (t*o.B+s.b1)*w]
}

// forcedOK reports whether a teacher-forced Forward can run as one
// forcedDecode: an LSTM decoder with dot or general attention.
func (m *Seq2Seq) forcedOK() bool {
	_, lstm := m.Decoder.(*LSTMCell)
	a, luong := m.Attention.(*Luong)
	return lstm && luong && (a.Kind == LuongDot || a.Kind == LuongGeneral)
}

// forwardForced is Forward with teacher forcing 1 on a tape, for a model
// that forcedOK accepts; see the comment at the top of this file. The
// dropout masks are drawn in the per-step path's order (per step, the
// embedding's then the attentional vector's), so the same seed drops the
// same units.
func (m *Seq2Seq) forwardForced(tp *Tape, enc *Encoded, b Seq2SeqBatch) (logits, weights *Var) {
	Tt, B, E, H := b.Tt, b.B, m.Config.EmbedSize, m.hd
	emb := m.TgtEmbed.Forward(tp, b.TgtIn, Tt, B)
	var feedMask []float32
	if tp.Training() && m.drop.P > 0 {
		embMask, fm := tp.Buffer(Tt*B*E).Data, tp.Buffer(Tt*B*H).Data
		for t := 0; t < Tt; t++ {
			m.drop.rng.Bernoulli(embMask[t*B*E:(t+1)*B*E], m.drop.P)
			m.drop.rng.Bernoulli(fm[t*B*H:(t+1)*B*H], m.drop.P)
		}
		emb, feedMask = applyMask(tp, emb, embMask, len(embMask)), fm
	}
	feeds, weights := m.forcedDecode(tp, enc, emb, Tt, B)
	if feedMask != nil {
		feeds = applyMask(tp, feeds, feedMask, len(feedMask))
	}
	return m.Out.Forward(tp, feeds), weights
}

// forcedDecode runs the decoder over all Tt steps of emb (Tt, B, E), the
// embedded (and dropped-out) decoder inputs, from enc.Start, and returns
// the attentional vectors ã (Tt, B, H) before dropout and the attention
// weights (Tt, B, Ts), recorded on tp as one op.
func (m *Seq2Seq) forcedDecode(tp *Tape, enc *Encoded, emb *Var, Tt, B int) (feeds, weights *Var) {
	if m.forced == nil {
		m.forced = new(forcedPacks)
	}
	E, H := m.Config.EmbedSize, m.hd
	G, N := 4*H, Tt*B
	p := m.forced
	p.pack(m.dec, m.Combine.Weight.Value.Data, E, H)
	o := NewRecord[forcedOp](tp)
	*o = forcedOp{m: m, tp: tp, p: p, enc: enc, emb: emb, Tt: Tt, B: B, Ts: enc.Keys.Value.Shape[1]}
	o.act = tp.Buffer(N, G).Data
	o.fh, o.ch = tp.Buffer(N, 2*H).Data, tp.Buffer(N, 2*H).Data
	o.hs, o.cs = tp.Buffer(N, H).Data, tp.Buffer(N, H).Data
	o.scores = tp.Buffer(B, o.Ts).Data
	if c := enc.Start.C; c != nil {
		o.c0 = c.Value.Data
	} else {
		o.c0 = tp.Zeros(B, H).Data
	}
	f, w := tp.Buffer(Tt, B, H), tp.Buffer(Tt, B, o.Ts)
	o.feeds, o.weights = tp.Var(f), tp.Var(w)
	// The embedding half of every step's pre-activations, at once.
	if p.bias != nil {
		for r := 0; r < N; r++ {
			copy(o.act[r*G:(r+1)*G], p.bias)
		}
	} else {
		clear(o.act)
	}
	kernel.Sgemm(false, true, N, G, E, 1, emb.Value.Data, E, m.dec.wih.Value.Data, E+H, 1, o.act, G)
	o.setInput(0, enc.Start.Feed.Value.Data, enc.Start.H.Value.Data, span{0, B})
	o.loop.run(o, false)
	tp.AddOp(o)
	return o.feeds, o.weights
}

// setInput writes the [ã_{t−1} | h_{t−1}] rows of step t and the
// sequences of s from feed and h, (len(s), H) each.
func (o *forcedOp) setInput(t int, feed, h []float32, s span) {
	H := o.m.hd
	fh := o.rows(o.fh, t, 2*H, s)
	for i := 0; i < s.b1-s.b0; i++ {
		copy(fh[i*2*H:i*2*H+H], feed[i*H:(i+1)*H])
		copy(fh[i*2*H+H:(i+1)*2*H], h[i*H:(i+1)*H])
	}
}

// cPrev returns c_{t−1} of the sequences of s.
func (o *forcedOp) cPrev(t int, s span) []float32 {
	if t > 0 {
		return o.rows(o.cs, t-1, o.m.hd, s)
	}
	return o.rows(o.c0, 0, o.m.hd, s)
}

// stepForward runs step t for the sequences of s: the cell, attention over
// the keys and the combine layer, leaving ã_t in feeds and step t+1's
// input in fh.
func (o *forcedOp) stepForward(t int, s span) {
	p, Ts, H, n := o.p, o.Ts, o.m.hd, s.b1-s.b0
	G := 4 * H
	pre, h, c := o.rows(o.act, t, G, s), o.rows(o.hs, t, H, s), o.rows(o.cs, t, H, s)
	kernel.SgemmPacked(false, n, 1, o.rows(o.fh, t, 2*H, s), 2*H, &p.fwd, 1, pre, G)
	kernel.LSTMForward(pre, c, h, pre, o.cPrev(t, s), n, H)
	proj, keys := o.enc.Proj.Value.Data, o.enc.Keys.Value.Data
	scores := o.rows(o.scores, 0, Ts, s)
	for i, b := 0, s.b0; b < s.b1; i, b = i+1, b+1 {
		kernel.Sgemv(false, Ts, H, 1, proj[b*Ts*H:(b+1)*Ts*H], H, h[i*H:(i+1)*H], 0, scores[i*Ts:(i+1)*Ts])
	}
	alpha := o.rows(o.weights.Value.Data, t, Ts, s)
	var mask []bool
	if o.enc.Mask != nil {
		mask = o.enc.Mask[s.b0*Ts : s.b1*Ts]
	}
	maskedSoftmaxRows(alpha, scores, mask, n, Ts)
	ch := o.rows(o.ch, t, 2*H, s)
	for i, b := 0, s.b0; b < s.b1; i, b = i+1, b+1 {
		kernel.Sgemv(true, Ts, H, 1, keys[b*Ts*H:(b+1)*Ts*H], H, alpha[i*Ts:(i+1)*Ts], 0, ch[i*2*H:i*2*H+H])
		copy(ch[i*2*H+H:(i+1)*2*H], h[i*H:(i+1)*H])
	}
	feed := o.rows(o.feeds.Value.Data, t, H, s)
	kernel.SgemmPacked(false, n, 1, ch, 2*H, &p.cfwd, 0, feed, H)
	kernel.Tanh(feed, feed)
	if t+1 < o.Tt {
		o.setInput(t+1, feed, h, s)
	}
}

// forcedGrads holds the backward's per-row gradients (N rows) and one
// step's scratch (B rows).
type forcedGrads struct {
	dpre  []float32 // (N, 4H) of the pre-activations
	dz    []float32 // (N, H) of the combine layer's output before tanh
	ds    []float32 // (N, Ts) of the attention scores
	dctx  []float32 // (N, H) of the contexts
	dfh   []float32 // (B, 2H) of step t's [ã_{t−1} | h_{t−1}]
	dc    []float32 // (B, H) of c_t, carried back
	dh    []float32 // (B, H) of h_t
	g     []float32 // (B, H) of ã_t
	dch   []float32 // (B, 2H) of [context_t | h_t]
	dattn []float32 // (B, Ts) of the attention weights
}

// Backward runs the steps' backward in reverse, then the products over
// all rows: weight gradients, the embedding's and the keys'.
func (o *forcedOp) Backward() {
	if o.feeds.Grad == nil && o.weights.Grad == nil {
		return
	}
	tp, B, Ts, H, N := o.tp, o.B, o.Ts, o.m.hd, o.Tt*o.B
	o.d = forcedGrads{
		dpre: tp.Buffer(N, 4*H).Data, dz: tp.Buffer(N, H).Data, ds: tp.Zeros(N, Ts).Data, dctx: tp.Buffer(N, H).Data,
		dfh: tp.Zeros(B, 2*H).Data, dc: tp.Zeros(B, H).Data, dh: tp.Buffer(B, H).Data, g: tp.Buffer(B, H).Data,
		dch: tp.Buffer(B, 2*H).Data, dattn: tp.Buffer(B, Ts).Data,
	}
	d := &o.d
	o.loop.run(o, true)
	start := o.enc.Start
	dh0 := tp.Grad(start.H).Data
	for b := 0; b < B; b++ {
		kernel.Axpy(1, d.dfh[b*2*H+H:(b+1)*2*H], dh0[b*H:(b+1)*H])
	}
	if start.C != nil {
		kernel.Axpy(1, d.dc, tp.Grad(start.C).Data)
	}
	o.weightGrads(d)
	o.keyGrads(d)
}

// stepBackward is step t's backward for the sequences of s, from the
// gradient of ã_t (the output's, plus step t+1's input gradient in d.dfh)
// to that of step t's input [ã_{t−1} | h_{t−1}], left in d.dfh, and of
// c_{t−1}, in d.dc.
func (o *forcedOp) stepBackward(t int, s span) {
	p, d, Ts, H, n := o.p, &o.d, o.Ts, o.m.hd, s.b1-s.b0
	G, last := 4*H, t == o.Tt-1
	g, dfh, dh, dch := o.rows(d.g, 0, H, s), o.rows(d.dfh, 0, 2*H, s), o.rows(d.dh, 0, H, s), o.rows(d.dch, 0, 2*H, s)
	if o.feeds.Grad != nil {
		copy(g, o.rows(o.feeds.Grad.Data, t, H, s))
	} else {
		clear(g)
	}
	for i := 0; i < n && !last; i++ {
		addInto(g[i*H:(i+1)*H], dfh[i*2*H:i*2*H+H])
	}
	dz := o.rows(d.dz, t, H, s)
	clear(dz)
	kernel.TanhBackward(dz, g, o.rows(o.feeds.Value.Data, t, H, s))
	kernel.SgemmPacked(false, n, 1, dz, H, &p.cbwd, 0, dch, 2*H)
	keys, proj := o.enc.Keys.Value.Data, o.enc.Proj.Value.Data
	dctx, dattn := o.rows(d.dctx, t, H, s), o.rows(d.dattn, 0, Ts, s)
	for i, b := 0, s.b0; b < s.b1; i, b = i+1, b+1 {
		copy(dctx[i*H:(i+1)*H], dch[i*2*H:i*2*H+H])
		copy(dh[i*H:(i+1)*H], dch[i*2*H+H:(i+1)*2*H])
		if !last {
			addInto(dh[i*H:(i+1)*H], dfh[i*2*H+H:(i+1)*2*H])
		}
		kernel.Sgemv(false, Ts, H, 1, keys[b*Ts*H:(b+1)*Ts*H], H, dctx[i*H:(i+1)*H], 0, dattn[i*Ts:(i+1)*Ts])
	}
	if o.weights.Grad != nil {
		addInto(dattn, o.rows(o.weights.Grad.Data, t, Ts, s))
	}
	ds := o.rows(d.ds, t, Ts, s)
	kernel.SoftmaxRowsBackward(ds, dattn, o.rows(o.weights.Value.Data, t, Ts, s), n, Ts)
	for i, b := 0, s.b0; b < s.b1; i, b = i+1, b+1 {
		kernel.Sgemv(true, Ts, H, 1, proj[b*Ts*H:(b+1)*Ts*H], H, ds[i*Ts:(i+1)*Ts], 1, dh[i*H:(i+1)*H])
	}
	dpre, dc := o.rows(d.dpre, t, G, s), o.rows(d.dc, 0, H, s)
	kernel.LSTMBackward(dpre, dc, o.rows(o.act, t, G, s), o.rows(o.cs, t, H, s), o.cPrev(t, s), dh, dc, n, H)
	kernel.SgemmPacked(false, n, 1, dpre, G, &p.bwd, 0, dfh, 2*H)
}

// weightGrads adds the gradients of the cell's and the combine layer's
// weights and of the embeddings, each one product over all N rows.
func (o *forcedOp) weightGrads(d *forcedGrads) {
	c, wc := o.m.dec, o.m.Combine.Weight
	E, H, N := o.m.Config.EmbedSize, o.m.hd, o.Tt*o.B
	G, K := 4*H, 2*H
	if !wc.Frozen {
		kernel.Sgemm(true, false, H, K, N, 1, d.dz, H, o.ch, K, 1, wc.Grad.Data, K)
	}
	if !c.wih.Frozen {
		kernel.Sgemm(true, false, G, E, N, 1, d.dpre, G, o.emb.Value.Data, E, 1, c.wih.Grad.Data, E+H)
		kernel.Sgemm(true, false, G, H, N, 1, d.dpre, G, o.fh, K, 1, c.wih.Grad.Data[E:], E+H)
	}
	if !c.whh.Frozen {
		kernel.Sgemm(true, false, G, H, N, 1, d.dpre, G, o.fh[H:], K, 1, c.whh.Grad.Data, H)
	}
	for _, b := range []*Param{c.bih, c.bhh} {
		if b != nil && !b.Frozen {
			colSumAdd(b.Grad.Data, d.dpre, N, G)
		}
	}
	if !o.emb.NoGrad {
		kernel.Sgemm(false, false, N, E, G, 1, d.dpre, G, c.wih.Value.Data, E+H, 1, o.tp.Grad(o.emb).Data, E)
	}
}

// keyGrads adds the gradients of the keys (through the contexts) and of
// the projected keys (through the scores): per sequence b, one product
// over the Tt steps, whose rows are B apart.
func (o *forcedOp) keyGrads(d *forcedGrads) {
	B, Ts, H := o.B, o.Ts, o.m.hd
	dkeys, dproj := o.tp.Grad(o.enc.Keys).Data, o.tp.Grad(o.enc.Proj).Data
	alpha := o.weights.Value.Data
	for b := 0; b < B; b++ {
		kernel.Sgemm(true, false, Ts, H, o.Tt, 1, alpha[b*Ts:], B*Ts, d.dctx[b*H:], B*H, 1, dkeys[b*Ts*H:(b+1)*Ts*H], H)
		kernel.Sgemm(true, false, Ts, H, o.Tt, 1, d.ds[b*Ts:], B*Ts, o.hs[b*H:], B*H, 1, dproj[b*Ts*H:(b+1)*Ts*H], H)
	}
}
