package series

import (
	"fmt"
	"math"
	"slices"

	"github.com/recur-ml/recur/tensor"
)

// Range is the half-open row range [From, To).
type Range struct{ From, To int }

// Len returns the number of rows in r.
func (r Range) Len() int { return r.To - r.From }

// Split is a chronological train/validation/test split: three adjacent
// row ranges covering the series in time order. Nothing is shuffled across
// time; an empty Val has From == To.
type Split struct{ Train, Val, Test Range }

// SplitFraction splits n rows chronologically: the first floor(train·n)
// rows train, the next floor(val·n) validate, the rest test. With n = 144
// and train = 0.67, val = 0 (the usual AirPassengers split) that is 96
// training months and 48 test months.
func SplitFraction(n int, train, val float64) (Split, error) {
	if !(train > 0) || val < 0 || train+val >= 1 || math.IsNaN(val) {
		return Split{}, fmt.Errorf("series: split fractions train %g val %g: want train > 0, val ≥ 0, train+val < 1", train, val)
	}
	nt := int(train * float64(n))
	nv := int(val * float64(n))
	return SplitCount(n, nv, n-nt-nv)
}

// SplitCount splits n rows chronologically with the last test rows for
// testing, the val rows before them for validation and the rest for
// training.
func SplitCount(n, val, test int) (Split, error) {
	if val < 0 || test < 1 || n-val-test < 1 {
		return Split{}, fmt.Errorf("series: split of %d rows into %d validation and %d test rows leaves %d for training", n, val, test, n-val-test)
	}
	a, b := n-val-test, n-test
	return Split{Train: Range{0, a}, Val: Range{a, b}, Test: Range{b, n}}, nil
}

// WindowConfig configures MakeWindows.
type WindowConfig struct {
	Lookback int      `json:"lookback"`          // input steps L, at least 1
	Horizon  int      `json:"horizon,omitempty"` // target steps H; zero means 1
	Stride   int      `json:"stride,omitempty"`  // rows between consecutive window origins; zero means 1
	Inputs   []string `json:"inputs,omitempty"`  // input columns (names or indices); nil means all columns
	Targets  []string `json:"targets,omitempty"` // target columns; nil means the last column
	// Index makes windows that index the frame instead of copying it: X
	// and Y stay nil, and Input, Target and AllTargets read the frame.
	// Windows overlap, so copies take L times the series (10 million rows
	// with lookback 200 are 8 GB of float32 copies, 80 MB of origins as
	// indices). The values read are the same float32 values either way.
	Index bool `json:"-"`
}

// Windows are supervised samples cut from a frame. Window n has its
// forecast origin at row Origin[n] = s: its inputs are rows [s−L, s) and
// its targets rows [s, s+H).
type Windows struct {
	X        *tensor.Tensor // (N, L, F) inputs, float32; nil for windows that index the frame
	Y        *tensor.Tensor // (N, H, K) targets, float32; nil for windows that index the frame
	Origin   []int          // row of each window's first target step
	Inputs   []string       // the F input columns, in X's last-axis order
	Targets  []string       // the K target columns, in Y's last-axis order
	Lookback int            // L
	Horizon  int            // H
	// Base, when set, is a forecast of each window's targets that a model
	// adds its output to, (N, H, K) in the model's units (a statistical
	// forecast that the network corrects).
	Base *tensor.Tensor

	src     *Frame // the frame the windows were cut from (MakeWindows)
	in, out []int  // its input and target columns
}

// Len returns the number of windows N.
func (w *Windows) Len() int { return len(w.Origin) }

// Input writes the inputs of window n, (L, F) row-major, into dst, which
// must hold L·F values. It reads X, or the frame of windows that index it
// (the frame must not have changed since MakeWindows); it panics for
// windows with neither (made by hand, origins only).
func (w *Windows) Input(dst []float32, n int) {
	if w.X != nil {
		copy(dst[:w.X.Len()/w.Len()], w.X.Row(n).Data)
		return
	}
	s := w.Origin[n]
	w.src.fill(dst, s-w.Lookback, s, w.in)
}

// Target writes the targets of window n, (H, K) row-major, into dst,
// which must hold H·K values; see Input.
func (w *Windows) Target(dst []float32, n int) {
	if w.Y != nil {
		copy(dst[:w.Y.Len()/w.Len()], w.Y.Row(n).Data)
		return
	}
	s := w.Origin[n]
	w.src.fill(dst, s, s+w.Horizon, w.out)
}

// AllTargets returns the targets of every window, (N, H, K): Y, or a new
// tensor for windows that index the frame.
func (w *Windows) AllTargets() *tensor.Tensor {
	if w.Y != nil {
		return w.Y
	}
	hk := w.Horizon * len(w.out)
	y := tensor.New(w.Len(), w.Horizon, len(w.out))
	for n := range w.Len() {
		w.Target(y.Data[n*hk:(n+1)*hk], n)
	}
	return y
}

// fill writes rows [from, to) of the columns cols into dst as float32,
// row-major.
func (f *Frame) fill(dst []float32, from, to int, cols []int) {
	k := 0
	for r := from; r < to; r++ {
		for _, c := range cols {
			dst[k] = float32(f.Values[c][r])
			k++
		}
	}
}

// MakeWindows cuts f into windows whose targets lie entirely inside rows
// (a split's range). The inputs may reach back before rows.From: windows
// of the validation and test splits use the tail of the previous split as
// lookback context, which is information a forecaster has at the
// forecast origin. So a split of m rows gives (m−H)/Stride+1 windows
// (integer division) once rows.From ≥ L, and the training split, which
// starts at row 0, gives (m−L−H)/Stride+1.
//
// It is an error for the window (L + H rows) to be longer than the rows
// available, or for a window to contain a missing value (clean first).
// With cfg.Index the windows index f rather than copy it (see
// WindowConfig.Index).
func MakeWindows(f *Frame, cfg WindowConfig, rows Range) (*Windows, error) {
	L, H, S := cfg.Lookback, max(cfg.Horizon, 1), max(cfg.Stride, 1)
	if L < 1 || cfg.Horizon < 0 || cfg.Stride < 0 {
		return nil, fmt.Errorf("series: window lookback %d horizon %d stride %d: want lookback ≥ 1, others ≥ 0", cfg.Lookback, cfg.Horizon, cfg.Stride)
	}
	if rows.From < 0 || rows.To > f.Len() || rows.From >= rows.To {
		return nil, fmt.Errorf("series: %srows [%d, %d) of a series of %d rows", f.prefix(), rows.From, rows.To, f.Len())
	}
	in, err := f.Indices(cfg.Inputs)
	if err != nil {
		return nil, err
	}
	targets := cfg.Targets
	if targets == nil {
		targets = f.Columns[len(f.Columns)-1:]
	}
	out, err := f.Indices(targets)
	if err != nil {
		return nil, err
	}
	first := max(rows.From, L)
	if first+H > rows.To {
		return nil, fmt.Errorf("series: %swindow of %d rows (lookback %d + horizon %d) is longer than the series: rows [%d, %d) give no window",
			f.prefix(), L+H, L, H, rows.From, rows.To)
	}
	n := (rows.To-H-first)/S + 1
	w := &Windows{Origin: make([]int, n), Lookback: L, Horizon: H, src: f, in: in, out: out}
	for _, c := range in {
		w.Inputs = append(w.Inputs, f.Columns[c])
	}
	for _, c := range out {
		w.Targets = append(w.Targets, f.Columns[c])
	}
	for i := range n {
		w.Origin[i] = first + i*S
	}
	if err := w.checkMissing(); err != nil {
		return nil, err
	}
	if !cfg.Index {
		w.X, w.Y = tensor.New(n, L, len(in)), tensor.New(n, H, len(out))
		for i, s := range w.Origin {
			f.fill(w.X.Row(i).Data, s-L, s, in)
			f.fill(w.Y.Row(i).Data, s, s+H, out)
		}
	}
	return w, nil
}

// checkMissing returns the error for the first missing value of the
// first window that has one, in the order of windows, then inputs before
// targets, then rows, then columns; nil when there is none. It looks at
// each row once, not once per window.
func (w *Windows) checkMissing() error {
	f, L, H := w.src, w.Lookback, w.Horizon
	last := w.Origin[w.Len()-1]
	missIn := missingRows(f, w.in, w.Origin[0]-L, last)
	missOut := missingRows(f, w.out, w.Origin[0], last+H)
	if len(missIn) == 0 && len(missOut) == 0 {
		return nil
	}
	for _, s := range w.Origin {
		for _, part := range []struct {
			miss     []int
			from, to int
			cols     []int
		}{{missIn, s - L, s, w.in}, {missOut, s, s + H, w.out}} {
			i, _ := slices.BinarySearch(part.miss, part.from)
			if i == len(part.miss) || part.miss[i] >= part.to {
				continue
			}
			r := part.miss[i]
			for _, c := range part.cols {
				if isMissing(f.Values[c][r]) {
					return &Error{File: f.Name, Line: f.line(r), Column: f.Columns[c], Msg: "missing value in a window (clean the series first)"}
				}
			}
		}
	}
	return nil
}

// missingRows returns the rows in [from, to) where one of cols is
// missing, increasing.
func missingRows(f *Frame, cols []int, from, to int) []int {
	var rows []int
	for r := from; r < to; r++ {
		for _, c := range cols {
			if isMissing(f.Values[c][r]) {
				rows = append(rows, r)
				break
			}
		}
	}
	return rows
}

// Fold is one walk-forward evaluation fold: train on Train, forecast Test.
type Fold struct{ Train, Test Range }

// WalkForwardConfig configures WalkForward.
type WalkForwardConfig struct {
	Initial int // training rows of the first fold (> 0)
	Test    int // rows forecast by each fold; zero means 1
	Step    int // rows the origin moves between folds; zero means Test
	// Window, when > 0, keeps only the last Window rows for training
	// (rolling origin, fixed window); zero trains on all rows before the
	// origin (expanding window).
	Window int
}

// WalkForward returns rolling-origin folds over n rows: fold k has its
// origin o = Initial + k·Step, trains on rows before o and tests on
// [o, o+Test). Folds whose test range would pass the end are not made.
// With an expanding window, Prepare(f.Slice(0, fold.Test.To),
// PrepareConfig{TestRows: fold.Test.Len(), ...}) refits the whole
// pipeline on each fold's training rows.
func WalkForward(n int, cfg WalkForwardConfig) ([]Fold, error) {
	test := max(cfg.Test, 1)
	step := cfg.Step
	if step == 0 {
		step = test
	}
	if cfg.Initial < 1 || cfg.Test < 0 || step < 1 || cfg.Window < 0 {
		return nil, fmt.Errorf("series: walk-forward initial %d test %d step %d window %d: want initial ≥ 1, step ≥ 1, test and window ≥ 0",
			cfg.Initial, cfg.Test, cfg.Step, cfg.Window)
	}
	if cfg.Initial+test > n {
		return nil, fmt.Errorf("series: walk-forward needs %d initial + %d test rows, series has %d", cfg.Initial, test, n)
	}
	var folds []Fold
	for o := cfg.Initial; o+test <= n; o += step {
		from := 0
		if cfg.Window > 0 {
			from = max(0, o-cfg.Window)
		}
		folds = append(folds, Fold{Train: Range{from, o}, Test: Range{o, o + test}})
	}
	return folds, nil
}

// ConcatWindows copies the windows of several series into one set, in
// order, for a model trained across series: X (ΣN, L, F) and Y (ΣN, H, K)
// are filled whether each part copies or indexes its frame, and Origin
// keeps each part's own rows. Every part must have the same lookback,
// horizon and numbers of inputs and targets, and either all or none of
// them a Base. The names of inputs and targets are the first part's.
func ConcatWindows(parts ...*Windows) (*Windows, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("series: no windows to concatenate")
	}
	p0 := parts[0]
	n := 0
	for i, p := range parts {
		if p.Lookback != p0.Lookback || p.Horizon != p0.Horizon || len(p.Inputs) != len(p0.Inputs) || len(p.Targets) != len(p0.Targets) {
			return nil, fmt.Errorf("series: windows %d have lookback %d, horizon %d, %d inputs and %d targets; windows 0 have %d, %d, %d and %d",
				i, p.Lookback, p.Horizon, len(p.Inputs), len(p.Targets), p0.Lookback, p0.Horizon, len(p0.Inputs), len(p0.Targets))
		}
		if (p.Base == nil) != (p0.Base == nil) {
			return nil, fmt.Errorf("series: windows %d and 0 differ in having a base forecast", i)
		}
		n += p.Len()
	}
	L, F, H, K := p0.Lookback, len(p0.Inputs), p0.Horizon, len(p0.Targets)
	out := &Windows{X: tensor.New(n, L, F), Y: tensor.New(n, H, K), Origin: make([]int, 0, n),
		Inputs: slices.Clone(p0.Inputs), Targets: slices.Clone(p0.Targets), Lookback: L, Horizon: H}
	if p0.Base != nil {
		out.Base = tensor.New(n, H, K)
	}
	at := 0
	for _, p := range parts {
		for j := range p.Len() {
			p.Input(out.X.Data[(at+j)*L*F:(at+j+1)*L*F], j)
			p.Target(out.Y.Data[(at+j)*H*K:(at+j+1)*H*K], j)
		}
		if p.Base != nil {
			copy(out.Base.Data[at*H*K:], p.Base.Data[:p.Len()*H*K])
		}
		out.Origin = append(out.Origin, p.Origin...)
		at += p.Len()
	}
	return out, nil
}
