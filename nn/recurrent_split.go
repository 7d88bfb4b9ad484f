package nn

import "github.com/recur-ml/recur/internal/kernel"

// A batch of one is a chain of GEMVs: each step multiplies W_hh (G × Ho,
// 1 MiB at H = 256) by one h, which streams the whole matrix at cache
// bandwidth (less once it spills out of L2), far below FMA speed. Several
// cores have several L2 caches: rule 1 of recurrent_strategy.go splits the
// hidden units into P parts and lets each core keep the rows of W_hh for
// its units (all four gates of them) in its own cache, compute their
// pre-activations, and apply the gate nonlinearity to them. The cores meet
// once per step, when the new h is complete (kernel.Lockstep).
//
// Every element is computed by exactly the kernels the single-thread path
// uses on the same rows (a GEMV row's dot product and a gate's lanes do not
// depend on which rows or units share the call, as long as the split
// points are multiples of the vector width), so the result is
// bit-identical to the unsplit loop and independent of P and of the number
// of threads.

// lstmSplit is the state of a batch-of-one LSTM direction split over
// parts: RunPart(p) readies part p (kernel.Parallel), Step and After run
// the step loop (kernel.Lockstep).
type lstmSplit struct {
	splitStep
	// parts is P and bounds[p] .. bounds[p+1] are part p's units, set by
	// prepareUnits for the call.
	parts  int
	bounds [kernel.MaxLockstepParts + 1]int
	// pk[p] holds op(B) = the rows of W_hh for part p's units, gate block
	// after gate block, transposed and packed: one panel GEMV per step.
	// It and wbuf keep their memory from call to call.
	pk   []kernel.PackedB
	wbuf [][]float32
	// pre[p] (4 gate blocks of part p's units) and cnew[p] (their new c)
	// are the call's, from the arena; the slices of slices are kept.
	pre, cnew [][]float32
}

// splitStep is the per-call part of lstmSplit.
type splitStep struct {
	H   int
	whh []float32    // (4H, H)
	xw  []float32    // (N, 4H) input projection
	h   [2][]float32 // h before step s is h[s&1], after it h[(s+1)&1]
	c   []float32    // (H), updated in place

	// The step loop under kernel.Lockstep: nsteps steps, reversed for
	// the reverse direction; After copies h into y.
	nsteps int
	rev    bool
	y      outRows

	// RunPart packs part p's rows of W_hh into pk[p] and, when project
	// is set, computes the input projection XW (N, 4H) = X (N, in) · W_ihᵀ
	// for the columns of its units.
	project bool
	beta    float32 // 1 when XW holds the bias already
	x, wih  []float32
	n, in   int
}

// setParts splits H units into P parts at multiples of splitAlign, as
// equal as that allows (H >= P·splitAlign), and sizes the per-part state.
func (l *lstmSplit) setParts(H, P int) {
	l.parts = P
	for p := 1; p < P; p++ {
		l.bounds[p] = (p*H/P + splitAlign/2) / splitAlign * splitAlign
	}
	l.bounds[0], l.bounds[P] = 0, H
	if len(l.pk) < P {
		l.pk = make([]kernel.PackedB, P)
		l.wbuf = make([][]float32, P)
		l.pre = make([][]float32, P)
		l.cnew = make([][]float32, P)
	}
}

// units returns the hidden units [u0, u1) of part p.
func (l *lstmSplit) units(p int) (u0, u1 int) { return l.bounds[p], l.bounds[p+1] }

// Step is kernel.StepTask's: step s of the loop for part p.
func (l *lstmSplit) Step(p, s int) {
	l.step(p, s, l.row(s))
}

// After copies the h of step s into Y.
func (l *lstmSplit) After(s int) {
	l.y.put(l.h[(s+1)&1], l.row(s), 1, l.H)
}

// row is the packed row (and time index) of step s.
func (l *lstmSplit) row(s int) int {
	if l.rev {
		return l.nsteps - 1 - s
	}
	return s
}

// RunPart readies part p (see prepareUnits).
func (l *lstmSplit) RunPart(p int) {
	H := l.H
	u0, u1 := l.units(p)
	n := u1 - u0
	w := l.wbuf[p]
	if len(w) < 4*n*H {
		w = make([]float32, 4*n*H)
		l.wbuf[p] = w
	}
	for g := 0; g < 4; g++ {
		copy(w[g*n*H:(g+1)*n*H], l.whh[(g*H+u0)*H:(g*H+u1)*H])
	}
	l.pk[p].Pack(true, H, 4*n, w, H)
	if !l.project {
		return
	}
	// Each element is the same blocked-GEMM FMA chain as in the
	// one-call projection (projGemm), whatever columns share the call.
	for g := 0; g < 4; g++ {
		r := g*H + u0
		kernel.Sgemm(false, true, l.n, n, l.in, 1, l.x, l.in, l.wih[r*l.in:], l.in, l.beta, l.xw[r:], 4*H)
	}
}

// step computes step s, packed row o, for the units of part p.
func (l *lstmSplit) step(p, s, o int) {
	H := l.H
	u0, u1 := l.units(p)
	n := u1 - u0
	hin := l.h[s&1]
	hout := l.h[(s+1)&1]
	pre := l.pre[p][:4*n]
	row := l.xw[o*4*H : (o+1)*4*H]
	for g := 0; g < 4; g++ {
		seg := pre[g*n : (g+1)*n]
		copy(seg, row[g*H+u0:g*H+u1])
	}
	// The panel GEMV computes each output as one FMA chain over h in
	// order, exactly as the unsplit loop's product against all of W_hh.
	l.pk[p].Gemv(hin, 1, pre, s&1 == 1) // alternating: see recWeights.mul
	cout := l.cnew[p][:n]
	cprev := l.c[u0:u1]
	kernel.LSTMForward(pre, cout, hout[u0:u1], pre, cprev, 1, n)
	copy(cprev, cout)
}

// unitParts is the number of parts a batch-of-one LSTM direction with H
// units and W_hh of 4H·Ho floats splits its units into (rule 1): one per
// kernel thread, as long as each part keeps half of splitMinWeights of
// W_hh (what each of two parts gets at the threshold) and splitAlign units.
func unitParts(H, Ho int) int {
	return max(1, min(kernel.Threads(), 4*H*Ho/(splitMinWeights/2), H/splitAlign, kernel.MaxLockstepParts))
}

// prepareUnits readies a direction's units split (rule 1) over
// unitParts threads: each part packs its rows of W_hh and, when project
// is set (projUnits: two rows or more), computes the input projection
// XW (N, 4H) = X (N, in) · W_ihᵀ for the columns of its units.
func (lp *fwdLoop) prepareUnits(project bool) {
	ip, H := &lp.ip, lp.r.hidden
	l := lp.j.ws.split()
	l.setParts(H, unitParts(H, lp.r.ho()))
	l.splitStep = splitStep{H: H, whh: lp.j.w.whh.Value.Data,
		project: project, x: ip.X, wih: ip.wih, beta: ip.beta, xw: ip.XW, n: ip.N, in: ip.in}
	kernel.Parallel(l.parts, l)
	l.splitStep = splitStep{}
}

// runUnits is the step loop of a direction under rule 1, in the parts
// prepareUnits made: XW (N, G) holds the input projection with the bias
// folded in (a batch of one's), hc (Ho) and cc (H) the initial states,
// left holding the final ones.
func (lp *fwdLoop) runUnits() {
	ws, j, N, H := lp.j.ws, &lp.j, lp.p.N, lp.r.hidden
	l := ws.split()
	l.splitStep = splitStep{H: H, whh: lp.whh, xw: lp.ip.XW, c: j.cc}
	l.h[0] = j.hc
	l.h[1] = ws.takeRaw(H)
	for q := range l.parts {
		u0, u1 := l.units(q)
		l.pre[q] = ws.takeRaw(4 * (u1 - u0))
		l.cnew[q] = ws.takeRaw(u1 - u0)
	}
	// A batch of one runs its N = length steps: t = s forward, N-1-s in
	// reverse, packed row t (the output's row map, if any, is the
	// identity on them).
	l.nsteps, l.rev, l.y = N, j.d == 1, j.Y
	kernel.Lockstep(N, l.parts, l)
	if N&1 == 1 {
		copy(j.hc, l.h[1])
	}
	l.splitStep = splitStep{}
	clear(l.pre)
	clear(l.cnew)
}
