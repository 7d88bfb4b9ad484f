package series

import (
	"fmt"
	"math"
	"slices"
)

// HoltWinters is exponential smoothing with an optional (damped) trend
// and an optional additive or multiplicative season (Holt 1957, Winters
// 1960), in the additive-error state-space form of Hyndman et al.
// ("Forecasting with Exponential Smoothing", 2008): a level, a trend
// damped by Phi and Season seasonal terms, each corrected by its
// smoothing weight times the one-step error. It is the statistical
// baseline a recurrent forecaster must beat on short series.
type HoltWinters struct {
	HWConfig
	Alpha, Beta, Gamma, Phi float64
	// Level0, Trend0 and Seasonal0 are the initial states (Seasonal0[i]
	// the term of the i-th step of the first season).
	Level0, Trend0 float64
	Seasonal0      []float64
	// SSE is the sum of squared one-step errors over the fitting rows;
	// AIC = n·log(SSE/n) + 2·(parameters + initial states).
	SSE, AIC float64
}

// HWConfig chooses a Holt-Winters model.
type HWConfig struct {
	Trend, Damped  bool
	Season         int // period; 0 or 1: none
	Multiplicative bool
}

// Name is the model's ETS label with additive errors: "A,Ad,M" for a
// damped trend and a multiplicative season, "A,N,N" for a level alone.
func (c HWConfig) Name() string {
	t, s := "N", "N"
	switch {
	case c.Damped:
		t = "Ad"
	case c.Trend:
		t = "A"
	}
	if c.Season > 1 {
		s = "A"
		if c.Multiplicative {
			s = "M"
		}
	}
	return "A," + t + "," + s
}

// FitHoltWinters fits c to y (no missing values): the initial states by
// the classical heuristic (the first seasons' means and ratios), then the
// smoothing weights by minimizing the one-step squared error with
// Nelder-Mead, within 0 < β < α < 1, 0 < γ < 1-α and 0.8 ≤ φ ≤ 0.98.
func FitHoltWinters(y []float64, c HWConfig) (*HoltWinters, error) {
	if c.Multiplicative && c.Season < 2 {
		return nil, fmt.Errorf("series: Holt-Winters: a multiplicative season needs a period of 2 or more, got %d", c.Season)
	}
	m := max(c.Season, 1)
	need := 3
	if m > 1 {
		need = 2 * m
	}
	if len(y) < need {
		return nil, fmt.Errorf("series: Holt-Winters %s needs %d rows, has %d", c.Name(), need, len(y))
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) || c.Multiplicative && v <= 0 {
			return nil, fmt.Errorf("series: Holt-Winters %s: row %d is %v (want finite%s)", c.Name(), i, v, map[bool]string{true: " and positive", false: ""}[c.Multiplicative])
		}
	}
	hw := &HoltWinters{HWConfig: c, Phi: 1}
	hw.initStates(y)
	u0 := []float64{0, 0, 0, 0} // the logits of the weights; 0 is the middle of each range
	best := nelderMead(func(u []float64) float64 {
		w := *hw
		w.setWeights(u)
		return w.sse(y)
	}, u0, 400)
	hw.setWeights(best)
	hw.SSE = hw.sse(y)
	k := 1 + len(hw.Seasonal0) // alpha, the level's and the seasons' initial states
	if c.Trend || c.Damped {
		k += 2
	}
	if c.Damped {
		k++
	}
	if m > 1 {
		k++
	}
	n := float64(len(y))
	hw.AIC = n*math.Log(max(hw.SSE, 1e-300)/n) + 2*float64(k)
	return hw, nil
}

// AutoHoltWinters fits every Holt-Winters model that applies to y (level
// alone; trend; damped trend; each without a season and, when season > 1,
// with an additive and, for positive y, a multiplicative one) and returns
// the one with the lowest AIC.
func AutoHoltWinters(y []float64, season int) (*HoltWinters, error) {
	var best *HoltWinters
	var firstErr error
	positive := !slices.ContainsFunc(y, func(v float64) bool { return v <= 0 })
	for _, trend := range []struct{ on, damped bool }{{false, false}, {true, false}, {true, true}} {
		for _, s := range []struct {
			m    int
			mult bool
		}{{0, false}, {season, false}, {season, true}} {
			if s.m > 0 && season < 2 || s.mult && (!positive || season < 2) {
				continue
			}
			hw, err := FitHoltWinters(y, HWConfig{Trend: trend.on, Damped: trend.damped, Season: s.m, Multiplicative: s.mult})
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if best == nil || hw.AIC < best.AIC {
				best = hw
			}
		}
	}
	if best == nil {
		return nil, firstErr
	}
	return best, nil
}

// setWeights maps the unconstrained u to the smoothing weights.
func (hw *HoltWinters) setWeights(u []float64) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	hw.Alpha = 0.0001 + 0.9998*sig(u[0])
	hw.Beta, hw.Gamma, hw.Phi = 0, 0, 1
	if hw.Trend || hw.Damped {
		hw.Beta = hw.Alpha * sig(u[1])
	}
	if hw.Season > 1 {
		hw.Gamma = (1 - hw.Alpha) * sig(u[2])
	}
	if hw.Damped {
		hw.Phi = 0.8 + 0.18*sig(u[3])
	}
}

// initStates sets the initial level, trend and seasonal terms from the
// first two seasons (or the first values without a season).
func (hw *HoltWinters) initStates(y []float64) {
	m := hw.Season
	if m < 2 {
		hw.Level0 = y[0]
		if hw.Trend || hw.Damped {
			hw.Trend0 = y[1] - y[0]
		}
		hw.Seasonal0 = nil
		return
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	l0, l1 := mean(y[:m]), mean(y[m:2*m])
	hw.Level0 = l0
	if hw.Trend || hw.Damped {
		hw.Trend0 = (l1 - l0) / float64(m)
	}
	hw.Seasonal0 = make([]float64, m)
	for i := range m {
		// The seasonal term of step i around the first season's trend line.
		line := l0 + (float64(i)-float64(m-1)/2)*hw.Trend0
		if hw.Multiplicative {
			hw.Seasonal0[i] = y[i] / line
		} else {
			hw.Seasonal0[i] = y[i] - line
		}
	}
}

// run filters y from the initial states and calls at(t, ℓ, b, s) before
// each step t, with the states known then (s the seasonal terms, s[t mod
// m] the one for step t); it returns the sum of squared one-step errors.
func (hw *HoltWinters) run(y []float64, at func(t int, l, b float64, s []float64)) float64 {
	m := max(hw.Season, 1)
	l, b := hw.Level0, hw.Trend0
	s := slices.Clone(hw.Seasonal0)
	var sse float64
	for t, v := range y {
		if at != nil {
			at(t, l, b, s)
		}
		var season float64
		if hw.Season > 1 {
			season = s[t%m]
		}
		base := l + hw.Phi*b
		pred := base + season
		if hw.Multiplicative {
			pred = base * season
		}
		if math.IsNaN(v) {
			l, b = base, hw.Phi*b
			continue
		}
		e := v - pred
		sse += e * e
		if hw.Multiplicative {
			l, b = base+hw.Alpha*e/season, hw.Phi*b+hw.Beta*e/season
			s[t%m] = season + hw.Gamma*e/base
		} else {
			l, b = base+hw.Alpha*e, hw.Phi*b+hw.Beta*e
			if hw.Season > 1 {
				s[t%m] = season + hw.Gamma*e
			}
		}
	}
	return sse
}

func (hw *HoltWinters) sse(y []float64) float64 {
	v := hw.run(y, nil)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return math.MaxFloat64
	}
	return v
}

// Forecast filters y with the fitted model (its first row the first
// fitting row) and returns, for each origin s, the forecasts of rows s to
// s+h-1 made from the rows before s: forecasts[i][j] is row origins[i]+j.
// Rows past len(y) are forecast too, so an origin of len(y) gives the
// future.
func (hw *HoltWinters) Forecast(y []float64, origins []int, h int) [][]float64 {
	at := map[int]int{}
	for i, o := range origins {
		at[o] = i
	}
	out := make([][]float64, len(origins))
	m := max(hw.Season, 1)
	ahead := func(t int, l, b float64, s []float64) []float64 {
		f := make([]float64, h)
		damp := 0.0
		for j := range h {
			damp += math.Pow(hw.Phi, float64(j+1))
			base := l + damp*b
			switch {
			case hw.Season < 2:
				f[j] = base
			case hw.Multiplicative:
				f[j] = base * s[(t+j)%m]
			default:
				f[j] = base + s[(t+j)%m]
			}
		}
		return f
	}
	// One more (missing) row gives the states after the last one.
	hw.run(append(slices.Clone(y), math.NaN()), func(t int, l, b float64, s []float64) {
		if i, ok := at[t]; ok {
			out[i] = ahead(t, l, b, s)
		}
	})
	return out
}

// nelderMead minimizes f from x0 with the Nelder-Mead simplex method
// (reflection 1, expansion 2, contraction ½, shrink ½) for at most iters
// iterations and returns the best point.
func nelderMead(f func([]float64) float64, x0 []float64, iters int) []float64 {
	return nelderMeadOpt(f, x0, nmOptions{step: 1, tol: 1e-10, iters: iters})
}

// nmOptions tune nelderMeadOpt: the initial simplex's edge (a small one
// refines a point already near the minimum in few evaluations), the
// relative spread of the simplex's values it stops at, and the most
// iterations.
type nmOptions struct {
	step, tol float64
	iters     int
}

func nelderMeadOpt(f func([]float64) float64, x0 []float64, o nmOptions) []float64 {
	step, iters := o.step, o.iters
	n := len(x0)
	pts := make([][]float64, n+1)
	vals := make([]float64, n+1)
	for i := range pts {
		pts[i] = slices.Clone(x0)
		if i > 0 {
			pts[i][i-1] += step
		}
		vals[i] = f(pts[i])
	}
	point := func(c []float64, d []float64, t float64) []float64 {
		p := make([]float64, n)
		for i := range p {
			p[i] = c[i] + t*(d[i]-c[i])
		}
		return p
	}
	for range iters {
		order := make([]int, n+1)
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmpFloat(vals[a], vals[b]) })
		pts, vals = permute(pts, order), permuteF(vals, order)
		if math.Abs(vals[n]-vals[0]) <= o.tol*(math.Abs(vals[0])+1e-20) {
			break
		}
		c := make([]float64, n) // centroid of all but the worst
		for _, p := range pts[:n] {
			for i := range c {
				c[i] += p[i] / float64(n)
			}
		}
		r := point(c, pts[n], -1)
		fr := f(r)
		switch {
		case fr < vals[0]:
			e := point(c, pts[n], -2)
			if fe := f(e); fe < fr {
				pts[n], vals[n] = e, fe
			} else {
				pts[n], vals[n] = r, fr
			}
		case fr < vals[n-1]:
			pts[n], vals[n] = r, fr
		default:
			k := point(c, pts[n], 0.5)
			if fk := f(k); fk < vals[n] {
				pts[n], vals[n] = k, fk
				continue
			}
			for i := 1; i <= n; i++ {
				pts[i] = point(pts[0], pts[i], 0.5)
				vals[i] = f(pts[i])
			}
		}
	}
	best := 0
	for i := range vals {
		if vals[i] < vals[best] {
			best = i
		}
	}
	return pts[best]
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func permute(p [][]float64, order []int) [][]float64 {
	out := make([][]float64, len(p))
	for i, j := range order {
		out[i] = p[j]
	}
	return out
}

func permuteF(v []float64, order []int) []float64 {
	out := make([]float64, len(v))
	for i, j := range order {
		out[i] = v[j]
	}
	return out
}
