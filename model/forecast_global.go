package model

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/train"
)

// GlobalConfig configures a GlobalForecaster.
type GlobalConfig struct {
	// Spec is the network, as ForecastConfig.Spec; Local is always set
	// (each window is seen relative to its last value, so series at
	// different levels share one network). Base "" (or BaseAuto) makes
	// the network forecast the change from the last value (Residual);
	// "holt-winters" makes it correct each series' own Holt-Winters
	// forecast (fitted on that series' training rows), as Smyl's ES-RNN
	// combined per-series exponential smoothing with one global network.
	Spec Spec
	// Target names the column forecast in every series ("": each
	// series' last value column).
	Target string
	// Lookback is the window length, the same for every series (zero:
	// two of the seasons most series have, or 24 steps, at most a third
	// of the shortest series' training rows).
	Lookback int
	// Horizon, TestFraction, ValFraction and Season are as in
	// ForecastConfig, applied to each series on its own.
	Horizon      int
	TestFraction float64
	ValFraction  float64
	Season       int
	// Log models the log of every series; AutoLog that of each positive
	// series whose seasonal swing grows with its level
	// (series.SwingGrowsWithLevel on its training rows).
	Log, AutoLog bool
	// Scale is each series' scaling, fitted on its own training rows
	// (zero: minmax).
	Scale series.ScaleMethod
	// Clean is applied to each series as ForecastConfig.Clean.
	Clean series.CleanConfig
	// Fit says how to train.
	Fit FitConfig
}

// GlobalPrep is a global forecaster's preprocessing state, saved in its
// model file: each training series' own, by name.
type GlobalPrep struct {
	Global bool           `json:"global"` // always true: tells a global model's file from a forecaster's
	Series []GlobalSeries `json:"series"`
	// What a series not seen in training is prepared with.
	Target  string             `json:"target,omitempty"`
	Season  int                `json:"season,omitempty"`
	Log     bool               `json:"log,omitempty"`
	AutoLog bool               `json:"auto_log,omitempty"`
	Scale   series.ScaleMethod `json:"scale,omitempty"`
	Clean   series.CleanConfig `json:"clean"`
}

// GlobalSeries is one training series' preprocessing.
type GlobalSeries struct {
	Name string        `json:"name"`
	Prep *ForecastPrep `json:"prep"`
	Log  bool          `json:"log,omitempty"` // AutoLog took its log
}

// GlobalForecaster is one network trained on the windows of many series
// (a global model, as DeepAR and the M4 competition's networks are): each
// series is cleaned, split chronologically and scaled on its own training
// rows, and the network learns from the windows of all of them, so a
// series of a hundred points borrows what the others teach. It forecasts
// any series with at least Lookback rows, seen in training or not.
type GlobalForecaster struct {
	shared *Forecaster // the network; its cfg is every series' configuration
	cfg    GlobalConfig
	prep   *GlobalPrep
	byName map[string]int // each training series' place in prep.Series
	plan   *GlobalReport
}

// Plan returns the choices of the current (or last) Fit once its series
// are prepared (lookback, batch size, notes), so that a callback can
// report them when training begins; nil before.
func (g *GlobalForecaster) Plan() *GlobalReport { return g.plan }

// SeriesReport is one series' part of a GlobalReport: the errors on its
// own test rows, in its units, against its own baselines.
type SeriesReport struct {
	Name string
	*ForecastReport
}

// MethodScore summarises one method over the series of a GlobalReport:
// the means of the scale-free MASE and sMAPE (the M4 competition's
// measures), and for a baseline on how many series the global model's
// RMSE is lower (Beaten) out of how many it was scored on (Of).
type MethodScore struct {
	Name       string
	MASE       float64
	SMAPE      float64
	Beaten, Of int
}

// GlobalReport is what GlobalForecaster.Fit measured.
type GlobalReport struct {
	Result *train.Result
	// Series has each series' report, in the order given.
	Series []SeriesReport
	// Summary is the model first, then each baseline present on every
	// series (persistence, seasonal naive where every series has a
	// season, Holt-Winters, the training mean).
	Summary []MethodScore
	// BaseOnly says that the network's correction of Holt-Winters
	// (Spec.Base) did not lower the validation loss and was dropped;
	// BaseChoice says what the validation loss chose.
	BaseOnly   bool
	BaseChoice string
	// Lookback and BatchSize are the values used, Windows the number of
	// training windows; Notes say why.
	Lookback, BatchSize, Windows int
	Notes                        []string
}

// NewGlobalForecaster validates cfg and returns an untrained global
// forecaster.
func NewGlobalForecaster(cfg GlobalConfig) (*GlobalForecaster, error) {
	switch cfg.Spec.Base {
	case "", BaseAuto:
		cfg.Spec.Base, cfg.Spec.Residual = "", true
	case "holt-winters":
		cfg.Spec.Residual = false
	default:
		return nil, &FitError{"Spec.Base", cfg.Spec.Base, `"" (the network) or holt-winters (the network corrects each series' Holt-Winters forecast)`}
	}
	cfg.Spec.Local = true
	fcfg := ForecastConfig{Spec: cfg.Spec, Lookback: cfg.Lookback, Horizon: cfg.Horizon, TestFraction: cfg.TestFraction,
		ValFraction: cfg.ValFraction, Season: cfg.Season, Log: cfg.Log, Scale: cfg.Scale, Clean: cfg.Clean, Fit: cfg.Fit}
	if cfg.Target != "" {
		fcfg.Targets = []string{cfg.Target}
	}
	f, err := NewForecaster(fcfg)
	if err != nil {
		return nil, err
	}
	if cfg.Scale == series.NoScale {
		return nil, &FitError{"Scale", cfg.Scale, "a scaling (series of different sizes share one network)"}
	}
	return &GlobalForecaster{shared: f, cfg: cfg}, nil
}

// globalPart is one series of a Fit.
type globalPart struct {
	name  string
	v     *Forecaster // the series' view: its own prep, the shared network once built
	pr    *series.Prepared
	rep   *ForecastReport
	clean *series.Frame
}

// Fit prepares every series of data (each frame one series, named by its
// Name, which must be unique), trains the network on the training
// windows of all of them (validating on all their validation windows,
// the loss summed over windows), and scores each series' test rows
// against its baselines.
func (g *GlobalForecaster) Fit(ctx context.Context, data []*series.Frame) (*GlobalReport, error) {
	rep := &GlobalReport{}
	parts, err := g.prepareAll(data, rep)
	if err != nil {
		return nil, err
	}
	s, err := g.session(parts, rep)
	if err != nil {
		return nil, err
	}
	g.plan = rep
	res, err := g.shared.fit(ctx, s, g.shared.cfg.Fit)
	if err != nil {
		return rep, err
	}
	rep.Result = res
	if g.cfg.Spec.Base != "" {
		if err := g.chooseBase(parts, s.valid, rep); err != nil {
			return rep, err
		}
	}
	for _, p := range parts {
		p.v.core, p.v.net = g.shared.core, g.shared.net
		if err := p.v.score(p.pr, p.rep); err != nil {
			return rep, fmt.Errorf("model: series %s: %w", p.name, err)
		}
		p.rep.Result = res
		rep.Series = append(rep.Series, SeriesReport{Name: p.name, ForecastReport: p.rep})
	}
	rep.Summary = summarise(rep.Series)
	return rep, g.shared.setMetrics(map[string]any{"summary": rep.Summary, "series": len(rep.Series)})
}

// prepareAll chooses the lookback and prepares each series.
func (g *GlobalForecaster) prepareAll(data []*series.Frame, rep *GlobalReport) ([]*globalPart, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("model: global forecaster: no series")
	}
	seen := map[string]bool{}
	for i, f := range data {
		switch {
		case f == nil || f.Len() == 0:
			return nil, fmt.Errorf("model: global forecaster: series %d has no rows", i)
		case seen[f.Name]:
			return nil, fmt.Errorf("model: global forecaster: two series are named %q", f.Name)
		}
		seen[f.Name] = true
	}
	seasons, err := g.seasons(data)
	if err != nil {
		return nil, err
	}
	lookback, why, err := g.chooseLookback(data, seasons)
	if err != nil {
		return nil, err
	}
	rep.Lookback = lookback
	rep.Notes = append(rep.Notes, fmt.Sprintf("lookback %d: %s", lookback, why))
	c := g.cfg
	g.prep = &GlobalPrep{Global: true, Target: c.Target, Season: c.Season, Log: c.Log, AutoLog: c.AutoLog, Scale: c.Scale, Clean: c.Clean}
	var parts []*globalPart
	logged := 0
	for i, f := range data {
		v := &Forecaster{cfg: g.shared.cfg, lossFn: g.shared.lossFn}
		v.cfg.Lookback = lookback
		if !v.cfg.Log && g.cfg.AutoLog {
			v.cfg.Log = g.swingGrows(f, seasons[i])
		}
		clean, pr, srep, err := v.prepareSeries(f)
		if err != nil {
			return nil, fmt.Errorf("model: series %s: %w", f.Name, err)
		}
		if pr.Train.Len() == 0 {
			return nil, fmt.Errorf("model: series %s: its %d training rows hold no window of lookback %d and horizon %d", f.Name, pr.Split.Train.Len(), lookback, pr.Pipeline.Horizon)
		}
		if v.cfg.Spec.Base != "" {
			if err := v.fitBase(clean, pr, srep); err != nil {
				return nil, fmt.Errorf("model: series %s: %w", f.Name, err)
			}
		}
		if v.cfg.Log && !g.cfg.Log {
			logged++
		}
		srep.Lookback = lookback
		g.prep.Series = append(g.prep.Series, GlobalSeries{Name: f.Name, Prep: v.prep, Log: v.cfg.Log && !g.cfg.Log})
		parts = append(parts, &globalPart{name: f.Name, v: v, pr: pr, rep: srep, clean: clean})
	}
	if g.cfg.AutoLog {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the log of %d of %d series (those whose seasonal swing grows with their level)", logged, len(data)))
	}
	g.byName, err = seriesIndex(g.prep.Series)
	return parts, err
}

// chooseBase keeps the network's correction of the series' Holt-Winters
// forecasts only if it lowers the validation loss over every series;
// otherwise the head is zeroed and the model is Holt-Winters on each
// series. Holt-Winters is then refitted on each series' training and
// validation rows, as Forecaster.chooseBase does for one series.
func (g *GlobalForecaster) chooseBase(parts []*globalPart, valid train.Data, rep *GlobalReport) error {
	if valid == nil {
		return nil
	}
	trained, alone, err := g.shared.net.keepCorrection(&globalTask{forecastTask{f: g.shared}}, valid)
	if err != nil {
		return err
	}
	if trained < alone {
		rep.BaseChoice = fmt.Sprintf("kept the network's correction of Holt-Winters: validation loss %.4g, Holt-Winters alone %.4g", trained, alone)
	} else {
		rep.BaseOnly = true
		rep.BaseChoice = fmt.Sprintf("dropped the network's correction: validation loss %.4g, Holt-Winters alone %.4g; the model is each series' Holt-Winters", trained, alone)
	}
	rep.BaseChoice += "; Holt-Winters refitted on each series' training and validation rows"
	for _, p := range parts {
		sp := p.pr.Split
		if err := p.v.refitBase(p.clean, series.Range{From: sp.Train.From, To: sp.Val.To}, p.pr); err != nil {
			return fmt.Errorf("model: series %s: %w", p.name, err)
		}
	}
	return nil
}

// swingGrows says whether AutoLog takes the log of f's target: positive,
// with a season whose swing grows with the level on the training rows.
func (g *GlobalForecaster) swingGrows(f *series.Frame, season int) bool {
	y, err := f.Column(g.target(f))
	if err != nil {
		return false
	}
	grows, _ := series.SwingGrowsWithLevel(y[:max(g.shared.cfg.trainRows(len(y)), 0)], season)
	return grows
}

// target is the column forecast in f: Target, or f's last value column.
func (g *GlobalForecaster) target(f *series.Frame) string {
	if g.cfg.Target != "" || len(f.Columns) == 0 {
		return g.cfg.Target
	}
	return f.Columns[len(f.Columns)-1]
}

// seasons returns each series' season on its training rows: Season when
// given, otherwise the one the calendar or the autocorrelation finds.
func (g *GlobalForecaster) seasons(data []*series.Frame) ([]int, error) {
	out := make([]int, len(data))
	for i, f := range data {
		raw, err := f.Select(g.target(f))
		if err != nil {
			return nil, fmt.Errorf("model: series %s: %w (columns: %q)", f.Name, err, f.Columns)
		}
		out[i] = g.cfg.Season
		if out[i] == 0 {
			out[i], _ = chooseSeason(raw, g.shared.cfg.trainRows(raw.Len()))
		}
	}
	return out, nil
}

// chooseLookback returns the configured lookback, or two of the seasons
// most series have (24 steps when most have none), at most a third of the
// shortest series' training rows.
func (g *GlobalForecaster) chooseLookback(data []*series.Frame, seasons []int) (int, string, error) {
	shortest, short := math.MaxInt, ""
	count := map[int]int{}
	for i, f := range data {
		if n := g.shared.cfg.trainRows(f.Len()); n < shortest {
			shortest, short = n, f.Name
		}
		count[max(seasons[i], 0)]++
	}
	H := g.shared.cfg.Horizon
	if g.cfg.Lookback > 0 {
		if shortest < g.cfg.Lookback+H {
			return 0, "", fmt.Errorf("model: series %s has %d training rows; lookback %d and horizon %d need %d", short, shortest, g.cfg.Lookback, H, g.cfg.Lookback+H)
		}
		return g.cfg.Lookback, "given", nil
	}
	season := 0
	for _, m := range slices.Sorted(maps.Keys(count)) {
		if count[m] > count[season] {
			season = m
		}
	}
	lookback, why := 24, "24 steps (most series have no season)"
	if season > 1 {
		lookback, why = 2*season, fmt.Sprintf("two seasons of %d (%d of %d series have that season)", season, count[season], len(data))
	}
	if limit := (shortest - H) / 3; lookback > limit {
		if limit < 1 {
			return 0, "", fmt.Errorf("model: series %s has %d training rows, too few for a window (horizon %d)", short, shortest, H)
		}
		lookback, why = limit, fmt.Sprintf("a third of the %d training rows of the shortest series, %s", shortest, short)
	}
	return lookback, why, nil
}

// session builds the shared network and the data of all the series.
func (g *GlobalForecaster) session(parts []*globalPart, rep *GlobalReport) (*session, error) {
	g.shared.prep = parts[0].v.prep
	if err := g.shared.build(); err != nil {
		return nil, err
	}
	var trains []*series.Windows
	valid := &globalData{}
	for _, p := range parts {
		p.v.core, p.v.net = g.shared.core, g.shared.net
		trains = append(trains, p.pr.Train)
		if p.pr.Val != nil && p.pr.Val.Len() > 0 {
			valid.parts = append(valid.parts, &windowData{f: p.v, w: p.pr.Val, pr: p.pr, bs: 64})
		}
	}
	all, err := series.ConcatWindows(trains...)
	if err != nil {
		return nil, fmt.Errorf("model: global forecaster: %w", err)
	}
	bs := g.shared.cfg.Fit.BatchSize
	rep.BatchSize, rep.Windows = bs, all.Len()
	s := &session{task: &globalTask{forecastTask{f: g.shared}}, train: &windowData{f: g.shared, w: all, bs: bs},
		shuffle: true, prep: g.prep, bodies: g.shared.net.bodies()}
	if len(valid.parts) > 0 {
		s.valid = valid
	}
	return s, nil
}

// globalData is the validation windows of every series, each scored in
// its own units.
type globalData struct{ parts []*windowData }

func (d *globalData) Len() int {
	n := 0
	for _, p := range d.parts {
		n += p.Len()
	}
	return n
}

func (d *globalData) Batch(i int) train.Batch {
	for _, p := range d.parts {
		if i < p.Len() {
			return p.Batch(i)
		}
		i -= p.Len()
	}
	panic("model: global validation batch out of range")
}

// globalTask is the forecaster's task over the windows of many series.
type globalTask struct{ forecastTask }

// Evaluate returns "loss", the training loss over every window of every
// series (they share one scaled space), and the means over series of
// "mase" and "smape", which do not depend on a series' units.
func (t *globalTask) Evaluate(d train.Data) (map[string]float64, error) {
	if wd, ok := d.(*windowData); ok {
		gd := &globalData{parts: []*windowData{wd}}
		d = gd
	}
	gd, ok := d.(*globalData)
	if !ok {
		return nil, fmt.Errorf("model: a global forecaster evaluates its own windows, got %T", d)
	}
	out := map[string]float64{"loss": 0, "mase": 0, "smape": 0}
	windows := 0
	for _, p := range gd.parts {
		m, err := (&forecastTask{f: p.f}).Evaluate(p)
		if err != nil {
			return nil, err
		}
		out["loss"] += m["loss"] * float64(p.w.Len())
		out["mase"] += m["mase"] / float64(len(gd.parts))
		out["smape"] += m["smape"] / float64(len(gd.parts))
		windows += p.w.Len()
	}
	out["loss"] /= float64(max(windows, 1))
	return out, nil
}

// summarise scores the model and each baseline present on every series.
// A series whose MASE or sMAPE is not finite (a constant training series
// has no naive scale) is left out of that mean.
func summarise(reps []SeriesReport) []MethodScore {
	means := map[string]*[4]float64{} // MASE sum, count, sMAPE sum, count
	add := func(key string, m series.Metrics) {
		a := means[key]
		if a == nil {
			a = &[4]float64{}
			means[key] = a
		}
		if !math.IsNaN(m.MASE) && !math.IsInf(m.MASE, 0) {
			a[0], a[1] = a[0]+m.MASE, a[1]+1
		}
		if !math.IsNaN(m.SMAPE) && !math.IsInf(m.SMAPE, 0) {
			a[2], a[3] = a[2]+m.SMAPE, a[3]+1
		}
	}
	model := MethodScore{Name: "global model", Of: len(reps)}
	base := map[string]*MethodScore{}
	var order []string
	for _, r := range reps {
		add(model.Name, r.Test)
		for _, b := range r.Baselines {
			key := baselineName(b.Name)
			m := base[key]
			if m == nil {
				m = &MethodScore{Name: key}
				base[key] = m
				order = append(order, key)
			}
			add(key, b.Metrics)
			m.Of++
			if r.Test.RMSE < b.Metrics.RMSE {
				m.Beaten++
			}
		}
	}
	mean := func(m *MethodScore) {
		a := means[m.Name]
		m.MASE, m.SMAPE = a[0]/a[1], a[2]/a[3] // 0/0: NaN when no series has one
	}
	mean(&model)
	out := []MethodScore{model}
	for _, k := range order {
		m := base[k]
		if m.Of != len(reps) {
			continue // not on every series: its mean would not compare
		}
		mean(m)
		out = append(out, *m)
	}
	return out
}

// MarshalJSON writes undefined means (NaN) as null.
func (m MethodScore) MarshalJSON() ([]byte, error) {
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{"name": m.Name, "mase": num(m.MASE), "smape": num(m.SMAPE), "beaten": m.Beaten, "of": m.Of})
}

// Series returns the names of the training series, in order (nil before
// Fit or Load).
func (g *GlobalForecaster) Series() []string {
	if g.prep == nil {
		return nil
	}
	names := make([]string, len(g.prep.Series))
	for i, s := range g.prep.Series {
		names[i] = s.Name
	}
	return names
}

// SeriesForecaster returns the forecaster of the training series named
// name: the shared network with that series' preprocessing, fitted on its
// training rows; nil when no training series has that name (or before
// Fit or Load). It shares g's network, so it must not be trained; it
// predicts and evaluates as a Forecaster does.
func (g *GlobalForecaster) SeriesForecaster(name string) *Forecaster {
	if g.prep == nil || g.shared.net == nil {
		return nil
	}
	i, ok := g.byName[name]
	if !ok {
		return nil
	}
	return g.viewWith(g.prep.Series[i].Prep)
}

// seriesIndex maps each series' name to its place in ss; a name given
// twice is an error (a model file edited by hand).
func seriesIndex(ss []GlobalSeries) (map[string]int, error) {
	m := make(map[string]int, len(ss))
	for i, s := range ss {
		if _, dup := m[s.Name]; dup {
			return nil, fmt.Errorf("model: two series are named %q", s.Name)
		}
		m[s.Name] = i
	}
	return m, nil
}

func (g *GlobalForecaster) viewWith(p *ForecastPrep) *Forecaster {
	return &Forecaster{core: g.shared.core, cfg: g.shared.cfg, net: g.shared.net, lossFn: g.shared.lossFn, prep: p}
}

// ForecasterFor returns the forecaster of the series f: SeriesForecaster
// of f.Name for a training series, otherwise the shared network with
// preprocessing fitted on all of f's rows (f needs at least Lookback of
// them). Like SeriesForecaster's, it must not be trained.
func (g *GlobalForecaster) ForecasterFor(f *series.Frame) (*Forecaster, error) {
	if err := g.shared.needBuilt("Predict"); err != nil {
		return nil, err
	}
	if f == nil || f.Len() == 0 {
		return nil, fmt.Errorf("model: no data")
	}
	if v := g.SeriesForecaster(f.Name); v != nil {
		return v, nil
	}
	p, err := g.newSeriesPrep(f)
	if err != nil {
		return nil, err
	}
	return g.viewWith(p), nil
}

// Lookback and Horizon return the windows' length and the steps
// forecast, the same for every series (zero before Fit or Load).
func (g *GlobalForecaster) Lookback() int {
	if g.prep == nil || len(g.prep.Series) == 0 {
		return 0
	}
	pl := g.prep.Series[0].Prep.Pipeline
	return pl.Lookback + pl.Shift()
}

// Horizon: see Lookback.
func (g *GlobalForecaster) Horizon() int {
	if g.prep == nil || len(g.prep.Series) == 0 {
		return 0
	}
	return g.prep.Series[0].Prep.Pipeline.Horizon
}

// Target returns the column every series is forecast in ("": each
// series' last value column).
func (g *GlobalForecaster) Target() string {
	if g.prep == nil {
		return g.cfg.Target
	}
	return g.prep.Target
}

// newSeriesPrep fits the preprocessing of a series not seen in training
// on all of its rows, as a training series' is fitted on its training
// rows.
func (g *GlobalForecaster) newSeriesPrep(f *series.Frame) (*ForecastPrep, error) {
	tmpl := g.prep.Series[0].Prep.Pipeline
	raw, err := f.Select(g.target(f))
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w (columns: %q)", f.Name, err, f.Columns)
	}
	cc := g.cfg.Clean
	cc.FitRows, cc.Outliers = 0, series.OutliersKeep
	clean, _, err := series.Clean(raw, cc)
	if err != nil {
		return nil, fmt.Errorf("model: cleaning %s: %w", f.Name, err)
	}
	if clean.Len() < tmpl.Lookback {
		return nil, fmt.Errorf("model: %s has %d rows; the model's windows are %d long", f.Name, clean.Len(), tmpl.Lookback)
	}
	name := clean.Columns[0]
	p := &series.Pipeline{Columns: []string{name}, Inputs: []string{name}, Targets: []string{name}, Lookback: tmpl.Lookback, Horizon: tmpl.Horizon}
	season := g.cfg.Season
	if season == 0 {
		season, _ = chooseSeason(clean, clean.Len())
	}
	season = max(season, 0)
	unscaled := clean
	if grows, _ := series.SwingGrowsWithLevel(clean.Values[0], season); g.cfg.Log || g.cfg.AutoLog && grows {
		p.Log = &series.Log{Columns: []string{name}}
		if unscaled, err = p.Log.Transform(clean); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
	}
	method := g.cfg.Scale
	if method == "" {
		method = series.MinMax
	}
	if p.Scaler, err = series.FitScaler(method, unscaled, name); err != nil {
		return nil, fmt.Errorf("model: %s: %w", f.Name, err)
	}
	prep := &ForecastPrep{Pipeline: p, Season: season, Scales: []float64{series.NaiveScale(clean.Values[0], season)}, Clean: g.cfg.Clean}
	if g.cfg.Spec.Base != "" {
		hw, err := series.AutoHoltWinters(clean.Values[0], season)
		if err != nil {
			return nil, fmt.Errorf("model: the Holt-Winters base of %s: %w", f.Name, err)
		}
		prep.HoltWinters = []*series.HoltWinters{hw}
	}
	return prep, nil
}

// Predict forecasts the Horizon steps after the last row of f, a series
// named f.Name: a training series is transformed as it was in training,
// any other is scaled on its own rows.
func (g *GlobalForecaster) Predict(f *series.Frame) (*ForecastOutput, error) {
	v, err := g.ForecasterFor(f)
	if err != nil {
		return nil, err
	}
	return v.Predict(f)
}

// Evaluate scores the forecasts of every window of f whose targets lie in
// it, with the baselines, as Forecaster.Evaluate does.
func (g *GlobalForecaster) Evaluate(f *series.Frame) (*ForecastEval, error) {
	v, err := g.ForecasterFor(f)
	if err != nil {
		return nil, err
	}
	return v.Evaluate(f)
}

// Spec returns the network's architecture.
func (g *GlobalForecaster) Spec() Spec { return g.shared.Spec() }

// Params returns the network's parameters in state_dict order.
func (g *GlobalForecaster) Params() []*nn.Param { return g.shared.Params() }

// NumParams returns the number of scalar parameters.
func (g *GlobalForecaster) NumParams() int { return g.shared.NumParams() }

// Metrics returns the summary of the last Fit, as saved.
func (g *GlobalForecaster) Metrics() json.RawMessage { return g.shared.Metrics() }

// InitFrom copies every parameter of src with the same name and shape.
func (g *GlobalForecaster) InitFrom(src *checkpoint.File) (*Transfer, error) {
	return g.shared.InitFrom(src)
}

// Task returns the training task over batches of windows.
func (g *GlobalForecaster) Task() train.Task { return &globalTask{forecastTask{f: g.shared}} }

// Save writes the model file: the network, its spec, every training
// series' preprocessing and the summary.
func (g *GlobalForecaster) Save(path string) error { return g.shared.save(path, g.prep) }

// File returns what Save writes, in memory.
func (g *GlobalForecaster) File() (*checkpoint.File, error) { return g.shared.file(g.prep) }

func (g *GlobalForecaster) base() *core { return &g.shared.core }

// isGlobalPrep says whether a forecaster's prep is a global model's.
func isGlobalPrep(b json.RawMessage) bool {
	var probe struct {
		Global bool `json:"global"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Global
}

// globalFrom rebuilds a global forecaster from a model file's spec and
// prep.
func globalFrom(s Spec, b json.RawMessage) (*GlobalForecaster, error) {
	var p GlobalPrep
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("model: global forecast preprocessing state: %w", err)
	}
	if len(p.Series) == 0 {
		return nil, fmt.Errorf("model: global forecast preprocessing state has no series")
	}
	for i, sp := range p.Series {
		if sp.Prep == nil || sp.Prep.Pipeline == nil {
			return nil, fmt.Errorf("model: global forecast preprocessing state: series %d (%q) has no pipeline", i, sp.Name)
		}
		pl := sp.Prep.Pipeline
		if len(pl.Inputs) != s.Inputs || len(pl.Targets) != s.Targets || pl.Horizon != s.Horizon || pl.Lookback != p.Series[0].Prep.Pipeline.Lookback {
			return nil, fmt.Errorf("model: global forecast preprocessing state: series %q has %d inputs, %d targets, horizon %d, lookback %d; the spec %d, %d, %d and series 0 lookback %d",
				sp.Name, len(pl.Inputs), len(pl.Targets), pl.Horizon, pl.Lookback, s.Inputs, s.Targets, s.Horizon, p.Series[0].Prep.Pipeline.Lookback)
		}
	}
	raw, err := json.Marshal(p.Series[0].Prep)
	if err != nil {
		return nil, err
	}
	f, err := forecasterFrom(s, raw)
	if err != nil {
		return nil, err
	}
	cfg := GlobalConfig{Spec: s, Target: p.Target, Season: p.Season, Log: p.Log, AutoLog: p.AutoLog, Scale: p.Scale, Clean: p.Clean}
	byName, err := seriesIndex(p.Series)
	if err != nil {
		return nil, fmt.Errorf("model: global forecast preprocessing state: %w", err)
	}
	return &GlobalForecaster{shared: f, cfg: cfg, prep: &p, byName: byName}, nil
}
