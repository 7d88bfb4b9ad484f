package series

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// ARIMAOrder chooses a seasonal ARIMA (p,d,q)(P,D,Q)[m] model, in the
// notation of Box and Jenkins and of R's arima.
type ARIMAOrder struct {
	P, D, Q    int // the non-seasonal AR order, differences and MA order
	SP, SD, SQ int // the seasonal ones, at lag Season
	Season     int // m; 0 or 1: no seasonal part
	// Constant adds the mean of the differenced series: a mean when there
	// is no difference, a drift after one, never after more.
	Constant bool
}

// Name is R's label: "ARIMA(2,1,1)(0,1,1)[12] with drift"; a seasonal
// part of order zero is left out, as R leaves it.
func (o ARIMAOrder) Name() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ARIMA(%d,%d,%d)", o.P, o.D, o.Q)
	if o.Season > 1 && o.SP+o.SD+o.SQ > 0 {
		fmt.Fprintf(&b, "(%d,%d,%d)[%d]", o.SP, o.SD, o.SQ, o.Season)
	}
	switch {
	case o.Constant && o.D+o.SD == 0:
		b.WriteString(" with non-zero mean")
	case o.Constant:
		b.WriteString(" with drift")
	}
	return b.String()
}

// lag is the rows the differences consume: d + D·m.
func (o ARIMAOrder) lag() int { return o.D + o.SD*max(o.Season, 1) }

// ARIMA is a fitted seasonal ARIMA model. With w the series differenced
// d times and D times at lag m, it is
//
//	φ(B) Φ(Bᵐ) (w_t − Mean) = θ(B) Θ(Bᵐ) ε_t
//
// with φ(B) = 1 − AR[0]·B − …, θ(B) = 1 + MA[0]·B + … (R's signs), and
// SAR, SMA the seasonal polynomials' coefficients likewise. Every fitted
// model is stationary and invertible: the coefficients are reached
// through partial autocorrelations in (−1, 1) (Jones 1980).
type ARIMA struct {
	ARIMAOrder
	AR, MA, SAR, SMA []float64
	Mean             float64
	// Sigma2 is the innovations' variance; LogLik the exact Gaussian
	// log-likelihood of the differenced training rows; AIC and AICc as
	// R's arima counts them (the coefficients, the constant and σ²).
	Sigma2, LogLik, AIC, AICc float64
}

// FitARIMA fits o to y (no missing values) as R's arima does by default:
// conditional sum of squares for a start, then exact maximum likelihood
// (a Kalman filter on the differenced rows), each by Nelder-Mead.
func FitARIMA(y []float64, o ARIMAOrder) (*ARIMA, error) {
	if err := o.check(len(y)); err != nil {
		return nil, err
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("series: %s: row %d is %v (want finite)", o.Name(), i, v)
		}
	}
	w := difference(y, o)
	a := &ARIMA{ARIMAOrder: o}
	sd := 1.0
	if o.Constant {
		a.Mean = mean(w)
		_, sd = meanStd(w)
		sd = max(sd/math.Sqrt(float64(len(w))), 1e-12)
	}
	p := armaParams{o: o, mean0: a.Mean, scale: sd}
	u := make([]float64, p.size())
	if len(u) > 0 {
		// R's optim stops at a relative change of 1e-8; so do these.
		u = nelderMeadOpt(func(u []float64) float64 { return p.set(a, u).css(w) }, u, nmOptions{step: 1, tol: 1e-8, iters: 400})
		u = nelderMeadOpt(func(u []float64) float64 { return p.set(a, u).mlObjective(w) }, u, nmOptions{step: 0.1, tol: 1e-8, iters: 400})
		p.set(a, u)
	}
	a.score(w)
	return a, nil
}

// score sets Sigma2, LogLik, AIC and AICc from the exact likelihood of
// the differenced rows w at a's coefficients.
func (a *ARIMA) score(w []float64) {
	ssq, sumLogF := a.filter(w, nil)
	n := float64(len(w))
	a.Sigma2 = ssq / n
	a.LogLik = -0.5 * (n*(math.Log(2*math.Pi*a.Sigma2)+1) + sumLogF)
	k := float64(armaParams{o: a.ARIMAOrder}.size() + 1)
	a.AIC = -2*a.LogLik + 2*k
	a.AICc = a.AIC + 2*k*(k+1)/max(n-k-1, 1)
}

// Validate says whether a model read from a file is one FitARIMA could
// have made: orders and coefficients that agree, finite values.
func (a *ARIMA) Validate() error {
	o := a.ARIMAOrder
	if err := o.check(math.MaxInt32); err != nil {
		return err
	}
	if len(a.AR) != o.P || len(a.MA) != o.Q || len(a.SAR) != o.SP || len(a.SMA) != o.SQ {
		return fmt.Errorf("series: %s has %d, %d, %d and %d AR, MA, seasonal AR and seasonal MA coefficients", o.Name(), len(a.AR), len(a.MA), len(a.SAR), len(a.SMA))
	}
	for _, part := range [][]float64{a.AR, a.MA, a.SAR, a.SMA, {a.Mean}} {
		for _, v := range part {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("series: %s: coefficient %v (want finite)", o.Name(), v)
			}
		}
	}
	return nil
}

// check says whether o is a model FitARIMA can fit to n rows.
func (o ARIMAOrder) check(n int) error {
	m := max(o.Season, 1)
	switch {
	case min(o.P, o.D, o.Q, o.SP, o.SD, o.SQ) < 0:
		return fmt.Errorf("series: %s: negative order", o.Name())
	case m == 1 && o.SP+o.SD+o.SQ > 0:
		return fmt.Errorf("series: %s: a seasonal part needs a season of 2 or more", o.Name())
	case o.Constant && o.D+o.SD > 1:
		return fmt.Errorf("series: %s: no constant after two differences", o.Name())
	}
	need := o.lag() + o.P + o.SP*m + o.Q + o.SQ*m + 2
	if n < need {
		return fmt.Errorf("series: %s needs %d rows, has %d", o.Name(), need, n)
	}
	return nil
}

// armaParams maps an unconstrained vector to a model's coefficients:
// each polynomial's partial autocorrelations are tanh of its entries,
// the mean is mean0 plus scale times the last one.
type armaParams struct {
	o            ARIMAOrder
	mean0, scale float64
}

func (p armaParams) size() int {
	n := p.o.P + p.o.Q + p.o.SP + p.o.SQ
	if p.o.Constant {
		n++
	}
	return n
}

// set writes the coefficients u stands for into a and returns a.
func (p armaParams) set(a *ARIMA, u []float64) *ARIMA {
	o := p.o
	next := func(k int) []float64 {
		r := make([]float64, k)
		for i := range r {
			r[i] = math.Tanh(u[i])
		}
		u = u[k:]
		return partialsToAR(r)
	}
	a.AR, a.MA = next(o.P), negate(next(o.Q))
	a.SAR, a.SMA = next(o.SP), negate(next(o.SQ))
	if o.Constant {
		a.Mean = p.mean0 + p.scale*u[0]
	}
	return a
}

// partialsToAR is the Durbin-Levinson recursion: the coefficients φ of
// the AR polynomial 1 − Σ φ_k Bᵏ whose partial autocorrelations are r.
// Each |r_k| < 1 makes the polynomial stationary.
func partialsToAR(r []float64) []float64 {
	phi := make([]float64, len(r))
	prev := make([]float64, len(r))
	for k := range r {
		copy(prev, phi[:k])
		phi[k] = r[k]
		for j := range k {
			phi[j] = prev[j] - r[k]*prev[k-1-j]
		}
	}
	return phi
}

func negate(v []float64) []float64 {
	for i := range v {
		v[i] = -v[i]
	}
	return v
}

// polys returns the expanded polynomials: φ(B)Φ(Bᵐ) = 1 − Σ ar[k-1]·Bᵏ
// and θ(B)Θ(Bᵐ) = 1 + Σ ma[k-1]·Bᵏ.
func (a *ARIMA) polys() (ar, ma []float64) {
	m := max(a.Season, 1)
	ar = mulLag(negate(slices.Clone(a.AR)), negate(slices.Clone(a.SAR)), m)
	ma = mulLag(a.MA, a.SMA, m)
	return negate(ar), ma
}

// mulLag multiplies (1 + Σ x[k-1]·Bᵏ) by (1 + Σ s[k-1]·B^(k·m)) and
// returns the product's coefficients after its leading 1.
func mulLag(x, s []float64, m int) []float64 {
	out := make([]float64, len(x)+len(s)*m)
	copy(out, x)
	for j, sv := range s {
		at := (j + 1) * m
		out[at-1] += sv
		for k, xv := range x {
			out[at+k] += sv * xv
		}
	}
	return out
}

// diffs are the differences of o in the order they are taken: d at lag
// 1, then D at lag m.
func (o ARIMAOrder) diffs() []Diff {
	var ds []Diff
	for range o.D {
		ds = append(ds, Diff{Lag: 1})
	}
	for range o.SD {
		ds = append(ds, Diff{Lag: max(o.Season, 1)})
	}
	return ds
}

// difference returns y differenced as o says (y itself without
// differences; the result is not to be written).
func difference(y []float64, o ARIMAOrder) []float64 {
	for _, d := range o.diffs() {
		y = diffLag(y, d.lag())
	}
	return y
}

func diffLag(y []float64, lag int) []float64 {
	if len(y) <= lag {
		return nil
	}
	out := make([]float64, len(y)-lag)
	for i := range out {
		out[i] = y[i+lag] - y[i]
	}
	return out
}

// css is the conditional sum of squares of w's one-step errors, each
// error before the AR polynomial's reach taken as zero.
func (a *ARIMA) css(w []float64) float64 {
	ar, ma := a.polys()
	e := make([]float64, len(w))
	var s float64
	for t := len(ar); t < len(w); t++ {
		v := w[t] - a.Mean
		for k, c := range ar {
			v -= c * (w[t-1-k] - a.Mean)
		}
		for k, c := range ma {
			if t-1-k >= len(ar) {
				v -= c * e[t-1-k]
			}
		}
		e[t] = v
		s += v * v
	}
	if math.IsNaN(s) {
		return math.Inf(1)
	}
	return s
}

// mlObjective is the exact negative log-likelihood of w, less constants
// and per row, with σ² concentrated out (R's arima minimizes the same).
func (a *ARIMA) mlObjective(w []float64) float64 {
	ssq, sumLogF := a.filter(w, nil)
	n := float64(len(w))
	v := 0.5*math.Log(ssq/n) + 0.5*sumLogF/n
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v
}
