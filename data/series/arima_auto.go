package series

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/cmplx"
	"slices"
	"sync"
)

// The orders AutoARIMA searches, as R's auto.arima bounds them.
const (
	maxARIMAOrder   = 5 // p+q+P+Q
	maxARIMAPQ      = 5 // p and q each
	maxARIMASeasPQ  = 2 // P and Q each
	maxARIMAModels  = 94
	kpssCritical5   = 0.463 // the KPSS level-stationarity test's 5% point
	minRootDistance = 1.01  // a root nearer the unit circle is refused
)

// AutoARIMA chooses and fits a seasonal ARIMA model for y as Hyndman and
// Khandakar's algorithm does (R's auto.arima, 2008): one seasonal
// difference when season > 1 and the season's strength reaches
// MinSeasonalStrength (LocalSeasonalStrength, as R's nsdiffs), then up to two differences while the KPSS test
// rejects stationarity at 5%, then a stepwise search over p, q, P, Q and
// the constant by AICc from (2,d,2)(1,D,1), within auto.arima's bounds
// (arimaLimits). Models with an AR or MA root within 1.01 of the unit
// circle are refused, as R refuses them.
func AutoARIMA(y []float64, season int) (*ARIMA, error) {
	key := autoKey(y, season)
	if a := autoCache.get(key); a != nil {
		return a, nil
	}
	a, err := autoARIMA(y, season)
	if err == nil {
		autoCache.put(key, a)
	}
	return a, err
}

// autoCache remembers the last models AutoARIMA chose: the search is
// deterministic and costs tenths of a second, and a forecaster fits the
// same rows again (every Fit of a tuning study or a cross-validation, a
// hybrid refitted from a file).
var autoCache = &arimaCache{m: map[[32]byte]*ARIMA{}}

const arimaCacheSize = 256

type arimaCache struct {
	mu    sync.Mutex
	m     map[[32]byte]*ARIMA
	order [][32]byte // oldest first
}

func autoKey(y []float64, season int) [32]byte {
	h := sha256.New()
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(season))
	h.Write(b)
	for _, v := range y {
		binary.LittleEndian.PutUint64(b, math.Float64bits(v))
		h.Write(b)
	}
	return [32]byte(h.Sum(nil))
}

// get returns a copy of the model cached under key, or nil.
func (c *arimaCache) get(key [32]byte) *ARIMA {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.m[key]; a != nil {
		return a.clone()
	}
	return nil
}

func (c *arimaCache) put(key [32]byte, a *ARIMA) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	if len(c.order) == arimaCacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[key] = a.clone()
	c.order = append(c.order, key)
}

func (a *ARIMA) clone() *ARIMA {
	b := *a
	b.AR, b.MA, b.SAR, b.SMA = slices.Clone(a.AR), slices.Clone(a.MA), slices.Clone(a.SAR), slices.Clone(a.SMA)
	return &b
}

func autoARIMA(y []float64, season int) (*ARIMA, error) {
	m := max(season, 1)
	o := ARIMAOrder{Season: m}
	if m == 1 {
		o.Season = 0
	}
	x := y
	if m > 1 && len(y) >= 2*m && LocalSeasonalStrength(y, m) >= MinSeasonalStrength {
		o.SD = 1
		x = diffLag(y, m)
	}
	o.D = ndiffs(x)
	if constant(difference(y, o)) {
		// Nothing left to model (a constant, a straight line): R fits a
		// constant series its mean alone too.
		o.Constant = o.D+o.SD <= 1
		return FitARIMA(y, o)
	}
	s := &arimaSearch{y: y, fitted: map[ARIMAOrder]*ARIMA{}, limit: arimaLimits(len(y), o.Season)}
	best := s.start(o)
	if best == nil {
		o.P, o.Q, o.SP, o.SQ, o.Constant = 0, 0, 0, 0, false
		return FitARIMA(y, o)
	}
	for improved := true; improved && len(s.fitted) < maxARIMAModels; {
		improved = false
		for _, n := range s.limit.neighbours(best.ARIMAOrder) {
			if a := s.fit(n); a != nil && a.AICc < best.AICc {
				best, improved = a, true
				break
			}
		}
	}
	return best, nil
}

// arimaSearch fits each order once.
type arimaSearch struct {
	y      []float64
	fitted map[ARIMAOrder]*ARIMA
	limit  orderLimits
}

// orderLimits bound the orders searched.
type orderLimits struct{ p, q, sp, sq int }

// arimaLimits are auto.arima's bounds for n rows of season m: p and q at
// most 5 and a third of the rows, P and Q at most 2 and a third of the
// rows' seasons; with a seasonal part, p and q below m.
func arimaLimits(n, m int) orderLimits {
	l := orderLimits{p: min(maxARIMAPQ, n/3), q: min(maxARIMAPQ, n/3)}
	if m > 1 {
		l.sp, l.sq = min(maxARIMASeasPQ, n/3/m), min(maxARIMASeasPQ, n/3/m)
		if l.sp > 0 {
			l.p = min(l.p, m-1)
		}
		if l.sq > 0 {
			l.q = min(l.q, m-1)
		}
	}
	return l
}

func (l orderLimits) allow(o ARIMAOrder) bool {
	return min(o.P, o.Q, o.SP, o.SQ) >= 0 && o.P <= l.p && o.Q <= l.q && o.SP <= l.sp && o.SQ <= l.sq && o.P+o.Q+o.SP+o.SQ <= maxARIMAOrder
}

// fit returns the model of order o, or nil when it cannot be fitted or
// has a root too near the unit circle.
func (s *arimaSearch) fit(o ARIMAOrder) *ARIMA {
	if a, ok := s.fitted[o]; ok {
		return a
	}
	a, err := FitARIMA(s.y, o)
	// An AICc of -Inf is an exact fit (no error left): the best there is.
	if err != nil || math.IsNaN(a.AICc) || math.IsInf(a.AICc, 1) || !a.rootsClear() {
		a = nil
	}
	s.fitted[o] = a
	return a
}

// start fits the four starting models of the stepwise search (and the
// first without its constant) and returns the best, nil if none fits.
func (s *arimaSearch) start(o ARIMAOrder) *ARIMA {
	seasonal := 0
	if o.Season > 1 {
		seasonal = 1
	}
	o.Constant = o.D+o.SD <= 1
	var best *ARIMA
	try := func(p, q, sp, sq int, constant bool) {
		c := o
		l := s.limit
		c.P, c.Q, c.SP, c.SQ, c.Constant = min(p, l.p), min(q, l.q), min(sp*seasonal, l.sp), min(sq*seasonal, l.sq), constant
		if a := s.fit(c); a != nil && (best == nil || a.AICc < best.AICc) {
			best = a
		}
	}
	try(2, 2, 1, 1, o.Constant)
	try(0, 0, 0, 0, o.Constant)
	try(1, 0, 1, 0, o.Constant)
	try(0, 1, 0, 1, o.Constant)
	if o.Constant {
		try(0, 0, 0, 0, false)
	}
	return best
}

// neighbours lists the orders within l one stepwise move from o, in R's
// order: the seasonal orders, then the non-seasonal ones, then the
// constant.
func (l orderLimits) neighbours(o ARIMAOrder) []ARIMAOrder {
	var out []ARIMAOrder
	moves := [][2]int{{-1, 0}, {0, -1}, {1, 0}, {0, 1}, {-1, -1}, {-1, 1}, {1, -1}, {1, 1}}
	if o.Season > 1 {
		for _, mv := range moves {
			c := o
			c.SP, c.SQ = o.SP+mv[0], o.SQ+mv[1]
			out = append(out, c)
		}
	}
	for _, mv := range moves {
		c := o
		c.P, c.Q = o.P+mv[0], o.Q+mv[1]
		out = append(out, c)
	}
	if o.D+o.SD <= 1 {
		c := o
		c.Constant = !o.Constant
		out = append(out, c)
	}
	kept := out[:0]
	for _, c := range out {
		if l.allow(c) {
			kept = append(kept, c)
		}
	}
	return kept
}

// ndiffs is the number of differences, up to two, after which the KPSS
// test no longer rejects level stationarity at 5% (R's ndiffs).
func ndiffs(x []float64) int {
	for d := range 2 {
		if constant(x) || len(x) < 3 || kpss(x) < kpssCritical5 {
			return d
		}
		x = diffLag(x, 1)
	}
	return 2
}

func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// kpss is the KPSS statistic for level stationarity (Kwiatkowski et al.
// 1992): the squared partial sums of the demeaned series over n² times
// its long-run variance, Newey-West with Bartlett weights over
// ⌊3√n/13⌋ lags (the lag R's ndiffs uses).
func kpss(x []float64) float64 {
	n := len(x)
	mu := mean(x)
	var s, eta, s2 float64
	e := make([]float64, n)
	for i, v := range x {
		e[i] = v - mu
		s += e[i]
		eta += s * s
		s2 += e[i] * e[i]
	}
	L := int(3 * math.Sqrt(float64(n)) / 13)
	for l := 1; l <= L; l++ {
		var c float64
		for t := l; t < n; t++ {
			c += e[t] * e[t-l]
		}
		s2 += 2 * (1 - float64(l)/float64(L+1)) * c
	}
	N := float64(n)
	return eta / (N * N) / (s2 / N)
}

// rootsClear says whether every root of the AR and MA polynomials lies
// outside 1.01 times the unit circle (a seasonal factor's roots in Bᵐ
// count at their m-th root).
func (a *ARIMA) rootsClear() bool {
	m := float64(max(a.Season, 1))
	for _, f := range []struct {
		c      []float64
		sign   float64
		radius float64
	}{{a.AR, -1, minRootDistance}, {a.MA, 1, minRootDistance}, {a.SAR, -1, math.Pow(minRootDistance, m)}, {a.SMA, 1, math.Pow(minRootDistance, m)}} {
		if minRoot(f.c, f.sign) < f.radius {
			return false
		}
	}
	return true
}

// minRoot is the smallest modulus of the roots of 1 + sign·Σ c[k-1]·zᵏ
// (+Inf without roots), by the Durand-Kerner iteration.
func minRoot(c []float64, sign float64) float64 {
	n := len(c)
	for n > 0 && math.Abs(c[n-1]) < 1e-8 {
		n--
	}
	if n == 0 {
		return math.Inf(1)
	}
	// The monic polynomial: z^n + Σ_{k<n} coef[k]·z^k.
	coef := make([]complex128, n)
	lead := sign * c[n-1]
	coef[0] = complex(1/lead, 0)
	for k := 1; k < n; k++ {
		coef[k] = complex(sign*c[k-1]/lead, 0)
	}
	p := func(z complex128) complex128 {
		v := complex(1, 0)
		for k := n - 1; k >= 0; k-- {
			v = v*z + coef[k]
		}
		return v
	}
	z := make([]complex128, n)
	for i := range z {
		z[i] = cmplx.Pow(complex(0.4, 0.9), complex(float64(i), 0))
	}
	for range 500 {
		for i := range z {
			d := complex(1, 0)
			for j := range z {
				if j != i {
					d *= z[i] - z[j]
				}
			}
			z[i] -= p(z[i]) / d
		}
	}
	r := math.Inf(1)
	for _, v := range z {
		r = min(r, cmplx.Abs(v))
	}
	return r
}

// String describes the model with its coefficients.
func (a *ARIMA) String() string {
	return fmt.Sprintf("%s (ar %.3g ma %.3g sar %.3g sma %.3g mean %.3g, AICc %.4g)", a.Name(), a.AR, a.MA, a.SAR, a.SMA, a.Mean, a.AICc)
}
