package model

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// ForecastPrep is the preprocessing state of a forecaster, saved in its
// model file so that prediction transforms new data exactly like the
// training data.
type ForecastPrep struct {
	// Inputs are the input columns; the first len(Targets) are the targets.
	Inputs   []string       `json:"inputs"`
	Targets  []string       `json:"targets"`
	Lookback int            `json:"lookback"`
	Horizon  int            `json:"horizon"`
	Season   int            `json:"season"`
	Log      *series.Log    `json:"log,omitempty"`
	Scaler   *series.Scaler `json:"scaler"`
}

// ForecastOptions says how to turn a frame into training windows. Zero
// fields mean the documented defaults.
type ForecastOptions struct {
	// Targets are the forecast columns (nil: the last column); Inputs the
	// extra input columns besides the targets (nil: none).
	Targets []string
	Inputs  []string
	// Lookback is the window length (zero: 12); Horizon the number of
	// future steps (zero: 1).
	Lookback int
	Horizon  int
	// TestFraction is the share of rows at the end kept for testing
	// (zero: 0.33); ValFraction the share before them for validation and
	// early stopping (zero: 0.1; negative: none).
	TestFraction float64
	ValFraction  float64
	// Season is the period of the seasonal-naive baseline (zero: 12).
	Season int
	// Log applies log to the targets before scaling (multiplicative
	// series such as AirPassengers).
	Log bool
	// Scale is the scaling method (zero: minmax).
	Scale series.ScaleMethod
}

// ForecastData holds prepared windows: X scaled, Actual in original units.
type ForecastData struct {
	W         *series.Windows
	Actual    *tensor.Tensor // (N, H, K) original units
	BatchSize int
}

// Len returns the number of batches.
func (d *ForecastData) Len() int { return (d.W.Len() + d.BatchSize - 1) / d.BatchSize }

// ForecastBatch is a batch of windows: X (L, B, F) time-major, Y (B, H·K)
// scaled targets, and the windows' indices.
type ForecastBatch struct {
	X, Y  *tensor.Tensor
	Index []int
}

// Batch returns batch i.
func (d *ForecastData) Batch(i int) train.Batch {
	from := i * d.BatchSize
	to := min(from+d.BatchSize, d.W.Len())
	return d.batch(from, to)
}

func (d *ForecastData) batch(from, to int) *ForecastBatch {
	X, Y := d.W.X, d.W.Y
	L, F := X.Shape[1], X.Shape[2]
	hk := Y.Shape[1] * Y.Shape[2]
	B := to - from
	b := &ForecastBatch{X: tensor.New(L, B, F), Y: tensor.New(B, hk)}
	for j := range B {
		n := from + j
		b.Index = append(b.Index, n)
		for t := range L {
			copy(b.X.Data[(t*B+j)*F:(t*B+j+1)*F], X.Data[(n*L+t)*F:(n*L+t+1)*F])
		}
		copy(b.Y.Data[j*hk:(j+1)*hk], Y.Data[n*hk:(n+1)*hk])
	}
	return b
}

// ForecastSplits are the prepared splits of a series.
type ForecastSplits struct {
	Prep              *ForecastPrep
	Split             series.Split
	Train, Val, Test  *ForecastData  // Val is nil without validation rows
	Raw               *series.Frame  // the selected columns, original units
	Persistence, Seas *tensor.Tensor // baselines on Test, original units
}

// PrepareForecast selects, transforms and windows f: a chronological
// train/validation/test split, the scaler fitted on the training rows only,
// and the persistence and seasonal-naive baselines on the test windows.
func PrepareForecast(f *series.Frame, o ForecastOptions, batchSize int) (*ForecastSplits, error) {
	if o.Lookback == 0 {
		o.Lookback = 12
	}
	if o.Horizon == 0 {
		o.Horizon = 1
	}
	if o.TestFraction == 0 {
		o.TestFraction = 0.33
	}
	if o.ValFraction == 0 {
		o.ValFraction = 0.1
	}
	if o.ValFraction < 0 {
		o.ValFraction = 0
	}
	if o.Season == 0 {
		o.Season = 12
	}
	if o.Scale == "" {
		o.Scale = series.MinMax
	}
	if batchSize <= 0 {
		batchSize = 16
	}
	switch {
	case o.Lookback < 1:
		return nil, fmt.Errorf("model: lookback %d must be at least 1", o.Lookback)
	case o.Horizon < 1:
		return nil, fmt.Errorf("model: horizon %d must be at least 1", o.Horizon)
	case o.TestFraction <= 0 || o.TestFraction >= 1:
		return nil, fmt.Errorf("model: test fraction %v must be in (0, 1)", o.TestFraction)
	case o.ValFraction+o.TestFraction >= 1:
		return nil, fmt.Errorf("model: validation fraction %v plus test fraction %v leave no training rows", o.ValFraction, o.TestFraction)
	}
	targets := o.Targets
	if len(targets) == 0 {
		if len(f.Columns) == 0 {
			return nil, fmt.Errorf("model: %s has no value columns", f.Name)
		}
		targets = []string{f.Columns[len(f.Columns)-1]}
	}
	cols := append([]string(nil), targets...)
	for _, c := range o.Inputs {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	raw, err := f.Select(cols...)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", f.Name, err)
	}
	// Select resolves indices to names: use the names from here on.
	cols = raw.Columns
	targets = cols[:len(targets)]
	n := raw.Len()
	nTest := int(math.Round(o.TestFraction * float64(n)))
	nVal := int(math.Floor(o.ValFraction * float64(n)))
	split, err := series.SplitCount(n, nVal, nTest)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", f.Name, err)
	}
	if split.Train.Len() < o.Lookback+o.Horizon+1 {
		return nil, fmt.Errorf("model: %s: %d training rows are too few for lookback %d and horizon %d", f.Name, split.Train.Len(), o.Lookback, o.Horizon)
	}
	prep := &ForecastPrep{Inputs: cols, Targets: targets, Lookback: o.Lookback, Horizon: o.Horizon, Season: o.Season}
	if o.Log {
		prep.Log = &series.Log{Columns: append([]string(nil), targets...)}
	}
	logged := raw
	if prep.Log != nil {
		if logged, err = prep.Log.Transform(raw); err != nil {
			return nil, fmt.Errorf("model: log transform: %w", err)
		}
	}
	prep.Scaler, err = series.FitScaler(o.Scale, logged.Slice(split.Train.From, split.Train.To), cols...)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	scaled, err := prep.Scaler.Transform(logged)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	sp := &ForecastSplits{Prep: prep, Split: split, Raw: raw}
	mk := func(r series.Range) (*ForecastData, error) {
		w, err := series.MakeWindows(scaled, series.WindowConfig{Lookback: o.Lookback, Horizon: o.Horizon, Inputs: cols, Targets: targets}, r)
		if err != nil {
			return nil, fmt.Errorf("model: %s: %w", f.Name, err)
		}
		if w.Len() == 0 {
			return nil, fmt.Errorf("model: %s: rows [%d, %d) give no window of lookback %d and horizon %d", f.Name, r.From, r.To, o.Lookback, o.Horizon)
		}
		act, err := series.Actual(raw, w)
		if err != nil {
			return nil, err
		}
		return &ForecastData{W: w, Actual: act, BatchSize: batchSize}, nil
	}
	if sp.Train, err = mk(split.Train); err != nil {
		return nil, err
	}
	if split.Val.Len() >= o.Horizon {
		if sp.Val, err = mk(split.Val); err != nil {
			return nil, err
		}
	}
	if sp.Test, err = mk(split.Test); err != nil {
		return nil, err
	}
	if sp.Persistence, err = series.Persistence(raw, sp.Test.W); err != nil {
		return nil, err
	}
	if sp.Test.W.Origin[0] >= o.Season {
		if sp.Seas, err = series.SeasonalNaive(raw, sp.Test.W, o.Season); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// SpecFor returns the forecast spec matching the prepared data.
func (p *ForecastPrep) SpecFor(s Spec) Spec {
	s.Task = Forecast
	s.Inputs = len(p.Inputs)
	s.Targets = len(p.Targets)
	s.Horizon = p.Horizon
	return s
}

// ForecastTask trains a forecaster: it implements train.Task.
type ForecastTask struct {
	M    *Model
	Prep *ForecastPrep
}

// Params returns the model's parameters.
func (t *ForecastTask) Params() []*nn.Param { return t.M.Params() }

// Loss is the mean squared error in scaled units.
func (t *ForecastTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	fb := b.(*ForecastBatch)
	pred := t.M.forecastForward(tp, nn.Constant(fb.X))
	L, _ := loss.Record(tp, pred, func(g []float32) float64 { return loss.MSE(g, pred.Value.Data, fb.Y.Data, loss.Options{}) })
	return L, fb.Y.Shape[0]
}

// Evaluate returns "loss" (scaled MSE) and "rmse", "mae" in original
// units over d (a *ForecastData).
func (t *ForecastTask) Evaluate(d train.Data) (map[string]float64, error) {
	fd, ok := d.(*ForecastData)
	if !ok {
		return nil, fmt.Errorf("model: forecast evaluation needs *ForecastData, got %T", d)
	}
	pred, err := t.Predict(fd)
	if err != nil {
		return nil, err
	}
	var mse float64
	for i := 0; i < fd.Len(); i++ {
		b := fd.Batch(i).(*ForecastBatch)
		p := t.M.forecastForward(nil, nn.Constant(b.X))
		mse += loss.MSE(nil, p.Value.Data, b.Y.Data, loss.Options{Reduction: loss.Sum})
	}
	m := Errors(pred, fd.Actual)
	m["loss"] = mse / float64(fd.W.Y.Len())
	return m, nil
}

// Predict returns the forecasts of every window of d in original units,
// (N, H, K) aligned with d.Actual.
func (t *ForecastTask) Predict(d *ForecastData) (*tensor.Tensor, error) {
	out := tensor.New(d.W.Y.Shape...)
	hk := d.W.Y.Shape[1] * d.W.Y.Shape[2]
	for i := 0; i < d.Len(); i++ {
		b := d.Batch(i).(*ForecastBatch)
		p := t.M.forecastForward(nil, nn.Constant(b.X))
		copy(out.Data[b.Index[0]*hk:], p.Value.Data)
	}
	return t.Prep.inverse(out)
}

// inverse maps scaled (…, K) target values back to original units.
func (p *ForecastPrep) inverse(y *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := p.Scaler.InverseTensor(nil, y, p.Targets)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if p.Log != nil {
		for i, v := range out.Data {
			out.Data[i] = float32(p.Log.InverseValue(float64(v)))
		}
	}
	return out, nil
}

// Future forecasts the Horizon steps after the end of f (which must hold
// the model's input columns and at least Lookback rows): (H, K) in
// original units.
func (t *ForecastTask) Future(f *series.Frame) (*tensor.Tensor, error) {
	p := t.Prep
	raw, err := f.Select(p.Inputs...)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", f.Name, err)
	}
	if raw.Len() < p.Lookback {
		return nil, fmt.Errorf("model: %s has %d rows, the model needs a lookback of %d", f.Name, raw.Len(), p.Lookback)
	}
	tail := raw.Slice(raw.Len()-p.Lookback, raw.Len())
	if p.Log != nil {
		if tail, err = p.Log.Transform(tail); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
	}
	scaled, err := p.Scaler.Transform(tail)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	F := len(p.Inputs)
	x := tensor.New(p.Lookback, 1, F)
	for c := range F {
		for r := range p.Lookback {
			v := scaled.Values[c][r]
			if math.IsNaN(v) {
				return nil, fmt.Errorf("model: %s: missing value in column %q within the last %d rows", f.Name, p.Inputs[c], p.Lookback)
			}
			x.Data[r*F+c] = float32(v)
		}
	}
	y := t.M.forecastForward(nil, nn.NewVar(x))
	return p.inverse(y.Value.Reshape(p.Horizon, len(p.Targets)))
}

// Errors returns "rmse" and "mae" of pred against actual (same shapes),
// accumulated in float64.
func Errors(pred, actual *tensor.Tensor) map[string]float64 {
	var se, ae float64
	for i, a := range actual.Data {
		d := float64(pred.Data[i]) - float64(a)
		se += d * d
		ae += math.Abs(d)
	}
	n := float64(len(actual.Data))
	return map[string]float64{"rmse": math.Sqrt(se / n), "mae": ae / n}
}

// MarshalPrep stores p as the model's preprocessing state.
func (m *Model) setPrep(p any) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("model: preprocessing state: %w", err)
	}
	m.Prep = b
	return nil
}

// Windows prepares every window of f whose targets lie in f (inputs
// reaching back at most to its first row) with the model's saved
// preprocessing, for evaluation on new data.
func (t *ForecastTask) Windows(f *series.Frame, batchSize int) (*ForecastData, *series.Frame, error) {
	p := t.Prep
	raw, err := f.Select(p.Inputs...)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %s: %w", f.Name, err)
	}
	logged := raw
	if p.Log != nil {
		if logged, err = p.Log.Transform(raw); err != nil {
			return nil, nil, fmt.Errorf("model: %w", err)
		}
	}
	scaled, err := p.Scaler.Transform(logged)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	w, err := series.MakeWindows(scaled, series.WindowConfig{Lookback: p.Lookback, Horizon: p.Horizon, Inputs: p.Inputs, Targets: p.Targets}, series.Range{From: 0, To: raw.Len()})
	if err != nil {
		return nil, nil, fmt.Errorf("model: %s: %w", f.Name, err)
	}
	if w.Len() == 0 {
		return nil, nil, fmt.Errorf("model: %s: %d rows give no window of lookback %d and horizon %d", f.Name, raw.Len(), p.Lookback, p.Horizon)
	}
	act, err := series.Actual(raw, w)
	if err != nil {
		return nil, nil, err
	}
	if batchSize <= 0 {
		batchSize = 64
	}
	return &ForecastData{W: w, Actual: act, BatchSize: batchSize}, raw, nil
}

// Baselines scores the persistence and (when the windows allow it)
// seasonal-naive forecasts of d against its actual values.
func (t *ForecastTask) Baselines(raw *series.Frame, d *ForecastData) (map[string]map[string]float64, error) {
	pers, err := series.Persistence(raw, d.W)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]float64{"persistence": Errors(pers, d.Actual)}
	// Seasonal naive needs a season of history before each origin: score
	// it on the windows that have one, which for data at least a season
	// longer than the lookback is all but the first few.
	first := 0
	for first < len(d.W.Origin) && d.W.Origin[first] < t.Prep.Season {
		first++
	}
	if first == 0 {
		s, err := series.SeasonalNaive(raw, d.W, t.Prep.Season)
		if err != nil {
			return nil, err
		}
		out["seasonal_naive"] = Errors(s, d.Actual)
	}
	return out, nil
}
