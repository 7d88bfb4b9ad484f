package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
)

// modelPath resolves --model: a file, or a run directory holding
// model.safetensors.
func modelPath(p string) (string, error) {
	if p == "" {
		return "", usagef("--model is required (a run directory or a .safetensors file)")
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("--model: %w", err)
	}
	if st.IsDir() {
		return filepath.Join(p, "model.safetensors"), nil
	}
	return p, nil
}

func loadModel(p string) (*model.Model, string, error) {
	path, err := modelPath(p)
	if err != nil {
		return nil, "", err
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, "", fmt.Errorf("--model: %w", err)
	}
	return m, path, nil
}

// forecastTask loads a forecaster and reads --data with its columns.
func forecastTask(m *model.Model, data, timeCol string) (*model.ForecastTask, *series.Frame, error) {
	prep, err := m.ForecastPrep()
	if err != nil {
		return nil, nil, err
	}
	if data == "" {
		return nil, nil, usagef("--data is required")
	}
	f, err := series.ReadFile(data, series.CSVOptions{TimeColumn: timeCol})
	if err != nil {
		return nil, nil, fmt.Errorf("--data: %w", err)
	}
	for _, c := range prep.Inputs {
		if _, err := f.Index(c); err != nil {
			return nil, nil, fmt.Errorf("--data %s: the model needs column %q; the file has %q", data, c, f.Columns)
		}
	}
	return &model.ForecastTask{M: m, Prep: prep}, f, nil
}

type useOpts struct {
	Model string
	Data  string
	Time  string
	JSON  bool
}

func (o *useOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Model, "model", "", "model: a run `dir`ectory or a .safetensors file")
	fs.StringVar(&o.Data, "data", "", "data `file` with the columns the model was trained on")
	fs.StringVar(&o.Time, "time", "", "time column (default: detected; \"-\" for none)")
	fs.BoolVar(&o.JSON, "json", false, "print the result as JSON")
}

var cmdEval = &command{
	Name:      "eval",
	UsageLine: "recur eval --model DIR --data FILE [--json]",
	Short:     "evaluate a trained model on a data file",
	Long: `Eval scores a trained model on every window of a data file (using the
preprocessing saved with the model) and prints its errors next to the
persistence and seasonal-naive baselines on the same windows.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &useOpts{}
		o.register(fs)
		return noArgs("eval", func(ctx context.Context, stdout, stderr io.Writer) error { return runEval(ctx, o, stdout) })
	},
}

func runEval(_ context.Context, o *useOpts, stdout io.Writer) error {
	m, path, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	switch m.Spec.Task {
	case model.Forecast:
		task, f, err := forecastTask(m, o.Data, o.Time)
		if err != nil {
			return err
		}
		d, raw, err := task.Windows(f, 64)
		if err != nil {
			return err
		}
		met, err := task.Evaluate(d)
		if err != nil {
			return err
		}
		delete(met, "loss")
		base, err := task.Baselines(raw, d)
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(stdout, map[string]any{"task": m.Spec.Task, "model": path, "data": o.Data, "windows": d.W.Len(), "metrics": met, "baselines": base})
		}
		fmt.Fprintf(stdout, "%s on %s: %d windows\nmodel          RMSE %.4g  MAE %.4g\n", path, o.Data, d.W.Len(), met["rmse"], met["mae"])
		for _, k := range sortedKeys(base) {
			fmt.Fprintf(stdout, "%-14s RMSE %.4g  MAE %.4g\n", k, base[k]["rmse"], base[k]["mae"])
		}
		return nil
	default:
		return fmt.Errorf("eval: %s models are not supported yet", m.Spec.Task)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var cmdPredict = &command{
	Name:      "predict",
	UsageLine: "recur predict --model DIR --data FILE [--json]",
	Short:     "predict with a trained model",
	Long: `Predict runs a trained model on a data file. A forecaster reads the last
lookback rows of the file and prints the next horizon values of each target,
in the file's units, as CSV (step, then one column per target) or JSON.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &useOpts{}
		o.register(fs)
		return noArgs("predict", func(ctx context.Context, stdout, stderr io.Writer) error { return runPredict(ctx, o, stdout) })
	},
}

func runPredict(_ context.Context, o *useOpts, stdout io.Writer) error {
	m, _, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	switch m.Spec.Task {
	case model.Forecast:
		task, f, err := forecastTask(m, o.Data, o.Time)
		if err != nil {
			return err
		}
		y, err := task.Future(f)
		if err != nil {
			return err
		}
		K := len(task.Prep.Targets)
		if o.JSON {
			fc := map[string][]float32{}
			for k, name := range task.Prep.Targets {
				for h := range task.Prep.Horizon {
					fc[name] = append(fc[name], y.Data[h*K+k])
				}
			}
			return writeJSON(stdout, map[string]any{"task": m.Spec.Task, "horizon": task.Prep.Horizon, "forecast": fc})
		}
		fmt.Fprintf(stdout, "step,%s\n", strings.Join(task.Prep.Targets, ","))
		for h := range task.Prep.Horizon {
			vals := make([]string, K)
			for k := range K {
				vals[k] = fmt.Sprintf("%.6g", y.Data[h*K+k])
			}
			fmt.Fprintf(stdout, "%d,%s\n", h+1, strings.Join(vals, ","))
		}
		return nil
	default:
		return fmt.Errorf("predict: %s models are not supported yet", m.Spec.Task)
	}
}

var cmdInspect = &command{
	Name:      "inspect",
	UsageLine: "recur inspect [--json] MODEL",
	Short:     "show a model file's spec, parameters and metrics",
	Long: `Inspect prints what a model or checkpoint file holds: the format version,
the model spec, every tensor with its shape, the parameter count, the
metrics recorded at training time and the training state of checkpoints.`,
	setup: func(fs *flag.FlagSet) runFunc {
		asJSON := fs.Bool("json", false, "print the header as JSON")
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) != 1 {
				return usagef("inspect: want exactly one model file or run directory")
			}
			return runInspect(args[0], *asJSON, stdout)
		}
	},
}

func runInspect(p string, asJSON bool, stdout io.Writer) error {
	path, err := modelPath(p)
	if err != nil {
		return err
	}
	f, err := checkpoint.Read(path)
	if err != nil {
		return err
	}
	if asJSON {
		shapes := map[string][]int{}
		for n, t := range f.Tensors {
			shapes[n] = t.Shape
		}
		return writeJSON(stdout, map[string]any{"file": path, "tensors": shapes, "metadata": f.Metadata})
	}
	fmt.Fprintf(stdout, "file: %s\nformat: %s\n", path, f.Metadata[checkpoint.MetaFormat])
	for _, k := range sortedKeys(f.Metadata) {
		if k == checkpoint.MetaFormat {
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", k, f.Metadata[k])
	}
	total, opt := 0, 0
	fmt.Fprintln(stdout, "tensors:")
	for _, n := range f.Names() {
		t := f.Tensors[n]
		if strings.HasPrefix(n, checkpoint.OptimPrefix) {
			opt++
			continue
		}
		total += t.Len()
		fmt.Fprintf(stdout, "  %-28s %v\n", n, t.Shape)
	}
	fmt.Fprintf(stdout, "parameters: %d", total)
	if opt > 0 {
		fmt.Fprintf(stdout, " (plus %d optimizer-state tensors)", opt)
	}
	fmt.Fprintln(stdout)
	return nil
}
