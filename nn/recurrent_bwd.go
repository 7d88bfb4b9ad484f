package nn

import "github.com/recur-ml/recur/internal/kernel"

// bwdJob is one direction of one layer for runDirBack.
type bwdJob struct {
	ws       *floatArena // the direction's scratch
	w        *rnnDir
	d        int // 1: the reverse direction
	dr       *dirRec
	X        []float32 // (N, in) the layer's packed input
	in       int
	dY       outRows   // the gradient of the direction's output (buf nil: none)
	dX       []float32 // (N, in) the input gradient, accumulated; nil: not wanted
	dhc, dcc []float32 // (B, Ho), (B, H): the final states' gradients on entry, the initial states' on return
}

// runDirBack is the backward of runDir: the step loop in reverse time (as
// ex says: one group or several), then the weight gradients as single GEMMs
// over all N rows and the bias gradients as column sums.
func (r *rnnCore) runDirBack(p *seqPlan, ex *execPlan, j *bwdJob) {
	lp := j.ws.bwdLoop()
	*lp = bwdLoop{r: r, p: p, j: *j, bf16: ex.bf16}
	lp.prepare(ex.bwdWake)
	kernel.Parallel(lp.split(p, ex.bwdGroups), lp)
	lp.weightGrads()
	*lp = bwdLoop{}
}

// bwdLoop is a direction's backward (runDirBack), as fwdLoop is its
// forward; it lives in the arena (floatArena.bwdLoop).
type bwdLoop struct {
	r       *rnnCore
	p       *seqPlan
	j       bwdJob
	rec     recWeights
	pr      *kernel.PackedB // W_hr packed (LSTMP)
	dA, dhg []float32       // (N, G): dPre (LSTM, RNN) or dxg (GRU); GRU dhg
	bf16    bool            // the large products run in bfloat16 (precision.go)
	scr     bwdScratch
	stepGroups
}

// bwdScratch is the backward step loop's per-sequence scratch, B rows each.
type bwdScratch struct {
	dht, carry []float32 // (B, Ho) the gradient of h after the step; backRec's
	dsc, dcs   []float32 // (B, H) dm (LSTMP) or the GRU's direct dhPrev; zoneout's share of dc
	vh         []float32 // (B, H) tanh(c) (LSTM peepholes) or the gradient of r⊙h (GRU ResetBefore)
}

// prepare packs W_hh for products of several rows, waking the kernel's
// workers first when wake is set (rule 4), and takes the loop's buffers.
func (lp *bwdLoop) prepare(wake bool) {
	r, ws, dr, N, B := lp.r, lp.j.ws, lp.j.dr, lp.p.N, lp.p.B
	H, Ho, G := r.hidden, r.ho(), r.kind.gates()*r.hidden
	lp.rec = recWeights{whh: dr.whh, Ho: Ho, G: G}
	if wake {
		// The backward follows the loss, a pause in which the kernel's
		// workers park: wake them for the step loop's small products
		// (the shortest sequences' steps come first).
		kernel.Wake()
		lp.rec.pk = ws.packed()
		lp.rec.pk.Pack(false, G, Ho, dr.whh, Ho)
	}
	lp.rec.packBF16(&lp.j.w.bf16[1], lp.bf16, false, B)
	lp.dA = ws.takeRaw(N * G)
	if r.kind == kindGRU {
		lp.dhg = ws.takeRaw(N * G)
	}
	if r.proj > 0 {
		dr.dH = ws.takeRaw(N * Ho)
	}
	s := &lp.scr
	s.dht, s.dsc, s.carry = ws.takeRaw(B*Ho), ws.takeRaw(B*H), ws.takeRaw(B*Ho)
	if dr.zc != nil {
		s.dcs = ws.takeRaw(B * H)
	}
	if r.peephole || r.resetBefore {
		s.vh = ws.takeRaw(B * H)
	}
	if r.proj > 0 {
		lp.pr = ws.packed()
		lp.pr.Pack(false, Ho, H, lp.j.w.whr.Value.Data, H)
	}
}

// RunPart runs group g's loop (kernel.Parallel).
func (lp *bwdLoop) RunPart(g int) { lp.run(lp.bounds[g], lp.bounds[g+1]) }

// bwdGroup is one group's view of the per-sequence buffers.
type bwdGroup struct {
	dhc, dcc, recMask []float32
	scr               bwdScratch
}

// bwdStep is one backward step of one group: loop step s, n running
// sequences from packed row o, the gradient dh of the new h and the
// step's zoneout mask zh (nil for none).
type bwdStep struct {
	s, n, o int
	dh, zh  []float32
}

// run is the backward step loop for the sorted sequences [jlo, jhi).
func (lp *bwdLoop) run(jlo, jhi int) {
	p := lp.p
	g := lp.group(jlo)
	for s := p.T - 1; s >= 0; s-- {
		t := p.stepTime(s, lp.j.d)
		st := bwdStep{s: s, n: min(p.n[t], jhi) - jlo, o: p.off[t] + jlo}
		if st.n <= 0 {
			continue
		}
		lp.stepDH(&g, &st)
		switch lp.r.kind {
		case kindLSTM:
			lp.lstmBack(&g, &st)
		case kindGRU:
			lp.gruBack(&g, &st)
		default:
			lp.rnnBack(&g, &st)
		}
	}
}

// group returns the view of the group from sorted sequence jlo.
func (lp *bwdLoop) group(jlo int) bwdGroup {
	H, Ho := lp.r.hidden, lp.r.ho()
	s := &lp.scr
	return bwdGroup{
		dhc: rowsFrom(lp.j.dhc, jlo, Ho), dcc: rowsFrom(lp.j.dcc, jlo, H), recMask: rowsFrom(lp.j.dr.recMask, jlo, Ho),
		scr: bwdScratch{
			dht: rowsFrom(s.dht, jlo, Ho), carry: rowsFrom(s.carry, jlo, Ho),
			dsc: rowsFrom(s.dsc, jlo, H), dcs: rowsFrom(s.dcs, jlo, H), vh: rowsFrom(s.vh, jlo, H),
		},
	}
}

// stepDH sets st.dh, the gradient of the state after the step: the
// state's (dhc) plus the output's. Under zoneout it splits between the
// new h (st.dh) and the previous state (dhc).
func (lp *bwdLoop) stepDH(g *bwdGroup, st *bwdStep) {
	Ho, n, o, dr := lp.r.ho(), st.n, st.o, lp.j.dr
	st.dh = g.scr.dht[:n*Ho]
	copy(st.dh, g.dhc[:n*Ho])
	lp.j.dY.addTo(st.dh, o, n, Ho)
	if dr.zh != nil {
		st.zh = dr.zh[o*Ho : (o+n)*Ho]
		zoneSplit(st.zh, g.dhc, st.dh)
	}
}

// zoneSplit splits the gradient d of a zoneout state between the kept
// previous state (keep = z ⊙ d) and the new value (d = (1-z) ⊙ d).
func zoneSplit(z, keep, d []float32) {
	for i, k := range z {
		keep[i] = k * d[i]
		d[i] *= 1 - k
	}
}

// lstmBack is an LSTM step's backward: through the projection (LSTMP),
// the fused gates and cell (zoneout of c), and W_hh.
func (lp *bwdLoop) lstmBack(g *bwdGroup, st *bwdStep) {
	r, dr, n, o := lp.r, lp.j.dr, st.n, st.o
	H, Ho, G := r.hidden, r.ho(), 4*r.hidden
	dhk := st.dh
	if r.proj > 0 {
		copy(dr.dH[o*Ho:], st.dh)
		dhk = g.scr.dsc[:n*H]
		kernel.SgemmPacked(false, n, 1, st.dh, Ho, lp.pr, 0, dhk, H)
	}
	a, dc := lp.dA[o*G:(o+n)*G], g.dcc[:n*H]
	act, c, cprev := dr.act[o*G:(o+n)*G], dr.c[o*H:(o+n)*H], dr.cprev[o*H:(o+n)*H]
	var ds []float32 // zoneout's share of dc, which the previous cell keeps
	if dr.zc != nil {
		ds = g.scr.dcs[:n*H]
		zoneSplit(dr.zc[o*H:(o+n)*H], ds, dc)
	}
	if r.peephole {
		peepholeCell{act: act, c: c, cPrev: cprev, p: lp.j.w.ph.Value.Data, n: n, H: H}.backward(a, dc, dhk, g.scr.vh[:n*H])
	} else {
		kernel.LSTMBackward(a, dc, act, c, cprev, dhk, dc, n, H)
	}
	if ds != nil {
		kernel.Axpy(1, ds, dc)
	}
	lp.backRec(g, st, a)
}

// gruBack is a GRU step's backward: the fused gates, W_hh, and the direct
// path z ⊙ h to the previous state.
func (lp *bwdLoop) gruBack(g *bwdGroup, st *bwdStep) {
	dr, n, o := lp.j.dr, st.n, st.o
	H, G := lp.r.hidden, 3*lp.r.hidden
	direct, dhg := g.scr.dsc[:n*H], lp.dhg[o*G:(o+n)*G]
	if lp.r.resetBefore {
		lp.resetBeforeBack(g, st, direct, dhg)
		return
	}
	kernel.GRUBackward(lp.dA[o*G:(o+n)*G], dhg, direct, dr.act[o*G:(o+n)*G], dr.hg[o*G:(o+n)*G], dr.hprev[o*H:(o+n)*H], st.dh, n, H)
	lp.backRec(g, st, dhg)
	kernel.Axpy(1, direct, g.dhc[:n*H])
}

// rnnBack is an Elman step's backward: the nonlinearity from its output
// h, and W_hh.
func (lp *bwdLoop) rnnBack(g *bwdGroup, st *bwdStep) {
	G := lp.r.hidden
	a, h := lp.dA[st.o*G:(st.o+st.n)*G], lp.j.dr.act[st.o*G:(st.o+st.n)*G]
	clear(a)
	if lp.r.kind == kindRNNTanh {
		kernel.TanhBackward(a, st.dh, h)
	} else {
		kernel.ReLUBackward(a, st.dh, h) // h > 0 where the pre-activation is
	}
	lp.backRec(g, st, a)
}

// backRec sets the group's dhc rows (n, Ho) = mask ⊙ (dR · W_hh) plus,
// under zoneout, the share of the previous state they hold on entry.
func (lp *bwdLoop) backRec(g *bwdGroup, st *bwdStep, dR []float32) {
	dprev, rev := g.dhc[:st.n*lp.r.ho()], st.s&1 == 1
	if st.zh == nil && g.recMask == nil {
		lp.rec.mulT(dprev, dR, st.n, rev)
		return
	}
	carry := g.scr.carry[:len(dprev)]
	if st.zh != nil {
		copy(carry, dprev)
	}
	lp.rec.mulT(dprev, dR, st.n, rev)
	if g.recMask != nil {
		for i := range dprev {
			dprev[i] *= g.recMask[i]
		}
	}
	if st.zh != nil {
		kernel.Axpy(1, carry, dprev)
	}
}

// weightGrads adds the parameter gradients of the direction, and its
// input gradient, as large GEMMs over all the steps' rows:
// dW_ih += dPreᵀ·X, dX += dPre·W_ih, dW_hh += dPreᵀ·H_in (through the
// weight-drop mask), the biases' column sums, dW_hr += dHᵀ·M (LSTMP).
func (lp *bwdLoop) weightGrads() {
	r, j, dr, N := lp.r, &lp.j, lp.j.dr, lp.p.N
	H, Ho, G, in, w := r.hidden, r.ho(), r.kind.gates()*r.hidden, j.in, j.w
	gemm := sgemmFor(lp.bf16)
	gemm(true, false, G, in, N, 1, lp.dA, G, j.X, in, 1, w.wih.Grad.Data, in)
	if j.dX != nil {
		gemm(false, false, N, in, G, 1, lp.dA, G, w.wih.Value.Data, in, 1, j.dX, in)
	}
	dR := lp.dA
	if r.kind == kindGRU {
		dR = lp.dhg
	}
	if dr.wdMask != nil {
		tmp := j.ws.takeRaw(G * Ho)
		gemm(true, false, G, Ho, N, 1, dR, G, dr.hin, Ho, 0, tmp, Ho)
		gw := w.whh.Grad.Data
		for i, m := range dr.wdMask {
			gw[i] += tmp[i] * m
		}
	} else {
		gemm(true, false, G, Ho, N, 1, dR, G, dr.hin, Ho, 1, w.whh.Grad.Data, Ho)
	}
	if r.bias {
		if r.kind == kindGRU {
			colSumAdd(w.bih.Grad.Data, lp.dA, N, G)
			colSumAdd(w.bhh.Grad.Data, dR, N, G)
		} else {
			// Both biases enter the same pre-activation: one column sum.
			db := j.ws.take(G)
			colSumAdd(db, lp.dA, N, G)
			kernel.Axpy(1, db, w.bih.Grad.Data)
			kernel.Axpy(1, db, w.bhh.Grad.Data)
		}
	}
	if r.proj > 0 {
		gemm(true, false, Ho, H, N, 1, dr.dH, Ho, dr.m, H, 1, w.whr.Grad.Data, H)
	}
	if r.peephole {
		peepholeCell{c: dr.c, cPrev: dr.cprev, n: N, H: H}.grads(w.ph.Grad.Data, lp.dA)
	}
	if r.resetBefore {
		lp.resetBeforeGrads()
	}
}
