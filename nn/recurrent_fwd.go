package nn

import (
	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// dirJob is one direction of one layer for runDir: its parameters, its
// packed input, where its rows of h go and its states.
type dirJob struct {
	ws     *floatArena // the direction's scratch
	w      *rnnDir
	d      int       // 1: the reverse direction, t = T-1 … 0
	X      []float32 // (N, in) packed input
	in     int
	Y      outRows    // h of every step
	hc, cc []float32  // (B, Ho), (B, H) states in sorted order: the initial ones on entry, each sequence's final one on return
	dr     *dirRec    // receives what backward needs; nil at inference
	pipe   *layerPipe // its place in a layer pipeline (rule 2); nil outside one
}

// runDir runs one direction of one layer as ex says (see
// recurrent_strategy.go). The state buffers are updated for the running
// sequences only, so each sequence's final state stays in place after its
// last step; the reverse direction picks up a sequence at its own last
// step with its initial state still in place.
func (r *rnnCore) runDir(p *seqPlan, ex *execPlan, j *dirJob) {
	if ex.fwdWake {
		// The step loop's products are small; see kernel.Wake.
		kernel.Wake()
	}
	lp := j.ws.fwdLoop()
	*lp = fwdLoop{r: r, p: p, j: *j}
	lp.bf16 = ex.bf16
	lp.projectInput(ex)
	lp.drawRegularizers(ex.training)
	if ex.units {
		lp.runUnits()
	} else {
		lp.prepareSteps()
		kernel.Parallel(lp.split(p, ex.fwdGroups), lp)
	}
	*lp = fwdLoop{}
}

// inputProj is a direction's input projection of every step,
// XW (N, G) = X (N, in) · W_ihᵀ (+ XW's contents when beta is 1: the
// folded biases); bias, when not nil, is for the step loop to add to each
// row it reads.
type inputProj struct {
	X, wih, XW []float32
	in, G, N   int
	beta       float32
	bias       []float32
}

// projectInput computes the direction's input projection as ex says
// (rules a-d), or readies it for the step loop (a pipelined layer).
func (lp *fwdLoop) projectInput(ex *execPlan) {
	r, j, ws := lp.r, &lp.j, lp.j.ws
	ip := &lp.ip
	*ip = inputProj{X: j.X, wih: j.w.wih.Value.Data, in: j.in, G: r.kind.gates() * r.hidden, N: lp.p.N}
	ip.XW = ws.takeRaw(ip.N * ip.G)
	ip.bias = r.stepBias(ws, j.w)
	if ex.foldBias && ip.bias != nil {
		// For inputs up to one k-block (256 features) the sums are those
		// of the step loop's Axpy onto the finished product; beyond, the
		// bias joins the first partial sum (a last-bit difference from a
		// larger batch). The units split folds it the same way.
		for i := 0; i < ip.N; i++ {
			copy(ip.XW[i*ip.G:(i+1)*ip.G], ip.bias)
		}
		ip.beta, ip.bias = 1, nil
	}
	if q := lp.quant(); q != nil {
		ip.projectQuant(q)
		return
	}
	kind := ex.projection(ip.N, ip.G, ip.in, j.pipe != nil && j.pipe.src != nil)
	if ex.units {
		lp.prepareUnits(kind == projUnits)
	}
	switch kind {
	case projSolo:
		ip.solo(ws)
	case projGemm:
		sgemmFor(ex.bf16)(false, true, ip.N, ip.G, ip.in, 1, ip.X, ip.in, ip.wih, ip.in, ip.beta, ip.XW, ip.G)
	} // projUnits: prepareUnits has computed it; projPiped: the step loop does (layerPipe).
}

// stepBias returns the bias of every projected row: b_ih + b_hh, which
// enter the same pre-activation, or a GRU's b_ih alone (its b_hh is inside
// r ⊙ (W_hn h + b_hn)); nil without biases.
func (r *rnnCore) stepBias(ws *floatArena, w *rnnDir) []float32 {
	if !r.bias {
		return nil
	}
	if r.kind == kindGRU {
		return w.bih.Value.Data
	}
	b := ws.takeRaw(len(w.bih.Value.Data))
	for i := range b {
		b[i] = w.bih.Value.Data[i] + w.bhh.Value.Data[i]
	}
	return b
}

// solo computes the projection in row blocks of at most soloGemmFlops,
// each on this core (rule c).
func (ip *inputProj) solo(ws *floatArena) {
	pw := ws.packed()
	pw.Pack(true, ip.in, ip.G, ip.wih, ip.in)
	rows := max(1, soloGemmFlops/(2*ip.G*ip.in))
	for r0 := 0; r0 < ip.N; r0 += rows {
		m := min(rows, ip.N-r0)
		kernel.SgemmPacked(false, m, 1, ip.X[r0*ip.in:], ip.in, pw, ip.beta, ip.XW[r0*ip.G:], ip.G)
	}
}

// drawRegularizers sets W_hh as the step loop uses it and, in training,
// draws the weight-drop mask (applied to a copy of W_hh) and the recurrent
// dropout mask, in that order.
func (lp *fwdLoop) drawRegularizers(training bool) {
	r, ws, dr := lp.r, lp.j.ws, lp.j.dr
	lp.whh = lp.j.w.whh.Value.Data
	if !training {
		return
	}
	if r.wDrop > 0 {
		m := ws.takeRaw(len(lp.whh))
		r.rng.Bernoulli(m, r.wDrop)
		we := ws.takeRaw(len(lp.whh))
		for i := range we {
			we[i] = lp.whh[i] * m[i]
		}
		lp.whh = we
		dr.wdMask = m
	}
	if r.recDrop > 0 {
		lp.recMask = ws.takeRaw(lp.p.B * r.ho())
		r.rng.Bernoulli(lp.recMask, r.recDrop)
	}
	lp.zo = r.zoneout > 0
}

// recWeights is W_hh as a direction's step loop multiplies by it: packed
// (transposed for forward), or as it is for the GEMVs of a batch of one's
// backward (pk nil), or in int8 for a quantized layer's inference (q).
type recWeights struct {
	whh   []float32 // (G, Ho)
	pk    *kernel.PackedB
	pb    *kernel.PackedBF16 // W_hh in bfloat16 for products of bf16MinRows rows or more (precision.go); nil for none
	q     rowProduct         // the quantized W_hh of inference (quant.go); nil for a float layer
	Ho, G int
}

// mul sets dst (n, G) += hin (n, Ho) · W_hhᵀ, walking the packed panels
// in the direction reverse gives: the step loops alternate it so that each
// step starts on the panels the previous one read last, still in cache
// (see kernel.PackedB.Gemm; W_hh is as large as L2 from H = 256 and read
// in full at every step of each group of rows).
func (w *recWeights) mul(dst, hin []float32, n int, reverse bool) {
	if w.mulBF16(dst, hin, n, 1) {
		return
	}
	if w.q != nil {
		w.q.MulAddRows(dst, hin, w.G, w.Ho, n)
		return
	}
	w.pk.Gemm(n, hin, w.Ho, 1, dst, w.G, reverse)
}

// mulT sets dst (n, Ho) = dA (n, G) · W_hh, the packed panels walked as
// reverse says (see mul).
func (w *recWeights) mulT(dst, dA []float32, n int, reverse bool) {
	if w.mulBF16(dst, dA, n, 0) {
		return
	}
	if w.pk == nil {
		kernel.Sgemv(true, w.G, w.Ho, 1, w.whh, w.Ho, dA, 0, dst)
		return
	}
	w.pk.Gemm(n, dA, w.G, 0, dst, w.Ho, reverse)
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

// zoneBlend draws the zoneout mask z and sets state = z ⊙ state + (1-z) ⊙ next.
func (r *rnnCore) zoneBlend(z, state, next []float32) {
	zoneMask(r.rng, z, r.zoneout)
	for i, k := range z {
		state[i] = k*state[i] + (1-k)*next[i]
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

// fwdLoop is a direction's forward (runDir): the projection, W_hh as
// used, per-sequence scratch, and the step loop over the sorted sequences
// of one group (see stepGroups). A step's running sequences are a prefix
// of the sorted order, so a group's rows of every step are contiguous in
// the packed layout and its per-sequence buffers are rows from its first
// sequence on. It lives in the arena (floatArena.fwdLoop).
type fwdLoop struct {
	r       *rnnCore
	p       *seqPlan
	j       dirJob
	ip      inputProj
	whh     []float32 // W_hh as used (after weight-drop)
	rec     recWeights
	pr      *kernel.PackedB // W_hrᵀ packed (LSTMP)
	recMask []float32       // (B, Ho) recurrent dropout mask, nil for none
	zo      bool            // zoneout (training)
	bf16    bool            // the step products run in bfloat16 (precision.go)
	pad     bool            // zero Y's padded positions (a tape's dirty output buffer)
	scr     fwdScratch
	stepGroups
}

// fwdScratch is the step loop's per-sequence scratch, B rows each.
type fwdScratch struct {
	hm, hnew   []float32 // (B, Ho) h masked for W_hh; the new h before zoneout
	cnew, mscr []float32 // (B, H) the new c; LSTMP o⊙tanh(c)
	act, hg    []float32 // (B, G) GRU activations and W_hh h + b_hh
	q          []float32 // (B, H) r⊙h of a GRU with ResetBefore
}

// prepareSteps packs the step loop's weights and takes its buffers.
func (lp *fwdLoop) prepareSteps() {
	r, ws, B := lp.r, lp.j.ws, lp.p.B
	H, Ho, G := r.hidden, r.ho(), r.kind.gates()*r.hidden
	// W_hh packed once: a batch of one then runs the panel GEMV, which
	// streams the packed operand without the row-dot reductions.
	lp.rec = recWeights{whh: lp.whh, Ho: Ho, G: G}
	if q := lp.quant(); q != nil {
		lp.rec.q = q.whh.m
	} else {
		lp.rec.pk = ws.packed()
		lp.rec.pk.Pack(true, Ho, G, lp.whh, Ho)
	}
	if lp.j.dr != nil {
		lp.recordBuffers()
		lp.pad = lp.j.Y.rowmap != nil
	}
	lp.rec.packBF16(&lp.j.w.bf16[0], lp.bf16, true, B)
	s := &lp.scr
	s.hm, s.hnew = ws.takeRaw(B*Ho), ws.takeRaw(B*Ho)
	switch r.kind {
	case kindLSTM:
		s.cnew = ws.takeRaw(B * H)
		if r.proj > 0 {
			s.mscr = ws.takeRaw(B * H)
		}
	case kindGRU:
		s.act, s.hg = ws.takeRaw(B*G), ws.takeRaw(B*G)
		if r.resetBefore {
			s.q = ws.takeRaw(B * H)
		}
	}
	if r.proj > 0 {
		// Packed, so that a product of one row is the same FMA chains
		// as one of several (a group of rows may be down to one).
		lp.pr = ws.packed()
		lp.pr.Pack(true, H, Ho, lp.j.w.whr.Value.Data, H)
	}
}

// recordBuffers takes the direction's record for backward (N rows each).
func (lp *fwdLoop) recordBuffers() {
	r, ws, dr, N := lp.r, lp.j.ws, lp.j.dr, lp.p.N
	H, Ho, G := r.hidden, r.ho(), r.kind.gates()*r.hidden
	dr.whh, dr.recMask, dr.act = lp.whh, lp.recMask, lp.ip.XW
	dr.hprev = ws.takeRaw(N * Ho)
	dr.hin = dr.hprev
	if lp.recMask != nil {
		dr.hin = ws.takeRaw(N * Ho)
	}
	switch r.kind {
	case kindLSTM:
		dr.c, dr.cprev = ws.takeRaw(N*H), ws.takeRaw(N*H)
		if r.proj > 0 {
			dr.m = ws.takeRaw(N * H)
		}
	case kindGRU:
		dr.act, dr.hg = ws.takeRaw(N*G), ws.takeRaw(N*G)
	}
	if lp.zo {
		dr.zh = ws.takeRaw(N * Ho)
		if r.kind == kindLSTM {
			dr.zc = ws.takeRaw(N * H)
		}
	}
}

// RunPart runs group g's loop (kernel.Parallel).
func (lp *fwdLoop) RunPart(g int) { lp.run(lp.bounds[g], lp.bounds[g+1]) }

// fwdGroup is one group's view of the per-sequence buffers.
type fwdGroup struct {
	hc, cc, recMask []float32
	scr             fwdScratch
}

// fwdStep is one step of one group: loop step s, n running sequences
// from packed row o, h before it (hprev, the group's state rows), as fed
// to W_hh (hin) and where the kernel writes the new one (hout).
type fwdStep struct {
	s, n, o          int
	hprev, hin, hout []float32
}

// run is the step loop for the sorted sequences [jlo, jhi).
func (lp *fwdLoop) run(jlo, jhi int) {
	p, j, Ho := lp.p, &lp.j, lp.r.ho()
	g := lp.group(jlo)
	for s := 0; s < p.T; s++ {
		t := p.stepTime(s, j.d)
		if lp.pad {
			lp.zeroEnded(t, jlo, jhi)
		}
		st := fwdStep{s: s, n: min(p.n[t], jhi) - jlo, o: p.off[t] + jlo}
		if st.n <= 0 {
			continue // every sequence has ended (lengths all < T)
		}
		lp.stepInput(&st)
		lp.stepH(&g, &st)
		switch lp.r.kind {
		case kindLSTM:
			lp.lstmStep(&g, &st)
		case kindGRU:
			lp.gruStep(&g, &st)
		default:
			lp.rnnStep(&st)
		}
		if lp.zo {
			lp.r.zoneBlend(j.dr.zh[st.o*Ho:(st.o+st.n)*Ho], st.hprev, st.hout)
		} else if &st.hout[0] != &st.hprev[0] {
			copy(st.hprev, st.hout)
		}
		j.Y.put(st.hprev, st.o, st.n, Ho)
		if j.pipe != nil && j.pipe.dst != nil {
			j.pipe.dst.Store(int64(st.o + st.n))
		}
	}
}

// group returns the view of the group from sorted sequence jlo.
func (lp *fwdLoop) group(jlo int) fwdGroup {
	H, Ho, G := lp.r.hidden, lp.r.ho(), lp.r.kind.gates()*lp.r.hidden
	s := &lp.scr
	return fwdGroup{
		hc: rowsFrom(lp.j.hc, jlo, Ho), cc: rowsFrom(lp.j.cc, jlo, H), recMask: rowsFrom(lp.recMask, jlo, Ho),
		scr: fwdScratch{
			hm: rowsFrom(s.hm, jlo, Ho), hnew: rowsFrom(s.hnew, jlo, Ho),
			cnew: rowsFrom(s.cnew, jlo, H), mscr: rowsFrom(s.mscr, jlo, H),
			act: rowsFrom(s.act, jlo, G), hg: rowsFrom(s.hg, jlo, G), q: rowsFrom(s.q, jlo, H),
		},
	}
}

// zeroEnded zeroes the direction's columns of Y at step t for the sorted
// sequences j in [jlo, jhi) that have ended by then (j >= n[t]). Each
// group does it for its own sequences, so a tape's reused output buffer
// gets its padded positions zeroed on the cores that write its other rows,
// while the step's rows are in cache.
func (lp *fwdLoop) zeroEnded(t, jlo, jhi int) {
	p, y, Ho := lp.p, &lp.j.Y, lp.r.ho()
	for j := max(jlo, p.n[t]); j < jhi; j++ {
		d := p.paddedRow(t, p.perm[j], lp.r.batchFirst)*y.ld + y.off
		clear(y.buf[d : d+Ho])
	}
}

// stepInput readies the step's rows of XW: projected (a pipelined layer
// projects its next chunk once the layer below has produced it) and with
// the bias added.
func (lp *fwdLoop) stepInput(st *fwdStep) {
	ip, pipe := &lp.ip, lp.j.pipe
	if pipe != nil && pipe.src != nil && st.o >= pipe.projected {
		pipe.project(ip)
	}
	if ip.bias != nil {
		for i := st.o; i < st.o+st.n; i++ {
			kernel.Axpy(1, ip.bias, ip.XW[i*ip.G:(i+1)*ip.G])
		}
	}
}

// stepH sets the step's hprev, hin (recurrent dropout) and hout, and
// records the first two for backward.
func (lp *fwdLoop) stepH(g *fwdGroup, st *fwdStep) {
	Ho, n, dr := lp.r.ho(), st.n, lp.j.dr
	st.hprev = g.hc[:n*Ho]
	st.hin = st.hprev
	if g.recMask != nil {
		st.hin = g.scr.hm[:n*Ho]
		for i := range st.hin {
			st.hin[i] = st.hprev[i] * g.recMask[i]
		}
	}
	if dr != nil {
		copy(dr.hprev[st.o*Ho:], st.hprev)
		if g.recMask != nil {
			copy(dr.hin[st.o*Ho:], st.hin)
		}
	}
	// The new h: straight into the state for an LSTM (the product has
	// consumed the old one), through scratch where the kernel must not
	// alias it (GRU) or zoneout needs both.
	st.hout = g.scr.hnew[:n*Ho]
	if lp.r.kind == kindLSTM && !lp.zo {
		st.hout = st.hprev
	}
}

// lstmStep is an LSTM step: the pre-activations onto the projected rows,
// the fused gates and cell update (c kept for backward), the projection
// of an LSTMP, and zoneout of c.
func (lp *fwdLoop) lstmStep(g *fwdGroup, st *fwdStep) {
	r, dr, n, o := lp.r, lp.j.dr, st.n, st.o
	H, Ho, G := r.hidden, r.ho(), 4*r.hidden
	pre := lp.ip.XW[o*G : (o+n)*G]
	lp.rec.mul(pre, st.hin, n, st.s&1 == 1)
	cprev, cout := g.cc[:n*H], g.scr.cnew[:n*H]
	if dr != nil {
		copy(dr.cprev[o*H:], cprev)
		cout = dr.c[o*H : (o+n)*H]
	}
	m := st.hout
	if r.proj > 0 {
		m = g.scr.mscr[:n*H]
		if dr != nil {
			m = dr.m[o*H : (o+n)*H]
		}
	}
	if r.peephole {
		peepholeCell{act: pre, c: cout, cPrev: cprev, p: lp.j.w.ph.Value.Data, n: n, H: H}.forward(m)
	} else {
		kernel.LSTMForward(pre, cout, m, pre, cprev, n, H)
	}
	if r.proj > 0 {
		kernel.SgemmPacked(false, n, 1, m, H, lp.pr, 0, st.hout, Ho)
	}
	if lp.zo {
		r.zoneBlend(dr.zc[o*H:(o+n)*H], cprev, cout)
	} else {
		copy(cprev, cout)
	}
}

// gruStep is a GRU step: W_hh h + b_hh (kept for backward) and the fused
// gates.
func (lp *fwdLoop) gruStep(g *fwdGroup, st *fwdStep) {
	r, dr, n, o := lp.r, lp.j.dr, st.n, st.o
	H, G := r.hidden, 3*r.hidden
	hg, act := g.scr.hg[:n*G], g.scr.act[:n*G]
	if dr != nil {
		hg, act = dr.hg[o*G:(o+n)*G], dr.act[o*G:(o+n)*G]
	}
	if r.bias {
		for i := 0; i < n; i++ {
			copy(hg[i*G:(i+1)*G], lp.j.w.bhh.Value.Data)
		}
	} else {
		clear(hg)
	}
	lp.rec.mul(hg, st.hin, n, st.s&1 == 1)
	if r.resetBefore {
		lp.resetBeforeForward(act, hg, g.scr.q[:n*H], st)
		return
	}
	kernel.GRUForward(act, st.hout, lp.ip.XW[o*G:(o+n)*G], hg, st.hprev, n, H)
}

// rnnStep is an Elman step: the nonlinearity in place on the
// pre-activations, which are then the new h (and what backward keeps).
func (lp *fwdLoop) rnnStep(st *fwdStep) {
	G := lp.r.hidden
	pre := lp.ip.XW[st.o*G : (st.o+st.n)*G]
	lp.rec.mul(pre, st.hin, st.n, st.s&1 == 1)
	if lp.r.kind == kindRNNTanh {
		kernel.Tanh(pre, pre)
	} else {
		kernel.ReLU(pre, pre)
	}
	st.hout = pre
}
