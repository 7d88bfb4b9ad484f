package kernel

import "math"

// sigmoidGeneric: dst[i] = 1/(1+exp(-x[i])).
func sigmoidGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = sigmoid1(v)
	}
}

// tanhGeneric: dst[i] = tanh(x[i]).
func tanhGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Tanh(float64(v)))
	}
}

// expGeneric: dst[i] = exp(x[i]).
func expGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Exp(float64(v)))
	}
}

func sigmoid1(v float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(v))))
}

func tanh1(v float32) float32 { return float32(math.Tanh(float64(v))) }

// axpyGeneric: y[i] += alpha*x[i].
func axpyGeneric(alpha float32, x, y []float32) {
	for i, v := range x {
		y[i] += float32(alpha * v) // the conversion forbids fusing into an FMA
	}
}

// dotGeneric: Σ float64(x[i])*float64(y[i]), accumulated in float64 in
// index order and rounded once to float32.
func dotGeneric(x, y []float32) float32 {
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return float32(s)
}

// scalGeneric: x[i] *= alpha.
func scalGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// sumSqGeneric: Σ float64(x[i])², accumulated in float64.
func sumSqGeneric(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// sqDiffGeneric is SqDiff's twin (one running sum).
func sqDiffGeneric(grad, p, t []float32, scale float32) float64 {
	var s float64
	for i, v := range p {
		d := v - t[i]
		s += float64(d) * float64(d)
		if grad != nil {
			grad[i] = scale * d
		}
	}
	return s
}

// lstmForwardGeneric runs the LSTM cell nonlinearity for B rows:
//
//	pre row b = [i f g o] pre-activations (4H, biases included)
//	act row b = [σ(i) σ(f) tanh(g) σ(o)]       (act may alias pre)
//	c = σ(f)*cPrev + σ(i)*tanh(g);  h = σ(o)*tanh(c)
//
// act and pre are B×4H, cPrev, c and h are B×H, all contiguous.
func lstmForwardGeneric(act, c, h, pre, cPrev []float32, B, H int) {
	G := 4 * H
	for b := 0; b < B; b++ {
		p := pre[b*G : b*G+G]
		a := act[b*G : b*G+G]
		cp := cPrev[b*H : b*H+H]
		cr := c[b*H : b*H+H]
		hr := h[b*H : b*H+H]
		for j := 0; j < H; j++ {
			ig := sigmoid1(p[j])
			fg := sigmoid1(p[H+j])
			gg := tanh1(p[2*H+j])
			og := sigmoid1(p[3*H+j])
			a[j], a[H+j], a[2*H+j], a[3*H+j] = ig, fg, gg, og
			cv := fg*cp[j] + ig*gg
			cr[j] = cv
			hr[j] = og * tanh1(cv)
		}
	}
}

// lstmBackwardGeneric is the backward of lstmForwardGeneric for B rows:
//
//	tc = tanh(c);  dct = dc + dh*o*(1-tc²)
//	dpre = [dct*g*i(1-i), dct*cPrev*f(1-f), dct*i*(1-g²), dh*tc*o(1-o)]
//	dcPrev = dct*f
//
// dh and dc are the gradients flowing into h and c of this step (dc may be
// nil for zero). dpre is B×4H; dcPrev is B×H and may alias dc.
func lstmBackwardGeneric(dpre, dcPrev, act, c, cPrev, dh, dc []float32, B, H int) {
	G := 4 * H
	for b := 0; b < B; b++ {
		a := act[b*G : b*G+G]
		d := dpre[b*G : b*G+G]
		for j := 0; j < H; j++ {
			k := b*H + j
			ig, fg, gg, og := a[j], a[H+j], a[2*H+j], a[3*H+j]
			tc := tanh1(c[k])
			dcv := dh[k] * og * (1 - tc*tc)
			if dc != nil {
				dcv += dc[k]
			}
			d[j] = dcv * gg * ig * (1 - ig)
			d[H+j] = dcv * cPrev[k] * fg * (1 - fg)
			d[2*H+j] = dcv * ig * (1 - gg*gg)
			d[3*H+j] = dh[k] * tc * og * (1 - og)
			dcPrev[k] = dcv * fg
		}
	}
}

// gruForwardGeneric runs the GRU cell nonlinearity (PyTorch form) for B rows:
//
//	xg row = [xr xz xn] = W_ih x + b_ih;  hg row = [hr hz hn] = W_hh h + b_hh
//	r = σ(xr+hr); z = σ(xz+hz); n = tanh(xn + r*hn); h = (1-z)*n + z*hPrev
//	act row = [r z n]
//
// act, xg and hg are B×3H; h and hPrev are B×H.
func gruForwardGeneric(act, h, xg, hg, hPrev []float32, B, H int) {
	G := 3 * H
	for b := 0; b < B; b++ {
		x := xg[b*G : b*G+G]
		hh := hg[b*G : b*G+G]
		a := act[b*G : b*G+G]
		for j := 0; j < H; j++ {
			r := sigmoid1(x[j] + hh[j])
			z := sigmoid1(x[H+j] + hh[H+j])
			n := tanh1(x[2*H+j] + r*hh[2*H+j])
			a[j], a[H+j], a[2*H+j] = r, z, n
			k := b*H + j
			h[k] = (1-z)*n + z*hPrev[k]
		}
	}
}

// gruBackwardGeneric is the backward of gruForwardGeneric:
//
//	dn = dh*(1-z)*(1-n²); dz = dh*(hPrev-n)*z(1-z); dr = dn*hn*r(1-r)
//	dxg = [dr dz dn];  dhg = [dr dz dn*r];  dhPrev = dh*z
//
// dhPrev receives the direct term only; the caller adds dhg·W_hh.
func gruBackwardGeneric(dxg, dhg, dhPrev, act, hg, hPrev, dh []float32, B, H int) {
	G := 3 * H
	for b := 0; b < B; b++ {
		a := act[b*G : b*G+G]
		hh := hg[b*G : b*G+G]
		dx := dxg[b*G : b*G+G]
		dhh := dhg[b*G : b*G+G]
		for j := 0; j < H; j++ {
			k := b*H + j
			r, z, n := a[j], a[H+j], a[2*H+j]
			g := dh[k]
			dn := g * (1 - z) * (1 - n*n)
			dz := g * (hPrev[k] - n) * z * (1 - z)
			dr := dn * hh[2*H+j] * r * (1 - r)
			dx[j], dx[H+j], dx[2*H+j] = dr, dz, dn
			dhh[j], dhh[H+j], dhh[2*H+j] = dr, dz, dn*r
			dhPrev[k] = g * z
		}
	}
}

// softmaxRowsGeneric: for each of rows rows of width cols,
// dst[r,j] = exp(x[r,j]-max_r) / Σ_j exp(x[r,j]-max_r).
func softmaxRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr := x[r*cols : r*cols+cols]
		dr := dst[r*cols : r*cols+cols]
		s := expShiftGeneric(dr, xr, maxGeneric(xr))
		inv := float32(1 / s)
		for j := range dr {
			dr[j] *= inv
		}
	}
}

// maxGeneric returns the largest x[i], -Inf for an empty x, skipping NaN.
func maxGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// expShiftGeneric sets dst[i] = exp(x[i]-m) and returns Σ dst[i] in float64.
func expShiftGeneric(dst, x []float32, m float32) float64 {
	var s float64
	for j, v := range x {
		e := float32(math.Exp(float64(v - m)))
		dst[j] = e
		s += float64(e)
	}
	return s
}

func logSoftmaxRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr := x[r*cols : r*cols+cols]
		dr := dst[r*cols : r*cols+cols]
		m := float32(math.Inf(-1))
		for _, v := range xr {
			if v > m {
				m = v
			}
		}
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		lse := m + float32(math.Log(s))
		for j, v := range xr {
			dr[j] = v - lse
		}
	}
}

// adamGeneric is one Adam update (PyTorch form, no weight decay):
//
//	m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//	p -= stepSize * m / (sqrt(v)/bc2Sqrt + eps)
//
// with stepSize = lr/(1-β1^t) and bc2Sqrt = sqrt(1-β2^t). It is
// adamWGeneric with keep = 1 (p*1 is exact).
func adamGeneric(p, g, m, v []float32, beta1, beta2, stepSize, bc2Sqrt, eps float32) {
	adamWGeneric(p, g, m, v, beta1, beta2, stepSize, bc2Sqrt, eps, 1)
}

// adamWGeneric is one AdamW update (PyTorch torch.optim.AdamW):
//
//	m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//	p = p*keep - stepSize * m / (sqrt(v)/bc2Sqrt + eps)
//
// with keep = 1 - lr*weightDecay, every operation rounded to float32 (the
// float32 conversions keep a compiler from fusing a*b+c).
func adamWGeneric(p, g, m, v []float32, beta1, beta2, stepSize, bc2Sqrt, eps, keep float32) {
	for i := range p {
		gi := g[i]
		mi := float32(beta1*m[i]) + float32((1-beta1)*gi)
		vi := float32(beta2*v[i]) + float32((1-beta2)*gi*gi)
		m[i], v[i] = mi, vi
		p[i] = float32(p[i]*keep) - stepSize*mi/(float32(math.Sqrt(float64(vi)))/bc2Sqrt+eps)
	}
}

// reluGeneric: dst[i] = 0 if x[i] < 0, else x[i] (NaN and -0 pass through).
func reluGeneric(dst, x []float32) {
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// tanhBackwardGeneric: dx[i] += dy[i] * (1 - y[i]*y[i]), y = tanh(x).
func tanhBackwardGeneric(dx, dy, y []float32) {
	for i, v := range y {
		dx[i] += float32(dy[i] * (1 - float32(v*v)))
	}
}

// sigmoidBackwardGeneric: dx[i] += dy[i] * y[i] * (1 - y[i]), y = σ(x).
func sigmoidBackwardGeneric(dx, dy, y []float32) {
	for i, v := range y {
		dx[i] += float32(float32(dy[i]*v) * (1 - v))
	}
}

// softmaxRowsBackwardGeneric adds into dx the gradient through the softmax
// p of each row: with s_r = Σ_j float64(dp[r,j])·float64(p[r,j]) (float64,
// index order, rounded to float32), dx[r,j] += p[r,j] * (dp[r,j] - s_r).
func softmaxRowsBackwardGeneric(dx, dp, p []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		pr, gr, xr := p[r*cols:r*cols+cols], dp[r*cols:r*cols+cols], dx[r*cols:r*cols+cols]
		s := dotGeneric(pr, gr)
		for j := range pr {
			xr[j] += float32(pr[j] * (gr[j] - s))
		}
	}
}

// logSumExpRowsGeneric: dst[r] = max_r + log Σ_j exp(x[r,j] - max_r), the
// sum in float64; an infinite max is replaced by 0 (PyTorch's logsumexp), so
// an empty row or a row of -Inf gives -Inf and a +Inf entry gives +Inf.
func logSumExpRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr := x[r*cols : r*cols+cols]
		m := float32(math.Inf(-1))
		for _, v := range xr {
			if v > m {
				m = v
			}
		}
		if math.IsInf(float64(m), 0) {
			m = 0 // as PyTorch: -Inf for a row of -Inf, +Inf with a +Inf
		}
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		dst[r] = m + float32(math.Log(s))
	}
}

// adam64Generic is one Adam / AdamW step with float64 arithmetic on
// float32 state (the optimizer package's reference loop):
//
//	pi = p*Shrink;  d = g + WeightDecay*pi
//	m = β1 m + (1-β1) d;  v = β2 v + (1-β2) d d     (stored as float32)
//	with AMSGrad: v̂ = max(vmax, v), vmax = v̂       (stored as float32)
//	p = pi - StepSize * m / (sqrt(v̂)/BC2Sqrt + Eps)
//
// every quantity above in float64 (m, v and v̂ unrounded), p rounded once.
func adam64Generic(p, g, m, v, vmax []float32, h AdamHyper) {
	b1, b2 := h.Beta1, h.Beta2
	for i := range p {
		pi := float64(p[i]) * h.Shrink
		d := float64(g[i]) + float64(h.WeightDecay*pi)
		mi := float64(b1*float64(m[i])) + float64((1-b1)*d)
		vi := float64(b2*float64(v[i])) + float64((1-b2)*d*d)
		m[i], v[i] = float32(mi), float32(vi)
		if vmax != nil {
			vi = math.Max(float64(vmax[i]), vi)
			vmax[i] = float32(vi)
		}
		p[i] = float32(pi - float64(h.StepSize*mi)/(math.Sqrt(vi)/h.BC2Sqrt+h.Eps))
	}
}

// addToGeneric: dst[i] = a[i] + b[i].
func addToGeneric(dst, a, b []float32) {
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

// mulToGeneric: dst[i] = a[i] * b[i].
func mulToGeneric(dst, a, b []float32) {
	for i, v := range a {
		dst[i] = v * b[i]
	}
}

// reluBackwardGeneric: dx[i] += dy[i] where x[i] > 0 (not at 0, not NaN).
func reluBackwardGeneric(dx, dy, x []float32) {
	for i, v := range x {
		if v > 0 {
			dx[i] += dy[i]
		}
	}
}
