package series

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/tensor"
)

// NoScale as PrepareConfig.Scale turns scaling off.
const NoScale ScaleMethod = "none"

// PrepareConfig is the recipe from a clean frame to model-ready windows.
// The zero value (with a Lookback) gives the usual setup: the last 33% of
// the rows test, the rest train, min-max scaling fitted on the training
// rows, one-step targets of the last column.
type PrepareConfig struct {
	// Window: Inputs nil means every value column plus the calendar
	// columns; Targets nil means the last value column.
	Window WindowConfig `json:"window"`
	// Test and Val are the chronological split fractions: the last
	// round(Test·n) rows test (zero Test: 0.33) and the floor(Val·n) rows
	// before them validate (zero Val: no validation). When TestRows > 0
	// the last TestRows rows test and the ValRows before them validate
	// instead.
	Test     float64 `json:"test,omitempty"`
	Val      float64 `json:"val,omitempty"`
	ValRows  int     `json:"val_rows,omitempty"`
	TestRows int     `json:"test_rows,omitempty"`
	// Log takes logs of the target columns first (a series whose seasonal
	// swing grows with its level); Log1p uses log(1+x).
	Log   bool `json:"log,omitempty"`
	Log1p bool `json:"log1p,omitempty"`
	// Diffs are differencing lags applied in order after the log, e.g.
	// [1, 12] for a trend and a monthly season.
	Diffs []int `json:"diffs,omitempty"`
	// Scale is the scaler fitted on the training rows: "" means MinMax,
	// NoScale none.
	Scale    ScaleMethod `json:"scale,omitempty"`
	Calendar Calendar    `json:"calendar"` // calendar features, appended as inputs (not scaled)
	// Season for the seasonal naive baseline and MASE: zero detects it on
	// the training rows, negative means none.
	Season int `json:"season,omitempty"`
}

// Pipeline is the fitted transform between a raw frame (original units)
// and the model's inputs and targets: log, differencing, calendar
// features, scaling. It marshals to JSON for the model file; prediction
// reuses it unchanged.
type Pipeline struct {
	Columns  []string `json:"columns"` // value columns of the raw frame, in order
	Log      *Log     `json:"log,omitempty"`
	Diffs    []Diff   `json:"diffs,omitempty"`
	Calendar Calendar `json:"calendar"`
	Scaler   *Scaler  `json:"scaler,omitempty"`
	Inputs   []string `json:"inputs"`  // model input columns (F)
	Targets  []string `json:"targets"` // model target columns (K), raw value columns
	Lookback int      `json:"lookback"`
	Horizon  int      `json:"horizon"`
}

// Validate checks a pipeline read from a model file.
func (p *Pipeline) Validate() error {
	if len(p.Columns) == 0 || len(p.Inputs) == 0 || len(p.Targets) == 0 {
		return fmt.Errorf("series: pipeline: %d columns, %d inputs, %d targets; want at least one of each", len(p.Columns), len(p.Inputs), len(p.Targets))
	}
	if p.Lookback < 1 || p.Horizon < 1 {
		return fmt.Errorf("series: pipeline: lookback %d horizon %d, want ≥ 1", p.Lookback, p.Horizon)
	}
	for _, t := range p.Targets {
		if lookup(p.Columns, t) < 0 {
			return fmt.Errorf("series: pipeline: target %s is not one of the columns %s", input.Quote(t), input.QuoteList(p.Columns))
		}
	}
	for _, d := range p.Diffs {
		if d.Lag < 0 || d.Lag > 1<<20 {
			return fmt.Errorf("series: pipeline: differencing lag %d", d.Lag)
		}
	}
	if p.Scaler != nil {
		if err := p.Scaler.Validate(); err != nil {
			return err
		}
		for _, t := range p.Targets {
			if lookup(p.Scaler.Columns, t) < 0 {
				return fmt.Errorf("series: pipeline: the scaler has no target column %q", t)
			}
		}
	}
	return nil
}

// UnmarshalJSON reads and validates a pipeline.
func (p *Pipeline) UnmarshalJSON(b []byte) error {
	type plain Pipeline
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	if err := (*Pipeline)(&q).Validate(); err != nil {
		return err
	}
	*p = Pipeline(q)
	return nil
}

// Shift returns how many leading rows the transform drops (the sum of
// the differencing lags): transformed row r is raw row r + Shift().
func (p *Pipeline) Shift() int {
	d := 0
	for _, df := range p.Diffs {
		d += df.lag()
	}
	return d
}

// Transform maps a raw frame with the pipeline's value columns into the
// model's space: Shift() rows shorter, value columns logged, differenced
// and scaled, calendar columns appended.
func (p *Pipeline) Transform(f *Frame) (*Frame, error) {
	g, err := p.unscaled(f)
	if err != nil {
		return nil, err
	}
	if p.Scaler != nil {
		return p.Scaler.Transform(g)
	}
	return g, nil
}

// unscaled applies everything but the scaler.
func (p *Pipeline) unscaled(f *Frame) (*Frame, error) {
	g, err := f.Select(p.Columns...)
	if err != nil {
		return nil, err
	}
	if p.Log != nil {
		if g, err = p.Log.Transform(g); err != nil {
			return nil, err
		}
	}
	for _, d := range p.Diffs {
		if g, err = d.Transform(g); err != nil {
			return nil, err
		}
	}
	if p.Calendar.any() {
		if g, err = AddCalendar(g, p.Calendar); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// LastWindow returns the model input for forecasting the Horizon steps
// after the last row of the raw frame f: (1, Lookback, F). f needs at
// least Lookback + Shift() rows.
func (p *Pipeline) LastWindow(f *Frame) (*tensor.Tensor, error) {
	g, err := p.Transform(f)
	if err != nil {
		return nil, err
	}
	n := g.Len()
	if n < p.Lookback {
		return nil, fmt.Errorf("series: %sforecast needs %d rows (lookback %d + %d dropped by differencing), have %d", f.prefix(), p.Lookback+p.Shift(), p.Lookback, p.Shift(), f.Len())
	}
	tail := g.Slice(n-p.Lookback, n)
	in, err := tail.Indices(p.Inputs)
	if err != nil {
		return nil, err
	}
	x := tensor.New(1, p.Lookback, len(in))
	for r := range p.Lookback {
		for j, c := range in {
			v := tail.Values[c][r]
			if isMissing(v) {
				return nil, &Error{File: f.Name, Line: tail.line(r), Column: tail.Columns[c], Msg: "missing value in the forecast window"}
			}
			x.Data[r*len(in)+j] = float32(v)
		}
	}
	return x, nil
}

// Invert maps model outputs pred, (N, H, K) in the model's space, back to
// original units in dst (allocated when nil). Window n forecasts the raw
// rows starting at origins[n] of history, the raw frame whose rows before
// each origin are known: differences are integrated from those values,
// then logs exponentiated. pred is not modified.
func (p *Pipeline) Invert(dst, pred *tensor.Tensor, history *Frame, origins []int) (*tensor.Tensor, error) {
	if len(pred.Shape) != 3 || pred.Shape[0] != len(origins) || pred.Shape[2] != len(p.Targets) {
		return nil, fmt.Errorf("series: Invert of shape %v for %d origins and %d targets", pred.Shape, len(origins), len(p.Targets))
	}
	H, K := pred.Shape[1], pred.Shape[2]
	var err error
	if p.Scaler != nil {
		if dst, err = p.Scaler.InverseTensor(dst, pred, p.Targets); err != nil {
			return nil, err
		}
	} else {
		if dst == nil {
			dst = tensor.New(pred.Shape...)
		} else if !tensor.SameShape(dst, pred) {
			panic(fmt.Sprintf("series: Invert dst shape %v, pred shape %v", dst.Shape, pred.Shape))
		}
		copy(dst.Data, pred.Data)
	}
	shift := p.Shift()
	for k, name := range p.Targets {
		y, err := history.Column(name)
		if err != nil {
			return nil, err
		}
		// stages[m] is the target after the log and the first m diffs,
		// aligned with raw rows (NaN where undefined).
		stages := make([][]float64, len(p.Diffs)+1)
		stages[0] = make([]float64, len(y))
		for r, v := range y {
			stages[0][r] = v
			if p.Log != nil {
				stages[0][r] = p.Log.Value(v)
			}
		}
		for m, d := range p.Diffs {
			prev, lag := stages[m], d.lag()
			cur := make([]float64, len(y))
			for r := range cur {
				cur[r] = math.NaN()
				if r >= lag {
					cur[r] = prev[r] - prev[r-lag]
				}
			}
			stages[m+1] = cur
		}
		steps := make([]float64, H)
		for n, s := range origins {
			if s < shift || s > len(y) {
				return nil, fmt.Errorf("series: forecast origin %d: want %d ≤ origin ≤ %d rows of history", s, shift, len(y))
			}
			for j := range H {
				steps[j] = float64(dst.Data[(n*H+j)*K+k])
			}
			for m := len(p.Diffs) - 1; m >= 0; m-- {
				steps = p.Diffs[m].Integrate(steps, stages[m][:s], steps)
			}
			for j, v := range steps {
				if p.Log != nil {
					v = p.Log.InverseValue(v)
				}
				dst.Data[(n*H+j)*K+k] = float32(v)
			}
		}
	}
	return dst, nil
}

// TargetsToModel maps values of the targets in original units, (..., K)
// with K the targets in order (forecasts of another model, say), into the
// model's space in place: logged and scaled as the targets are. A
// pipeline that differences has no such map (a difference needs the
// previous row) and returns an error.
func (p *Pipeline) TargetsToModel(v *tensor.Tensor) error {
	K := len(p.Targets)
	if v.Dim(-1) != K {
		return fmt.Errorf("series: TargetsToModel of shape %v for %d targets", v.Shape, K)
	}
	if len(p.Diffs) > 0 {
		return fmt.Errorf("series: a differencing pipeline cannot map target values on their own")
	}
	idx := make([]int, K)
	for k, t := range p.Targets {
		idx[k] = -1
		if p.Scaler != nil {
			idx[k] = lookup(p.Scaler.Columns, t)
		}
	}
	for i, x := range v.Data {
		y := float64(x)
		if p.Log != nil && (p.Log.Columns == nil || lookup(p.Log.Columns, p.Targets[i%K]) >= 0) {
			if y <= 0 && !p.Log.Plus1 || y <= -1 {
				return fmt.Errorf("series: %v of target %q is outside the domain of the log", y, p.Targets[i%K])
			}
			y = p.Log.Value(y)
		}
		if j := idx[i%K]; j >= 0 {
			y = p.Scaler.value(j, y, false)
		}
		v.Data[i] = float32(y)
	}
	return nil
}

// Prepared is a frame cut into scaled train/validation/test windows, with
// the pipeline that made them and what is needed to score forecasts in
// original units.
type Prepared struct {
	Pipeline *Pipeline
	Original *Frame // the raw frame, original units
	Frame    *Frame // the transformed frame the windows are cut from
	Split    Split  // in raw rows (of Original)
	// Windows of each split (Val nil when there is no validation split).
	// Targets lie inside the split; inputs may reach back into the
	// previous split (see MakeWindows). Window origins index Frame.
	Train, Val, Test *Windows
	Season           int       // season used by the baselines (0: none)
	Scales           []float64 // per-target MASE denominators from the training rows
	// SkipModelBaselines leaves Holt-Winters and ARIMA out of Evaluate's
	// baselines (BaselineConfig.SkipModels).
	SkipModelBaselines bool
}

// Prepare splits f chronologically, fits the pipeline on the training rows
// only, and cuts windows from each split.
func Prepare(f *Frame, cfg PrepareConfig) (*Prepared, error) {
	sp, err := cfg.split(f.Len())
	if err != nil {
		return nil, err
	}
	p := &Pipeline{Columns: append([]string(nil), f.Columns...), Calendar: cfg.Calendar, Lookback: cfg.Window.Lookback, Horizon: max(cfg.Window.Horizon, 1)}
	p.Targets = cfg.Window.Targets
	if p.Targets == nil {
		p.Targets = f.Columns[len(f.Columns)-1:]
	}
	for _, t := range p.Targets {
		if lookup(f.Columns, t) < 0 {
			return nil, fmt.Errorf("series: %starget: no column %s (columns: %s)", f.prefix(), input.Quote(t), input.QuoteList(f.Columns))
		}
	}
	p.Targets = resolve(f.Columns, p.Targets)
	if cfg.Log || cfg.Log1p {
		p.Log = &Log{Columns: p.Targets, Plus1: cfg.Log1p}
	}
	for _, lag := range cfg.Diffs {
		if lag < 1 {
			return nil, fmt.Errorf("series: differencing lag %d, want ≥ 1", lag)
		}
		p.Diffs = append(p.Diffs, Diff{Lag: lag})
	}
	shift := p.Shift()
	if sp.Train.To-shift < 2 {
		return nil, fmt.Errorf("series: %d training rows, differencing drops %d", sp.Train.Len(), shift)
	}
	raw, err := p.unscaled(f)
	if err != nil {
		return nil, err
	}
	p.Inputs = cfg.Window.Inputs
	if p.Inputs == nil {
		p.Inputs = raw.Columns
	}
	p.Inputs = resolve(raw.Columns, p.Inputs)
	g := raw
	if cfg.Scale != NoScale {
		method := cfg.Scale
		if method == "" {
			method = MinMax
		}
		if p.Scaler, err = FitScaler(method, raw.Slice(0, sp.Train.To-shift), p.Columns...); err != nil {
			return nil, err
		}
		if g, err = p.Scaler.Transform(raw); err != nil {
			return nil, err
		}
	}
	wc := cfg.Window
	wc.Inputs, wc.Targets = p.Inputs, p.Targets
	cut := func(r Range) (*Windows, error) {
		return MakeWindows(g, wc, Range{max(r.From-shift, 0), r.To - shift})
	}
	pr := &Prepared{Pipeline: p, Original: f, Frame: g, Split: sp}
	if pr.Train, err = cut(sp.Train); err != nil {
		return nil, fmt.Errorf("training split: %w", err)
	}
	if sp.Val.Len() > 0 {
		if pr.Val, err = cut(sp.Val); err != nil {
			return nil, fmt.Errorf("validation split: %w", err)
		}
	}
	if pr.Test, err = cut(sp.Test); err != nil {
		return nil, fmt.Errorf("test split: %w", err)
	}
	pr.Season = cfg.Season
	if pr.Season == 0 {
		y, _ := f.Column(p.Targets[0])
		pr.Season = DetectSeason(y[:sp.Train.To], min(sp.Train.Len()/2, 400))
	}
	pr.Season = max(pr.Season, 0)
	for _, t := range p.Targets {
		y, _ := f.Column(t)
		pr.Scales = append(pr.Scales, NaiveScale(y[:sp.Train.To], pr.Season))
	}
	return pr, nil
}

// split cuts n rows as the config says.
func (cfg PrepareConfig) split(n int) (Split, error) {
	if cfg.TestRows > 0 {
		return SplitCount(n, cfg.ValRows, cfg.TestRows)
	}
	test := cfg.Test
	if test == 0 {
		test = 0.33
	}
	if !(test > 0 && test < 1) || !(cfg.Val >= 0) || test+cfg.Val >= 1 {
		return Split{}, fmt.Errorf("series: split fractions test %g val %g: want test in (0, 1), val ≥ 0, test+val < 1", test, cfg.Val)
	}
	return SplitCount(n, int(cfg.Val*float64(n)), int(math.Round(test*float64(n))))
}

// resolve turns references into names.
func resolve(names, refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		if j := lookup(names, r); j >= 0 {
			out[i] = names[j]
		} else {
			out[i] = r
		}
	}
	return out
}

// rawWindows returns w with origins moved to raw rows.
func (pr *Prepared) rawWindows(w *Windows) *Windows {
	o := make([]int, len(w.Origin))
	for i, s := range w.Origin {
		o[i] = s + pr.Pipeline.Shift()
	}
	return &Windows{Origin: o, Targets: w.Targets, Inputs: w.Inputs, Lookback: w.Lookback, Horizon: w.Horizon}
}

// Forecast maps model outputs for the windows w (one of pr.Train, pr.Val,
// pr.Test), (N, H, K) in the model's space, to original units.
func (pr *Prepared) Forecast(w *Windows, pred *tensor.Tensor) (*tensor.Tensor, error) {
	return pr.Pipeline.Invert(nil, pred, pr.Original, pr.rawWindows(w).Origin)
}

// Actual returns the true targets of w in original units, (N, H, K).
func (pr *Prepared) Actual(w *Windows) (*tensor.Tensor, error) {
	return Actual(pr.Original, pr.rawWindows(w))
}

// Evaluate scores model outputs for the windows w (one of pr.Train,
// pr.Val, pr.Test), given in the model's space, in original units, and
// scores the baselines (persistence, seasonal naive, training mean) on the
// same windows. The model's MASE uses the same scale as the baselines'.
func (pr *Prepared) Evaluate(w *Windows, pred *tensor.Tensor) (Metrics, []Scored, error) {
	fc, err := pr.Forecast(w, pred)
	if err != nil {
		return Metrics{}, nil, err
	}
	rw := pr.rawWindows(w)
	actual, err := Actual(pr.Original, rw)
	if err != nil {
		return Metrics{}, nil, err
	}
	season := pr.Season
	if season == 0 {
		season = -1
	}
	base, _, _, err := Baselines(pr.Original, rw, BaselineConfig{Train: pr.Split.Train, Season: season, SkipModels: pr.SkipModelBaselines})
	if err != nil {
		return Metrics{}, nil, err
	}
	return Score(fc, actual, pr.Scales), base, nil
}
