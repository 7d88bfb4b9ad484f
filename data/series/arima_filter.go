package series

import (
	"math"
	"slices"
)

// stateSpace is an ARMA model in Harvey's form: the state's first entry
// is the centred series, x_t = α_t[0], and
//
//	α_t = T·α_{t−1} + R·ε_t
//
// where T has the AR coefficients in its first column and ones above its
// diagonal, and R = (1, θ_1, …, θ_{r−1}). r = max(p, q+1) over the
// expanded polynomials.
type stateSpace struct {
	phi, r []float64 // T's first column; R
}

func (a *ARIMA) stateSpace() stateSpace {
	ar, ma := a.polys()
	r := max(len(ar), len(ma)+1)
	s := stateSpace{phi: make([]float64, r), r: make([]float64, r)}
	copy(s.phi, ar)
	s.r[0] = 1
	copy(s.r[1:], ma)
	return s
}

// predict sets a to T·a.
func (s stateSpace) predict(a []float64) {
	a0 := a[0]
	for i := range len(a) - 1 {
		a[i] = s.phi[i]*a0 + a[i+1]
	}
	a[len(a)-1] = s.phi[len(a)-1] * a0
}

// propagate sets P (r×r, row-major) to T·P·Tᵀ + R·Rᵀ, using T's shape:
// (T·P)[i][j] = φ_i·P[0][j] + P[i+1][j], and likewise on the right.
func (s stateSpace) propagate(P, tmp []float64) {
	r := len(s.phi)
	for i := range r {
		for j := range r {
			v := s.phi[i] * P[j]
			if i+1 < r {
				v += P[(i+1)*r+j]
			}
			tmp[i*r+j] = v
		}
	}
	for i := range r {
		for j := range r {
			v := tmp[i*r] * s.phi[j]
			if j+1 < r {
				v += tmp[i*r+j+1]
			}
			P[i*r+j] = v + s.r[i]*s.r[j]
		}
	}
}

// atShockOnly says whether P is R·Rᵀ to rounding.
func (s stateSpace) atShockOnly(P []float64) bool {
	r := len(s.r)
	for i := range r {
		for j := range r {
			if math.Abs(P[i*r+j]-s.r[i]*s.r[j]) > 1e-10*(1+math.Abs(s.r[i]*s.r[j])) {
				return false
			}
		}
	}
	return true
}

// stationaryCov returns the state's unconditional covariance, the P that
// solves P = T·P·Tᵀ + R·Rᵀ (ε of unit variance), by doubling: after k
// steps P holds the sum over the first 2ᵏ powers of T.
func (s stateSpace) stationaryCov() []float64 {
	r := len(s.phi)
	P := make([]float64, r*r)
	A := make([]float64, r*r) // T^(2^k)
	for i := range r {
		for j := range r {
			P[i*r+j] = s.r[i] * s.r[j]
		}
		A[i*r] = s.phi[i]
		if i+1 < r {
			A[i*r+i+1] = 1
		}
	}
	AP, tmp := make([]float64, r*r), make([]float64, r*r)
	for range 60 {
		matMul(AP, A, P, r, false)
		matMul(tmp, AP, A, r, true) // A·P·Aᵀ
		var inc, size float64
		for i, v := range tmp {
			P[i] += v
			inc = max(inc, math.Abs(v))
			size = max(size, math.Abs(P[i]))
		}
		if inc <= 1e-12*size || math.IsNaN(inc) {
			break
		}
		matMul(tmp, A, A, r, false)
		copy(A, tmp)
	}
	return P
}

// matMul sets dst to x·y, or x·yᵀ when yT, all r×r row-major.
func matMul(dst, x, y []float64, r int, yT bool) {
	if yT {
		for i := range r {
			xi := x[i*r : i*r+r]
			for j := range r {
				var v float64
				for k, xv := range xi {
					v += xv * y[j*r+k]
				}
				dst[i*r+j] = v
			}
		}
		return
	}
	clear(dst)
	for i := range r {
		di := dst[i*r : i*r+r]
		for k := range r {
			xv := x[i*r+k]
			if xv == 0 {
				continue
			}
			for j, yv := range y[k*r : k*r+r] {
				di[j] += xv * yv
			}
		}
	}
}

// filter runs the Kalman filter over w from the stationary state and
// returns Σ v²/F and Σ log F over the one-step errors v and their
// variances F (in units of σ²). When at is not nil it is called with
// every t from 0 to len(w) and the state predicted for w_t from the rows
// before it (a, centred; at must not keep it).
func (a *ARIMA) filter(w []float64, at func(t int, state []float64)) (ssq, sumLogF float64) {
	s := a.stateSpace()
	r := len(s.phi)
	P := s.stationaryCov()
	x, col, tmp := make([]float64, r), make([]float64, r), make([]float64, r*r)
	steady := false
	for t, v := range w {
		if at != nil {
			at(t, x)
		}
		F := P[0]
		e := v - a.Mean - x[0]
		if !(F > 0) || math.IsInf(F, 0) {
			return math.Inf(1), 0
		}
		ssq += e * e / F
		sumLogF += math.Log(F)
		// Update with w_t, then predict t+1. Once P has reached R·Rᵀ (the
		// state is known but for the next shock) it stays there, and
		// only the state moves.
		for i := range r {
			col[i] = P[i*r]
			x[i] += col[i] / F * e
		}
		s.predict(x)
		if steady {
			continue
		}
		for i := range r {
			for j := range r {
				P[i*r+j] -= col[i] * col[j] / F
			}
		}
		s.propagate(P, tmp)
		steady = s.atShockOnly(P)
	}
	if at != nil {
		at(len(w), x)
	}
	return ssq, sumLogF
}

// Forecast returns, for each origin s in origins, the h forecasts of rows
// s to s+h-1 made from the rows of y before s with the fitted
// coefficients, as HoltWinters.Forecast does: forecasts[i][j] is row
// origins[i]+j, and an origin of len(y) gives the future. An origin
// before the differences' reach (d + D·m rows) repeats the row before it.
func (a *ARIMA) Forecast(y []float64, origins []int, h int) [][]float64 {
	K := a.lag()
	want := map[int][]int{}
	out := make([][]float64, len(origins))
	for i, o := range origins {
		if o >= K {
			want[o-K] = append(want[o-K], i)
			continue
		}
		out[i] = make([]float64, h)
		for j := range out[i] {
			out[i][j] = y[max(o-1, 0)]
		}
	}
	w := difference(y, a.ARIMAOrder)
	s := a.stateSpace()
	a.filter(w, func(t int, state []float64) {
		idx, ok := want[t]
		if !ok {
			return
		}
		// w_t is row t+K of y; the differences reach back K rows.
		fc := a.integrate(y[t:t+K], s.ahead(state, h, a.Mean))
		for _, i := range idx {
			out[i] = fc
		}
	})
	return out
}

// ahead returns the h forecasts of the differenced series from the
// predicted state (centred), adding the mean back.
func (s stateSpace) ahead(state []float64, h int, mean float64) []float64 {
	x := slices.Clone(state)
	out := make([]float64, h)
	for j := range h {
		out[j] = x[0] + mean
		s.predict(x)
	}
	return out
}

// integrate turns forecasts fc of the fully differenced series into
// forecasts of y from the rows hist before them (at least d + D·m of
// them), undoing the differences last-first with Diff.Integrate.
func (o ARIMAOrder) integrate(hist, fc []float64) []float64 {
	ds := o.diffs()
	levels := make([][]float64, len(ds)) // hist differenced by ds[:i]
	for i, d := range ds {
		levels[i] = hist
		hist = diffLag(hist, d.lag())
	}
	for i := len(ds) - 1; i >= 0; i-- {
		fc = ds[i].Integrate(nil, levels[i], fc)
	}
	return fc
}
