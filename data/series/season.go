package series

import (
	"fmt"
	"math"
	"slices"
)

// MinSeasonalStrength is the seasonal strength (SeasonalStrength) below
// which a candidate season is not used: the threshold of Hyndman's
// forecast package, whose nsdiffs(test = "seas") takes a season as present
// from a strength of 0.64 (Wang, Smith and Hyndman 2006).
const MinSeasonalStrength = 0.64

// CalendarSeason returns the seasonal period the time column of f implies,
// as R's ts frequency does: 12 for monthly and 4 for quarterly rows, 52
// for weekly, 7 for daily, 24 for hourly rows; 1 for yearly rows (no
// season within a year). It reads the median step between rows: decimal
// years (R's ts index: a step of 1/12 is monthly), dates, and plain
// numbers whose step is a fraction 1/m of a unit (R's ts index of a
// series of frequency m starting at 1). ok is false when the step says
// nothing about a season (no time column, a plain index of step 1, an
// irregular step); why names what was read.
func CalendarSeason(f *Frame) (season int, why string, ok bool) {
	if f == nil || f.TimeKind == NoTime || len(f.Time) < 3 {
		return 0, "", false
	}
	steps := make([]float64, 0, len(f.Time)-1)
	for i := 1; i < len(f.Time); i++ {
		steps = append(steps, f.Time[i]-f.Time[i-1])
	}
	slices.Sort(steps)
	step := steps[len(steps)/2]
	if step <= 0 {
		return 0, "", false
	}
	switch f.TimeKind {
	case TimeDecimalYear:
		if m, ok := perUnit(step); ok {
			return m, fmt.Sprintf("%s rows (a step of 1/%d year)", periodName(m), m), true
		}
	case TimeNumber:
		if step < 1 {
			if m, ok := perUnit(step); ok {
				return m, fmt.Sprintf("%d rows per unit of the time column (a step of 1/%d)", m, m), true
			}
		}
	case TimeUnix:
		const day = 86400.0
		for _, c := range []struct {
			lo, hi float64
			m      int
			name   string
		}{
			{3599, 3601, 24, "hourly"}, {day - 1, day + 1, 7, "daily"}, {7*day - 1, 7*day + 1, 52, "weekly"},
			{28 * day, 31 * day, 12, "monthly"}, {89 * day, 92 * day, 4, "quarterly"}, {365 * day, 366 * day, 1, "yearly"},
		} {
			if step >= c.lo && step <= c.hi {
				return c.m, c.name + " dates", true
			}
		}
	}
	return 0, "", false
}

// perUnit returns m when step is within 1% of 1/m for a whole m in
// [1, 366].
func perUnit(step float64) (int, bool) {
	m := math.Round(1 / step)
	if m < 1 || m > 366 || math.Abs(m*step-1) > 0.01 {
		return 0, false
	}
	return int(m), true
}

func periodName(m int) string {
	switch m {
	case 1:
		return "yearly"
	case 4:
		return "quarterly"
	case 12:
		return "monthly"
	case 52:
		return "weekly"
	}
	return fmt.Sprintf("%d-per-year", m)
}

// SeasonalStrength measures how much of y's variation a season of the
// given length explains, in [0, 1]: y less a centred moving-average trend
// (2×m for an even season m) is split into the mean of each position in
// the season (centred on zero) and a remainder, and the strength is
// max(0, 1 − Var(remainder)/Var(seasonal + remainder)) (Wang, Smith and
// Hyndman 2006). It is 0 for a season below 2 or a series shorter than
// two seasons; missing values (NaN) are left out of the sums.
func SeasonalStrength(y []float64, season int) float64 {
	m := season
	if m < 2 || len(y) < 2*m {
		return 0
	}
	detr := detrend(y, m)
	idx := make([]float64, m)
	cnt := make([]float64, m)
	for t, v := range detr {
		if !isMissing(v) {
			idx[t%m] += v
			cnt[t%m]++
		}
	}
	var centre float64
	for k := range idx {
		if cnt[k] == 0 {
			return 0
		}
		idx[k] /= cnt[k]
		centre += idx[k] / float64(m)
	}
	var rem, both []float64
	for t, v := range detr {
		if !isMissing(v) {
			rem = append(rem, v-(idx[t%m]-centre))
			both = append(both, v)
		}
	}
	_, sr := meanStd(rem)
	_, sb := meanStd(both)
	if sb == 0 {
		return 0
	}
	return max(0, 1-sr*sr/(sb*sb))
}

// LocalSeasonalStrength is SeasonalStrength with a season that may drift:
// each position's seasonal term is the tricube-weighted mean of the
// detrended values at that position over the 11 nearest cycles, not over
// all of them, as STL's cycle-subseries smoothing with s.window = 11
// allows. It approximates the strength R's nsdiffs tests (seas.heuristic:
// mstl's season against its remainder), which a multiplicative season
// growing with the level (UK gas, Johnson & Johnson) still passes, where
// the fixed season of SeasonalStrength leaves the growth in the
// remainder. Missing values (NaN) are left out.
func LocalSeasonalStrength(y []float64, season int) float64 {
	m, n := season, len(y)
	if m < 2 || n < 2*m {
		return 0
	}
	detr := detrend(y, m)
	const span = 11 // cycles
	half := m / 2
	var rem, both []float64
	for t := half; t+half < n; t++ {
		if isMissing(detr[t]) {
			continue
		}
		var sw, sv float64
		for c := -span / 2; c <= span/2; c++ {
			u := t + c*m
			if u < half || u+half >= n || isMissing(detr[u]) {
				continue
			}
			d := math.Abs(float64(c)) / float64(span/2+1)
			w := math.Pow(1-d*d*d, 3)
			sw, sv = sw+w, sv+w*detr[u]
		}
		rem = append(rem, detr[t]-sv/sw)
		both = append(both, detr[t])
	}
	_, sr := meanStd(rem)
	_, sb := meanStd(both)
	if !(sb > 0) {
		return 0
	}
	return max(0, 1-sr*sr/(sb*sb))
}

// detrend returns y less its centred moving average over a season (2×m
// for an even m), NaN where the average does not reach.
func detrend(y []float64, m int) []float64 {
	detr := make([]float64, len(y))
	for i := range detr {
		detr[i] = math.NaN()
	}
	half := m / 2
	for t := half; t+half < len(y); t++ {
		if m%2 == 1 {
			detr[t] = y[t] - mean(y[t-half:t+half+1])
			continue
		}
		// 2×m moving average: half weight on the two end points.
		s := 0.5*(y[t-half]+y[t+half]) + sum(y[t-half+1:t+half])
		detr[t] = y[t] - s/float64(m)
	}
	return detr
}

// SwingGrowsWithLevel reports whether the seasonal swing of y grows with
// its level, the case a log transform makes additive (AirPassengers). Over
// y's whole seasons, the standard deviation s of each season is taken as
// a power of its mean m, s ∝ m^b (Guerrero's view of the Box-Cox
// transform: λ = 1 − b makes the swing constant); the swing grows when y
// is positive, the largest mean is at least 1.5 times the smallest, log s
// correlates with log m above 0.5 and b exceeds 0.5 (λ nearer the log's
// 0 than no transform's 1). b is the power found.
func SwingGrowsWithLevel(y []float64, season int) (grows bool, b float64) {
	if season < 2 || len(y) < 3*season || slices.ContainsFunc(y, func(v float64) bool { return !(v > 0) }) {
		return false, 0
	}
	var lm, ls []float64
	lo, hi := math.Inf(1), 0.0
	for s := len(y) % season; s+season <= len(y); s += season {
		m, sd := meanStd(y[s : s+season])
		if sd <= 0 {
			return false, 0
		}
		lo, hi = min(lo, m), max(hi, m)
		lm, ls = append(lm, math.Log(m)), append(ls, math.Log(sd))
	}
	r := correlation(lm, ls)
	_, sm := meanStd(lm)
	_, ss := meanStd(ls)
	if sm > 0 {
		b = r * ss / sm
	}
	return hi >= 1.5*lo && r > 0.5 && b > 0.5, b
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 { return sum(v) / float64(len(v)) }

// correlation is Pearson's r of a and b (0 when either is constant).
func correlation(a, b []float64) float64 {
	ma, sa := meanStd(a)
	mb, sb := meanStd(b)
	if sa == 0 || sb == 0 {
		return 0
	}
	var c float64
	for i := range a {
		c += (a[i] - ma) * (b[i] - mb)
	}
	return c / float64(len(a)) / (sa * sb)
}
