package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/report"
)

// encoderFrom returns the vocabulary of the --init-from model when it is
// a recur text model: fine-tuning keeps it, so that its embedding rows
// keep their meaning. Weights from elsewhere (a PyTorch state dict) come
// without one.
func (r *runner) encoderFrom(fc model.FitConfig) (*text.Encoder, error) {
	if fc.InitFrom == nil {
		return nil, nil
	}
	if _, ok := fc.InitFrom.Metadata[model.MetaSpec]; !ok {
		return nil, nil
	}
	m, err := model.FromFile(r.o.InitFrom, fc.InitFrom)
	if err != nil {
		return nil, fmt.Errorf("--init-from: %w", err)
	}
	switch x := m.(type) {
	case *model.Classifier:
		return x.Encoder(), nil
	case *model.LanguageModel:
		return x.Encoder(), nil
	}
	return nil, nil
}

// textFit is the run's FitConfig and TextConfig, which takes the
// vocabulary of an --init-from text model.
func (r *runner) textFit(hasValid bool) (model.FitConfig, model.TextConfig, error) {
	tc := r.o.textConfig()
	fit, err := r.fitConfig(hasValid)
	if err != nil {
		return fit, tc, err
	}
	tc.Encoder, err = r.encoderFrom(fit)
	return fit, tc, err
}

func (o *trainOpts) readLabelled(path string, classes []string) (*text.Labelled, error) {
	l, err := text.ReadLabelledFile(path, text.LabelledConfig{Text: o.TextColumn, Label: o.LabelColumn, LabelSep: o.LabelSep, Classes: classes, Limits: limits(o.MaxLineBytes, o.MaxFileBytes)})
	if err != nil {
		return nil, fmt.Errorf("--data/--test/--valid: %w (columns from --text-column %q, --label-column %q)", err, o.TextColumn, o.LabelColumn)
	}
	return l, nil
}

// labelledSplits reads --data and cuts it, or reads --valid and --test.
func (o *trainOpts) labelledSplits() (tr, va, te *text.Labelled, err error) {
	if o.Data == "" {
		return nil, nil, nil, usagef("train: --task classify needs --data (a TSV/CSV/JSONL file with %q and %q columns)", o.TextColumn, o.LabelColumn)
	}
	all, err := o.readLabelled(o.Data, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	val, test := o.ValFraction, o.TestFraction
	if test == 0 {
		test = 0.2
	}
	if o.Valid != "" {
		val = 0
	}
	if o.Test != "" {
		test = 0
	}
	if tr, va, te, err = all.Split(val, test, o.Seed); err != nil {
		return nil, nil, nil, fmt.Errorf("--data %s: %w", o.Data, err)
	}
	if o.Valid != "" {
		if va, err = o.readLabelled(o.Valid, all.Classes); err != nil {
			return nil, nil, nil, err
		}
	}
	if o.Test != "" {
		te, err = o.readLabelled(o.Test, all.Classes)
	}
	return tr, va, te, err
}

func classifyJob(r *runner) (*job, error) {
	o := r.o
	tr, va, te, err := o.labelledSplits()
	if err != nil {
		return nil, err
	}
	fit, tc, err := r.textFit(va != nil)
	if err != nil {
		return nil, err
	}
	var c *model.Classifier
	info := func() string {
		s := c.Spec()
		return fmt.Sprintf("classify %s: %d examples (train %d), %d classes, vocabulary %d (%s); %s %d×%d, %d parameters",
			filepath.Base(o.Data), count(tr, va, te), len(tr.Texts), len(tr.Classes), c.Encoder().Vocab.Len(), levelOf(o, "word"), s.Cell, s.Layers, s.Hidden, c.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return c }, info)
	if c, err = model.NewClassifier(model.ClassifyConfig{Spec: o.spec(), Text: tc, Embeddings: o.pretrained(), Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := c.Fit(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			return classifyOutcome(c, rep, te, tr, info())
		},
		find: func(ctx context.Context, lc lrfind.Config) (*lrfind.Result, error) { return c.FindLR(ctx, tr, lc) },
	}, nil
}

// classifyOutcome scores the test texts against the majority class.
func classifyOutcome(c *model.Classifier, rep *model.FitReport, te, tr *text.Labelled, info string) (*outcome, error) {
	out := &outcome{m: c, result: rep.Result, info: info, metrics: metricsOf(rep.Result, map[string]any{}), baselines: map[string]any{}}
	var test *model.ClassifyEval
	if te != nil {
		var err error
		if test, err = c.Evaluate(te); err != nil {
			return nil, err
		}
		out.metrics["test"] = test.Metrics()
		if test.Confusion != nil {
			out.baselines["majority"] = map[string]float64{"accuracy": majority(tr, te)}
			if f, err := report.Confusion(test.Confusion); err == nil {
				out.figs = append(out.figs, f)
			}
		}
		if f := poolingFigure(c, te.Texts[0]); f != nil {
			out.figs = append(out.figs, f)
		}
	}
	out.human = func(w io.Writer) {
		switch {
		case test != nil && test.MultiLabel != nil:
			ml := test.MultiLabel
			fmt.Fprintf(w, "test subset accuracy %.4f  micro F1 %.4f  Hamming loss %.4f  loss %.4f\n", ml.SubsetAccuracy, ml.MicroF1, ml.HammingLoss, test.Loss)
			printClassifyEval(w, test)
		case test != nil:
			fmt.Fprintf(w, "test accuracy %.4f  loss %.4f  (majority class %.4f)\n", test.Accuracy, test.Loss, out.baselines["majority"].(map[string]float64)["accuracy"])
			printClassifyEval(w, test)
		}
	}
	return out, nil
}

func count(parts ...*text.Labelled) int {
	n := 0
	for _, p := range parts {
		if p != nil {
			n += len(p.Texts)
		}
	}
	return n
}

func levelOf(o *trainOpts, def string) string {
	if o.Level != "" {
		return o.Level
	}
	return def
}

// majority is the test accuracy of always answering the training set's
// most frequent class.
func majority(tr, te *text.Labelled) float64 {
	counts := make([]int, len(tr.Classes))
	for _, l := range tr.Labels {
		counts[l]++
	}
	best := 0
	for c, n := range counts {
		if n > counts[best] {
			best = c
		}
	}
	right := 0
	for _, l := range te.Labels {
		if te.Classes[l] == tr.Classes[best] {
			right++
		}
	}
	return float64(right) / float64(len(te.Labels))
}

// lmSplits reads --data and cuts it in order, or reads --valid and --test.
func (o *trainOpts) lmSplits() (tr, va, te string, err error) {
	if o.Data == "" {
		return "", "", "", usagef("train: --task lm needs --data (a plain text file)")
	}
	lim := limits(o.MaxLineBytes, o.MaxFileBytes)
	corpus, err := text.ReadTextFileLimited(o.Data, lim)
	if err != nil {
		return "", "", "", fmt.Errorf("--data: %w", err)
	}
	val, test := o.ValFraction, o.TestFraction
	if test == 0 {
		test = 0.1
	}
	if o.Valid != "" {
		val = 0
	}
	if o.Test != "" {
		test = 0
	}
	if tr, va, te, err = text.SplitText(corpus, val, test); err != nil {
		return "", "", "", fmt.Errorf("--data %s: %w", o.Data, err)
	}
	if o.Valid != "" {
		if va, err = text.ReadTextFileLimited(o.Valid, lim); err != nil {
			return "", "", "", fmt.Errorf("--valid: %w", err)
		}
	}
	if o.Test != "" {
		if te, err = text.ReadTextFileLimited(o.Test, lim); err != nil {
			return "", "", "", fmt.Errorf("--test: %w", err)
		}
	}
	return tr, va, te, nil
}

func lmJob(r *runner) (*job, error) {
	o := r.o
	tr, va, te, err := o.lmSplits()
	if err != nil {
		return nil, err
	}
	fit, tc, err := r.textFit(va != "")
	if err != nil {
		return nil, err
	}
	var m *model.LanguageModel
	info := func() string {
		s := m.Spec()
		return fmt.Sprintf("lm %s: %d characters (train %d), vocabulary %d (%s), %d streams × %d steps; %s %d×%d, %d parameters",
			filepath.Base(o.Data), len([]rune(tr+va+te)), len([]rune(tr)), m.Encoder().Vocab.Len(), levelOf(o, "char"), batchOf(o), o.SeqLen, s.Cell, s.Layers, s.Hidden, m.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return m }, info)
	if m, err = model.NewLanguageModel(model.LMConfig{Spec: o.spec(), Text: tc, SeqLen: o.SeqLen, Embeddings: o.pretrained(), Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := m.Fit(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			return lmOutcome(m, rep, te, o, info())
		},
		find: func(ctx context.Context, lc lrfind.Config) (*lrfind.Result, error) { return m.FindLR(ctx, tr, lc) },
	}, nil
}

// lmOutcome scores the test text.
func lmOutcome(m *model.LanguageModel, rep *model.FitReport, te string, o *trainOpts, info string) (*outcome, error) {
	out := &outcome{m: m, result: rep.Result, info: info, metrics: metricsOf(rep.Result, map[string]any{})}
	if te != "" {
		test, err := m.Evaluate(te)
		if err != nil {
			return nil, fmt.Errorf("test text: %w", err)
		}
		out.metrics["test"] = test
	}
	out.human = func(w io.Writer) {
		if t, ok := out.metrics["test"].(map[string]float64); ok {
			switch levelOf(o, "char") {
			case "char":
				fmt.Fprintf(w, "test perplexity %.3f  %.4f bits per character\n", t["ppl"], t["bits"])
			case "word", "space":
				fmt.Fprintf(w, "test perplexity %.3f (per word)  %.4f bits per word  %.4f bits per character\n", t["ppl"], t["bits"], t["bits_per_char"])
			default:
				fmt.Fprintf(w, "test perplexity %.3f (per token)  %.4f bits per token  %.4f bits per word  %.4f bits per character\n",
					t["ppl"], t["bits"], t["bits_per_word"], t["bits_per_char"])
			}
		}
	}
	return out, nil
}

func batchOf(o *trainOpts) int {
	if o.BatchSize > 0 {
		return o.BatchSize
	}
	return model.Defaults(o.Task).BatchSize
}

// pairSplits reads --data and cuts it.
func (o *trainOpts) pairSplits() (tr, va, te []text.Pair, err error) {
	if o.Data == "" {
		return nil, nil, nil, usagef("train: --task seq2seq needs --data (tab-separated source and target sentences)")
	}
	var pairs []text.Pair
	switch g, ok, err := parseGen(o.Data); {
	case err != nil:
		return nil, nil, nil, err
	case ok && g.kind != "addition":
		return nil, nil, nil, flagErr("data", o.Data, "gen:addition for --task seq2seq (gen:adding is a tag task)")
	case ok:
		if pairs, err = additionPairs(g, o.Seed); err != nil {
			return nil, nil, nil, err
		}
	default:
		if pairs, err = text.ReadPairsFile(o.Data, text.PairsConfig{MaxWords: o.MaxWords, Limits: limits(o.MaxLineBytes, o.MaxFileBytes)}); err != nil {
			return nil, nil, nil, fmt.Errorf("--data: %w", err)
		}
	}
	test := o.TestFraction
	if test == 0 {
		test = 0.1
	}
	if tr, va, te, err = text.SplitPairs(pairs, o.ValFraction, test, o.Seed); err != nil {
		return nil, nil, nil, fmt.Errorf("--data %s: %w", o.Data, err)
	}
	return tr, va, te, nil
}

func seq2seqJob(r *runner) (*job, error) {
	o := r.o
	tr, va, te, err := o.pairSplits()
	if err != nil {
		return nil, err
	}
	fit, err := r.fitConfig(len(va) > 0)
	if err != nil {
		return nil, err
	}
	var m *model.Translator
	info := func() string {
		s, p := m.Spec(), m.Prep()
		return fmt.Sprintf("seq2seq %s: %d pairs (train %d), vocabularies %d → %d (%s); encoder %s %d×%d, %s attention, %d parameters",
			filepath.Base(o.Data), len(tr)+len(va)+len(te), len(tr), p.Src.Vocab.Len(), p.Tgt.Vocab.Len(), levelOf(o, "word"), s.Cell, s.Layers, s.Hidden, s.Attention, m.NumParams())
	}
	fit.Train.Callbacks = r.callbacks(func() model.Model { return m }, info)
	if m, err = model.NewTranslator(model.TranslateConfig{Spec: o.spec(), Text: o.textConfig(), Embeddings: o.pretrained(), Fit: fit}); err != nil {
		return nil, flagError(err)
	}
	return &job{
		fit: func(ctx context.Context) (*outcome, error) {
			rep, err := m.Fit(ctx, tr, va)
			if err != nil {
				return nil, err
			}
			return r.seq2seqOutcome(ctx, m, rep, te, info())
		},
		find: func(ctx context.Context, lc lrfind.Config) (*lrfind.Result, error) { return m.FindLR(ctx, tr, lc) },
	}, nil
}

// seq2seqOutcome scores the test pairs and translates one of them.
func (r *runner) seq2seqOutcome(ctx context.Context, m *model.Translator, rep *model.FitReport, te []text.Pair, info string) (*outcome, error) {
	out := &outcome{m: m, result: rep.Result, info: info, metrics: metricsOf(rep.Result, map[string]any{})}
	example := ""
	if len(te) > 0 {
		test, err := m.Evaluate(te)
		if err != nil {
			return nil, err
		}
		if r.o.Beam > 1 {
			b, exact, err := m.Score(ctx, te, model.TranslateOptions{Beam: r.o.Beam})
			if err != nil {
				return nil, err
			}
			test["bleu_beam"], test["exact_match_beam"] = b.Score, exact
		}
		out.metrics["test"] = test
		if example, err = r.translationExample(ctx, m, te[0], out); err != nil {
			return nil, err
		}
	}
	out.human = func(w io.Writer) {
		if t, ok := out.metrics["test"].(map[string]float64); ok {
			fmt.Fprintf(w, "test token accuracy %.4f  perplexity %.3f  BLEU %.2f  exact match %.4f (greedy)\n", t["token_accuracy"], t["ppl"], t["bleu"], t["exact_match"])
			if b, ok := t["bleu_beam"]; ok {
				fmt.Fprintf(w, "test BLEU %.2f  exact match %.4f (beam %d)\n", b, t["exact_match_beam"], r.o.Beam)
			}
			fmt.Fprintln(w, example)
		}
	}
	return out, nil
}

// translationExample translates one test pair and adds its attention
// heat map to the report.
func (r *runner) translationExample(ctx context.Context, m *model.Translator, p text.Pair, out *outcome) (string, error) {
	tr, err := m.Translate(ctx, p.Src, model.TranslateOptions{})
	if err != nil {
		return "", err
	}
	example := fmt.Sprintf("example: %q → %q (reference %q)", p.Src, tr.Output, p.Tgt)
	if !r.o.NoReport && len(tr.Attention) > 0 {
		f, err := report.Attention("Attention weights of "+example, tr.SourceTokens, tr.Tokens, tr.Attention)
		if err != nil {
			return "", err
		}
		out.figs = append(out.figs, f)
	}
	return example, nil
}

// printClassifyEval prints the averages, the scores per class and the
// confusion matrix.
func printClassifyEval(w io.Writer, e *model.ClassifyEval) {
	fmt.Fprintf(w, "macro F1 %.4f  weighted F1 %.4f", e.MacroF1, e.WeightedF1)
	if !math.IsNaN(e.ECE) {
		fmt.Fprintf(w, "  calibration error %.4f", e.ECE)
	}
	if !math.IsNaN(e.ROCAUC) {
		fmt.Fprintf(w, "  ROC-AUC %.4f  PR-AUC %.4f", e.ROCAUC, e.PRAUC)
	}
	fmt.Fprintf(w, "\n%-14s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1", "support")
	for _, s := range e.PerClass {
		fmt.Fprintf(w, "%-14s %9.4f %9.4f %9.4f %8d\n", s.Class, s.Precision, s.Recall, s.F1, s.Support)
	}
	if e.Confusion == nil {
		return
	}
	fmt.Fprintf(w, "confusion (rows actual, columns predicted):\n%-14s", "")
	for _, c := range e.Confusion.Classes {
		fmt.Fprintf(w, " %8.8s", c)
	}
	fmt.Fprintln(w)
	for k, row := range e.Confusion.Counts {
		fmt.Fprintf(w, "%-14s", e.Confusion.Classes[k])
		for _, v := range row {
			fmt.Fprintf(w, " %8d", v)
		}
		fmt.Fprintln(w)
	}
}

// poolingFigure draws the attention pooling's weight of each token of
// text (nil for another pooling).
func poolingFigure(c *model.Classifier, s string) *report.Figure {
	if c.Spec().Pool != "attention" {
		return nil
	}
	ps, err := c.Predict(context.Background(), []string{s})
	if err != nil || len(ps[0].Attention) == 0 {
		return nil
	}
	enc := c.Encoder()
	var toks []string
	for _, id := range enc.Encode(s) {
		toks = append(toks, enc.Decode([]int{id}))
	}
	f, err := report.TokenWeights(fmt.Sprintf("Attention pooling of a test text (predicted %s)", ps[0].Label), toks, ps[0].Attention)
	if err != nil {
		return nil
	}
	return f
}
