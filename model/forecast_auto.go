package model

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// BaseAuto is the Spec.Base of a forecaster that chooses its own form on a
// validation tail of its training rows (Forecaster.Fit): the network
// alone, the network correcting Holt-Winters, Holt-Winters alone, ARIMA
// alone, or the mean of the two. The
// saved model holds the form chosen, never "auto".
const BaseAuto = "auto"

// minChoiceWindows is the fewest validation windows the choice of a
// form is made on; with fewer, an automatic forecaster is Holt-Winters.
const minChoiceWindows = 8

// autoCandidate is one form an automatic forecaster may take.
type autoCandidate struct {
	name     string // as reported
	base     string // Spec.Base of the forecaster that realises it
	local    bool   // Spec.Local
	baseOnly bool   // the statistical base alone: the hybrid with its correction dropped
	// parts are the labels of the baselines (series.Baselines) whose
	// mean a base-only form forecasts.
	parts []string
	rmse  float64
}

// chooseForm sets f.cfg.Spec (Base, Local) and f.baseOnly to the form that
// forecasts the validation tail best, the M4 competition's lesson put
// to work: on a short series, a network rarely beats exponential
// smoothing, and sometimes corrects it. The tail is the validation rows
// when ValFraction is set, otherwise the last fifth of the training rows
// (the outer protocol's share); each candidate is fitted on the rows
// before the tail and scored one window per origin on it, as the test
// rows will be, and again one tail earlier when four tails of rows
// precede it (the score is the RMSE over both folds). The chosen form is
// then fitted by Fit on every training row. It also takes the log of a
// positive series whose seasonal swing grows with its level.
func (f *Forecaster) chooseForm(ctx context.Context, data *series.Frame, rep *ForecastReport) error {
	f.baseOnly = false
	if len(f.cfg.Diffs) > 0 {
		f.cfg.Spec.Base = ""
		rep.Notes = append(rep.Notes, "form: the network alone (differencing does not combine with a Holt-Winters base)")
		return nil
	}
	raw, err := f.columns(data)
	if err != nil {
		return err
	}
	n := raw.Len()
	nTest := int(math.Round(f.cfg.TestFraction * float64(n)))
	if f.cfg.TestRows > 0 {
		nTest = f.cfg.TestRows
	}
	nVal := int(f.cfg.ValFraction * float64(n))
	tail := nVal
	if tail == 0 {
		tail = int(math.Round(0.2 * float64(n-nTest)))
	}
	before := raw.Slice(0, n-nTest)
	if tail < f.cfg.Horizon || n-nTest-tail < 8 {
		f.cfg.Spec.Base = ""
		rep.Notes = append(rep.Notes, fmt.Sprintf("form: the network alone (%d rows before the test rows are too few to choose on a validation tail)", n-nTest))
		return nil
	}
	f.autoLog(before.Slice(0, before.Len()-tail), rep)
	if tail-f.cfg.Horizon+1 < minChoiceWindows {
		// Too few windows to tell a network from exponential smoothing
		// apart: the statistics are the safer default.
		f.cfg.Spec.Base, f.baseOnly, f.cfg.Spec.Residual = BaseHoltWinters, true, false
		rep.Form = "Holt-Winters alone"
		rep.Notes = append(rep.Notes, fmt.Sprintf("form: Holt-Winters alone (the last %d rows before the test rows give fewer than %d validation windows to choose a network on)", tail, minChoiceWindows))
		return nil
	}
	cands := []*autoCandidate{{name: "network"}, {name: "network on local windows", local: true}, {name: "network correcting Holt-Winters", base: BaseHoltWinters},
		{name: "Holt-Winters alone", base: BaseHoltWinters, baseOnly: true, parts: []string{"holt-winters"}},
		{name: "ARIMA alone", base: BaseARIMA, baseOnly: true, parts: []string{"arima"}},
		{name: "Holt-Winters and ARIMA averaged", base: BaseCombined, baseOnly: true, parts: []string{"holt-winters", "arima"}}}
	// Two folds where the rows allow (the tail and the tail before it,
	// each form refitted on the rows before its fold): a choice made on
	// one short tail follows the noise of a few points.
	folds := 1
	if before.Len()-2*tail >= 2*tail {
		folds = 2
	}
	if err := f.scoreForms(ctx, before, tail, folds, cands); err != nil {
		return err
	}
	best := cands[0]
	var parts []string
	rep.FormScores = map[string]float64{}
	for _, c := range cands {
		if c.rmse < best.rmse {
			best = c
		}
		rep.FormScores[c.name] = c.rmse
		parts = append(parts, fmt.Sprintf("%s %.4g", c.name, c.rmse))
	}
	f.cfg.Spec.Base, f.cfg.Spec.Local, f.baseOnly = best.base, f.cfg.Spec.Local || best.local, best.baseOnly
	f.cfg.Spec.Residual = f.cfg.Spec.Residual && best.base == ""
	rep.Form = best.name
	rep.Notes = append(rep.Notes, fmt.Sprintf("form: %s, chosen on %s of %d rows before the test rows (validation RMSE: %s)", best.name, map[int]string{1: "the last", 2: "the last two folds"}[folds], tail, strings.Join(parts, ", ")))
	return nil
}

// scoreForms sets each candidate's RMSE over the last folds tails of
// before: the networks' by fitting them on the rows before each tail, the
// statistical forms' from the baselines the hybrid's fit reports on the
// same rows (their forecasts averaged for a combination). A candidate
// without a figure on every fold (a model that could not be fitted) gets
// +Inf.
func (f *Forecaster) scoreForms(ctx context.Context, before *series.Frame, tail, folds int, cands []*autoCandidate) error {
	sq, count := map[*autoCandidate]float64{}, map[*autoCandidate]int{}
	add := func(c *autoCandidate, rmse float64) {
		sq[c] += rmse * rmse / float64(folds)
		count[c]++
	}
	for k := range folds {
		g := before.Slice(0, before.Len()-k*tail)
		for _, c := range cands {
			if c.baseOnly {
				continue
			}
			r, err := f.tryForm(ctx, g, tail, c)
			if err != nil {
				return fmt.Errorf("model: choosing the forecaster's form (%s): %w", c.name, err)
			}
			add(c, r.Test.RMSE)
			if c.base == "" {
				continue
			}
			for _, s := range cands {
				if !s.baseOnly {
					continue
				}
				if rmse, ok := meanOfBaselines(r, s.parts); ok {
					add(s, rmse)
				}
			}
		}
	}
	for _, c := range cands {
		c.rmse = math.Sqrt(sq[c])
		if count[c] < folds {
			c.rmse = math.Inf(1)
		}
	}
	return nil
}

// meanOfBaselines is the RMSE of the mean of r's baselines labelled parts
// on r's test windows; ok is false when one of them is missing.
func meanOfBaselines(r *ForecastReport, parts []string) (rmse float64, ok bool) {
	var mean *tensor.Tensor
	for _, label := range parts {
		i := slices.IndexFunc(r.Baselines, func(b series.Scored) bool {
			l, _, _ := strings.Cut(b.Name, " ")
			return l == label
		})
		if i < 0 || r.Baselines[i].Forecast == nil {
			return 0, false
		}
		if mean == nil {
			mean = tensor.New(r.Baselines[i].Forecast.Shape...)
		}
		for j, v := range r.Baselines[i].Forecast.Data {
			mean.Data[j] += v / float32(len(parts))
		}
	}
	if mean == nil || r.Actual == nil {
		return 0, false
	}
	return series.Score(mean, r.Actual, nil).RMSE, true
}

// autoLog turns on the log of the targets when the first target of the
// rows y is positive and its seasonal swing grows with its level.
func (f *Forecaster) autoLog(g *series.Frame, rep *ForecastReport) {
	if f.cfg.Log || len(g.Values) == 0 {
		return
	}
	cc := f.cfg.Clean
	cc.FitRows = 0
	clean, _, err := series.Clean(g, cc)
	if err != nil {
		return
	}
	season := f.cfg.Season
	if season == 0 {
		season, _ = chooseSeason(clean, clean.Len())
	}
	if grows, b := series.SwingGrowsWithLevel(clean.Values[0], season); grows {
		f.cfg.Log = true
		rep.Notes = append(rep.Notes, fmt.Sprintf("log of the targets: the seasonal swing grows with the level (each season's spread goes as its mean to the power %.2f)", b))
	}
}

// tryForm fits a forecaster of form c on the rows of g but its last
// tail, quietly, and scores it on the tail.
func (f *Forecaster) tryForm(ctx context.Context, g *series.Frame, tail int, c *autoCandidate) (*ForecastReport, error) {
	cfg := f.cfg
	cfg.Spec.Base, cfg.Spec.Local = c.base, cfg.Spec.Local || c.local
	cfg.Spec.Residual = cfg.Spec.Residual && c.base == ""
	cfg.TestRows, cfg.TestFraction, cfg.ValFraction, cfg.Conformal = tail, 0, 0, false
	fit := cfg.Fit
	fit.Train = train.Config{Epochs: fit.Train.Epochs, Accum: fit.Train.Accum, ClipNorm: fit.Train.ClipNorm, ClipValue: fit.Train.ClipValue, Freeze: fit.Train.Freeze, UnfreezeAfter: fit.Train.UnfreezeAfter, Precision: fit.Train.Precision}
	fit.Resume = nil
	cfg.Fit = fit
	inner, err := NewForecaster(cfg)
	if err != nil {
		return nil, err
	}
	// Only the hybrid's baselines score the statistical forms.
	inner.skipModelBaselines = c.base == ""
	return inner.Fit(ctx, g)
}
