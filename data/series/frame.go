package series

import (
	"fmt"
	"math"
	"strconv"

	"github.com/recur-ml/recur/data/input"
)

// TimeKind says how a Frame's Time values are to be read.
type TimeKind int

const (
	// NoTime: the frame has no time column; Time is nil.
	NoTime TimeKind = iota
	// TimeNumber: Time holds plain numbers (an index, a step count).
	TimeNumber
	// TimeUnix: Time holds dates as Unix seconds (UTC).
	TimeUnix
	// TimeDecimalYear: Time holds fractional years as R writes ts objects
	// (1949.083333 is February 1949 for a monthly series).
	TimeDecimalYear
)

func (k TimeKind) String() string {
	switch k {
	case NoTime:
		return "none"
	case TimeNumber:
		return "number"
	case TimeUnix:
		return "date"
	case TimeDecimalYear:
		return "decimal-year"
	}
	return "TimeKind(" + strconv.Itoa(int(k)) + ")"
}

// Frame is a time-indexed table of numeric columns, stored column by column
// in float64 (cleaning and statistics are computed in float64; windows are
// emitted as float32). A missing value is NaN.
//
// Frames returned by this package never share Values with their inputs
// unless a method says so (Slice does). They may share Time and Lines,
// which nothing in the package writes to once a frame is made (a series
// of 10 million rows keeps 160 MB of them): copy those before changing
// them in place (Clone does).
type Frame struct {
	Name     string      // where the data came from (a file name), used in messages
	TimeName string      // header of the time column; "" when there is none
	TimeKind TimeKind    // how to read Time
	Time     []float64   // len Len(); nil when TimeKind is NoTime
	Columns  []string    // value column names
	Values   [][]float64 // Values[c][row], len(Columns) slices of Len() values
	Lines    []int       // source line of each row; nil when not read from a file
}

// NewFrame returns a frame with the given value columns (copied) and no
// time column. All columns must have the same length and names must be
// distinct.
func NewFrame(columns []string, values [][]float64) (*Frame, error) {
	if len(columns) != len(values) {
		return nil, fmt.Errorf("series: %d column names for %d columns", len(columns), len(values))
	}
	f := &Frame{Columns: append([]string(nil), columns...)}
	seen := map[string]bool{}
	for c, v := range values {
		if len(v) != len(values[0]) {
			return nil, fmt.Errorf("series: column %q has %d values, column %q has %d", columns[c], len(v), columns[0], len(values[0]))
		}
		if seen[columns[c]] {
			return nil, fmt.Errorf("series: duplicate column name %q", columns[c])
		}
		seen[columns[c]] = true
		f.Values = append(f.Values, append([]float64(nil), v...))
	}
	return f, nil
}

// Of returns a frame of one column, "y", holding a plain series (copied
// to float64): what a forecaster takes when the data is a slice rather
// than a CSV file. Its name in messages is "series".
func Of[T ~float32 | ~float64](y []T) *Frame {
	v := make([]float64, len(y))
	for i, x := range y {
		v[i] = float64(x)
	}
	return &Frame{Name: "series", Columns: []string{"y"}, Values: [][]float64{v}}
}

// Len returns the number of rows.
func (f *Frame) Len() int {
	if len(f.Values) > 0 {
		return len(f.Values[0])
	}
	return len(f.Time)
}

// Index resolves a column reference: a column name, or else a 0-based
// column index written in decimal ("2"). A name match wins over an index.
func (f *Frame) Index(ref string) (int, error) {
	if i := lookup(f.Columns, ref); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("series: %sno column %s (columns: %s)", f.prefix(), input.Quote(ref), input.QuoteList(f.Columns))
}

// lookup returns the index of ref in names (see Frame.Index), or -1.
func lookup(names []string, ref string) int {
	for i, c := range names {
		if c == ref {
			return i
		}
	}
	if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < len(names) {
		return i
	}
	return -1
}

// Indices resolves several references; nil refs means all columns.
func (f *Frame) Indices(refs []string) ([]int, error) {
	if refs == nil {
		idx := make([]int, len(f.Columns))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	idx := make([]int, len(refs))
	for i, r := range refs {
		j, err := f.Index(r)
		if err != nil {
			return nil, err
		}
		idx[i] = j
	}
	return idx, nil
}

// Column returns the values of the referenced column (not a copy).
func (f *Frame) Column(ref string) ([]float64, error) {
	i, err := f.Index(ref)
	if err != nil {
		return nil, err
	}
	return f.Values[i], nil
}

// Select returns a copy of f keeping only the referenced columns, in the
// order given.
func (f *Frame) Select(refs ...string) (*Frame, error) {
	idx, err := f.Indices(refs)
	if err != nil {
		return nil, err
	}
	g := f.shell()
	for _, i := range idx {
		g.Columns = append(g.Columns, f.Columns[i])
		g.Values = append(g.Values, append([]float64(nil), f.Values[i]...))
	}
	return g, nil
}

// Slice returns rows [from, to) as a view sharing f's backing arrays.
// It panics if the range is out of bounds.
func (f *Frame) Slice(from, to int) *Frame {
	if from < 0 || to < from || to > f.Len() {
		panic(fmt.Sprintf("series: Slice(%d, %d) of a frame with %d rows", from, to, f.Len()))
	}
	g := &Frame{Name: f.Name, TimeName: f.TimeName, TimeKind: f.TimeKind, Columns: f.Columns}
	if f.Time != nil {
		g.Time = f.Time[from:to:to]
	}
	if f.Lines != nil {
		g.Lines = f.Lines[from:to:to]
	}
	for _, v := range f.Values {
		g.Values = append(g.Values, v[from:to:to])
	}
	return g
}

// Clone returns a deep copy of f.
func (f *Frame) Clone() *Frame {
	g := f.copyValues()
	if f.Time != nil {
		g.Time = append([]float64(nil), f.Time...)
	}
	if f.Lines != nil {
		g.Lines = append([]int(nil), f.Lines...)
	}
	return g
}

// copyValues returns a copy of f whose Values and Columns are its own and
// whose Time and Lines are f's.
func (f *Frame) copyValues() *Frame {
	g := f.shell()
	g.Columns = append([]string(nil), f.Columns...)
	for _, v := range f.Values {
		g.Values = append(g.Values, append([]float64(nil), v...))
	}
	return g
}

// shell returns a frame with f's Time and Lines and no value columns.
func (f *Frame) shell() *Frame {
	return &Frame{Name: f.Name, TimeName: f.TimeName, TimeKind: f.TimeKind, Time: f.Time, Lines: f.Lines}
}

// line returns the source line of row i, or 0 when unknown.
func (f *Frame) line(i int) int {
	if i >= 0 && i < len(f.Lines) {
		return f.Lines[i]
	}
	return 0
}

func (f *Frame) prefix() string {
	if f.Name == "" {
		return ""
	}
	return f.Name + ": "
}

// isMissing reports whether v marks a missing value.
func isMissing(v float64) bool { return math.IsNaN(v) }
