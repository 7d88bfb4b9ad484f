package series

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/tensor"
)

// ScaleMethod names a scaling rule; the names are what JSON holds.
type ScaleMethod string

const (
	// MinMax maps the training range to [0, 1]: Center = min, Scale = max − min.
	MinMax ScaleMethod = "minmax"
	// ZScore: Center = mean, Scale = population standard deviation.
	ZScore ScaleMethod = "zscore"
	// Robust: Center = median, Scale = interquartile range (type-7 quartiles).
	Robust ScaleMethod = "robust"
)

// Scaler maps each of its columns x to (x − Center)/Scale. Its fields are
// the whole fitted state; they marshal to JSON so that a model file can
// carry them and prediction applies exactly the same transform.
//
// Fit it on the training rows only ([FitScaler] with the training slice of
// the frame), then Transform any split. A column whose training values are
// all equal gets Scale 1.
type Scaler struct {
	Method  ScaleMethod `json:"method"`
	Columns []string    `json:"columns"`
	Center  []float64   `json:"center"`
	Scale   []float64   `json:"scale"`
}

// FitScaler fits a scaler of the given method to the columns of train
// (all of them when columns is nil), ignoring missing values.
func FitScaler(method ScaleMethod, train *Frame, columns ...string) (*Scaler, error) {
	if columns == nil {
		columns = train.Columns
	}
	idx, err := train.Indices(columns)
	if err != nil {
		return nil, err
	}
	s := &Scaler{Method: method}
	for _, c := range idx {
		obs := observed(train.Values[c])
		if len(obs) == 0 {
			return nil, fmt.Errorf("series: %scolumn %q: no observed values to fit a scaler", train.prefix(), train.Columns[c])
		}
		var center, scale float64
		switch method {
		case MinMax:
			lo, hi := obs[0], obs[0]
			for _, x := range obs {
				lo, hi = min(lo, x), max(hi, x)
			}
			center, scale = lo, hi-lo
		case ZScore:
			center, scale = meanStd(obs)
		case Robust:
			q1, med, q3 := quartiles(obs)
			center, scale = med, q3-q1
		default:
			return nil, fmt.Errorf("series: unknown scale method %q (want minmax, zscore or robust)", method)
		}
		if scale == 0 {
			scale = 1
		}
		s.Columns = append(s.Columns, train.Columns[c])
		s.Center = append(s.Center, center)
		s.Scale = append(s.Scale, scale)
	}
	return s, nil
}

// Validate checks a scaler read from JSON.
func (s *Scaler) Validate() error {
	switch s.Method {
	case MinMax, ZScore, Robust:
	default:
		return fmt.Errorf("series: scaler: unknown method %q", s.Method)
	}
	if len(s.Center) != len(s.Columns) || len(s.Scale) != len(s.Columns) {
		return fmt.Errorf("series: scaler: %d columns, %d centers, %d scales", len(s.Columns), len(s.Center), len(s.Scale))
	}
	for i := range s.Columns {
		if c, k := s.Center[i], s.Scale[i]; math.IsNaN(c) || math.IsInf(c, 0) || k == 0 || math.IsNaN(k) || math.IsInf(k, 0) {
			return fmt.Errorf("series: scaler: column %q: center %g scale %g", s.Columns[i], c, k)
		}
	}
	return nil
}

// UnmarshalJSON reads and validates a scaler.
func (s *Scaler) UnmarshalJSON(b []byte) error {
	type plain Scaler
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := (*Scaler)(&p).Validate(); err != nil {
		return err
	}
	*s = Scaler(p)
	return nil
}

// Transform returns a copy of f with the scaler's columns scaled; other
// columns are copied unchanged. Every scaler column must be in f.
func (s *Scaler) Transform(f *Frame) (*Frame, error) { return s.apply(f, false) }

// Inverse undoes Transform.
func (s *Scaler) Inverse(f *Frame) (*Frame, error) { return s.apply(f, true) }

func (s *Scaler) apply(f *Frame, inverse bool) (*Frame, error) {
	g := f.copyValues()
	for i, name := range s.Columns {
		v, err := g.Column(name)
		if err != nil {
			return nil, err
		}
		for r, x := range v {
			v[r] = s.value(i, x, inverse)
		}
	}
	return g, nil
}

func (s *Scaler) value(i int, x float64, inverse bool) float64 {
	if inverse {
		return x*s.Scale[i] + s.Center[i]
	}
	return (x - s.Center[i]) / s.Scale[i]
}

// InverseTensor writes into dst (allocated when nil) the inverse
// transform of y, whose last axis holds the given columns in order (as
// Windows.Y holds Windows.Targets). y is not modified.
func (s *Scaler) InverseTensor(dst, y *tensor.Tensor, columns []string) (*tensor.Tensor, error) {
	k := y.Dim(-1)
	if len(columns) != k {
		return nil, fmt.Errorf("series: %d column names for a last axis of %d", len(columns), k)
	}
	idx := make([]int, k)
	for j, c := range columns {
		if idx[j] = lookup(s.Columns, c); idx[j] < 0 {
			return nil, fmt.Errorf("series: scaler has no column %s (columns: %s)", input.Quote(c), input.QuoteList(s.Columns))
		}
	}
	if dst == nil {
		dst = tensor.New(y.Shape...)
	} else if !tensor.SameShape(dst, y) {
		panic(fmt.Sprintf("series: InverseTensor dst shape %v, y shape %v", dst.Shape, y.Shape))
	}
	for n, x := range y.Data {
		dst.Data[n] = float32(s.value(idx[n%k], float64(x), true))
	}
	return dst, nil
}

// Log is the natural-log transform of some columns, or log(1+x) when
// Plus1 is set (for data with zeros). Its inverse is exp (or exp(x) − 1).
type Log struct {
	Columns []string `json:"columns"` // nil: all columns
	Plus1   bool     `json:"log1p"`
}

// Transform returns a copy of f with the columns logged; a value outside
// the domain (≤ 0, or ≤ −1 with Plus1) is an error naming its line.
func (l Log) Transform(f *Frame) (*Frame, error) { return l.apply(f, false) }

// apply maps the selected columns of a copy of f through Value or
// InverseValue.
func (l Log) apply(f *Frame, inverse bool) (*Frame, error) {
	g := f.copyValues()
	idx, err := g.Indices(l.Columns)
	if err != nil {
		return nil, err
	}
	for _, c := range idx {
		for r, x := range g.Values[c] {
			if inverse {
				g.Values[c][r] = l.InverseValue(x)
				continue
			}
			if x <= 0 && !l.Plus1 || x <= -1 {
				return nil, &Error{File: f.Name, Line: f.line(r), Column: f.Columns[c], Value: fmt.Sprint(x), Msg: "is outside the domain of the log transform"}
			}
			g.Values[c][r] = l.Value(x)
		}
	}
	return g, nil
}

// Value applies the transform to one value.
func (l Log) Value(x float64) float64 {
	if l.Plus1 {
		return math.Log1p(x)
	}
	return math.Log(x)
}

// InverseValue undoes Value.
func (l Log) InverseValue(y float64) float64 {
	if l.Plus1 {
		return math.Expm1(y)
	}
	return math.Exp(y)
}

// Inverse returns a copy of f with the columns exponentiated back.
func (l Log) Inverse(f *Frame) (*Frame, error) { return l.apply(f, true) }

// Diff is differencing at a lag: y[t] = x[t] − x[t−Lag]. Lag 1 removes a
// trend, a seasonal lag (12 for monthly data) removes a season; apply two
// Diffs for both.
type Diff struct {
	Lag int `json:"lag"` // zero means 1
}

func (d Diff) lag() int { return max(d.Lag, 1) }

// Transform returns the differenced frame, Lag rows shorter than f (the
// first Lag rows have no predecessor); every column is differenced and
// the time column starts at row Lag.
func (d Diff) Transform(f *Frame) (*Frame, error) {
	lag := d.lag()
	if f.Len() <= lag {
		return nil, fmt.Errorf("series: %sdifferencing at lag %d needs more than %d rows, have %d", f.prefix(), lag, lag, f.Len())
	}
	g := f.Slice(lag, f.Len()).copyValues()
	for c, v := range f.Values {
		for r := range g.Values[c] {
			g.Values[c][r] = v[r+lag] - v[r]
		}
	}
	return g, nil
}

// Integrate turns forecast differences back into levels: given history,
// the known levels up to just before the first forecast step (at least
// Lag of them), and diffs, the predicted differences for the following
// steps, it writes the predicted levels into dst (allocated when nil,
// len(diffs)) and returns it. Steps further than Lag ahead build on
// earlier predicted levels, as recursive forecasts do. dst may be diffs
// (integration in place).
func (d Diff) Integrate(dst, history, diffs []float64) []float64 {
	lag := d.lag()
	if len(history) < lag {
		panic(fmt.Sprintf("series: Integrate at lag %d with %d known values", lag, len(history)))
	}
	if dst == nil {
		dst = make([]float64, len(diffs))
	}
	h := len(history)
	for j, dv := range diffs {
		var prev float64
		if j-lag >= 0 {
			prev = dst[j-lag]
		} else {
			prev = history[h+j-lag]
		}
		dst[j] = prev + dv
	}
	return dst
}

// Calendar selects cyclic calendar features. Each adds a sin/cos pair of
// columns, so that December sits next to January: month_sin, month_cos
// (angle 2π(month−1)/12), weekday_sin, weekday_cos (2π·weekday/7, Sunday
// 0), hour_sin, hour_cos (2π(hour + minute/60)/24), yday_sin, yday_cos
// (2π(day of year − 1)/days in the year).
type Calendar struct {
	Month     bool `json:"month,omitempty"`
	Weekday   bool `json:"weekday,omitempty"`
	Hour      bool `json:"hour,omitempty"`
	DayOfYear bool `json:"yday,omitempty"`
}

func (c Calendar) any() bool { return c.Month || c.Weekday || c.Hour || c.DayOfYear }

// AddCalendar returns a copy of f with the selected calendar columns
// appended, computed from the time column (a date or decimal year).
func AddCalendar(f *Frame, cal Calendar) (*Frame, error) {
	dates, err := f.Dates()
	if err != nil {
		return nil, fmt.Errorf("series: calendar features: %w", err)
	}
	g := f.copyValues()
	var dup string
	add := func(name string, period float64, pos func(time.Time) float64) {
		if lookup(g.Columns, name+"_sin") >= 0 {
			dup = name + "_sin"
		}
		s, c := make([]float64, g.Len()), make([]float64, g.Len())
		for r, d := range dates {
			a := 2 * math.Pi * pos(d) / period
			s[r], c[r] = math.Sin(a), math.Cos(a)
		}
		g.Columns = append(g.Columns, name+"_sin", name+"_cos")
		g.Values = append(g.Values, s, c)
	}
	if cal.Month {
		add("month", 12, func(d time.Time) float64 { return float64(d.Month() - 1) })
	}
	if cal.Weekday {
		add("weekday", 7, func(d time.Time) float64 { return float64(d.Weekday()) })
	}
	if cal.Hour {
		add("hour", 24, func(d time.Time) float64 { return float64(d.Hour()) + float64(d.Minute())/60 })
	}
	if cal.DayOfYear {
		add("yday", 1, func(d time.Time) float64 {
			days := time.Date(d.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24
			return float64(d.YearDay()-1) / days
		})
	}
	if dup != "" {
		return nil, fmt.Errorf("series: %scalendar column %q already exists", f.prefix(), dup)
	}
	return g, nil
}
