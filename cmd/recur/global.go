package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
)

// isCollection says whether a forecast's --data is many series: a folder
// of series files, or a long-format file with --id-column.
func (o *trainOpts) isCollection() bool {
	if o.IDColumn != "" {
		return true
	}
	st, err := os.Stat(o.Data)
	return o.Data != "" && err == nil && st.IsDir()
}

// readCollection reads the series of --data.
func (o *trainOpts) readCollection() ([]*series.Frame, error) {
	frames, err := series.ReadCollection(o.Data, series.CSVOptions{TimeColumn: o.Time, ID: o.IDColumn, Limits: limits(o.MaxLineBytes, o.MaxFileBytes)})
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	if o.Target == "" {
		return frames, nil
	}
	for _, f := range frames {
		if _, err := f.Index(o.Target); err != nil {
			return nil, fmt.Errorf("--target %q: series %s has columns %q", o.Target, f.Name, f.Columns)
		}
	}
	return frames, nil
}

// globalJob trains one network across the series of --data.
func globalJob(r *runner) (*job, error) {
	o := r.o
	switch {
	case o.Inputs != "":
		return nil, flagErr("inputs", o.Inputs, "none for many series (each series is its target alone)")
	case len(o.diffs()) > 0:
		return nil, flagErr("diff", o.Diff, "none for many series (each window is read relative to its last value)")
	case o.Conformal:
		return nil, flagErr("conformal", o.Conformal, "false for many series (the calibration is one series')")
	case o.MCDropout != 0:
		return nil, flagErr("mc-dropout", o.MCDropout, "0 for many series (give --quantiles for intervals)")
	case o.CV == "walk-forward":
		return nil, flagErr("cv", o.CV, "none for many series (each series' last rows test)")
	case o.Base != "" && o.Base != model.BaseAuto && o.Base != "none" && o.Base != "holt-winters":
		return nil, flagErr("base", o.Base, "auto or none (the network), or holt-winters (the network corrects each series' Holt-Winters forecast) for many series")
	}
	frames, err := o.readCollection()
	if err != nil {
		return nil, err
	}
	clean, _ := o.cleanConfig()
	fit, err := r.fitConfig(o.ValFraction > 0)
	if err != nil {
		return nil, err
	}
	spec := o.spec()
	if spec.Base == model.BaseAuto {
		spec.Base = ""
	}
	if o.Ensemble == 0 {
		spec.Ensemble = 0 // across many series one network has the data it needs
	}
	cfg := model.GlobalConfig{Spec: spec, Target: o.Target, Lookback: o.Lookback, Horizon: o.Horizon, TestFraction: o.TestFraction,
		ValFraction: o.ValFraction, Season: o.Season, Log: o.Log, AutoLog: !o.Log, Scale: series.ScaleMethod(o.Scale), Clean: clean, Fit: fit}
	var g *model.GlobalForecaster
	info := func() string { return globalInfo(g, frames, g.Plan()) }
	cfg.Fit.Train.Callbacks = r.callbacks(func() model.Model { return g }, info)
	if g, err = model.NewGlobalForecaster(cfg); err != nil {
		return nil, flagError(err)
	}
	return &job{fit: func(ctx context.Context) (*outcome, error) {
		rep, err := g.Fit(ctx, frames)
		if err != nil {
			return nil, err
		}
		return globalOutcome(g, rep, info()), nil
	}}, nil
}

// globalInfo describes the run.
func globalInfo(g *model.GlobalForecaster, frames []*series.Frame, rep *model.GlobalReport) string {
	rows := 0
	for _, f := range frames {
		rows += f.Len()
	}
	s := g.Spec()
	var b strings.Builder
	fmt.Fprintf(&b, "forecast %d series (%d rows), one %s %d×%d network across them, %d parameters", len(frames), rows, s.Cell, s.Layers, s.Hidden, g.NumParams())
	if rep != nil {
		fmt.Fprintf(&b, "; %d training windows, batch size %d", rep.Windows, rep.BatchSize)
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "\nchose %s", n)
		}
	}
	return b.String()
}

// globalOutcome collects the per-series and summary scores.
func globalOutcome(g *model.GlobalForecaster, rep *model.GlobalReport, info string) *outcome {
	out := &outcome{m: g, result: rep.Result, info: info, baselines: map[string]any{}, metrics: metricsOf(rep.Result, map[string]any{})}
	for i, m := range rep.Summary {
		row := map[string]float64{"mase": m.MASE, "smape": m.SMAPE}
		if i == 0 {
			out.metrics["test mean"] = row
			continue
		}
		row["series_beaten"] = float64(m.Beaten)
		out.baselines[baselineKey(m.Name)] = row
	}
	for _, s := range rep.Series {
		out.metrics["test "+s.Name] = metricMap(s.Test)
	}
	out.human = func(w io.Writer) { printGlobal(w, rep) }
	return out
}

// printGlobal writes each series' test RMSE against its baselines, and
// the means.
func printGlobal(w io.Writer, rep *model.GlobalReport) {
	if rep.BaseChoice != "" {
		fmt.Fprintln(w, rep.BaseChoice)
	}
	names := []string{}
	for _, m := range rep.Summary[1:] {
		names = append(names, m.Name)
	}
	width := len("series")
	for _, s := range rep.Series {
		width = max(width, len(s.Name))
	}
	fmt.Fprintf(w, "%-*s  %10s", width, "series", "RMSE")
	for _, n := range names {
		fmt.Fprintf(w, "  %14s", n)
	}
	fmt.Fprintln(w)
	for _, s := range rep.Series {
		fmt.Fprintf(w, "%-*s  %10.4g", width, filepath.Base(s.Name), s.Test.RMSE)
		for _, n := range names {
			v := "-"
			for _, b := range s.Baselines {
				if strings.HasPrefix(b.Name, n) {
					v = fmt.Sprintf("%.4g", b.Metrics.RMSE)
				}
			}
			fmt.Fprintf(w, "  %14s", v)
		}
		fmt.Fprintln(w)
	}
	for _, m := range rep.Summary {
		beaten := ""
		if m.Name != rep.Summary[0].Name {
			beaten = fmt.Sprintf("; the model's RMSE is lower on %d of %d series", m.Beaten, m.Of)
		}
		fmt.Fprintf(w, "%s: mean MASE %.4g, mean sMAPE %.4g%%%s\n", m.Name, m.MASE, m.SMAPE, beaten)
	}
}

// readSeries reads --data for a global model: a folder of series files or
// a long-format file (--id-column) gives many series, any other file one,
// named by its file name without the extension (a training series' name
// when it is one of the training folder's files).
func (o *useOpts) readSeries() ([]*series.Frame, error) {
	if o.Data == "" {
		return nil, usagef("--data is required")
	}
	opt := series.CSVOptions{TimeColumn: o.Time, ID: o.IDColumn, Limits: o.limits()}
	if st, err := os.Stat(o.Data); o.IDColumn != "" || err == nil && st.IsDir() {
		frames, err := series.ReadCollection(o.Data, opt)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return frames, nil
	}
	f, err := series.ReadFile(o.Data, opt)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	name := filepath.Base(o.Data)
	for _, ext := range []string{".gz", ".csv", ".tsv", ".txt"} {
		name = strings.TrimSuffix(name, ext)
	}
	f.Name = name
	return []*series.Frame{f}, nil
}

// predictGlobal forecasts the Horizon steps after each series of --data,
// with the quantile levels of a quantile model.
func predictGlobal(g *model.GlobalForecaster, o *useOpts, stdout io.Writer) error {
	frames, err := o.readSeries()
	if err != nil {
		return err
	}
	outs := make([]*model.ForecastOutput, len(frames))
	for i, f := range frames {
		if outs[i], err = g.Predict(f); err != nil {
			return fmt.Errorf("--data: series %s: %w", f.Name, err)
		}
	}
	if o.JSON {
		point, quant := map[string][]float64{}, map[string]map[string][]float64{}
		for i, f := range frames {
			point[f.Name] = column(outs[i].Values)
			for q, l := range outs[i].Levels {
				key := strconv.FormatFloat(l, 'g', -1, 64)
				if quant[key] == nil {
					quant[key] = map[string][]float64{}
				}
				quant[key][f.Name] = column(outs[i].Quantiles[q])
			}
		}
		res := map[string]any{"task": model.Forecast, "forecast": point}
		if len(quant) > 0 {
			res["quantiles"] = quant
		}
		return writeJSON(stdout, res)
	}
	head := "series,step,forecast"
	for _, l := range outs[0].Levels {
		head += fmt.Sprintf(",q%g", l)
	}
	fmt.Fprintln(stdout, head)
	for i, f := range frames {
		for h, row := range outs[i].Values {
			line := fmt.Sprintf("%s,%d,%.6g", csvField(f.Name), h+1, row[0])
			for q := range outs[i].Levels {
				line += fmt.Sprintf(",%.6g", outs[i].Quantiles[q][h][0])
			}
			fmt.Fprintln(stdout, line)
		}
	}
	return nil
}

// column returns the first target's value of each step.
func column(rows [][]float64) []float64 {
	out := make([]float64, len(rows))
	for h, r := range rows {
		out[h] = r[0]
	}
	return out
}

// csvField quotes a field that needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// evalGlobal scores every window of each series of --data.
func evalGlobal(g *model.GlobalForecaster, o *useOpts, stdout io.Writer) error {
	frames, err := o.readSeries()
	if err != nil {
		return err
	}
	res := map[string]any{}
	mase := 0.0
	for _, f := range frames {
		ev, err := g.Evaluate(f)
		if err != nil {
			return fmt.Errorf("--data: series %s: %w", f.Name, err)
		}
		row := map[string]any{"windows": ev.Windows, "test": metricMap(ev.Metrics)}
		for _, b := range ev.Baselines {
			row[baselineKey(b.Name)] = metricMap(b.Metrics)
		}
		res[f.Name] = row
		mase += ev.Metrics.MASE / float64(len(frames))
		if !o.JSON {
			fmt.Fprintf(stdout, "%s: %v (%d windows)\n", f.Name, ev.Metrics, ev.Windows)
		}
	}
	if o.JSON {
		return writeJSON(stdout, map[string]any{"task": model.Forecast, "series": res, "mean_mase": mase})
	}
	_, err = fmt.Fprintf(stdout, "mean MASE over %d series: %.4g\n", len(frames), mase)
	return err
}
