package nn

import "github.com/recur-ml/recur/internal/kernel"

// Two cell variants that PyTorch does not have and ONNX does: an LSTM
// with peephole connections (LSTMConfig.Peephole) and a GRU that resets
// before its recurrent product (GRUConfig.ResetBefore). Each replaces the
// fused gate kernel of its step, forward and backward, with the loops
// below (the vectorized activations row by row); the rest of the engine
// (packing, the recurrent products, regularizers, lengths, threads) is the
// same, and the default cells' path does not change.

// peepholeCell is n rows of an LSTM step with peepholes: the
// activations act (n, 4H: [i f g o]), the cell before (cPrev) and after
// (c) the step, (n, H), and the peepholes p (3H: p_i, p_f, p_o).
type peepholeCell struct {
	act, c, cPrev, p []float32
	n, H             int
}

// forward is kernel.LSTMForward with peepholes: i and f see the previous
// cell, o the new one. act holds the pre-activations on entry; c and h
// (n, H) are written.
//
//	i = σ(pre_i + p_i⊙cPrev)  f = σ(pre_f + p_f⊙cPrev)  g = tanh(pre_g)
//	c = f⊙cPrev + i⊙g         o = σ(pre_o + p_o⊙c)     h = o⊙tanh(c)
func (pc peepholeCell) forward(h []float32) {
	H := pc.H
	G := 4 * H
	pi, pf, po := pc.p[:H], pc.p[H:2*H], pc.p[2*H:3*H]
	for b := range pc.n {
		a := pc.act[b*G : (b+1)*G]
		cp, cr, hr := pc.cPrev[b*H:(b+1)*H], pc.c[b*H:(b+1)*H], h[b*H:(b+1)*H]
		for j, v := range cp {
			a[j] += pi[j] * v
			a[H+j] += pf[j] * v
		}
		kernel.Sigmoid(a[:2*H], a[:2*H])
		kernel.Tanh(a[2*H:3*H], a[2*H:3*H])
		for j, v := range cp {
			cr[j] = a[H+j]*v + a[j]*a[2*H+j]
			a[3*H+j] += po[j] * cr[j]
		}
		kernel.Sigmoid(a[3*H:], a[3*H:])
		kernel.Tanh(hr, cr)
		for j := range hr {
			hr[j] *= a[3*H+j]
		}
	}
}

// backward is the backward of forward, as kernel.LSTMBackward is
// LSTMForward's: dc (n, H) holds the gradient into the new cell on entry
// and that into cPrev on return; dh is the gradient into h, dpre (n, 4H)
// receives the pre-activations' and tc (n, H) is scratch.
//
//	tc = tanh(c);  dpre_o = dh⊙tc⊙o(1-o)
//	dct = dh⊙o⊙(1-tc²) + dc + dpre_o⊙p_o
//	dpre_i = dct⊙g⊙i(1-i);  dpre_f = dct⊙cPrev⊙f(1-f);  dpre_g = dct⊙i⊙(1-g²)
//	dcPrev = dct⊙f + dpre_i⊙p_i + dpre_f⊙p_f
func (pc peepholeCell) backward(dpre, dc, dh, tc []float32) {
	H := pc.H
	G := 4 * H
	pi, pf, po := pc.p[:H], pc.p[H:2*H], pc.p[2*H:3*H]
	kernel.Tanh(tc, pc.c)
	for b := range pc.n {
		a, d := pc.act[b*G:(b+1)*G], dpre[b*G:(b+1)*G]
		for j := range H {
			k := b*H + j
			ig, fg, gg, og := a[j], a[H+j], a[2*H+j], a[3*H+j]
			t := tc[k]
			do := dh[k] * t * (og * (1 - og))
			dct := dh[k]*og*(1-t*t) + dc[k] + do*po[j]
			di := dct * (gg * (ig * (1 - ig)))
			df := dct * (pc.cPrev[k] * (fg * (1 - fg)))
			d[j], d[H+j], d[2*H+j], d[3*H+j] = di, df, dct*(ig*(1-gg*gg)), do
			dc[k] = dct*fg + di*pi[j] + df*pf[j]
		}
	}
}

// grads adds the peepholes' gradients over the rows into dp (3H), from
// the pre-activations' dpre (n, 4H): dp_i += Σ dpre_i⊙cPrev, dp_f += Σ
// dpre_f⊙cPrev, dp_o += Σ dpre_o⊙c.
func (pc peepholeCell) grads(dp, dpre []float32) {
	H := pc.H
	G := 4 * H
	for b := range pc.n {
		d, cp, cr := dpre[b*G:(b+1)*G], pc.cPrev[b*H:(b+1)*H], pc.c[b*H:(b+1)*H]
		for j := range H {
			dp[j] += d[j] * cp[j]
			dp[H+j] += d[H+j] * cp[j]
			dp[2*H+j] += d[3*H+j] * cr[j]
		}
	}
}

// resetBeforeForward is a ResetBefore GRU step after hg (n, 3H) = W_hh
// hin + b_hh: r and z from it, then its n block replaced by W_hn q + b_hn
// with q = r⊙hin (n, H), then n and the new h (st.hout).
//
//	r = σ(xr + hr)  z = σ(xz + hz)  n = tanh(xn + W_hn (r⊙h) + b_hn)
//	h' = n + z⊙(h - n)
func (lp *fwdLoop) resetBeforeForward(act, hg, q []float32, st *fwdStep) {
	r, n, H := lp.r, st.n, lp.r.hidden
	G := 3 * H
	xg := lp.ip.XW[st.o*G : (st.o+n)*G]
	for b := range n {
		a, x, h := act[b*G:(b+1)*G], xg[b*G:(b+1)*G], hg[b*G:(b+1)*G]
		for j := range 2 * H {
			a[j] = x[j] + h[j]
		}
		kernel.Sigmoid(a[:2*H], a[:2*H])
		hn, qb, hin := h[2*H:], q[b*H:(b+1)*H], st.hin[b*H:(b+1)*H]
		for j := range H {
			qb[j] = a[j] * hin[j]
		}
		if r.bias {
			copy(hn, lp.j.w.bhh.Value.Data[2*H:])
		} else {
			clear(hn)
		}
	}
	kernel.Sgemm(false, true, n, H, H, 1, q, H, lp.whh[2*H*H:], H, 1, hg[2*H:], G)
	for b := range n {
		a, x, h := act[b*G:(b+1)*G], xg[b*G:(b+1)*G], hg[b*G:(b+1)*G]
		for j := range H {
			a[2*H+j] = x[2*H+j] + h[2*H+j]
		}
		kernel.Tanh(a[2*H:], a[2*H:])
		hp, ho := st.hprev[b*H:(b+1)*H], st.hout[b*H:(b+1)*H]
		for j := range H {
			nv := a[2*H+j]
			ho[j] = nv + a[H+j]*(hp[j]-nv)
		}
	}
}

// resetBeforeBack is the backward of a ResetBefore GRU step: dA rows get
// the pre-activations' gradients [dr dz dn] (the inputs', and dn is also
// that of W_hn q + b_hn), dhg those of the recurrent product of h, [dr dz
// 0], and the group's dhc the gradient of the previous h: through W_hh's r
// and z rows, through q = r⊙hin and directly, z⊙dh'.
func (lp *bwdLoop) resetBeforeBack(g *bwdGroup, st *bwdStep, direct, dhg []float32) {
	dr, n, o, H := lp.j.dr, st.n, st.o, lp.r.hidden
	G := 3 * H
	dA, act := lp.dA[o*G:(o+n)*G], dr.act[o*G:(o+n)*G]
	hprev, hin := dr.hprev[o*H:(o+n)*H], dr.hin[o*H:(o+n)*H]
	for b := range n {
		a, d, dg := act[b*G:(b+1)*G], dA[b*G:(b+1)*G], dhg[b*G:(b+1)*G]
		for j := range H {
			k := b*H + j
			z, nv, dh := a[H+j], a[2*H+j], st.dh[k]
			dz := dh * (hprev[k] - nv) * (z * (1 - z))
			d[H+j], dg[H+j] = dz, dz
			d[2*H+j], dg[2*H+j] = dh*(1-z)*(1-nv*nv), 0
			direct[k] = dh * z
		}
	}
	dq := g.scr.vh[:n*H]
	kernel.Sgemm(false, false, n, H, H, 1, dA[2*H:], G, dr.whh[2*H*H:], H, 0, dq, H)
	for b := range n {
		a, d, dg := act[b*G:(b+1)*G], dA[b*G:(b+1)*G], dhg[b*G:(b+1)*G]
		for j := range H {
			k := b*H + j
			r := a[j]
			dpr := dq[k] * hin[k] * (r * (1 - r))
			d[j], dg[j] = dpr, dpr
			dq[k] *= r
		}
	}
	lp.backRec(g, st, dhg)
	dprev := g.dhc[:n*H]
	if g.recMask != nil {
		for i, m := range g.recMask[:n*H] {
			dprev[i] += m * dq[i]
		}
	} else {
		kernel.Axpy(1, dq, dprev)
	}
	kernel.Axpy(1, direct, dprev)
}

// resetBeforeGrads adds what a ResetBefore GRU's weight gradients lack
// after weightGrads' GEMMs over dhg, whose n block is 0: dW_hn += dnᵀ·Q
// with Q = r⊙hin (through the weight-drop mask) and db_hn += Σ dn.
func (lp *bwdLoop) resetBeforeGrads() {
	dr, w, N, H := lp.j.dr, lp.j.w, lp.p.N, lp.r.hidden
	G := 3 * H
	Q := lp.j.ws.takeRaw(N * H)
	for b := range N {
		for j := range H {
			Q[b*H+j] = dr.act[b*G+j] * dr.hin[b*H+j]
		}
	}
	gw := w.whh.Grad.Data[2*H*H : 3*H*H]
	if dr.wdMask != nil {
		tmp := lp.j.ws.takeRaw(H * H)
		kernel.Sgemm(true, false, H, H, N, 1, lp.dA[2*H:], G, Q, H, 0, tmp, H)
		for i, m := range dr.wdMask[2*H*H : 3*H*H] {
			gw[i] += tmp[i] * m
		}
	} else {
		kernel.Sgemm(true, false, H, H, N, 1, lp.dA[2*H:], G, Q, H, 1, gw, H)
	}
	if lp.r.bias {
		db := w.bhh.Grad.Data[2*H:]
		for b := range N {
			kernel.Axpy(1, lp.dA[b*G+2*H:(b+1)*G], db)
		}
	}
}
