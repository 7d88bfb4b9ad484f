package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
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

func loadModel(p string) (model.Model, string, error) {
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

// readForecastData reads --data for a forecaster and checks that it has
// the model's columns.
func readForecastData(fc *model.Forecaster, data, timeCol string, lim input.Limits) (*series.Frame, error) {
	if data == "" {
		return nil, usagef("--data is required")
	}
	f, err := series.ReadFile(data, series.CSVOptions{TimeColumn: timeCol, Limits: lim})
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	for _, c := range fc.Prep().Pipeline.Columns {
		if _, err := f.Index(c); err != nil {
			return nil, fmt.Errorf("--data %s: the model needs column %s; the file has %s", data, input.Quote(c), input.QuoteList(f.Columns))
		}
	}
	return f, nil
}

type useOpts struct {
	Model       string
	Data        string
	Time        string
	JSON        bool
	Text        string
	TextColumn  string
	LabelColumn string
	Beam        int
	LengthPen   float64
	MCDropout   int
	MCLevels    string
	LabelSep    string
	IDColumn    string

	MaxLineBytes, MaxFileBytes int
}

// limits returns the data-file limits of the flags.
func (o *useOpts) limits() input.Limits { return limits(o.MaxLineBytes, o.MaxFileBytes) }

func (o *useOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Model, "model", "", "model: a run `dir`ectory or a .safetensors file")
	fs.StringVar(&o.Data, "data", "", "data `file` with the columns the model was trained on")
	registerLimits(fs, &o.MaxLineBytes, &o.MaxFileBytes)
	fs.StringVar(&o.Time, "time", "", "time column (default: detected; \"-\" for none)")
	fs.BoolVar(&o.JSON, "json", false, "print the result as JSON")
	fs.StringVar(&o.TextColumn, "text-column", "text", "classify: column holding the text")
	fs.StringVar(&o.LabelColumn, "label-column", "label", "classify: column holding the label (eval)")
	fs.StringVar(&o.LabelSep, "label-sep", "|", "classify, a multi-label model: the separator of the classes in the label column (eval)")
	fs.IntVar(&o.Beam, "beam", 0, "seq2seq: beam width (0 or 1: greedy; eval reports BLEU with both)")
	fs.Float64Var(&o.LengthPen, "length-penalty", 0, "seq2seq beam search: rank outputs by log P / length^A")
	registerMC(fs, &o.MCDropout, &o.MCLevels)
	fs.StringVar(&o.IDColumn, "id-column", "", "forecast, a model trained across many series: the column naming the series of each row of a long-format --data (--data may also be a folder of series files, or one series' file, named by its file name)")
}

// registerMC registers --mc-dropout and --mc-levels (train, predict,
// eval).
func registerMC(fs *flag.FlagSet, samples *int, levels *string) {
	fs.IntVar(samples, "mc-dropout", 0, "forecast: also give quantile forecasts by Monte Carlo dropout, this many forward passes with the dropout on (the network needs dropout; 0: off)")
	fs.StringVar(levels, "mc-levels", "0.1,0.5,0.9", "forecast --mc-dropout: the quantile levels, comma-separated, increasing in (0, 1)")
}

// setMC turns on Monte Carlo dropout on fc as --mc-dropout says.
func setMC(fc *model.Forecaster, samples int, levels string) error {
	if samples == 0 {
		return nil
	}
	ls, err := floats(levels)
	if err != nil || !quantileLevels(ls) || len(ls) == 0 {
		return flagErr("mc-levels", strconv.Quote(levels), "increasing levels in (0, 1), comma-separated")
	}
	if samples < 2 {
		return flagErr("mc-dropout", samples, ">= 2 forward passes (0: off)")
	}
	if err := fc.MCDropout(samples, ls); err != nil {
		var fe *model.FitError
		if errors.As(err, &fe) {
			return flagErr("mc-dropout", samples, fe.Want)
		}
		return err
	}
	return nil
}

var cmdEval = &command{
	Name:      "eval",
	UsageLine: "recur eval --model DIR --data FILE [--json]",
	Short:     "evaluate a trained model on a data file",
	Long: `Eval scores a trained model on a data file with the preprocessing saved
with the model. A forecaster forecasts every window of the file and prints
its errors (RMSE, MAE, MAPE, sMAPE, MASE) next to the persistence and
seasonal-naive baselines on the same windows; a classifier prints its loss
and accuracy, a language model its perplexity and bits per token, a
translator its loss, token accuracy, BLEU (sacreBLEU's corpus BLEU on 13a
tokens, against the references in the model's normal form) and exact
matches, greedy and, with --beam, by beam search.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &useOpts{}
		o.register(fs)
		return noArgs("eval", func(ctx context.Context, stdout, stderr io.Writer) error { return runEval(ctx, o, stdout) })
	},
}

func runEval(ctx context.Context, o *useOpts, stdout io.Writer) error {
	m, path, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	if o.Data == "" {
		return usagef("--data is required")
	}
	var met map[string]float64
	switch x := m.(type) {
	case *model.Forecaster:
		return evalForecast(x, path, o, stdout)
	case *model.GlobalForecaster:
		return evalGlobal(x, o, stdout)
	case *model.Classifier:
		return evalClassify(x, path, o, stdout)
	case *model.LanguageModel:
		s, err := text.ReadTextFileLimited(o.Data, o.limits())
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		met, err = x.Evaluate(s)
	case *model.Translator:
		pairs, err := text.ReadPairsFile(o.Data, text.PairsConfig{Limits: o.limits()})
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		if met, err = x.Evaluate(pairs); err == nil && o.Beam > 1 {
			b, exact, err2 := x.Score(ctx, pairs, model.TranslateOptions{Beam: o.Beam, LengthPenalty: o.LengthPen})
			met["bleu_beam"], met["exact_match_beam"], err = b.Score, exact, err2
		}
	case *model.Tagger:
		if !strings.EqualFold(filepath.Ext(o.Data), ".json") {
			return fmt.Errorf("eval: a tagger evaluates the test split of a piano-roll JSON file; %s is not one", o.Data)
		}
		c, err := dataset.LoadJSBLimited(o.Data, o.limits())
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		met, err = x.Evaluate(nextStep(c.Test))
	default:
		return fmt.Errorf("eval: %s models are not supported", m.Spec().Task)
	}
	if err != nil {
		return fmt.Errorf("--data %s: %w", o.Data, err)
	}
	return printMetrics(stdout, o, m, path, met)
}

func evalClassify(c *model.Classifier, path string, o *useOpts, stdout io.Writer) error {
	lc := text.LabelledConfig{Text: o.TextColumn, Label: o.LabelColumn, Classes: c.Classes(), Limits: o.limits()}
	if c.Prep().MultiLabel {
		lc.LabelSep = o.LabelSep
	}
	l, err := text.ReadLabelledFile(o.Data, lc)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	e, err := c.Evaluate(l)
	if err != nil {
		return fmt.Errorf("--data %s: %w", o.Data, err)
	}
	if o.JSON {
		res := map[string]any{"task": model.Classify, "model": path, "data": o.Data, "metrics": e.Metrics()}
		if e.Confusion != nil {
			res["confusion"] = map[string]any{"classes": e.Confusion.Classes, "counts": e.Confusion.Counts}
		}
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s on %s: %d examples\naccuracy %.4f  loss %.4f\n", path, o.Data, len(l.Texts), e.Accuracy, e.Loss)
	printClassifyEval(stdout, e)
	return nil
}

func evalForecast(fc *model.Forecaster, path string, o *useOpts, stdout io.Writer) error {
	if err := setMC(fc, o.MCDropout, o.MCLevels); err != nil {
		return err
	}
	f, err := readForecastData(fc, o.Data, o.Time, o.limits())
	if err != nil {
		return err
	}
	ev, err := fc.Evaluate(f)
	if err != nil {
		return err
	}
	if o.JSON {
		base := map[string]any{}
		for _, b := range ev.Baselines {
			base[baselineKey(b.Name)] = metricMap(b.Metrics)
		}
		res := map[string]any{"task": model.Forecast, "model": path, "data": o.Data, "windows": ev.Windows, "metrics": metricMap(ev.Metrics), "baselines": base}
		if ev.Intervals != nil {
			res["intervals"] = ev.Intervals
		}
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s on %s: %d windows\n%-20s %v\n", path, o.Data, ev.Windows, "model", ev.Metrics)
	if ev.Intervals != nil {
		fmt.Fprintf(stdout, "%-20s %v\n", "", ev.Intervals)
	}
	for _, b := range ev.Baselines {
		fmt.Fprintf(stdout, "%-20s %v\n", b.Name, b.Metrics)
	}
	return nil
}

func printMetrics(stdout io.Writer, o *useOpts, m model.Model, path string, met map[string]float64) error {
	if o.JSON {
		return writeJSON(stdout, map[string]any{"task": m.Spec().Task, "model": path, "data": o.Data, "metrics": met})
	}
	fmt.Fprintf(stdout, "%s on %s:", path, o.Data)
	for _, k := range sortedKeys(met) {
		fmt.Fprintf(stdout, "  %s %.4f", k, met[k])
	}
	fmt.Fprintln(stdout)
	return nil
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
	UsageLine: "recur predict --model DIR (--data FILE | --text TEXT) [--json]",
	Short:     "predict with a trained model",
	Long: `Predict runs a trained model on new data. A forecaster reads the last
lookback rows of the file and prints the next horizon values of each target,
in the file's units, as CSV (step, then one column per target) or JSON.
A classifier prints, for each text of --data (a .txt file with one text per
line, or a TSV/CSV/JSONL file with a --text-column) or for --text, the
predicted label and the probability of every class. A translator translates
--text (greedy, or beam search with --beam).`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &useOpts{}
		o.register(fs)
		fs.StringVar(&o.Text, "text", "", "classify, seq2seq: one text (instead of --data)")
		return noArgs("predict", func(ctx context.Context, stdout, stderr io.Writer) error { return runPredict(ctx, o, stdout) })
	},
}

func runPredict(ctx context.Context, o *useOpts, stdout io.Writer) error {
	m, _, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	switch x := m.(type) {
	case *model.Forecaster:
		return predictForecast(x, o, stdout)
	case *model.GlobalForecaster:
		return predictGlobal(x, o, stdout)
	case *model.Classifier:
		return predictClassify(ctx, x, o, stdout)
	case *model.Translator:
		if o.Text == "" {
			return usagef("predict: give --text TEXT to translate")
		}
		if o.Beam < 0 || o.LengthPen < 0 {
			return flagErr("beam", o.Beam, ">= 0, with --length-penalty >= 0")
		}
		tr, err := x.Translate(ctx, o.Text, model.TranslateOptions{Beam: o.Beam, LengthPenalty: o.LengthPen})
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(stdout, map[string]any{"task": model.Seq2Seq, "source": o.Text, "output": tr.Output})
		}
		_, err = fmt.Fprintln(stdout, tr.Output)
		return err
	case *model.LanguageModel:
		return fmt.Errorf("predict: %s is a language model; use \"recur generate --model %s --prompt TEXT\"", o.Model, o.Model)
	default:
		return fmt.Errorf("predict: %s models are not supported", m.Spec().Task)
	}
}

func predictForecast(fc *model.Forecaster, o *useOpts, stdout io.Writer) error {
	if err := setMC(fc, o.MCDropout, o.MCLevels); err != nil {
		return err
	}
	f, err := readForecastData(fc, o.Data, o.Time, o.limits())
	if err != nil {
		return err
	}
	y, err := fc.Predict(f)
	if err != nil {
		return err
	}
	if o.JSON {
		res := map[string]any{"task": model.Forecast, "horizon": len(y.Values), "forecast": byTarget(y.Targets, y.Values)}
		if y.Levels != nil {
			qs := map[string]any{}
			for q, l := range y.Levels {
				qs[strconv.FormatFloat(l, 'g', -1, 64)] = byTarget(y.Targets, y.Quantiles[q])
			}
			res["quantiles"] = qs
		}
		return writeJSON(stdout, res)
	}
	// One column per target, then one per target and quantile level:
	// y, y_q0.1, y_q0.9.
	head := slices.Clone(y.Targets)
	for _, l := range y.Levels {
		for _, name := range y.Targets {
			head = append(head, fmt.Sprintf("%s_q%g", name, l))
		}
	}
	fmt.Fprintf(stdout, "step,%s\n", strings.Join(head, ","))
	for h, row := range y.Values {
		vals := make([]string, 0, len(head))
		for _, v := range row {
			vals = append(vals, fmt.Sprintf("%.6g", v))
		}
		for q := range y.Levels {
			for _, v := range y.Quantiles[q][h] {
				vals = append(vals, fmt.Sprintf("%.6g", v))
			}
		}
		fmt.Fprintf(stdout, "%d,%s\n", h+1, strings.Join(vals, ","))
	}
	return nil
}

// byTarget turns values[h][k] into each target's list of values.
func byTarget(targets []string, values [][]float64) map[string][]float64 {
	out := map[string][]float64{}
	for k, name := range targets {
		for _, row := range values {
			out[name] = append(out[name], row[k])
		}
	}
	return out
}

// predictTexts returns the texts of --text or --data.
func predictTexts(o *useOpts) ([]string, error) {
	switch {
	case o.Text != "":
		return []string{o.Text}, nil
	case strings.HasSuffix(o.Data, ".txt"):
		s, err := text.ReadTextFileLimited(o.Data, o.limits().Or(input.Defaults))
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return strings.Split(strings.TrimRight(s, "\n"), "\n"), nil
	case o.Data != "":
		// A labelled file (TSV, CSV, JSONL) as training reads it; its
		// labels are not used.
		l, err := text.ReadLabelledFile(o.Data, text.LabelledConfig{Text: o.TextColumn, Label: o.LabelColumn, Limits: o.limits()})
		if err != nil {
			return nil, fmt.Errorf("--data: %w (unlabelled texts go in a .txt file, one per line)", err)
		}
		return l.Texts, nil
	}
	return nil, usagef("predict: give --text TEXT or --data FILE")
}

func predictClassify(ctx context.Context, c *model.Classifier, o *useOpts, stdout io.Writer) error {
	texts, err := predictTexts(o)
	if err != nil {
		return err
	}
	preds, err := c.Predict(ctx, texts)
	if err != nil {
		return err
	}
	multi := c.Prep().MultiLabel
	if !o.JSON {
		first := "label"
		if multi {
			first = "labels" // the set, joined by --label-sep
		}
		fmt.Fprintf(stdout, "%s,%s\n", first, strings.Join(c.Classes(), ","))
	}
	for _, p := range preds {
		if o.JSON {
			probs := map[string]float32{}
			for k, name := range c.Classes() {
				probs[name] = p.Probabilities[k]
			}
			res := map[string]any{"label": p.Label, "probabilities": probs}
			if multi {
				res["labels"] = p.Labels
			}
			if err := writeJSON(stdout, res); err != nil {
				return err
			}
			continue
		}
		vals := make([]string, len(p.Probabilities))
		for k, v := range p.Probabilities {
			vals[k] = fmt.Sprintf("%.4f", v)
		}
		first := p.Label
		if multi {
			first = strings.Join(p.Labels, o.LabelSep)
		}
		fmt.Fprintf(stdout, "%s,%s\n", first, strings.Join(vals, ","))
	}
	return nil
}

// generateOpts are the flags of "recur generate".
type generateOpts struct {
	Model, Prompt string
	Length        int
	Sample        model.SampleConfig
	Seed          uint64
	JSON          bool
}

var cmdGenerate = &command{
	Name:      "generate",
	UsageLine: "recur generate --model DIR --prompt TEXT [--length N] [--temperature T] [--top-k K] [--json]",
	Short:     "generate text with a language model",
	Long: `Generate continues a prompt with a trained language model, drawing each
token from the model's distribution sharpened or flattened by --temperature
(0: always the most likely token) and restricted to the --top-k most likely.
The same --seed gives the same text.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &generateOpts{}
		fs.StringVar(&o.Model, "model", "", "language model: a run `dir`ectory or a .safetensors file")
		fs.StringVar(&o.Prompt, "prompt", "", "text to continue (required)")
		fs.IntVar(&o.Length, "length", 200, "tokens to generate")
		fs.Float64Var(&o.Sample.Temperature, "temperature", 0.8, "sampling temperature (0: greedy)")
		fs.IntVar(&o.Sample.TopK, "top-k", 0, "sample among the K most likely tokens (0: all)")
		fs.Float64Var(&o.Sample.TopP, "top-p", 0, "nucleus sampling threshold (0: off)")
		fs.Uint64Var(&o.Seed, "seed", 1, "sampling seed")
		fs.BoolVar(&o.JSON, "json", false, "print the prompt, the continuation and the model as one JSON object")
		return noArgs("generate", func(ctx context.Context, stdout, _ io.Writer) error { return runGenerate(ctx, o, stdout) })
	},
}

func runGenerate(ctx context.Context, o *generateOpts, stdout io.Writer) error {
	if o.Prompt == "" {
		return usagef("generate: --prompt is required")
	}
	if o.Length < 0 {
		return flagErr("length", o.Length, ">= 0")
	}
	if err := o.Sample.Validate(); err != nil {
		return usagef("generate: %v", err)
	}
	m, path, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	lm, ok := m.(*model.LanguageModel)
	if !ok {
		return fmt.Errorf("generate: --model %s is a %s model, not a language model", o.Model, m.Spec().Task)
	}
	g, err := lm.Generate(ctx, o.Prompt, o.Length, o.Sample, tensor.NewRNG(o.Seed))
	if err != nil {
		return usagef("generate: --prompt %q: %v", o.Prompt, err)
	}
	if o.JSON {
		return writeJSON(stdout, map[string]any{"task": model.LM, "model": path, "prompt": o.Prompt, "text": g.Text,
			"continuation": g.Completion, "tokens": g.Tokens, "seed": o.Seed})
	}
	_, err = fmt.Fprintln(stdout, g.Text)
	return err
}

var cmdInspect = &command{
	Name:      "inspect",
	UsageLine: "recur inspect [--json] MODEL",
	Short:     "show a model file's spec, parameters and metrics",
	Long: `Inspect prints what a model or checkpoint file holds: the format version,
the model spec, a summary of its preprocessing (vocabulary size and first
entries, scaler, columns), every tensor with its shape, the parameter count,
the metrics recorded at training time and the training state of
checkpoints. --json prints the summary as JSON.`,
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
	if err := model.Check(path, f); err != nil {
		return err
	}
	s := model.Describe(f)
	if asJSON {
		shapes, layers := map[string][]int{}, map[string]int{}
		for _, t := range s.Tensors {
			shapes[t.Name] = t.Shape
		}
		for _, l := range s.Layers {
			layers[l.Layer] = l.Values
		}
		return writeJSON(stdout, map[string]any{"file": path, "tensors": shapes, "metadata": s.Metadata, "layers": layers,
			"parameters": s.Parameters, "state_tensors": s.StateTensors})
	}
	fmt.Fprintf(stdout, "file: %s\nformat: %s\n", path, s.Metadata[checkpoint.MetaFormat])
	for _, k := range sortedKeys(s.Metadata) {
		if k != checkpoint.MetaFormat {
			fmt.Fprintf(stdout, "%s: %s\n", k, s.Metadata[k])
		}
	}
	fmt.Fprintln(stdout, "tensors:")
	for _, t := range s.Tensors {
		fmt.Fprintf(stdout, "  %-28s %-12s %d\n", t.Name, fmt.Sprint(t.Shape), t.Len)
	}
	fmt.Fprintln(stdout, "layers:")
	for _, l := range s.Layers {
		fmt.Fprintf(stdout, "  %-28s %d\n", l.Layer, l.Values)
	}
	fmt.Fprintf(stdout, "parameters: %d", s.Parameters)
	if s.StateTensors > 0 {
		fmt.Fprintf(stdout, " (plus %d optimizer and training-state tensors)", s.StateTensors)
	}
	fmt.Fprintln(stdout)
	return nil
}
