package kernel

import "math"

// The twins below compute what the assembly computes, bit for bit: the
// same float32 operations per element in the same order (FMAs as fma32,
// exp, sigmoid and tanh as the approximations of vec_approx.go), and for
// the float64 reductions the same partial sums combined in the same order
// (see sumLanes).

// sigmoidGeneric: dst[i] = 1/(1+exp(-x[i])), by sigmoidApprox.
func sigmoidGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = sigmoidApprox(v)
	}
}

// tanhGeneric: dst[i] = tanh(x[i]), by tanhApprox.
func tanhGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = tanhApprox(v)
	}
}

// expGeneric: dst[i] = exp(x[i]), by expApprox.
func expGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = expApprox(v)
	}
}

// axpyGeneric: y[i] += alpha*x[i].
func axpyGeneric(alpha float32, x, y []float32) {
	for i, v := range x {
		y[i] += float32(alpha * v) // the conversion forbids fusing into an FMA
	}
}

// sumLanes is the number of float64 partial sums of the reductions (Dot,
// SumSq, SqDiff, the softmax row sums): one per float32 lane of the
// vectors the assembly walks, 16 with the AVX-512 kernels (useAVX512) and
// 8 otherwise. The twins follow the same flag, so they match whichever
// kernels the assembly build runs on this CPU (see cpu_other.go for the
// noasm build).
func sumLanes() int {
	if useAVX512 {
		return 16
	}
	return 8
}

// laneSums holds the float64 partial sums of a reduction: lane i of
// stream s at [s][i] (a stream is one vector of each unrolled iteration,
// see rowBlocks).
type laneSums [4][16]float64

// total combines the partial sums as the assembly does: streams into
// stream 0 in order, then the L lanes pairwise (lane i + lane i+L/2,
// halving down to one, as hsumPD extracts and adds the upper halves).
func (a *laneSums) total(L, streams int) float64 {
	s := &a[0]
	for k := 1; k < streams; k++ {
		for i := range L {
			s[i] += a[k][i]
		}
	}
	for w := L / 2; w >= 1; w /= 2 {
		for i := range w {
			s[i] += s[i+w]
		}
	}
	return s[0]
}

// dotGeneric: Σ float64(x[i])*float64(y[i]) over sumLanes() partial sums
// (lane i takes the elements i, i+L, i+2L, ...; the products are exact),
// combined by laneSums.total and rounded once to float32.
func dotGeneric(x, y []float32) float32 { return dotLanes(x, y, sumLanes()) }

// dotLanes is dotGeneric over L lanes.
func dotLanes(x, y []float32, L int) float32 {
	var a laneSums
	y = y[:len(x)]
	for i, v := range x {
		a[0][i&(L-1)] += float64(v) * float64(y[i])
	}
	return float32(a.total(L, 1))
}

// scalGeneric: x[i] *= alpha.
func scalGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// sumSqGeneric: Σ float64(x[i])², over partial sums as dotGeneric.
func sumSqGeneric(x []float32) float64 {
	var a laneSums
	L := sumLanes()
	for i, v := range x {
		a[0][i&(L-1)] += float64(v) * float64(v)
	}
	return a.total(L, 1)
}

// sqDiffGeneric is SqDiff's twin on one chunk: d = p[i]-t[i] in float32,
// Σ float64(d)² over partial sums as dotGeneric, grad[i] = scale*d.
func sqDiffGeneric(grad, p, t []float32, scale float32) float64 {
	var a laneSums
	L := sumLanes()
	for i, v := range p {
		d := v - t[i]
		a[0][i&(L-1)] += float64(d) * float64(d)
		if grad != nil {
			grad[i] = scale * d
		}
	}
	return a.total(L, 1)
}

// lstmForwardGeneric runs the LSTM cell nonlinearity for B rows:
//
//	pre row b = [i f g o] pre-activations (4H, biases included)
//	act row b = [σ(i) σ(f) tanh(g) σ(o)]       (act may alias pre)
//	c = fma(σ(f), cPrev, σ(i)*tanh(g));  h = σ(o)*tanh(c)
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
			ig := sigmoidApprox(p[j])
			fg := sigmoidApprox(p[H+j])
			gg := tanhApprox(p[2*H+j])
			og := sigmoidApprox(p[3*H+j])
			a[j], a[H+j], a[2*H+j], a[3*H+j] = ig, fg, gg, og
			cv := fma32(fg, cp[j], float32(ig*gg))
			cr[j] = cv
			hr[j] = og * tanhApprox(cv)
		}
	}
}

// lstmBackwardGeneric is the backward of lstmForwardGeneric for B rows,
// with products grouped as written and fma(-x, x, 1) for 1-x²:
//
//	tc = tanh(c);  dct = (dh*o)*(1-tc²) (+ dc)
//	dpre = [dct*(g*(i*(1-i))), dct*(cPrev*(f*(1-f))), dct*(i*(1-g²)), (dh*tc)*(o*(1-o))]
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
			tc := tanhApprox(c[k])
			dct := float32(dh[k] * og * fma32(-tc, tc, 1)) // no fusing with dc
			if dc != nil {
				dct += dc[k]
			}
			d[j] = dct * (gg * (ig * (1 - ig)))
			d[H+j] = dct * (cPrev[k] * (fg * (1 - fg)))
			d[2*H+j] = dct * (ig * fma32(-gg, gg, 1))
			d[3*H+j] = dh[k] * tc * (og * (1 - og))
			dcPrev[k] = dct * fg
		}
	}
}

// gruForwardGeneric runs the GRU cell nonlinearity (PyTorch form) for B rows:
//
//	xg row = [xr xz xn] = W_ih x + b_ih;  hg row = [hr hz hn] = W_hh h + b_hh
//	r = σ(xr+hr); z = σ(xz+hz); n = tanh(fma(r, hn, xn)); h = fma(z, hPrev-n, n)
//	act row = [r z n]
//
// (h = (1-z)*n + z*hPrev, as one rounding of n + z*(hPrev-n)). act, xg
// and hg are B×3H; h and hPrev are B×H.
func gruForwardGeneric(act, h, xg, hg, hPrev []float32, B, H int) {
	G := 3 * H
	for b := 0; b < B; b++ {
		x := xg[b*G : b*G+G]
		hh := hg[b*G : b*G+G]
		a := act[b*G : b*G+G]
		for j := 0; j < H; j++ {
			r := sigmoidApprox(x[j] + hh[j])
			z := sigmoidApprox(x[H+j] + hh[H+j])
			n := tanhApprox(fma32(r, hh[2*H+j], x[2*H+j]))
			a[j], a[H+j], a[2*H+j] = r, z, n
			k := b*H + j
			h[k] = fma32(z, hPrev[k]-n, n)
		}
	}
}

// gruBackwardGeneric is the backward of gruForwardGeneric, with products
// grouped as written and fma(-n, n, 1) for 1-n²:
//
//	dn = (dh*(1-z))*(1-n²); dz = (dh*(hPrev-n))*(z*(1-z)); dr = (dn*hn)*(r*(1-r))
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
			dn := g * (1 - z) * fma32(-n, n, 1)
			dz := g * (hPrev[k] - n) * (z * (1 - z))
			dr := dn * hh[2*H+j] * (r * (1 - r))
			dx[j], dx[H+j], dx[2*H+j] = dr, dz, dn
			dhh[j], dhh[H+j], dhh[2*H+j] = dr, dz, dn*r
			dhPrev[k] = g * z
		}
	}
}

// softmaxRowsGeneric: for each of rows rows of width cols,
// dst[r,j] = exp(x[r,j]-max_r) * float32(1/Σ_j exp(x[r,j]-max_r)), the
// maximum by maxGeneric and the exponentials and their sum by
// expShiftGeneric.
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

// rowStreams is the number of vectors the assembly's row reductions (max,
// expShift, sumExpShift) take per iteration, each with partial results of
// its own: 4 with the AVX-512 kernels, 1 with the AVX2 ones.
func rowStreams() int {
	if useAVX512 {
		return 4
	}
	return 1
}

// rowBlocks calls f(i, s, lane) for every i < n in order, with the
// stream s and lane that hold element i in the assembly's row reductions
// over L lanes and k streams: while k·L or more elements remain, blocks of
// k vectors (vector v of a block in stream v); then single vectors, and
// the last n%L elements, in stream 0.
func rowBlocks(n, L, k int, f func(i, s, lane int)) {
	i := 0
	if k > 1 {
		for ; n-i >= k*L; i += k * L {
			for j := range k * L {
				f(i+j, j/L, j&(L-1))
			}
		}
	}
	for ; i < n; i++ {
		f(i, 0, i&(L-1))
	}
}

// maxGeneric returns the largest x[i], -Inf for an empty x, skipping NaN,
// as the assembly finds it: a running maximum m = v > m ? v : m per lane
// and stream (see rowBlocks), the streams folded into stream 0 in order,
// then the lanes halved pairwise. Only the sign of a zero maximum depends
// on that order (v > m is false for -0 against +0, and NaN never enters):
// VMAXPS keeps its second source on a tie, which is the lower half of the
// lanes in the combinations after VEXTRACTF64X4 and VEXTRACTF128 (16 or 8
// lanes to 4) and the upper half in those after VPERMILPS (4 to 2 to 1).
func maxGeneric(x []float32) float32 {
	L, k := sumLanes(), rowStreams()
	var m [4][16]float32
	for s := range k {
		for i := range L {
			m[s][i] = float32(math.Inf(-1))
		}
	}
	rowBlocks(len(x), L, k, func(i, s, lane int) {
		if v := x[i]; v > m[s][lane] {
			m[s][lane] = v
		}
	})
	r := &m[0]
	for s := 1; s < k; s++ {
		for i := range L {
			if v := m[s][i]; v > r[i] {
				r[i] = v
			}
		}
	}
	for w := L / 2; w >= 1; w /= 2 {
		for i := range w {
			if hi := r[i+w]; hi > r[i] || w < 4 && hi == r[i] {
				r[i] = hi
			}
		}
	}
	return r[0]
}

// expShiftGeneric sets dst[i] = exp(x[i]-m) (x[i]-m rounded to float32,
// then expApprox) and returns Σ dst[i] in float64, the sum over the
// assembly's partial sums (lanes and streams as rowBlocks assigns them)
// combined by laneSums.total. dst may be nil (sumExpShift).
func expShiftGeneric(dst, x []float32, m float32) float64 {
	L, k := sumLanes(), rowStreams()
	var a laneSums
	rowBlocks(len(x), L, k, func(i, s, lane int) {
		e := expApprox(x[i] - m)
		if dst != nil {
			dst[i] = e
		}
		a[s][lane] += float64(e)
	})
	return a.total(L, k)
}

// logSoftmaxRowsGeneric: dst[r,j] = x[r,j] + -(max_r + float32(log s_r))
// with s_r = Σ_j exp(x[r,j]-max_r) as in softmaxRowsGeneric.
func logSoftmaxRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr := x[r*cols : r*cols+cols]
		dr := dst[r*cols : r*cols+cols]
		m := maxGeneric(xr)
		shift := -(m + float32(math.Log(expShiftGeneric(nil, xr, m))))
		for j, v := range xr {
			dr[j] = v + shift
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
// over 8 partial sums as dotGeneric: the assembly takes the AVX2 dot at
// either width, rounded to float32), dx[r,j] += p[r,j] * (dp[r,j] - s_r).
func softmaxRowsBackwardGeneric(dx, dp, p []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		pr, gr, xr := p[r*cols:r*cols+cols], dp[r*cols:r*cols+cols], dx[r*cols:r*cols+cols]
		s := dotLanes(pr, gr, 8)
		for j := range pr {
			xr[j] += float32(pr[j] * (gr[j] - s))
		}
	}
}

// logSumExpRowsGeneric: dst[r] = max_r + float32(log s_r), with the
// maximum and s_r = Σ_j exp(x[r,j] - max_r) as in logSoftmaxRowsGeneric;
// an infinite max is replaced by 0 (PyTorch's logsumexp), so an empty row
// or a row of -Inf gives -Inf and a +Inf entry gives +Inf.
func logSumExpRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr := x[r*cols : r*cols+cols]
		m := maxGeneric(xr)
		if math.IsInf(float64(m), 0) {
			m = 0 // as PyTorch: -Inf for a row of -Inf, +Inf with a +Inf
		}
		dst[r] = m + float32(math.Log(expShiftGeneric(nil, xr, m)))
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
			if w := float64(vmax[i]); w > vi { // VMAXPD: a NaN vi stays
				vi = w
			}
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
