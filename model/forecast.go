package model

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/recur-ml/recur/checkpoint"
	"math"
	"slices"
	"strings"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// ForecastConfig configures a Forecaster. Zero fields mean the documented
// defaults; a default that depends on the series (lookback, season, batch
// size) is chosen by Fit and reported in ForecastReport.Notes.
type ForecastConfig struct {
	// Spec is the architecture: cell, hidden, layers, proj,
	// bidirectional, dropout kinds, init, residual. Its Task, Inputs,
	// Targets and Horizon come from the data and the fields below.
	Spec Spec
	// Targets are the forecast columns (nil: the last column); Inputs the
	// extra input columns besides the targets (nil: none).
	Targets []string
	Inputs  []string
	// Lookback is the window length (zero: two seasons, or 24 steps
	// without a season, at most a third of the training rows).
	Lookback int
	// Horizon is the number of future steps forecast (zero: 1).
	Horizon int
	// TestFraction is the share of rows at the end held out for testing
	// (zero: 0.33); ValFraction the share before them used for
	// validation, the best epoch and early stopping (zero: none).
	// TestRows, when > 0, holds out that many rows instead of
	// TestFraction (cross-validation folds use it).
	TestFraction float64
	ValFraction  float64
	TestRows     int
	// Season is the seasonal period of the seasonal-naive baseline and of
	// MASE (zero: detected on the training rows; negative: none).
	Season int
	// Log models the log of the targets (a series whose seasonal swing
	// grows with its level, such as AirPassengers).
	Log bool
	// Diffs are differencing lags applied after the log: [1] models the
	// change from one row to the next (with Log, the return of a price),
	// [1, 12] also removes a monthly season. Forecasts are integrated
	// back to the data's units.
	Diffs []int
	// Scale is the scaling fitted on the training rows (zero: minmax;
	// series.NoScale: none).
	Scale series.ScaleMethod
	// Clean fills missing values, clips outliers of the training rows and
	// orders the rows before anything else (series.Clean; its FitRows is
	// set to the training rows, so validation and test values are scored
	// as they are). The zero value accepts no missing value.
	Clean series.CleanConfig
	// Conformal calibrates the prediction interval of a quantile
	// forecaster (Spec.Quantiles, two or more levels) on the validation
	// windows after training: the outermost levels move apart, per step
	// and target, by the amount that makes the interval cover its nominal
	// share of the validation values (conformalized quantile regression,
	// Romano, Patterson and Candès 2019). Quantiles fitted on the training
	// windows alone tend to be too narrow on new data. Needs ValFraction.
	Conformal bool
	// Fit says how to train.
	Fit FitConfig
}

// ForecastPrep is the preprocessing state of a forecaster, saved in its
// model file so that prediction transforms new data exactly like the
// training data.
type ForecastPrep struct {
	Pipeline *series.Pipeline   `json:"pipeline"`
	Season   int                `json:"season"`           // 0: none
	Scales   []float64          `json:"scales,omitempty"` // per-target MASE denominators from the training rows
	Clean    series.CleanConfig `json:"clean"`
	// HoltWinters (Spec.Base "holt-winters"), ARIMA ("arima") or both
	// ("holt-winters+arima", their mean) are the base models of a hybrid
	// forecaster, one of each kind per target, fitted on the training
	// rows.
	HoltWinters []*series.HoltWinters `json:"holt_winters,omitempty"`
	ARIMA       []*series.ARIMA       `json:"arima,omitempty"`
	// Widen is the conformal calibration (ForecastConfig.Conformal) in
	// scaled units, (Horizon·Targets): the amount subtracted from the
	// lowest quantile level and added to the highest.
	Widen []float64 `json:"widen,omitempty"`
}

// Forecaster forecasts one or more columns of a time series from a window
// of its past: windows → recurrent stack → final state → Linear to
// Horizon × Targets, in the scaled space of its pipeline.
type Forecaster struct {
	core
	cfg    ForecastConfig
	prep   *ForecastPrep
	net    *forecastNet
	plan   *ForecastReport
	lossFn regressionLoss
	mc     mcDropout
	// auto is the configuration as given when Spec.Base is BaseAuto:
	// every Fit chooses the form again from it. baseOnly says the form
	// chosen is the statistical base alone (Holt-Winters or ARIMA).
	auto     *ForecastConfig
	baseOnly bool
	// skipModelBaselines: a fold's network-alone forms are scored by
	// their RMSE alone; their statistical baselines go unread.
	skipModelBaselines bool
}

// Base names of Spec.Base: the statistical model a hybrid forecaster's
// network corrects. BaseCombined is the mean of Holt-Winters' and
// ARIMA's forecasts, the combination of exponential smoothing and ARIMA
// that the M3 and M4 competitions found more accurate than either alone.
const (
	BaseHoltWinters = "holt-winters"
	BaseARIMA       = "arima"
	BaseCombined    = "holt-winters+arima"
)

// hasBase says whether the forecaster has base models.
func (p *ForecastPrep) hasBase() bool { return p.HoltWinters != nil || p.ARIMA != nil }

// bases returns target k's base models, whose forecasts are averaged.
func (p *ForecastPrep) bases(k int) []series.StatModel {
	var out []series.StatModel
	if p.HoltWinters != nil {
		out = append(out, p.HoltWinters[k])
	}
	if p.ARIMA != nil {
		out = append(out, p.ARIMA[k])
	}
	return out
}

// NewForecaster validates cfg and returns an untrained forecaster; Fit
// builds its network once the data's columns are known.
func NewForecaster(cfg ForecastConfig) (*Forecaster, error) {
	fc, err := cfg.Fit.withDefaults(Forecast)
	if err != nil {
		return nil, err
	}
	cfg.Fit = fc
	s := cfg.Spec
	s.Task, s.Inputs, s.Targets, s.Horizon = Forecast, 0, 0, cfg.Horizon
	if _, err := s.withDefaults(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Lookback < 0:
		return nil, &FitError{"Lookback", cfg.Lookback, ">= 1 (0: chosen from the series)"}
	case cfg.Horizon < 0:
		return nil, &FitError{"Horizon", cfg.Horizon, ">= 1"}
	case !(cfg.TestFraction >= 0 && cfg.TestFraction < 1):
		return nil, &FitError{"TestFraction", cfg.TestFraction, "in (0, 1) (0: 0.33)"}
	case !(cfg.ValFraction >= 0 && cfg.ValFraction < 1):
		return nil, &FitError{"ValFraction", cfg.ValFraction, "in [0, 1) (0: none)"}
	case cfg.TestRows < 0:
		return nil, &FitError{"TestRows", cfg.TestRows, ">= 0 (0: TestFraction)"}
	case slices.ContainsFunc(cfg.Diffs, func(d int) bool { return d < 1 }):
		return nil, &FitError{"Diffs", cfg.Diffs, "lags >= 1"}
	case cfg.Diffs != nil && cfg.Spec.Base != "" && cfg.Spec.Base != BaseAuto:
		return nil, &FitError{"Diffs", cfg.Diffs, "none with a statistical base (Holt-Winters or ARIMA models the level itself)"}
	case cfg.Conformal && len(cfg.Spec.Quantiles) < 2:
		return nil, &FitError{"Conformal", cfg.Conformal, "false without two or more Spec.Quantiles (it calibrates their interval)"}
	case cfg.Conformal && cfg.ValFraction == 0:
		return nil, &FitError{"Conformal", cfg.Conformal, "false without validation windows (ValFraction > 0)"}
	}
	if cfg.TestFraction == 0 {
		cfg.TestFraction = 0.33
	}
	if cfg.Horizon == 0 {
		cfg.Horizon = 1
	}
	if cfg.TestFraction+cfg.ValFraction >= 1 {
		return nil, &FitError{"ValFraction", cfg.ValFraction, fmt.Sprintf("< 1 - test fraction %g (rows must remain for training)", cfg.TestFraction)}
	}
	f := &Forecaster{cfg: cfg, lossFn: cfg.Fit.Loss.regression()}
	if cfg.Spec.Base == BaseAuto {
		f.auto = &cfg
	}
	return f, nil
}

// Prep returns the preprocessing state (nil before Fit or Load).
func (f *Forecaster) Prep() *ForecastPrep { return f.prep }

// Plan returns the choices of the current (or last) Fit once its data is
// prepared — lookback, season, batch size, split, cleaning and notes — so
// that a callback can report them when training begins; nil before.
func (f *Forecaster) Plan() *ForecastReport { return f.plan }

// ForecastReport is what Fit measured.
type ForecastReport struct {
	// Result is the training run's summary (epochs, best epoch, stop
	// reason, history).
	Result *train.Result
	// Test holds the model's errors on the test windows in the data's
	// units; Baselines those of persistence, seasonal naive and the
	// training mean on the same windows.
	Test      series.Metrics
	Baselines []series.Scored
	// ByTarget and ByStep break Test down per target column and per
	// forecast step (1..Horizon).
	ByTarget, ByStep []series.Metrics
	// Valid is the last validation's metrics (nil without validation).
	Valid map[string]float64
	// Lookback, Season and BatchSize are the values used; Notes say which
	// were chosen from the series and why.
	Lookback, Season, BatchSize int
	Notes                       []string
	// Cleaning reports what the cleaning step changed.
	Cleaning *series.Report
	// Transfer reports what FitConfig.InitFrom copied (nil without it).
	Transfer *Transfer
	// Split is the chronological split in rows of the cleaned series.
	Split series.Split
	// Forecast and Actual are the test windows' forecasts and true values
	// in the data's units, (N, Horizon, Targets); Origins their first
	// forecast rows and Times those rows' time values (nil without a time
	// column), for plots.
	Forecast, Actual *tensor.Tensor
	Origins          []int
	Times            []float64
	Targets          []string
	// Quantiles[q] is the test windows' forecast of quantile level
	// Spec.Quantiles[q] in the data's units, (N, Horizon, Targets), and
	// Intervals scores the interval between the outermost levels; both
	// nil without two or more quantiles.
	Quantiles []*tensor.Tensor
	Intervals *series.Intervals
	// BaseOnly says that the network's correction of a Holt-Winters base
	// did not lower the validation loss and was dropped (Spec.Base);
	// BaseChoice says what the validation loss chose, and why.
	BaseOnly   bool
	BaseChoice string
	// Form is the form an automatic forecaster (Spec.Base BaseAuto)
	// chose on its validation tail: "network", "network on local
	// windows", "network correcting Holt-Winters", "Holt-Winters alone",
	// "ARIMA alone" or "Holt-Winters and ARIMA averaged"; empty otherwise.
	Form string
	// FormScores are the validation RMSEs (data units) the form was
	// chosen by, by form; nil when no choice was measured.
	FormScores map[string]float64
	// Direction scores whether the forecasts moved the right way from the
	// last known value, against the persistence forecast's last values.
	Direction series.Direction
	// Calibrated is the number of validation windows the interval was
	// calibrated on (ForecastConfig.Conformal; 0: not calibrated).
	Calibrated int
}

// Fit cleans and prepares data (a *series.Frame: a CSV file read with
// series.ReadFile, or a plain slice through series.Of), splits it
// chronologically, fits the scaler on the training rows, builds the
// network, trains it and scores it on the test rows against the baselines.
func (f *Forecaster) Fit(ctx context.Context, data *series.Frame) (*ForecastReport, error) {
	var form ForecastReport
	if f.auto != nil {
		f.cfg = *f.auto
		if err := f.chooseForm(ctx, data, &form); err != nil {
			return nil, err
		}
	}
	s, rep, err := f.prepare(data)
	if err != nil {
		return nil, err
	}
	rep.Form, rep.FormScores, rep.Notes = form.Form, form.FormScores, append(form.Notes, rep.Notes...)
	res, err := f.fit(ctx, s.session, f.cfg.Fit)
	if err != nil {
		return rep, err
	}
	rep.Result, rep.Valid, rep.Transfer = res, res.Valid, f.transfer
	switch {
	case f.baseOnly:
		if err := f.dropCorrection(s, rep); err != nil {
			return rep, err
		}
	case f.prep.hasBase() && s.pr.Val != nil && s.pr.Val.Len() > 0:
		if err := f.chooseBase(s, rep); err != nil {
			return rep, err
		}
	}
	if f.cfg.Conformal {
		if err := f.calibrate(s.pr.Val, rep); err != nil {
			return rep, err
		}
	}
	if err := f.score(s.pr, rep); err != nil {
		return rep, err
	}
	metrics := map[string]any{"test": rep.Test, "baselines": rep.Baselines}
	if rep.Valid != nil {
		metrics["valid"] = rep.Valid
	}
	return rep, f.setMetrics(metrics)
}

// FindLR prepares data as Fit does and runs the learning-rate range test
// on the training windows; the model is left untrained. An automatic
// forecaster (BaseAuto) runs it on the network alone.
func (f *Forecaster) FindLR(ctx context.Context, data *series.Frame, c lrfind.Config) (*lrfind.Result, error) {
	if f.auto != nil {
		// Every form's network has the same architecture and rate; the
		// test runs on the network alone.
		f.cfg = *f.auto
		f.cfg.Spec.Base = ""
	}
	s, _, err := f.prepare(data)
	if err != nil {
		return nil, err
	}
	return f.findLR(ctx, s.session, f.cfg.Fit, c)
}

// forecastRun is a prepared forecasting run.
type forecastRun struct {
	*session
	pr    *series.Prepared
	clean *series.Frame // the cleaned frame, original units
}

// prepare cleans and windows data, builds the network and returns the
// session with a report of the choices made.
func (f *Forecaster) prepare(data *series.Frame) (*forecastRun, *ForecastReport, error) {
	clean, pr, rep, err := f.prepareSeries(data)
	if err != nil {
		return nil, nil, err
	}
	if f.cfg.Spec.Base != "" {
		if err := f.fitBase(clean, pr, rep); err != nil {
			return nil, nil, err
		}
	}
	if err := f.build(); err != nil {
		return nil, nil, err
	}
	bs := f.batchSize(pr.Train.Len(), rep)
	f.plan = rep
	s := &session{task: &forecastTask{f: f}, train: &windowData{f: f, w: pr.Train, pr: pr, bs: bs}, shuffle: true, prep: f.prep, bodies: f.net.bodies()}
	if pr.Val != nil && pr.Val.Len() > 0 {
		s.valid = &windowData{f: f, w: pr.Val, pr: pr, bs: 64}
	}
	return &forecastRun{session: s, pr: pr, clean: clean}, rep, nil
}

// prepareSeries cleans, splits, transforms and windows data and sets
// f.prep; it builds no network.
func (f *Forecaster) prepareSeries(data *series.Frame) (*series.Frame, *series.Prepared, *ForecastReport, error) {
	if data == nil || data.Len() == 0 {
		return nil, nil, nil, fmt.Errorf("model: forecaster: no data")
	}
	raw, err := f.columns(data)
	if err != nil {
		return nil, nil, nil, err
	}
	rep := &ForecastReport{}
	cc := f.cfg.Clean
	cc.FitRows = int(float64(raw.Len()) * (1 - f.cfg.TestFraction - f.cfg.ValFraction))
	if f.cfg.TestRows > 0 {
		cc.FitRows = raw.Len() - f.cfg.TestRows - int(float64(raw.Len())*f.cfg.ValFraction)
	}
	clean, crep, err := series.Clean(raw, cc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("model: cleaning %s: %w", raw.Name, err)
	}
	rep.Cleaning = crep
	pc := f.choose(clean, rep)
	pr, err := series.Prepare(clean, pc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("model: %s: %w", clean.Name, err)
	}
	rep.Split, rep.Season = pr.Split, pr.Season
	f.prep = &ForecastPrep{Pipeline: pr.Pipeline, Season: pr.Season, Scales: pr.Scales, Clean: f.cfg.Clean}
	return clean, pr, rep, nil
}

// chooseBase keeps the network's correction of the Holt-Winters base only
// if it lowers the validation loss; otherwise it zeroes the head, and the
// forecaster is Holt-Winters alone (a short series often has too little
// for a network to learn that the statistics missed).
func (f *Forecaster) chooseBase(s *forecastRun, rep *ForecastReport) error {
	trained, alone, err := f.net.keepCorrection(&forecastTask{f: f}, s.valid)
	if err != nil {
		return err
	}
	if trained < alone {
		rep.BaseChoice = fmt.Sprintf("kept the network's correction of Holt-Winters: validation loss %.4g, Holt-Winters alone %.4g; Holt-Winters refitted on the training and validation rows", trained, alone)
		rep.Notes = append(rep.Notes, rep.BaseChoice)
		tr := s.pr.Split.Train
		return f.refitBase(s.clean, series.Range{From: tr.From, To: s.pr.Split.Val.To}, s.pr)
	}
	rep.BaseChoice = fmt.Sprintf("dropped the network's correction: validation loss %.4g, Holt-Winters alone %.4g; the forecaster is Holt-Winters, refitted on the training and validation rows", trained, alone)
	return f.dropCorrection(s, rep)
}

// dropCorrection makes the hybrid forecaster Holt-Winters alone: its
// head, the network's correction, is zeroed. Nothing is learned from the
// validation rows any more, so Holt-Winters takes them as training rows,
// as a statistician would.
func (f *Forecaster) dropCorrection(s *forecastRun, rep *ForecastReport) error {
	for _, p := range f.net.heads() {
		p.Value.Zero()
	}
	if rep.BaseChoice == "" {
		rep.BaseChoice = "the forecaster is Holt-Winters alone (the form chosen)"
	}
	rep.Notes = append(rep.Notes, rep.BaseChoice)
	rep.BaseOnly = true
	if s.pr.Val == nil || s.pr.Val.Len() == 0 {
		return nil
	}
	tr := s.pr.Split.Train
	fit := series.Range{From: tr.From, To: s.pr.Split.Val.To}
	return f.refitBase(s.clean, fit, s.pr)
}

// refitBase fits the base models again, each of the order it has, on the
// rows fit of g and recomputes the base of the test windows.
func (f *Forecaster) refitBase(g *series.Frame, fit series.Range, pr *series.Prepared) error {
	for k, name := range pr.Pipeline.Targets {
		y, err := g.Column(name)
		if err != nil {
			return err
		}
		y = y[fit.From:fit.To]
		if f.prep.ARIMA != nil {
			f.prep.ARIMA[k], err = series.FitARIMA(y, f.prep.ARIMA[k].ARIMAOrder)
		}
		if f.prep.HoltWinters != nil && err == nil {
			f.prep.HoltWinters[k], err = series.FitHoltWinters(y, f.prep.HoltWinters[k].HWConfig)
		}
		if err != nil {
			return fmt.Errorf("model: refitting the %s base of %q: %w", f.cfg.Spec.Base, name, err)
		}
	}
	if pr.Test == nil || pr.Test.Len() == 0 {
		return nil
	}
	origins := make([]int, pr.Test.Len())
	for i, o := range pr.Test.Origin {
		origins[i] = o + pr.Pipeline.Shift() - fit.From
	}
	var err error
	pr.Test.Base, err = f.statBase(g.Slice(fit.From, g.Len()), origins)
	return err
}

// fitBase fits the base model of each target on the training rows of g
// (the cleaned frame), as R's ets (AutoHoltWinters) or auto.arima
// (AutoARIMA) would choose it, and sets the base of pr's windows.
func (f *Forecaster) fitBase(g *series.Frame, pr *series.Prepared, rep *ForecastReport) error {
	tr := pr.Split.Train
	f.prep.HoltWinters, f.prep.ARIMA = nil, nil
	for _, name := range pr.Pipeline.Targets {
		y, err := g.Column(name)
		if err != nil {
			return err
		}
		y = y[tr.From:tr.To]
		var notes []string
		if f.cfg.Spec.Base != BaseARIMA {
			hw, err := series.AutoHoltWinters(y, pr.Season)
			if err != nil {
				return fmt.Errorf("model: the Holt-Winters base of %q: %w", name, err)
			}
			f.prep.HoltWinters = append(f.prep.HoltWinters, hw)
			notes = append(notes, fmt.Sprintf("Holt-Winters %s (α %.3g β %.3g γ %.3g φ %.3g)", hw.Name(), hw.Alpha, hw.Beta, hw.Gamma, hw.Phi))
		}
		if f.cfg.Spec.Base != BaseHoltWinters {
			a, err := series.AutoARIMA(y, pr.Season)
			if err != nil {
				return fmt.Errorf("model: the ARIMA base of %q: %w", name, err)
			}
			f.prep.ARIMA = append(f.prep.ARIMA, a)
			notes = append(notes, a.String())
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("base %s for %q, fitted on the training rows", strings.Join(notes, " averaged with "), name))
	}
	for _, w := range []*series.Windows{pr.Train, pr.Val, pr.Test} {
		if w == nil || w.Len() == 0 {
			continue
		}
		origins := make([]int, w.Len())
		for i, o := range w.Origin {
			origins[i] = o + pr.Pipeline.Shift() - tr.From
		}
		var err error
		if w.Base, err = f.statBase(g.Slice(tr.From, g.Len()), origins); err != nil {
			return err
		}
	}
	return nil
}

// statBase returns the base models' forecasts of the windows whose first
// target rows are origins of g, in the model's units (N, H, K): the
// models filter g from its first row, which must be the row training
// began at.
func (f *Forecaster) statBase(g *series.Frame, origins []int) (*tensor.Tensor, error) {
	p := f.prep.Pipeline
	H, K := p.Horizon, len(p.Targets)
	out := tensor.New(len(origins), H, K)
	for k, name := range p.Targets {
		y, err := g.Column(name)
		if err != nil {
			return nil, err
		}
		models := f.prep.bases(k)
		for _, m := range models {
			for i, fc := range m.Forecast(y, origins, H) {
				for j, v := range fc {
					out.Data[(i*H+j)*K+k] += float32(v / float64(len(models)))
				}
			}
		}
	}
	if err := p.TargetsToModel(out); err != nil {
		return nil, fmt.Errorf("model: the %s base: %w", f.cfg.Spec.Base, err)
	}
	return out, nil
}

// checkBases says whether a model file's base models agree with its spec:
// one per target, of the spec's kind, and none without a base.
func (p *ForecastPrep) checkBases(s Spec) error {
	want := map[string][2]int{"": {0, 0}, BaseHoltWinters: {s.Targets, 0}, BaseARIMA: {0, s.Targets}, BaseCombined: {s.Targets, s.Targets}}[s.Base]
	if got := [2]int{len(p.HoltWinters), len(p.ARIMA)}; got != want || slices.Contains(p.HoltWinters, nil) || slices.Contains(p.ARIMA, nil) {
		return fmt.Errorf("model: the forecast preprocessing has %d Holt-Winters and %d ARIMA models for %d targets and base %q", got[0], got[1], s.Targets, s.Base)
	}
	for k, a := range p.ARIMA {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("model: the ARIMA base of target %d: %w", k, err)
		}
	}
	return nil
}

// columns selects the targets and the extra inputs of data.
func (f *Forecaster) columns(data *series.Frame) (*series.Frame, error) {
	targets := f.cfg.Targets
	if len(targets) == 0 {
		if len(data.Columns) == 0 {
			return nil, fmt.Errorf("model: %s has no value columns", data.Name)
		}
		targets = data.Columns[len(data.Columns)-1:]
	}
	cols := slices.Clone(targets)
	for _, c := range f.cfg.Inputs {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	raw, err := data.Select(cols...)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w (columns: %q)", data.Name, err, data.Columns)
	}
	return raw, nil
}

// choose fills the lookback and season from the series when they are not
// given, noting why, and returns the preparation config.
func (f *Forecaster) choose(g *series.Frame, rep *ForecastReport) series.PrepareConfig {
	c := f.cfg
	nTrain := c.trainRows(g.Len())
	season := c.Season
	if season == 0 && nTrain > 3 {
		var why string
		season, why = chooseSeason(g, nTrain)
		rep.Notes = append(rep.Notes, why)
	}
	if season == 0 {
		// No season chosen means none: left at zero, the preparation would
		// detect one by autocorrelation alone, and the Holt-Winters base,
		// the seasonal-naive baseline and MASE would use a period the
		// choice above rejected.
		season = -1
	}
	lookback := c.Lookback
	if lookback == 0 {
		lookback = 24
		why := "24 steps (no season)"
		if season > 1 {
			lookback, why = 2*season, fmt.Sprintf("two seasons of %d", season)
		}
		if limit := max(1, (nTrain-c.Horizon)/3); lookback > limit {
			lookback, why = limit, fmt.Sprintf("a third of the %d training rows", nTrain)
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("lookback %d: %s", lookback, why))
	}
	rep.Lookback = lookback
	return series.PrepareConfig{
		Window: series.WindowConfig{Lookback: lookback, Horizon: c.Horizon, Targets: g.Columns[:max(len(c.Targets), 1)], Inputs: g.Columns, Index: true},
		Test:   c.TestFraction, Val: c.ValFraction, Log: c.Log, Diffs: c.Diffs, Scale: c.Scale, Season: season,
		TestRows: c.TestRows, ValRows: int(c.ValFraction * float64(g.Len())),
	}
}

// trainRows is the number of training rows of a series of n rows: what
// the test rows (TestRows, or the TestFraction share) and the validation
// share leave.
func (c ForecastConfig) trainRows(n int) int {
	nTest := int(math.Round(c.TestFraction * float64(n)))
	if c.TestRows > 0 {
		nTest = c.TestRows
	}
	return n - nTest - int(c.ValFraction*float64(n))
}

// chooseSeason returns the season of the first column of g from its
// first nTrain rows, and why: the period the time column implies (R's
// frequency) when it gives one, otherwise the period the autocorrelation
// finds. A calendar period of at most maxCalendarSeason is the data's own
// declaration and is kept whatever its strength, as R's ets and
// auto.arima keep a series' frequency and let the fit decide whether a
// seasonal model pays (AutoHoltWinters compares seasonal and plain models
// by AIC). A longer calendar period (weekly rows), or a period found by
// autocorrelation, is kept only when its seasonal strength on the
// training rows reaches series.MinSeasonalStrength, and a detected period
// only over four or more of its cycles (with fewer, a period found by
// searching many lags fits noise: 27 steps on a 100-minute series).
func chooseSeason(g *series.Frame, nTrain int) (int, string) {
	y := g.Values[0][:max(nTrain, 0)]
	if m, why, ok := series.CalendarSeason(g); ok {
		switch s := seasonStrength(y, m); {
		case m < 2:
			return 0, "no season: " + why
		case nTrain < 2*m:
			return 0, fmt.Sprintf("no season: %s, but the %d training rows hold fewer than two seasons of %d", why, nTrain, m)
		case m > maxCalendarSeason && s < series.MinSeasonalStrength:
			return 0, fmt.Sprintf("no season: %s, but the seasonal strength of period %d is %.2f on the training rows (below %.2f)", why, m, s, series.MinSeasonalStrength)
		default:
			weak := ""
			if s < series.MinSeasonalStrength {
				weak = ", weak: kept as the calendar's, and Holt-Winters compares seasonal and plain models by AIC"
			}
			return m, fmt.Sprintf("season %d from the time column: %s (seasonal strength %.2f%s)", m, why, s, weak)
		}
	}
	d := series.DetectSeason(y, min(nTrain/2, 400))
	switch s := seasonStrength(y, d); {
	case d == 0:
		return 0, fmt.Sprintf("no season detected on the %d training rows", nTrain)
	case nTrain < 4*d:
		return 0, fmt.Sprintf("no season: period %d found on the %d training rows, fewer than four of its cycles", d, nTrain)
	case s < series.MinSeasonalStrength:
		return 0, fmt.Sprintf("no season: period %d found on the %d training rows with seasonal strength %.2f (below %.2f)", d, nTrain, s, series.MinSeasonalStrength)
	default:
		return d, fmt.Sprintf("season %d, detected on the %d training rows (seasonal strength %.2f)", d, nTrain, s)
	}
}

// maxCalendarSeason is the longest calendar period kept without a
// strength test: R's ets fits no season longer than 24 (monthly rows
// have 12, hourly rows of a day 24; weekly rows' 52 must show itself).
const maxCalendarSeason = 24

// seasonStrength is the seasonal strength of period m in y, measured on
// log y when y's seasonal swing grows with its level. Wang, Smith and
// Hyndman measure it on Box-Cox-transformed data: a multiplicative season
// is additive in the log, while the additive decomposition of y counts
// its growth as remainder and finds a strong season weak.
func seasonStrength(y []float64, m int) float64 {
	if grows, _ := series.SwingGrowsWithLevel(y, m); grows {
		logs := make([]float64, len(y))
		for i, v := range y {
			logs[i] = math.Log(v)
		}
		return series.SeasonalStrength(logs, m)
	}
	return series.SeasonalStrength(y, m)
}

// batchSize is the configured batch size, or for a short series one
// small enough to give the epoch several steps.
func (f *Forecaster) batchSize(windows int, rep *ForecastReport) int {
	bs := f.cfg.Fit.BatchSize
	if bs == Defaults(Forecast).BatchSize && windows < 8*bs {
		bs = max(1, windows/8)
		rep.Notes = append(rep.Notes, fmt.Sprintf("batch size %d: %d training windows", bs, windows))
	}
	rep.BatchSize = bs
	return bs
}

// build builds the network for the prepared pipeline.
func (f *Forecaster) build() error {
	p := f.prep.Pipeline
	s := f.cfg.Spec
	s.Task, s.Inputs, s.Targets, s.Horizon = Forecast, len(p.Inputs), len(p.Targets), p.Horizon
	s, err := s.withDefaults()
	if err != nil {
		return err
	}
	net, err := newForecastNet(s, p, f.cfg.Fit.Seed)
	if err != nil {
		return err
	}
	f.core = core{spec: s, params: net.params(), rngs: net.rngs(), built: true}
	f.net = net
	return nil
}

// score evaluates the test windows and fills the report.
func (f *Forecaster) score(pr *series.Prepared, rep *ForecastReport) error {
	all := f.net.predictAll(pr.Test, 64)
	pred := f.net.level(all, f.net.median())
	pr.SkipModelBaselines = f.skipModelBaselines
	m, base, err := pr.Evaluate(pr.Test, pred)
	if err != nil {
		return err
	}
	rep.Test, rep.Baselines = m, base
	if rep.Forecast, err = pr.Forecast(pr.Test, pred); err != nil {
		return err
	}
	if rep.Actual, err = pr.Actual(pr.Test); err != nil {
		return err
	}
	rep.ByTarget, rep.ByStep = series.ScoreBy(rep.Forecast, rep.Actual, pr.Scales)
	for _, b := range base {
		if b.Name == "persistence" {
			rep.Direction = series.ScoreDirection(rep.Forecast, rep.Actual, b.Forecast)
		}
	}
	invert := func(t *tensor.Tensor) (*tensor.Tensor, error) { return pr.Forecast(pr.Test, t) }
	levels, pick := f.quantiles(all, func() *tensor.Tensor { return f.net.mcAll(pr.Test, f.mc.samples, f.mc.levels, 64) })
	if rep.Quantiles, rep.Intervals, err = f.intervals(levels, pick, rep.Actual, invert); err != nil {
		return err
	}
	shift := pr.Pipeline.Shift()
	for _, o := range pr.Test.Origin {
		rep.Origins = append(rep.Origins, o+shift)
		if pr.Original.Time != nil {
			rep.Times = append(rep.Times, pr.Original.Time[o+shift])
		}
	}
	rep.Targets = pr.Pipeline.Targets
	return nil
}

// calibrate sets the conformal widening of the interval from the
// validation windows val: for each step and target, the conformity score
// of a window is how far its value lies outside the interval (negative
// inside), and the widening is the ⌈(n+1)(1-α)⌉-th smallest of the n
// scores, which makes the interval cover at least 1-α of exchangeable
// new windows.
func (f *Forecaster) calibrate(val *series.Windows, rep *ForecastReport) error {
	if val == nil || val.Len() == 0 {
		return fmt.Errorf("model: conformal calibration needs validation windows; the validation rows are too few for one window")
	}
	f.net.widen, f.prep.Widen = nil, nil
	levels := f.net.spec.Quantiles
	all := f.net.predictAll(val, 64)
	lo, hi := f.net.level(all, 0), f.net.level(all, len(levels)-1)
	n, hk := val.Len(), lo.Len()/val.Len()
	alpha := 1 - (levels[len(levels)-1] - levels[0])
	rank := min(int(math.Ceil(float64(n+1)*(1-alpha))), n) - 1
	y := val.AllTargets()
	scores := make([]float64, n)
	widen := make([]float64, hk)
	for j := range hk {
		for i := range n {
			y := float64(y.Data[i*hk+j])
			scores[i] = max(float64(lo.Data[i*hk+j])-y, y-float64(hi.Data[i*hk+j]))
		}
		slices.Sort(scores)
		widen[j] = scores[rank]
	}
	f.prep.Widen = widen
	f.net.setWiden(widen)
	rep.Calibrated = n
	var sum float64
	for _, w := range widen {
		sum += w
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("interval calibrated on %d validation windows (conformal): mean widening %.3g scaled units", n, sum/float64(hk)))
	return nil
}

// quantiles returns the levels of the forecaster's quantile forecasts and
// a function giving level q of every output, (N, H, K) in scaled units,
// for windows whose network outputs are all and whose Monte Carlo
// quantiles mc computes; nil levels without quantile forecasts.
func (f *Forecaster) quantiles(all *tensor.Tensor, mc func() *tensor.Tensor) ([]float64, func(q int) *tensor.Tensor) {
	if f.mc.samples > 0 {
		m, L := mc(), len(f.mc.levels)
		return f.mc.levels, func(q int) *tensor.Tensor { return f.net.levelOf(m, q, L) }
	}
	if levels := f.net.spec.Quantiles; levels != nil {
		return levels, func(q int) *tensor.Tensor { return f.net.level(all, q) }
	}
	return nil, nil
}

// intervals inverts every quantile level (pick(q), scaled) to the data's
// units with invert and scores the outermost interval against actual;
// nil, nil without two or more levels. A transform's inverse is monotone
// (scaling, log) or a shift by the observed history (differencing), so it
// maps a quantile of the scaled value to the same quantile in the data's
// units; after seasonal or first differencing over several steps, the
// summed quantiles of the steps are an approximation.
func (f *Forecaster) intervals(levels []float64, pick func(q int) *tensor.Tensor, actual *tensor.Tensor, invert func(*tensor.Tensor) (*tensor.Tensor, error)) ([]*tensor.Tensor, *series.Intervals, error) {
	if len(levels) < 2 {
		return nil, nil, nil
	}
	qs := make([]*tensor.Tensor, len(levels))
	for q := range levels {
		var err error
		if qs[q], err = invert(pick(q)); err != nil {
			return nil, nil, err
		}
	}
	iv, err := series.ScoreIntervals(levels, qs, actual, f.prep.Scales)
	if err != nil {
		return nil, nil, err
	}
	return qs, &iv, nil
}

// mcDropout is the Monte Carlo dropout setting (Forecaster.MCDropout).
type mcDropout struct {
	samples int
	levels  []float64
}

// MCDropout makes Predict, Evaluate and the test scoring of Fit give
// quantile forecasts by Monte Carlo dropout (Gal and Ghahramani 2016):
// samples forward passes with the training-time dropout on, whose
// empirical quantiles at levels (increasing, in (0, 1); nil: 0.1, 0.5,
// 0.9) are the forecast's; the point forecast stays the deterministic
// one. The network needs dropout of some kind (Spec.Dropout and the
// recurrent kinds) and no Spec.Quantiles; samples 0 turns it off. The
// passes draw from the model's dropout generators, so a forecaster with
// MC dropout on is not safe for concurrent use.
func (f *Forecaster) MCDropout(samples int, levels []float64) error {
	if samples == 0 {
		f.mc = mcDropout{}
		return nil
	}
	s := f.cfg.Spec
	if f.built {
		s = f.spec
	}
	switch {
	case samples < 2:
		return &FitError{"MCDropout samples", samples, ">= 2 (0: off)"}
	case s.Dropout == 0 && s.InputDropout == 0 && s.RecurrentDropout == 0 && s.WeightDrop == 0 && s.Zoneout == 0:
		return &FitError{"MCDropout samples", samples, "0: the network has no dropout to sample"}
	case s.Quantiles != nil:
		return &FitError{"MCDropout samples", samples, "0: the network predicts quantiles itself (Spec.Quantiles)"}
	}
	if levels == nil {
		levels = []float64{0.1, 0.5, 0.9}
	}
	for i, q := range levels {
		if !(q > 0 && q < 1) || i > 0 && q <= levels[i-1] {
			return &FitError{"MCDropout levels", levels, "increasing levels in (0, 1)"}
		}
	}
	f.mc = mcDropout{samples: samples, levels: slices.Clone(levels)}
	return nil
}

// ForecastOutput is a forecast of the steps after the end of a series.
type ForecastOutput struct {
	// Targets names the forecast columns; Values[h][k] is step h+1 of
	// target k, in the data's units.
	Targets []string
	Values  [][]float64
	// Levels are the model's quantile levels (Spec.Quantiles) and
	// Quantiles[q][h][k] the forecast of level q; nil without quantiles.
	Levels    []float64
	Quantiles [][][]float64
}

// Predict forecasts the Horizon steps after the last row of data, which
// must hold the model's columns and at least Lookback rows (plus the rows
// differencing drops). Missing values are filled as the training data's
// were (ForecastConfig.Clean).
func (f *Forecaster) Predict(data *series.Frame) (*ForecastOutput, error) {
	if err := f.needBuilt("Predict"); err != nil {
		return nil, err
	}
	g, err := f.input(data)
	if err != nil {
		return nil, err
	}
	p := f.prep.Pipeline
	x, err := p.LastWindow(g)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	// (1, L, F) and (L, 1, F) have the same layout.
	x1 := x.Reshape(p.Lookback, 1, len(p.Inputs))
	var base *tensor.Tensor
	if f.prep.hasBase() {
		if base, err = f.statBase(g, []int{g.Len()}); err != nil {
			return nil, err
		}
	}
	all := f.net.forward(nil, nn.Constant(x1), base).Value
	invert := func(t *tensor.Tensor) ([][]float64, error) {
		pred, err := p.Invert(nil, t, g, []int{g.Len()})
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		rows := make([][]float64, p.Horizon)
		for h := range rows {
			rows[h] = make([]float64, len(p.Targets))
			for k := range rows[h] {
				rows[h][k] = float64(pred.Data[h*len(p.Targets)+k])
			}
		}
		return rows, nil
	}
	out := &ForecastOutput{Targets: slices.Clone(p.Targets)}
	if out.Values, err = invert(f.net.level(all, f.net.median())); err != nil {
		return nil, err
	}
	levels, pick := f.quantiles(all, func() *tensor.Tensor { return f.net.mcQuantiles(x1, base, f.mc.samples, f.mc.levels) })
	out.Levels = slices.Clone(levels)
	for q := range levels {
		rows, err := invert(pick(q))
		if err != nil {
			return nil, err
		}
		out.Quantiles = append(out.Quantiles, rows)
	}
	return out, nil
}

// Forward runs the network alone on windows already in the pipeline's
// scaled space: x (Lookback, B, Inputs) time-major to (B, Horizon·Targets)
// scaled predictions, (B, Horizon·Targets·Q) with Q quantile levels
// (levels innermost). Predict is the whole path from raw data.
func (f *Forecaster) Forward(x *tensor.Tensor) *tensor.Tensor {
	return f.net.forward(nil, nn.Constant(x), nil).Value
}

// input selects the model's columns of data and cleans them as the
// training data was cleaned.
func (f *Forecaster) input(data *series.Frame) (*series.Frame, error) {
	if data == nil {
		return nil, fmt.Errorf("model: no data")
	}
	g, err := data.Select(f.prep.Pipeline.Columns...)
	if err != nil {
		return nil, fmt.Errorf("model: %s: the model needs the columns %q: %w", data.Name, f.prep.Pipeline.Columns, err)
	}
	// Missing values are filled as in training; outliers are not clipped:
	// the test rows of training were not either.
	cc := f.prep.Clean
	cc.FitRows, cc.Outliers = 0, series.OutliersKeep
	g, _, err = series.Clean(g, cc)
	if err != nil {
		return nil, fmt.Errorf("model: cleaning %s: %w", data.Name, err)
	}
	return g, nil
}

// ForecastEval is a forecaster's score on new data.
type ForecastEval struct {
	Windows   int
	Metrics   series.Metrics
	Baselines []series.Scored // persistence and seasonal naive on the same windows
	// Intervals scores the quantile forecasts' outermost interval (nil
	// without two or more quantile levels).
	Intervals *series.Intervals
}

// Evaluate forecasts every window of data whose targets lie in it (inputs
// reaching back at most to its first row) with the saved preprocessing and
// scores the forecasts, and the persistence and seasonal-naive baselines,
// in the data's units. MASE uses the training rows' scale.
func (f *Forecaster) Evaluate(data *series.Frame) (*ForecastEval, error) {
	if err := f.needBuilt("Evaluate"); err != nil {
		return nil, err
	}
	g, err := f.input(data)
	if err != nil {
		return nil, err
	}
	p := f.prep.Pipeline
	z, err := p.Transform(g)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	w, err := series.MakeWindows(z, series.WindowConfig{Lookback: p.Lookback, Horizon: p.Horizon, Inputs: p.Inputs, Targets: p.Targets, Index: true}, series.Range{From: 0, To: z.Len()})
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", data.Name, err)
	}
	raw := &series.Windows{Origin: make([]int, w.Len()), Targets: w.Targets, Inputs: w.Inputs, Lookback: w.Lookback, Horizon: w.Horizon}
	for i, o := range w.Origin {
		raw.Origin[i] = o + p.Shift()
	}
	if f.prep.hasBase() {
		if w.Base, err = f.statBase(g, raw.Origin); err != nil {
			return nil, err
		}
	}
	invert := func(t *tensor.Tensor) (*tensor.Tensor, error) {
		out, err := p.Invert(nil, t, g, raw.Origin)
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		return out, nil
	}
	all := f.net.predictAll(w, 64)
	fc, err := invert(f.net.level(all, f.net.median()))
	if err != nil {
		return nil, err
	}
	actual, err := series.Actual(g, raw)
	if err != nil {
		return nil, err
	}
	ev := &ForecastEval{Windows: w.Len(), Metrics: series.Score(fc, actual, f.prep.Scales)}
	levels, pick := f.quantiles(all, func() *tensor.Tensor { return f.net.mcAll(w, f.mc.samples, f.mc.levels, 64) })
	if _, ev.Intervals, err = f.intervals(levels, pick, actual, invert); err != nil {
		return nil, err
	}
	pers, err := series.Persistence(g, raw)
	if err != nil {
		return nil, err
	}
	ev.Baselines = append(ev.Baselines, series.Scored{Name: "persistence", Metrics: series.Score(pers, actual, f.prep.Scales)})
	if s := f.prep.Season; s > 0 && raw.Origin[0] >= s {
		sn, err := series.SeasonalNaive(g, raw, s)
		if err != nil {
			return nil, err
		}
		ev.Baselines = append(ev.Baselines, series.Scored{Name: fmt.Sprintf("seasonal naive (%d)", s), Metrics: series.Score(sn, actual, f.prep.Scales)})
	}
	return ev, nil
}

// Save writes the model file: weights, spec, preprocessing and metrics.
func (f *Forecaster) Save(path string) error { return f.save(path, f.prep) }

// File returns the model file's contents in memory: weights, spec,
// preprocessing and metrics (what Save writes).
func (f *Forecaster) File() (*checkpoint.File, error) { return f.file(f.prep) }

// Task returns the forecaster's train.Task over batches of windows.
func (f *Forecaster) Task() train.Task { return &forecastTask{f: f} }

// fromPrep rebuilds a forecaster from a model file's spec and prep.
func forecasterFrom(s Spec, prep json.RawMessage) (*Forecaster, error) {
	p, err := decodeForecastPrep(prep)
	if err != nil {
		return nil, err
	}
	if len(p.Pipeline.Inputs) != s.Inputs || len(p.Pipeline.Targets) != s.Targets || p.Pipeline.Horizon != s.Horizon {
		return nil, fmt.Errorf("model: the forecast preprocessing (%d inputs, %d targets, horizon %d) does not match the spec (%d, %d, %d)",
			len(p.Pipeline.Inputs), len(p.Pipeline.Targets), p.Pipeline.Horizon, s.Inputs, s.Targets, s.Horizon)
	}
	f := &Forecaster{cfg: ForecastConfig{Spec: s}, prep: p, lossFn: LossConfig{}.regression()}
	net, err := newForecastNet(s, p.Pipeline, 0)
	if err != nil {
		return nil, err
	}
	f.core = core{spec: s, params: net.params(), rngs: net.rngs()}
	f.net = net
	if err := p.checkBases(s); err != nil {
		return nil, err
	}
	if p.Widen != nil {
		if len(p.Widen) != s.Horizon*s.Targets || len(s.Quantiles) < 2 {
			return nil, fmt.Errorf("model: the forecast preprocessing widens %d outputs, the spec has %d with %d quantile levels", len(p.Widen), s.Horizon*s.Targets, len(s.Quantiles))
		}
		net.setWiden(p.Widen)
	}
	return f, nil
}

// legacyForecastPrep is the preprocessing state of model files written
// before the pipeline: the log applied to the targets, then the scaler.
type legacyForecastPrep struct {
	Inputs   []string       `json:"inputs"`
	Targets  []string       `json:"targets"`
	Lookback int            `json:"lookback"`
	Horizon  int            `json:"horizon"`
	Season   int            `json:"season"`
	Log      *series.Log    `json:"log,omitempty"`
	Scaler   *series.Scaler `json:"scaler"`
}

// decodeForecastPrep reads a forecaster's prep, in either format.
func decodeForecastPrep(b json.RawMessage) (*ForecastPrep, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("model: forecast preprocessing state: %w", err)
	}
	if _, ok := probe["pipeline"]; ok {
		var p ForecastPrep
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("model: forecast preprocessing state: %w", err)
		}
		if p.Pipeline == nil {
			return nil, fmt.Errorf("model: forecast preprocessing state has no pipeline")
		}
		return &p, nil
	}
	var l legacyForecastPrep
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("model: forecast preprocessing state: %w", err)
	}
	p := &series.Pipeline{Columns: l.Inputs, Log: l.Log, Scaler: l.Scaler, Inputs: l.Inputs, Targets: l.Targets, Lookback: l.Lookback, Horizon: l.Horizon}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("model: forecast preprocessing state: %w", err)
	}
	return &ForecastPrep{Pipeline: p, Season: l.Season}, nil
}
