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
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
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
	Model       string
	Data        string
	Time        string
	JSON        bool
	Text        string
	TextColumn  string
	LabelColumn string
}

func (o *useOpts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Model, "model", "", "model: a run `dir`ectory or a .safetensors file")
	fs.StringVar(&o.Data, "data", "", "data `file` with the columns the model was trained on")
	fs.StringVar(&o.Time, "time", "", "time column (default: detected; \"-\" for none)")
	fs.BoolVar(&o.JSON, "json", false, "print the result as JSON")
	fs.StringVar(&o.TextColumn, "text-column", "text", "classify: column holding the text")
	fs.StringVar(&o.LabelColumn, "label-column", "label", "classify: column holding the label (eval)")
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
	case model.Classify, model.LM:
		return evalText(m, path, o, stdout)
	case model.Seq2Seq:
		prep, err := m.Seq2SeqPrep()
		if err != nil {
			return err
		}
		if o.Data == "" {
			return usagef("--data is required")
		}
		pairs, err := text.ReadPairsFile(o.Data, text.PairsConfig{})
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		met, err := (&model.Seq2SeqTask{M: m}).Evaluate(prep.NewPairData(pairs, 64))
		if err != nil {
			return err
		}
		return printMetrics(stdout, o, m, path, met)
	default:
		return fmt.Errorf("eval: %s models are not supported", m.Spec.Task)
	}
}

func evalText(m *model.Model, path string, o *useOpts, stdout io.Writer) error {
	prep, err := m.TextPrep()
	if err != nil {
		return err
	}
	if o.Data == "" {
		return usagef("--data is required")
	}
	var met map[string]float64
	if m.Spec.Task == model.Classify {
		l, err := text.ReadLabelledFile(o.Data, text.LabelledConfig{Text: o.TextColumn, Label: o.LabelColumn, Classes: prep.Classes})
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		v := prep.Encoder.Vocab
		d := model.NewTextData(prep.Encoder.EncodeAll(l.Texts), l.Labels, 64, v.Pad, v.Unk, prep.MaxLen, true)
		if met, err = (&model.ClassifyTask{M: m}).Evaluate(d); err != nil {
			return err
		}
	} else {
		s, err := text.ReadTextFile(o.Data)
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		d, err := model.NewLMData(prep.Encoder.Encode(s), 1, 140)
		if err != nil {
			return fmt.Errorf("--data %s: %w", o.Data, err)
		}
		if met, err = (&model.LMTask{M: m}).Evaluate(d); err != nil {
			return err
		}
	}
	return printMetrics(stdout, o, m, path, met)
}

func printMetrics(stdout io.Writer, o *useOpts, m *model.Model, path string, met map[string]float64) error {
	if o.JSON {
		return writeJSON(stdout, map[string]any{"task": m.Spec.Task, "model": path, "data": o.Data, "metrics": met})
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
predicted label and the probability of every class.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &useOpts{}
		o.register(fs)
		fs.StringVar(&o.Text, "text", "", "classify: one text to classify (instead of --data)")
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
	case model.Classify:
		return predictClassify(m, o, stdout)
	case model.Seq2Seq:
		if o.Text == "" {
			return usagef("predict: give --text TEXT to translate")
		}
		out, _, err := m.Translate(o.Text, 0, nn.SampleConfig{}, nil)
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(stdout, map[string]any{"task": m.Spec.Task, "source": o.Text, "output": out})
		}
		_, err = fmt.Fprintln(stdout, out)
		return err
	case model.LM:
		return fmt.Errorf("predict: %s is a language model; use \"recur generate --model %s --prompt TEXT\"", o.Model, o.Model)
	default:
		return fmt.Errorf("predict: %s models are not supported", m.Spec.Task)
	}
}

func predictClassify(m *model.Model, o *useOpts, stdout io.Writer) error {
	prep, err := m.TextPrep()
	if err != nil {
		return err
	}
	var texts []string
	switch {
	case o.Text != "":
		texts = []string{o.Text}
	case strings.HasSuffix(o.Data, ".txt"):
		b, err := os.ReadFile(o.Data)
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		texts = strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	case o.Data != "":
		// A labelled file (TSV, CSV, JSONL) as training reads it; its
		// labels are not used.
		l, err := text.ReadLabelledFile(o.Data, text.LabelledConfig{Text: o.TextColumn, Label: o.LabelColumn})
		if err != nil {
			return fmt.Errorf("--data: %w (unlabelled texts go in a .txt file, one per line)", err)
		}
		texts = l.Texts
	default:
		return usagef("predict: give --text TEXT or --data FILE")
	}
	v := prep.Encoder.Vocab
	d := model.NewTextData(prep.Encoder.EncodeAll(texts), nil, 1, v.Pad, v.Unk, prep.MaxLen, false)
	task := &model.ClassifyTask{M: m}
	type row struct {
		Label string             `json:"label"`
		Probs map[string]float32 `json:"probabilities"`
	}
	if !o.JSON {
		fmt.Fprintf(stdout, "label,%s\n", strings.Join(prep.Classes, ","))
	}
	for _, b := range d.Batches {
		p := task.Probabilities(b)
		best := 0
		for c := range prep.Classes {
			if p.Data[c] > p.Data[best] {
				best = c
			}
		}
		if o.JSON {
			r := row{Label: prep.Classes[best], Probs: map[string]float32{}}
			for c, name := range prep.Classes {
				r.Probs[name] = p.Data[c]
			}
			if err := writeJSON(stdout, r); err != nil {
				return err
			}
			continue
		}
		vals := make([]string, len(prep.Classes))
		for c := range prep.Classes {
			vals[c] = fmt.Sprintf("%.4f", p.Data[c])
		}
		fmt.Fprintf(stdout, "%s,%s\n", prep.Classes[best], strings.Join(vals, ","))
	}
	return nil
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
		model := fs.String("model", "", "language model: a run `dir`ectory or a .safetensors file")
		prompt := fs.String("prompt", "", "text to continue (required)")
		length := fs.Int("length", 200, "tokens to generate")
		temp := fs.Float64("temperature", 0.8, "sampling temperature (0: greedy)")
		topK := fs.Int("top-k", 0, "sample among the K most likely tokens (0: all)")
		topP := fs.Float64("top-p", 0, "nucleus sampling threshold (0: off)")
		seed := fs.Uint64("seed", 1, "sampling seed")
		asJSON := fs.Bool("json", false, "print the prompt, the continuation and the model as one JSON object")
		return noArgs("generate", func(_ context.Context, stdout, _ io.Writer) error {
			return runGenerate(*model, *prompt, *length, nn.SampleConfig{Temperature: *temp, TopK: *topK, TopP: *topP}, *seed, *asJSON, stdout)
		})
	},
}

func runGenerate(modelArg, prompt string, length int, sc nn.SampleConfig, seed uint64, asJSON bool, stdout io.Writer) error {
	m, path, err := loadModel(modelArg)
	if err != nil {
		return err
	}
	if m.Spec.Task != model.LM {
		return fmt.Errorf("generate: --model %s is a %s model, not a language model", modelArg, m.Spec.Task)
	}
	if prompt == "" {
		return usagef("generate: --prompt is required")
	}
	if length < 0 {
		return usagef("generate: --length %d is negative", length)
	}
	if err := sc.Validate(); err != nil {
		return usagef("generate: %v", err)
	}
	prep, err := m.TextPrep()
	if err != nil {
		return err
	}
	ids := prep.Encoder.Encode(prompt)
	if len(ids) == 0 {
		return usagef("generate: --prompt %q has no tokens", prompt)
	}
	out, err := m.Generate(ids, length, sc, tensor.NewRNG(seed))
	if err != nil {
		return err
	}
	text := prep.Encoder.Decode(append(ids, out...))
	if asJSON {
		return writeJSON(stdout, map[string]any{"task": m.Spec.Task, "model": path, "prompt": prompt, "text": text,
			"continuation": prep.Encoder.Decode(out), "tokens": len(out), "seed": seed})
	}
	_, err = fmt.Fprintln(stdout, text)
	return err
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

// isStateTensor reports whether a checkpoint tensor is optimizer or
// training state rather than a model parameter.
func isStateTensor(name string) bool {
	return strings.HasPrefix(name, checkpoint.OptimPrefix) || strings.HasPrefix(name, checkpoint.TrainPrefix)
}

// layerOf names the layer a parameter belongs to: its module (the name up
// to the first dot) and, for stacked recurrent weights, the layer index,
// both directions together ("rnn.weight_hh_l1_reverse" → "rnn_l1").
func layerOf(name string) string {
	mod, rest, _ := strings.Cut(name, ".")
	if i := strings.LastIndex(rest, "_l"); i >= 0 {
		j := i + 2
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j > i+2 && (j == len(rest) || rest[j] == '_') {
			return mod + "_l" + rest[i+2:j]
		}
	}
	return mod
}

// layerCounts sums a file's parameters per layer, in the order the layers
// first appear; opt counts the optimizer and training-state tensors.
func layerCounts(f *checkpoint.File) (layers []string, counts map[string]int, total, opt int) {
	counts = map[string]int{}
	for _, n := range f.Names() {
		if isStateTensor(n) {
			opt++
			continue
		}
		l := layerOf(n)
		if _, ok := counts[l]; !ok {
			layers = append(layers, l)
		}
		counts[l] += f.Tensors[n].Len()
		total += f.Tensors[n].Len()
	}
	return layers, counts, total, opt
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
	layers, counts, total, opt := layerCounts(f)
	if asJSON {
		shapes := map[string][]int{}
		for n, t := range f.Tensors {
			shapes[n] = t.Shape
		}
		return writeJSON(stdout, map[string]any{"file": path, "tensors": shapes, "metadata": f.Metadata, "layers": counts, "parameters": total})
	}
	fmt.Fprintf(stdout, "file: %s\nformat: %s\n", path, f.Metadata[checkpoint.MetaFormat])
	for _, k := range sortedKeys(f.Metadata) {
		if k == checkpoint.MetaFormat {
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", k, f.Metadata[k])
	}
	fmt.Fprintln(stdout, "tensors:")
	for _, n := range f.Names() {
		if t := f.Tensors[n]; !isStateTensor(n) {
			fmt.Fprintf(stdout, "  %-28s %-12s %d\n", n, fmt.Sprint(t.Shape), t.Len())
		}
	}
	fmt.Fprintln(stdout, "layers:")
	for _, l := range layers {
		fmt.Fprintf(stdout, "  %-28s %d\n", l, counts[l])
	}
	fmt.Fprintf(stdout, "parameters: %d", total)
	if opt > 0 {
		fmt.Fprintf(stdout, " (plus %d optimizer and training-state tensors)", opt)
	}
	fmt.Fprintln(stdout)
	return nil
}
