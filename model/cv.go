package model

import (
	"context"
	"fmt"
	"math"

	"github.com/recur-ml/recur/data/series"
)

// CVReport is a walk-forward cross-validation: one forecaster per fold.
type CVReport struct {
	// Folds are each fold's report, oldest test block first.
	Folds []*ForecastReport
	// Mean and Std are each metric's mean and standard deviation over the
	// folds (population, as the folds are all there is), by name: rmse,
	// mae, mape, smape, mase, and "baseline/<name>/<metric>" for the
	// baselines.
	Mean, Std map[string]float64
}

// CrossValidate runs a walk-forward cross-validation of cfg on data: the
// last TestFraction of the rows (zero: 0.33) is cut into folds blocks;
// fold k trains a fresh forecaster on every row before block k (an
// expanding window, its validation rows taken from the end as cfg says)
// and tests on block k. Seeds are cfg's for every fold.
func CrossValidate(ctx context.Context, cfg ForecastConfig, data *series.Frame, folds int) (*CVReport, error) {
	if data == nil || data.Len() == 0 {
		return nil, fmt.Errorf("model: cross-validation: no data")
	}
	test := cfg.TestFraction
	if test == 0 {
		test = 0.33
	}
	n := data.Len()
	block := int(math.Round(test*float64(n))) / max(folds, 1)
	if folds < 2 || block < 1 {
		return nil, fmt.Errorf("model: cross-validation: %d folds of the last %g of %d rows: want at least 2 folds of a row or more", folds, test, n)
	}
	rep := &CVReport{}
	for k := range folds {
		end := n - (folds-1-k)*block
		c := cfg
		c.TestRows, c.TestFraction = block, 0
		fc, err := NewForecaster(c)
		if err != nil {
			return nil, err
		}
		r, err := fc.Fit(ctx, data.Slice(0, end))
		if err != nil {
			return nil, fmt.Errorf("model: fold %d (rows [%d, %d)): %w", k+1, end-block, end, err)
		}
		rep.Folds = append(rep.Folds, r)
	}
	rep.Mean, rep.Std = foldStats(rep.Folds)
	return rep, nil
}

// foldStats averages the folds' test and baseline metrics.
func foldStats(folds []*ForecastReport) (mean, std map[string]float64) {
	values := map[string][]float64{}
	add := func(prefix string, m series.Metrics) {
		for k, v := range map[string]float64{"rmse": m.RMSE, "mae": m.MAE, "mape": m.MAPE, "smape": m.SMAPE, "mase": m.MASE} {
			values[prefix+k] = append(values[prefix+k], v)
		}
	}
	for _, f := range folds {
		add("", f.Test)
		for _, b := range f.Baselines {
			add("baseline/"+baselineName(b.Name)+"/", b.Metrics)
		}
	}
	mean, std = map[string]float64{}, map[string]float64{}
	for k, vs := range values {
		var s, ss float64
		for _, v := range vs {
			s += v
		}
		m := s / float64(len(vs))
		for _, v := range vs {
			ss += (v - m) * (v - m)
		}
		mean[k], std[k] = m, math.Sqrt(ss/float64(len(vs)))
	}
	return mean, std
}

// baselineName drops a baseline name's parenthesis: "seasonal naive
// (12)" is "seasonal naive".
func baselineName(name string) string {
	for i := range name {
		if name[i] == '(' && i > 0 {
			return name[:i-1]
		}
	}
	return name
}
