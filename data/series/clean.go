package series

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// MissingPolicy says what Clean does with missing values (NaN).
type MissingPolicy int

const (
	// MissingError (zero) makes any missing value an error naming its
	// line and column.
	MissingError MissingPolicy = iota
	// MissingDrop removes every row with a missing value.
	MissingDrop
	// MissingForwardFill repeats the last observed value; leading gaps
	// take the first observed value.
	MissingForwardFill
	// MissingInterpolate interpolates linearly between the neighbouring
	// observed values (by row position); leading and trailing gaps take
	// the nearest observed value.
	MissingInterpolate
	// MissingMean replaces a gap by the mean of the column's observed
	// values among the first FitRows rows.
	MissingMean
)

// OutlierPolicy says whether and how Clean clips outliers.
type OutlierPolicy int

const (
	// OutliersKeep (zero) leaves values alone.
	OutliersKeep OutlierPolicy = iota
	// OutliersZScore clips to mean ± Threshold·std (Threshold zero: 3).
	OutliersZScore
	// OutliersIQR clips to [Q1 − Threshold·IQR, Q3 + Threshold·IQR]
	// (Threshold zero: 1.5, Tukey's fences).
	OutliersIQR
)

// OrderPolicy says what Clean does with unsorted or duplicated timestamps.
type OrderPolicy int

const (
	// OrderError (zero) makes a timestamp that is not after the previous
	// row's an error naming both lines.
	OrderError OrderPolicy = iota
	// OrderSort sorts rows by time (stably) and, of rows sharing a
	// timestamp, keeps the last one in file order; both are reported.
	OrderSort
)

// CleanConfig configures Clean. The zero value checks the order and that
// nothing is missing, and changes nothing.
type CleanConfig struct {
	Missing   MissingPolicy `json:"missing"`
	Outliers  OutlierPolicy `json:"outliers"`
	Threshold float64       `json:"threshold,omitempty"` // outlier bound; zero means 3 (z-score) or 1.5 (IQR)
	// FitRows is the number of leading rows (after sorting and dropping)
	// whose statistics the mean fill and the outlier bounds use, and whose
	// outliers are clipped; zero means all rows. Set it to the training
	// length so that no statistic of the test period leaks into training,
	// and the values a model is scored on stay as they were.
	FitRows int         `json:"fit_rows,omitempty"`
	Order   OrderPolicy `json:"order"`
}

// Cell is one changed value.
type Cell struct {
	Row    int     // row index in the cleaned frame (-1 when the row was dropped)
	Line   int     // source line (row index + 1 when the frame has no Lines)
	Column string  // column name
	Old    float64 // value before (NaN for a missing value)
	New    float64 // value after (NaN when its row was dropped)
}

// MarshalJSON writes a missing or dropped value (NaN) as null.
func (c Cell) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Row    int     `json:"row"`
		Line   int     `json:"line"`
		Column string  `json:"column"`
		Old    jsonNum `json:"old"`
		New    jsonNum `json:"new"`
	}{c.Row, c.Line, c.Column, jsonNum(c.Old), jsonNum(c.New)})
}

// Bound is the clipping range applied to one column.
type Bound struct {
	Column string  `json:"column"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

// Duplicate is a timestamp found on several rows.
type Duplicate struct {
	Time  float64 `json:"time"`
	Lines []int   `json:"lines"` // source lines (row indices + 1 when lines are unknown); the last was kept
}

// Report says what Clean found and did.
type Report struct {
	Missing     []Cell      `json:"missing"`      // each missing value and what replaced it
	DroppedRows []int       `json:"dropped_rows"` // source lines of rows removed (missing values or duplicates)
	Outliers    []Cell      `json:"outliers"`     // each clipped value
	Bounds      []Bound     `json:"bounds"`       // clipping range per column (outlier policy only)
	Unsorted    int         `json:"unsorted"`     // rows whose time was before the previous row's
	Duplicates  []Duplicate `json:"duplicates"`   // timestamps present more than once
	timeKind    TimeKind
}

// String summarises the report in a few lines.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "missing values: %d", len(r.Missing))
	writeCells(&b, r.Missing)
	fmt.Fprintf(&b, "\noutliers clipped: %d", len(r.Outliers))
	writeCells(&b, r.Outliers)
	for _, bd := range r.Bounds {
		fmt.Fprintf(&b, "\n  %s bounds [%g, %g]", bd.Column, bd.Lo, bd.Hi)
	}
	fmt.Fprintf(&b, "\nrows out of order: %d\nduplicated timestamps: %d", r.Unsorted, len(r.Duplicates))
	for i, d := range r.Duplicates {
		if i == 5 {
			fmt.Fprintf(&b, "\n  ... %d more", len(r.Duplicates)-5)
			break
		}
		fmt.Fprintf(&b, "\n  %s on lines %v", formatTime(r.timeKind, d.Time), d.Lines)
	}
	fmt.Fprintf(&b, "\nrows dropped: %d", len(r.DroppedRows))
	return b.String()
}

func writeCells(b *strings.Builder, cells []Cell) {
	for i, c := range cells {
		if i == 5 {
			fmt.Fprintf(b, "\n  ... %d more", len(cells)-5)
			return
		}
		fmt.Fprintf(b, "\n  line %d %s: %g -> %g", c.Line, c.Column, c.Old, c.New)
	}
}

func formatTime(kind TimeKind, v float64) string {
	if d, ok := Date(kind, v); ok {
		if d.Hour() == 0 && d.Minute() == 0 && d.Second() == 0 {
			return d.Format(time.DateOnly)
		}
		return d.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// Clean returns a cleaned copy of f and a report; f is not modified. It
// checks the time order first (sorting when asked), then handles missing
// values, then clips outliers.
func Clean(f *Frame, cfg CleanConfig) (*Frame, *Report, error) {
	rep := &Report{timeKind: f.TimeKind}
	g := f.copyValues()
	if g.Lines == nil {
		g.Lines = make([]int, g.Len())
		for i := range g.Lines {
			g.Lines[i] = i + 1
		}
	}
	if g.Time != nil {
		var err error
		if g, err = order(g, cfg.Order, rep); err != nil {
			return nil, rep, err
		}
	}
	if err := fillMissing(g, cfg, rep); err != nil {
		return nil, rep, err
	}
	if err := clip(g, cfg, rep); err != nil {
		return nil, rep, err
	}
	if f.Lines == nil {
		g.Lines = nil
	}
	return g, rep, nil
}

// order checks, and with OrderSort fixes, the time order of g's rows.
func order(g *Frame, pol OrderPolicy, rep *Report) (*Frame, error) {
	sorted := true
	for i := 1; i < g.Len(); i++ {
		if g.Time[i] > g.Time[i-1] {
			continue
		}
		sorted = false
		if g.Time[i] < g.Time[i-1] {
			rep.Unsorted++
		}
		if pol == OrderError {
			what := "duplicates"
			if g.Time[i] < g.Time[i-1] {
				what = "is before"
			}
			return nil, &Error{File: g.Name, Line: g.Lines[i], Column: g.TimeName, Value: formatTime(g.TimeKind, g.Time[i]),
				Msg: fmt.Sprintf("%s the time on line %d (use sorting to fix the order)", what, g.Lines[i-1])}
		}
	}
	if sorted {
		return g, nil // strictly increasing: nothing to sort or drop
	}
	idx := make([]int, g.Len())
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(g.Time[a], g.Time[b]) })
	keep := idx[:0]
	for k, i := range idx {
		if k+1 < len(idx) && g.Time[idx[k+1]] == g.Time[i] {
			if n := len(rep.Duplicates); n == 0 || rep.Duplicates[n-1].Time != g.Time[i] {
				rep.Duplicates = append(rep.Duplicates, Duplicate{Time: g.Time[i]})
			}
			d := &rep.Duplicates[len(rep.Duplicates)-1]
			d.Lines = append(d.Lines, g.Lines[i])
			rep.DroppedRows = append(rep.DroppedRows, g.Lines[i])
			continue
		}
		if n := len(rep.Duplicates); n > 0 && rep.Duplicates[n-1].Time == g.Time[i] {
			d := &rep.Duplicates[n-1]
			d.Lines = append(d.Lines, g.Lines[i])
		}
		keep = append(keep, i)
	}
	return g.rows(keep), nil
}

// rows returns a copy of g with the given rows, in that order.
func (f *Frame) rows(idx []int) *Frame {
	g := &Frame{Name: f.Name, TimeName: f.TimeName, TimeKind: f.TimeKind, Columns: f.Columns}
	pick := func(v []float64) []float64 {
		out := make([]float64, len(idx))
		for k, i := range idx {
			out[k] = v[i]
		}
		return out
	}
	if f.Time != nil {
		g.Time = pick(f.Time)
	}
	if f.Lines != nil {
		g.Lines = make([]int, len(idx))
		for k, i := range idx {
			g.Lines[k] = f.Lines[i]
		}
	}
	for _, v := range f.Values {
		g.Values = append(g.Values, pick(v))
	}
	return g
}

func fitRows(g *Frame, n int) int {
	if n <= 0 || n > g.Len() {
		return g.Len()
	}
	return n
}

func fillMissing(g *Frame, cfg CleanConfig, rep *Report) error {
	var drop []bool
	for c, v := range g.Values {
		for i, x := range v {
			if !isMissing(x) {
				continue
			}
			if cfg.Missing == MissingError {
				return &Error{File: g.Name, Line: g.Lines[i], Column: g.Columns[c], Msg: "missing value (choose a missing-value policy)"}
			}
			rep.Missing = append(rep.Missing, Cell{Row: i, Line: g.Lines[i], Column: g.Columns[c], Old: x, New: math.NaN()})
			if cfg.Missing == MissingDrop {
				if drop == nil {
					drop = make([]bool, g.Len())
				}
				drop[i] = true
			}
		}
	}
	if len(rep.Missing) == 0 {
		return nil
	}
	if cfg.Missing == MissingDrop {
		return dropRows(g, drop, rep)
	}
	return fill(g, cfg, rep)
}

// dropRows removes the rows marked in drop.
func dropRows(g *Frame, drop []bool, rep *Report) error {
	var keep []int
	newRow := make([]int, g.Len())
	for i := range drop {
		newRow[i] = -1
		if drop[i] {
			rep.DroppedRows = append(rep.DroppedRows, g.Lines[i])
			continue
		}
		newRow[i] = len(keep)
		keep = append(keep, i)
	}
	*g = *g.rows(keep)
	for k := range rep.Missing {
		rep.Missing[k].Row = newRow[rep.Missing[k].Row]
	}
	if g.Len() == 0 {
		return &Error{File: g.Name, Msg: "every row has a missing value", Err: ErrEmpty}
	}
	return nil
}

// fill replaces the missing values as cfg.Missing says.
func fill(g *Frame, cfg CleanConfig, rep *Report) error {
	n := fitRows(g, cfg.FitRows)
	for c, v := range g.Values {
		obs := observed(v)
		if len(obs) == 0 {
			return &Error{File: g.Name, Column: g.Columns[c], Msg: "every value is missing"}
		}
		switch cfg.Missing {
		case MissingForwardFill:
			last := obs[0]
			for i, x := range v {
				if isMissing(x) {
					v[i] = last
				} else {
					last = x
				}
			}
		case MissingInterpolate:
			interpolate(v)
		case MissingMean:
			m, _ := meanStd(observed(v[:n]))
			if math.IsNaN(m) {
				return &Error{File: g.Name, Column: g.Columns[c], Msg: fmt.Sprintf("every value in the first %d rows is missing", n)}
			}
			for i, x := range v {
				if isMissing(x) {
					v[i] = m
				}
			}
		default:
			return fmt.Errorf("series: unknown missing-value policy %d", cfg.Missing)
		}
	}
	for k := range rep.Missing {
		m := &rep.Missing[k]
		m.New = g.Values[lookup(g.Columns, m.Column)][m.Row]
	}
	return nil
}

// interpolate fills NaNs of v in place (v has at least one observed value).
func interpolate(v []float64) {
	prev := -1
	for i, x := range v {
		if isMissing(x) {
			continue
		}
		switch {
		case prev < 0:
			for j := 0; j < i; j++ {
				v[j] = x
			}
		case i-prev > 1:
			a := v[prev]
			for j := prev + 1; j < i; j++ {
				v[j] = a + (x-a)*float64(j-prev)/float64(i-prev)
			}
		}
		prev = i
	}
	for j := prev + 1; j < len(v); j++ {
		v[j] = v[prev]
	}
}

func clip(g *Frame, cfg CleanConfig, rep *Report) error {
	if cfg.Outliers == OutliersKeep {
		return nil
	}
	n := fitRows(g, cfg.FitRows)
	k := cfg.Threshold
	if k < 0 || math.IsNaN(k) || math.IsInf(k, 0) {
		return fmt.Errorf("series: outlier threshold %g, want a positive number", k)
	}
	for c, v := range g.Values {
		obs := observed(v[:n])
		var lo, hi float64
		switch cfg.Outliers {
		case OutliersZScore:
			if k == 0 {
				k = 3
			}
			m, s := meanStd(obs)
			lo, hi = m-k*s, m+k*s
		case OutliersIQR:
			if k == 0 {
				k = 1.5
			}
			q1, _, q3 := quartiles(obs)
			lo, hi = q1-k*(q3-q1), q3+k*(q3-q1)
		default:
			return fmt.Errorf("series: unknown outlier policy %d", cfg.Outliers)
		}
		rep.Bounds = append(rep.Bounds, Bound{Column: g.Columns[c], Lo: lo, Hi: hi})
		for i, x := range v[:n] {
			y := min(max(x, lo), hi)
			if y != x && !isMissing(x) {
				rep.Outliers = append(rep.Outliers, Cell{Row: i, Line: g.Lines[i], Column: g.Columns[c], Old: x, New: y})
				v[i] = y
			}
		}
	}
	return nil
}
