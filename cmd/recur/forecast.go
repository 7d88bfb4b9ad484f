package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/report"
	"github.com/recur-ml/recur/train"
)

// readFrame reads --data (default: the embedded AirPassengers) and checks
// that the --target and --inputs columns are in it.
func (o *trainOpts) readFrame() (*series.Frame, error) {
	var (
		f   *series.Frame
		err error
	)
	if o.Data == "" {
		f, err = dataset.AirPassengers()
	} else {
		f, err = series.ReadFile(o.Data, series.CSVOptions{TimeColumn: o.Time, Limits: limits(o.MaxLineBytes, o.MaxFileBytes)})
	}
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	for _, flag := range []struct{ name, list string }{{"target", o.Target}, {"inputs", o.Inputs}} {
		for _, c := range splitList(flag.list) {
			if _, err := f.Index(c); err != nil {
				return nil, fmt.Errorf("--%s %s: %s has columns %s", flag.name, input.Quote(c), f.Name, input.QuoteList(f.Columns))
			}
		}
	}
	return f, nil
}

func forecastJob(r *runner) (*job, error) {
	o := r.o
	frame, err := o.readFrame()
	if err != nil {
		return nil, err
	}
	clean, _ := o.cleanConfig()
	var diffs []int
	for _, d := range o.diffs() {
		diffs = append(diffs, int(d))
	}
	fit, err := r.fitConfig(o.ValFraction > 0)
	if err != nil {
		return nil, err
	}
	cfg := model.ForecastConfig{Spec: o.spec(), Targets: splitList(o.Target), Inputs: splitList(o.Inputs),
		Lookback: o.Lookback, Horizon: o.Horizon, TestFraction: o.TestFraction, ValFraction: o.ValFraction, Season: o.Season, Conformal: o.Conformal,
		Log: o.Log, Diffs: diffs, Scale: series.ScaleMethod(o.Scale), Clean: clean, Fit: fit}
	if o.CV == "walk-forward" {
		return cvJob(cfg, frame, o.Folds)
	}
	var fc *model.Forecaster
	info := func() string { return forecastInfo(fc, frame) }
	cfg.Fit.Train.Callbacks = r.callbacks(func() model.Model { return fc }, info)
	if fc, err = model.NewForecaster(cfg); err != nil {
		return nil, flagError(err)
	}
	if err := setMC(fc, o.MCDropout, o.MCLevels); err != nil {
		return nil, err
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := fc.Fit(ctx, frame)
			if err != nil {
				return nil, err
			}
			return forecastOutcome(fc, rep, frame, info()), nil
		},
		find: func(ctx context.Context, c lrfind.Config) (*lrfind.Result, error) { return fc.FindLR(ctx, frame, c) },
	}, nil
}

// forecastInfo describes the run: data, split, choices and network.
func forecastInfo(fc *model.Forecaster, f *series.Frame) string {
	p := fc.Plan()
	s := fc.Spec()
	pl := fc.Prep().Pipeline
	var b strings.Builder
	fmt.Fprintf(&b, "forecast %s: %d rows (train %d, validation %d, test %d), target %q, lookback %d, horizon %d, batch size %d; %s %d×%d, %d parameters",
		filepath.Base(f.Name), f.Len(), p.Split.Train.Len(), p.Split.Val.Len(), p.Split.Test.Len(), pl.Targets, pl.Lookback, pl.Horizon, p.BatchSize,
		s.Cell, s.Layers, s.Hidden, fc.NumParams())
	if s.Ensemble > 1 {
		fmt.Fprintf(&b, " in an ensemble of %d networks (their mean forecasts)", s.Ensemble)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "\nchose %s", n)
	}
	if c := p.Cleaning; c != nil && (len(c.Missing) > 0 || len(c.Outliers) > 0 || len(c.DroppedRows) > 0 || c.Unsorted > 0) {
		fmt.Fprintf(&b, "\ncleaning: %s", strings.ReplaceAll(c.String(), "\n", "\n  "))
	}
	return b.String()
}

// forecastOutcome collects a forecaster's metrics, baselines, plot and
// summary.
func forecastOutcome(fc *model.Forecaster, rep *model.ForecastReport, f *series.Frame, info string) *outcome {
	out := &outcome{m: fc, result: rep.Result, info: info, baselines: map[string]any{},
		metrics: metricsOf(rep.Result, map[string]any{"test": metricMap(rep.Test)})}
	for _, b := range rep.Baselines {
		out.baselines[baselineKey(b.Name)] = metricMap(b.Metrics)
	}
	if f, err := report.Forecast(fc, rep); err == nil {
		out.figs = append(out.figs, f)
	}
	if d := rep.Direction; d.N > 0 {
		out.metrics["test direction"] = map[string]float64{"accuracy": d.Accuracy, "ci_low": d.Lo, "ci_high": d.Hi, "steps": float64(d.N)}
	}
	if iv := rep.Intervals; iv != nil {
		out.metrics["test interval"] = map[string]float64{"nominal": iv.Nominal, "coverage": iv.Coverage, "width": iv.Width, "msis": iv.MSIS}
	}
	for h, m := range rep.ByStep {
		if len(rep.ByStep) > 1 {
			out.metrics[fmt.Sprintf("test step %d", h+1)] = metricMap(m)
		}
	}
	for k, m := range rep.ByTarget {
		if len(rep.ByTarget) > 1 {
			out.metrics["test "+rep.Targets[k]] = metricMap(m)
		}
	}
	out.human = func(w io.Writer) {
		if rep.BaseChoice != "" {
			fmt.Fprintln(w, rep.BaseChoice)
		}
		fmt.Fprintf(w, "test %v  (%d windows of %s)\n", rep.Test, len(rep.Origins), filepath.Base(f.Name))
		if rep.Direction.N > 0 {
			fmt.Fprintf(w, "test %v\n", rep.Direction)
		}
		if iv := rep.Intervals; iv != nil {
			cal := ""
			if rep.Calibrated > 0 {
				cal = fmt.Sprintf(" (calibrated on %d validation windows)", rep.Calibrated)
			}
			fmt.Fprintf(w, "test %v%s; share below each level %s\n", iv, cal, formatShares(iv.Levels, iv.Below))
		}
		if len(rep.ByStep) > 1 {
			for h, m := range rep.ByStep {
				fmt.Fprintf(w, "  step %-3d %v\n", h+1, m)
			}
		}
		if len(rep.ByTarget) > 1 {
			for k, m := range rep.ByTarget {
				fmt.Fprintf(w, "  %-8s %v\n", rep.Targets[k], m)
			}
		}
		var parts []string
		for _, b := range rep.Baselines {
			name := b.Name
			if strings.HasPrefix(name, "seasonal naive") {
				name = fmt.Sprintf("seasonal-naive (season %d)", rep.Season)
			}
			parts = append(parts, fmt.Sprintf("%s RMSE %.2f", name, b.Metrics.RMSE))
		}
		fmt.Fprintf(w, "baselines: %s\n", strings.Join(parts, ", "))
	}
	return out
}

// formatShares writes "0.1: 9.5%, 0.9: 88.0%".
func formatShares(levels, shares []float64) string {
	parts := make([]string, len(levels))
	for i, l := range levels {
		parts[i] = fmt.Sprintf("%g: %.1f%%", l, 100*shares[i])
	}
	return strings.Join(parts, ", ")
}

// baselineKey is a baseline's JSON key: "seasonal naive (12)" is
// "seasonal_naive".
func baselineKey(name string) string {
	name, _, _ = strings.Cut(name, " (")
	return strings.ReplaceAll(name, " ", "_")
}

func metricMap(m series.Metrics) map[string]float64 {
	return map[string]float64{"rmse": m.RMSE, "mae": m.MAE, "mape": m.MAPE, "smape": m.SMAPE, "mase": m.MASE}
}

// cvJob is a walk-forward cross-validation: no model is kept.
func cvJob(cfg model.ForecastConfig, frame *series.Frame, folds int) (*job, error) {
	if _, err := model.NewForecaster(cfg); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := model.CrossValidate(ctx, cfg, frame, folds)
			if err != nil {
				return nil, err
			}
			out := &outcome{result: &train.Result{}, metrics: map[string]any{"cv_mean": rep.Mean, "cv_std": rep.Std},
				info: fmt.Sprintf("walk-forward cross-validation of %s: %d folds", filepath.Base(frame.Name), folds)}
			out.human = func(w io.Writer) { printCV(w, rep) }
			return out, nil
		},
		find: func(context.Context, lrfind.Config) (*lrfind.Result, error) {
			return nil, flagErr("cv", "walk-forward", "none with lr-find")
		},
	}, nil
}

// printCV prints each fold's test errors and each metric's mean ± std.
func printCV(w io.Writer, rep *model.CVReport) {
	for k, f := range rep.Folds {
		fmt.Fprintf(w, "fold %d (rows %d-%d): %v\n", k+1, f.Split.Test.From+1, f.Split.Test.To, f.Test)
	}
	fmt.Fprintf(w, "%-32s %12s %12s\n", "mean ± std over the folds", "model", "±")
	for _, k := range sortedKeys(rep.Mean) {
		fmt.Fprintf(w, "%-32s %12.4g %12.4g\n", k, rep.Mean[k], rep.Std[k])
	}
}
