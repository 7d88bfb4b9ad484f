package series

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/recur-ml/recur/tensor"
)

// The baselines below forecast the windows w from what is known at each
// window's origin, in the units of the frame given (pass the original,
// unscaled frame to score in original units). Each returns an (N, H, K)
// tensor aligned with w.Y.

// Actual returns w's targets read from f: (N, H, K). Use it with the
// original-unit frame to get the truth that forecasts are scored against.
func Actual(f *Frame, w *Windows) (*tensor.Tensor, error) {
	return forecast(f, w, func(_ int, y []float64, s, j int) float64 { return y[s+j] })
}

// Persistence forecasts every step of a window with the last known value,
// y[s−1] for origin s.
func Persistence(f *Frame, w *Windows) (*tensor.Tensor, error) {
	return forecast(f, w, func(_ int, y []float64, s, _ int) float64 { return y[s-1] })
}

// SeasonalNaive forecasts step j of a window with origin s by the value one
// season before the target, y[s+j−m·k] with k = 1 + j/m, so that only
// values before s are used. Windows with s < season are an error.
func SeasonalNaive(f *Frame, w *Windows, season int) (*tensor.Tensor, error) {
	if season < 1 {
		return nil, fmt.Errorf("series: seasonal naive with season %d", season)
	}
	if len(w.Origin) > 0 && w.Origin[0] < season {
		return nil, fmt.Errorf("series: seasonal naive with season %d needs windows with origin ≥ %d, first origin is %d", season, season, w.Origin[0])
	}
	return forecast(f, w, func(_ int, y []float64, s, j int) float64 { return y[s+j-season*(1+j/season)] })
}

// MeanForecast forecasts every step with the mean of the target over the
// training rows.
func MeanForecast(f *Frame, w *Windows, train Range) (*tensor.Tensor, error) {
	if train.From < 0 || train.To > f.Len() || train.Len() < 1 {
		return nil, fmt.Errorf("series: training rows [%d, %d) of a series of %d rows", train.From, train.To, f.Len())
	}
	means := make([]float64, len(w.Targets))
	for k, name := range w.Targets {
		y, err := f.Column(name)
		if err != nil {
			return nil, err
		}
		means[k], _ = meanStd(observed(y[train.From:train.To]))
	}
	return forecast(f, w, func(k int, _ []float64, _, _ int) float64 { return means[k] })
}

// forecast fills an (N, H, K) tensor with fn(k, target column k of f,
// origin, step).
func forecast(f *Frame, w *Windows, fn func(k int, y []float64, s, j int) float64) (*tensor.Tensor, error) {
	cols := make([][]float64, len(w.Targets))
	for k, name := range w.Targets {
		y, err := f.Column(name)
		if err != nil {
			return nil, err
		}
		cols[k] = y
	}
	if n := len(w.Origin); n > 0 && w.Origin[n-1]+w.Horizon > f.Len() {
		return nil, fmt.Errorf("series: %swindows reach row %d of a series of %d rows", f.prefix(), w.Origin[n-1]+w.Horizon, f.Len())
	}
	K := len(cols)
	out := tensor.New(len(w.Origin), w.Horizon, K)
	for i, s := range w.Origin {
		for j := range w.Horizon {
			for k, y := range cols {
				out.Data[(i*w.Horizon+j)*K+k] = float32(fn(k, y, s, j))
			}
		}
	}
	return out, nil
}

// DetectSeason returns the season length of y found by autocorrelation:
// the lag in [2, maxLag] where the autocorrelation of the first
// differences (which removes a trend) is highest, provided it is a local
// peak above 0.2; 0 when there is none.
func DetectSeason(y []float64, maxLag int) int {
	d := make([]float64, 0, len(y))
	for i := 1; i < len(y); i++ {
		if !isMissing(y[i]) && !isMissing(y[i-1]) {
			d = append(d, y[i]-y[i-1])
		}
	}
	maxLag = min(maxLag, len(d)/2)
	if maxLag < 2 {
		return 0
	}
	m, _ := meanStd(d)
	var c0 float64
	for _, x := range d {
		c0 += (x - m) * (x - m)
	}
	if c0 == 0 {
		return 0
	}
	acf := make([]float64, maxLag+2)
	for lag := 1; lag <= maxLag+1 && lag < len(d); lag++ {
		var c float64
		for i := lag; i < len(d); i++ {
			c += (d[i] - m) * (d[i-lag] - m)
		}
		acf[lag] = c / c0
	}
	best, bestR := 0, 0.2
	for lag := 2; lag <= maxLag; lag++ {
		if r := acf[lag]; r > bestR && r >= acf[lag-1] && r >= acf[lag+1] {
			best, bestR = lag, r
		}
	}
	return best
}

// NaiveScale returns the in-sample mean absolute error of the seasonal
// naive forecast (season 1: persistence) over y, the MASE denominator:
// mean |y[t] − y[t−season]| for t ≥ season. Compute it on the training
// rows only.
func NaiveScale(y []float64, season int) float64 {
	season = max(season, 1)
	var sum float64
	n := 0
	for t := season; t < len(y); t++ {
		if !isMissing(y[t]) && !isMissing(y[t-season]) {
			sum += math.Abs(y[t] - y[t-season])
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Metrics are forecast errors in the units of the data. MAPE and sMAPE are
// percentages; MAPE skips zero actual values (NaN when all are zero).
type Metrics struct {
	RMSE  float64 `json:"rmse"`
	MAE   float64 `json:"mae"`
	MAPE  float64 `json:"mape"`
	SMAPE float64 `json:"smape"`
	MASE  float64 `json:"mase"` // MAE / scale, per target; NaN without a scale
}

// MarshalJSON writes undefined metrics (NaN) as null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		RMSE  jsonNum `json:"rmse"`
		MAE   jsonNum `json:"mae"`
		MAPE  jsonNum `json:"mape"`
		SMAPE jsonNum `json:"smape"`
		MASE  jsonNum `json:"mase"`
	}{jsonNum(m.RMSE), jsonNum(m.MAE), jsonNum(m.MAPE), jsonNum(m.SMAPE), jsonNum(m.MASE)})
}

func (m Metrics) String() string {
	return fmt.Sprintf("RMSE %.4g  MAE %.4g  MAPE %.4g%%  sMAPE %.4g%%  MASE %.4g", m.RMSE, m.MAE, m.MAPE, m.SMAPE, m.MASE)
}

// Score compares a forecast with the actual values, both (N, H, K) (or any
// equal shapes whose last axis is the K targets), accumulating in float64.
// scale holds each target's MASE denominator (NaiveScale of its training
// values); nil leaves MASE NaN. It panics if the shapes differ.
func Score(pred, actual *tensor.Tensor, scale []float64) Metrics {
	if !tensor.SameShape(pred, actual) {
		panic(fmt.Sprintf("series: Score of shape %v against %v", pred.Shape, actual.Shape))
	}
	K := 1
	if len(actual.Shape) > 0 {
		K = actual.Dim(-1)
	}
	if scale != nil && len(scale) != K {
		panic(fmt.Sprintf("series: Score with %d scales for %d targets", len(scale), K))
	}
	var se, ae, ape, sape, ase float64
	nape := 0
	for i, a32 := range actual.Data {
		a, p := float64(a32), float64(pred.Data[i])
		e := math.Abs(p - a)
		se += e * e
		ae += e
		if a != 0 {
			ape += e / math.Abs(a)
			nape++
		}
		if d := math.Abs(a) + math.Abs(p); d != 0 {
			sape += 2 * e / d
		}
		if scale != nil {
			ase += e / scale[i%K]
		}
	}
	n := float64(len(actual.Data))
	m := Metrics{RMSE: math.Sqrt(se / n), MAE: ae / n, MAPE: 100 * ape / float64(nape), SMAPE: 100 * sape / n, MASE: math.NaN()}
	if scale != nil {
		m.MASE = ase / n
	}
	return m
}

// BaselineConfig configures Baselines.
type BaselineConfig struct {
	Train Range // training rows: the mean and the MASE scale come from them
	// Season for the seasonal naive baseline and MASE; zero detects it on
	// the training rows of the first target (DetectSeason up to MaxLag);
	// negative skips the seasonal baseline and scales MASE by persistence.
	Season int
	MaxLag int // zero means min(training rows / 2, 400)
	// SkipModels leaves out the fitted models (Holt-Winters, ARIMA), the
	// costly baselines, for a caller that does not read them.
	SkipModels bool
}

// Scored is a named forecast with its metrics.
type Scored struct {
	Name     string         `json:"name"`
	Metrics  Metrics        `json:"metrics"`
	Forecast *tensor.Tensor `json:"-"` // (N, H, K)
}

// Baselines scores persistence, seasonal naive (when a season is given or
// found and every window starts at least one season into the series), the
// training mean, Holt-Winters and ARIMA (statBaselines) on the windows w,
// against the actual values in f (pass the original-unit frame). It also returns the season used (0
// when none) and the per-target MASE scales, to score a model with
// Score(pred, actual, scales) on the same footing.
func Baselines(f *Frame, w *Windows, cfg BaselineConfig) (scored []Scored, season int, scales []float64, err error) {
	if cfg.Train.From < 0 || cfg.Train.To > f.Len() || cfg.Train.Len() < 2 {
		return nil, 0, nil, fmt.Errorf("series: training rows [%d, %d) of a series of %d rows", cfg.Train.From, cfg.Train.To, f.Len())
	}
	actual, err := Actual(f, w)
	if err != nil {
		return nil, 0, nil, err
	}
	season = cfg.Season
	if season == 0 {
		maxLag := cfg.MaxLag
		if maxLag == 0 {
			maxLag = min(cfg.Train.Len()/2, 400)
		}
		y, _ := f.Column(w.Targets[0])
		season = DetectSeason(y[cfg.Train.From:cfg.Train.To], maxLag)
	}
	season = max(season, 0)
	for _, name := range w.Targets {
		y, _ := f.Column(name)
		scales = append(scales, NaiveScale(y[cfg.Train.From:cfg.Train.To], season))
	}
	add := func(name string, p *tensor.Tensor, err2 error) {
		if err2 != nil {
			if err == nil {
				err = err2
			}
			return
		}
		scored = append(scored, Scored{Name: name, Metrics: Score(p, actual, scales), Forecast: p})
	}
	p, e := Persistence(f, w)
	add("persistence", p, e)
	if season > 0 && (len(w.Origin) == 0 || w.Origin[0] >= season) {
		p, e = SeasonalNaive(f, w, season)
		add(fmt.Sprintf("seasonal naive (%d)", season), p, e)
	}
	p, e = MeanForecast(f, w, cfg.Train)
	add("mean", p, e)
	for _, b := range statBaselines {
		if cfg.SkipModels {
			break
		}
		if names, p, ok := statBaseline(f, w, cfg.Train, season, b.fit); ok {
			name := b.label
			if len(names) == 1 {
				name += " (" + names[0] + ")"
			}
			add(name, p, nil)
		}
	}
	if err != nil {
		return nil, 0, nil, err
	}
	return scored, season, scales, nil
}

// StatModel is a statistical forecaster fitted to one series: Holt-Winters
// or ARIMA. Forecast returns, for each origin s, the forecasts of rows s
// to s+h-1 made from the rows of y before s.
type StatModel interface {
	Name() string
	Forecast(y []float64, origins []int, h int) [][]float64
}

// statBaselines are the statistical baselines every forecast is scored
// against: each target's model of lowest AIC (Holt-Winters) or AICc
// (ARIMA, chosen as R's auto.arima chooses) fitted on its training rows.
var statBaselines = []struct {
	label string
	fit   func(y []float64, season int) (StatModel, error)
}{
	{"holt-winters", func(y []float64, season int) (StatModel, error) { return AutoHoltWinters(y, season) }},
	{"arima", func(y []float64, season int) (StatModel, error) { return AutoARIMA(y, season) }},
}

// statBaseline forecasts the windows with the model fit chooses for each
// target's training rows; ok is false when a target cannot be fitted
// (missing values, too few rows), and the baseline is then left out.
func statBaseline(f *Frame, w *Windows, train Range, season int, fit func([]float64, int) (StatModel, error)) (names []string, out *tensor.Tensor, ok bool) {
	K, H := len(w.Targets), w.Horizon
	out = tensor.New(len(w.Origin), H, K)
	for k, col := range w.Targets {
		y, err := f.Column(col)
		if err != nil {
			return nil, nil, false
		}
		m, err := fit(y[train.From:train.To], season)
		if err != nil {
			return nil, nil, false
		}
		names = append(names, m.Name())
		origins := make([]int, len(w.Origin))
		for i, o := range w.Origin {
			origins[i] = o - train.From
		}
		if slices.Min(append(origins, 0)) < 0 {
			return nil, nil, false // a window before the fitting rows
		}
		for i, fc := range m.Forecast(y[train.From:], origins, H) {
			for j, v := range fc {
				out.Data[(i*H+j)*K+k] = float32(v)
			}
		}
	}
	return names, out, true
}

// ScoreBy scores pred against actual, both (N, H, K), separately for each
// target (over every window and step) and for each forecast step (over
// every window and target), with each target's MASE scale (nil: MASE NaN).
func ScoreBy(pred, actual *tensor.Tensor, scale []float64) (byTarget, byStep []Metrics) {
	if len(actual.Shape) != 3 || !tensor.SameShape(pred, actual) {
		panic(fmt.Sprintf("series: ScoreBy of shape %v against %v, want two equal (N, H, K)", pred.Shape, actual.Shape))
	}
	N, H, K := actual.Shape[0], actual.Shape[1], actual.Shape[2]
	pick := func(keep func(h, k int) bool, n int) (*tensor.Tensor, *tensor.Tensor) {
		p, a := tensor.New(n), tensor.New(n)
		i := 0
		for w := range N {
			for h := range H {
				for k := range K {
					if keep(h, k) {
						j := (w*H+h)*K + k
						p.Data[i], a.Data[i] = pred.Data[j], actual.Data[j]
						i++
					}
				}
			}
		}
		return p, a
	}
	for k := range K {
		p, a := pick(func(_, kk int) bool { return kk == k }, N*H)
		var s []float64
		if scale != nil {
			s = scale[k : k+1]
		}
		byTarget = append(byTarget, Score(p.Reshape(N*H, 1), a.Reshape(N*H, 1), s))
	}
	for h := range H {
		p, a := pick(func(hh, _ int) bool { return hh == h }, N*K)
		byStep = append(byStep, Score(p.Reshape(N, K), a.Reshape(N, K), scale))
	}
	return byTarget, byStep
}
