package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// tokenizer returns the tokenizer of --level, trained on corpus for bpe.
func (o *trainOpts) tokenizer(corpus []string) (text.Tokenizer, error) {
	switch o.Level {
	case "char":
		return text.CharTokenizer{}, nil
	case "word":
		return text.WordTokenizer{}, nil
	case "bpe":
		b, err := text.TrainBPE(strings.Join(corpus, "\n"), text.BPEConfig{Size: o.BPESize})
		if err != nil {
			return nil, fmt.Errorf("--level bpe: %w", err)
		}
		return b, nil
	default:
		return nil, usagef("--level %q: want char, word or bpe", o.Level)
	}
}

func (o *trainOpts) encoder(corpus []string) (*text.Encoder, error) {
	if o.InitFrom != "" {
		// Fine-tuning keeps the source model's vocabulary, so that its
		// embedding rows keep their meaning.
		m, _, err := loadModel(o.InitFrom)
		if err != nil {
			return nil, fmt.Errorf("--init-from: %w", err)
		}
		if m.Spec.Task == model.Classify || m.Spec.Task == model.LM {
			p, err := m.TextPrep()
			if err != nil {
				return nil, fmt.Errorf("--init-from: %w", err)
			}
			return p.Encoder, nil
		}
	}
	tok, err := o.tokenizer(corpus)
	if err != nil {
		return nil, err
	}
	enc, err := text.NewEncoder(corpus, text.Cleaner{}, tok, text.VocabConfig{MinFreq: o.MinFreq, MaxSize: o.MaxVocab})
	if err != nil {
		return nil, fmt.Errorf("building the vocabulary: %w", err)
	}
	return enc, nil
}

// splitTail splits n items into [0, a), [a, b), [b, n) with the last
// test share for testing and the val share before it for validation.
func splitTail(n int, val, test float64) (a, b int) {
	b = n - int(float64(n)*test+0.5)
	a = b - int(float64(n)*val)
	return a, b
}

func (o *trainOpts) readLabelled(path string, classes []string) (*text.Labelled, error) {
	l, err := text.ReadLabelledFile(path, text.LabelledConfig{Text: o.TextColumn, Label: o.LabelColumn, Classes: classes})
	if err != nil {
		return nil, fmt.Errorf("--data/--test/--valid: %w (columns from --text-column %q, --label-column %q)", err, o.TextColumn, o.LabelColumn)
	}
	return l, nil
}

func trainClassify(ctx context.Context, o *trainOpts, stdout, stderr io.Writer) error {
	start := time.Now()
	if o.Data == "" {
		return usagef("train: --task classify needs --data (a TSV/CSV/JSONL file with %q and %q columns)", o.TextColumn, o.LabelColumn)
	}
	all, err := o.readLabelled(o.Data, nil)
	if err != nil {
		return err
	}
	// Shuffle once with the seed so that held-out parts are a fair sample.
	perm := tensor.NewRNG(o.Seed ^ 0x5eed).Perm(len(all.Texts))
	texts := make([]string, len(perm))
	labels := make([]int, len(perm))
	for i, p := range perm {
		texts[i], labels[i] = all.Texts[p], all.Labels[p]
	}
	testFrac, valFrac := o.TestFraction, o.ValFraction
	if o.Test != "" {
		testFrac = 0
	}
	if o.Valid != "" {
		valFrac = 0
	}
	a, b := splitTail(len(texts), valFrac, testFrac)
	if a < 1 {
		return fmt.Errorf("--data %s: %d examples leave none for training", o.Data, len(texts))
	}
	enc, err := o.encoder(texts[:a])
	if err != nil {
		return err
	}
	v := enc.Vocab
	mk := func(ts []string, ls []int, sortLen bool) *model.TextData {
		return model.NewTextData(enc.EncodeAll(ts), ls, o.BatchSize, v.Pad, v.Unk, o.MaxLen, sortLen)
	}
	trainData := mk(texts[:a], labels[:a], true)
	var valid, test *model.TextData
	if o.Valid != "" {
		l, err := o.readLabelled(o.Valid, all.Classes)
		if err != nil {
			return err
		}
		valid = mk(l.Texts, l.Labels, true)
	} else if b > a {
		valid = mk(texts[a:b], labels[a:b], true)
	}
	if o.Test != "" {
		l, err := o.readLabelled(o.Test, all.Classes)
		if err != nil {
			return err
		}
		test = mk(l.Texts, l.Labels, true)
	} else if len(texts) > b {
		test = mk(texts[b:], labels[b:], true)
	}
	spec := o.arch(model.Spec{Task: model.Classify, Bidirectional: o.Bidirectional,
		Vocab: v.Len(), Embed: o.Embed, Classes: len(all.Classes), Pool: o.Pool})
	m, err := model.Build(spec, o.Seed)
	if err != nil {
		return specError(err)
	}
	if err := m.SetTextPrep(&model.TextPrep{Encoder: enc, Classes: all.Classes, MaxLen: o.MaxLen}); err != nil {
		return err
	}
	dir, err := o.outDir()
	if err != nil {
		return err
	}
	info := fmt.Sprintf("classify %s: %d examples (train %d), %d classes, vocabulary %d (%s); %s %d×%d, %d parameters",
		filepath.Base(o.Data), len(texts), a, len(all.Classes), v.Len(), o.Level, m.Spec.Cell, m.Spec.Layers, m.Spec.Hidden, m.NumParams())
	task := &model.ClassifyTask{M: m}
	res, metrics, err := fitAndTest(ctx, o, task, m, trainData, orNil(valid), orNil(test), true, dir, info, stdout, stderr)
	if err != nil {
		return err
	}
	// The majority class of the training set is the baseline.
	counts := make([]int, len(all.Classes))
	for _, l := range labels[:a] {
		counts[l]++
	}
	maj := 0
	for c, n := range counts {
		if n > counts[maj] {
			maj = c
		}
	}
	base := map[string]map[string]float64{}
	if test != nil {
		right, n := 0, 0
		for _, tb := range test.Batches {
			for _, l := range tb.Labels {
				if l == maj {
					right++
				}
				n++
			}
		}
		base["majority"] = map[string]float64{"accuracy": float64(right) / float64(n)}
	}
	return finish(o, m, dir, model.Classify, metrics, base, res, start, stdout, nil, func() {
		if t, ok := metrics["test"]; ok {
			fmt.Fprintf(stdout, "test accuracy %.4f  loss %.4f  (majority class %.4f)\n", t["accuracy"], t["loss"], base["majority"]["accuracy"])
		}
	})
}

// finish saves the final model and prints the result.
func finish(o *trainOpts, m *model.Model, dir, task string, metrics, base map[string]map[string]float64, res *train.Result, start time.Time, stdout io.Writer, figs []*figure, human func()) error {
	path := filepath.Join(dir, "model.safetensors")
	if err := m.Save(path, map[string]any{"metrics": metrics, "baselines": base}); err != nil {
		return err
	}
	report := ""
	if !o.NoReport {
		curves, err := o.hist.curves()
		if err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		if report, err = writeReport(dir, task, o.info, path, metrics, base, append(curves, figs...)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if o.JSON {
		return writeJSON(stdout, trainResult{Task: task, Metrics: metrics, Baselines: base, Model: path, Epochs: res.Epochs, Seconds: time.Since(start).Seconds()})
	}
	human()
	fmt.Fprintf(stdout, "model saved to %s (%.1fs)\n", path, time.Since(start).Seconds())
	if report != "" {
		fmt.Fprintf(stdout, "plots and report: %s\n", report)
	}
	return nil
}

func trainLM(ctx context.Context, o *trainOpts, stdout, stderr io.Writer) error {
	start := time.Now()
	if o.Data == "" {
		return usagef("train: --task lm needs --data (a plain text file)")
	}
	corpus, err := text.ReadTextFile(o.Data)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	rs := []rune(corpus)
	testFrac, valFrac := o.TestFraction, o.ValFraction
	if o.Test != "" {
		testFrac = 0
	}
	if o.Valid != "" {
		valFrac = 0
	}
	a, b := splitTail(len(rs), valFrac, testFrac)
	trainText := string(rs[:a])
	validText, testText := string(rs[a:b]), string(rs[b:])
	if o.Valid != "" {
		if validText, err = text.ReadTextFile(o.Valid); err != nil {
			return fmt.Errorf("--valid: %w", err)
		}
	}
	if o.Test != "" {
		if testText, err = text.ReadTextFile(o.Test); err != nil {
			return fmt.Errorf("--test: %w", err)
		}
	}
	enc, err := o.encoder([]string{trainText})
	if err != nil {
		return err
	}
	trainData, err := model.NewLMData(enc.Encode(trainText), o.BatchSize, o.SeqLen)
	if err != nil {
		return fmt.Errorf("--data %s: %w", o.Data, err)
	}
	evalData := func(s string) (*model.LMData, error) {
		if s == "" {
			return nil, nil
		}
		return model.NewLMData(enc.Encode(s), 1, o.SeqLen*4)
	}
	valid, err := evalData(validText)
	if err != nil {
		return fmt.Errorf("validation text: %w", err)
	}
	test, err := evalData(testText)
	if err != nil {
		return fmt.Errorf("test text: %w", err)
	}
	spec := o.arch(model.Spec{Task: model.LM, Vocab: enc.Vocab.Len(), Embed: o.Embed, Tie: o.Tie})
	m, err := model.Build(spec, o.Seed)
	if err != nil {
		return specError(err)
	}
	if err := m.SetTextPrep(&model.TextPrep{Encoder: enc}); err != nil {
		return err
	}
	dir, err := o.outDir()
	if err != nil {
		return err
	}
	info := fmt.Sprintf("lm %s: %d characters (train %d), vocabulary %d (%s), %d streams × %d steps; %s %d×%d, %d parameters",
		filepath.Base(o.Data), len(rs), a, enc.Vocab.Len(), o.Level, o.BatchSize, o.SeqLen, m.Spec.Cell, m.Spec.Layers, m.Spec.Hidden, m.NumParams())
	task := &model.LMTask{M: m}
	res, metrics, err := fitAndTest(ctx, o, task, m, trainData, orNil(valid), orNil(test), false, dir, info, stdout, stderr)
	if err != nil {
		return err
	}
	return finish(o, m, dir, model.LM, metrics, nil, res, start, stdout, nil, func() {
		if t, ok := metrics["test"]; ok {
			fmt.Fprintf(stdout, "test perplexity %.3f  %.4f bits per %s\n", t["ppl"], t["bits"], map[string]string{"char": "character", "word": "word", "bpe": "token"}[o.Level])
		}
	})
}

func trainSeq2Seq(ctx context.Context, o *trainOpts, stdout, stderr io.Writer) error {
	start := time.Now()
	if o.Data == "" {
		return usagef("train: --task seq2seq needs --data (tab-separated source and target sentences)")
	}
	pairs, err := text.ReadPairsFile(o.Data, text.PairsConfig{})
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	perm := tensor.NewRNG(o.Seed ^ 0x5eed).Perm(len(pairs))
	shuffled := make([]text.Pair, len(pairs))
	for i, p := range perm {
		shuffled[i] = pairs[p]
	}
	a, b := splitTail(len(shuffled), o.ValFraction, o.TestFraction)
	if a < 1 {
		return fmt.Errorf("--data %s: %d pairs leave none for training", o.Data, len(pairs))
	}
	var srcs, tgts []string
	for _, p := range shuffled[:a] {
		srcs, tgts = append(srcs, p.Src), append(tgts, p.Tgt)
	}
	se, err := o.encoder(srcs)
	if err != nil {
		return err
	}
	te, err := o.encoder(tgts)
	if err != nil {
		return err
	}
	spec := o.arch(model.Spec{Task: model.Seq2Seq, Bidirectional: o.Bidirectional,
		Vocab: se.Vocab.Len(), TgtVocab: te.Vocab.Len(), Embed: o.Embed, Attention: o.Attention})
	m, err := model.Build(spec, o.Seed)
	if err != nil {
		return specError(err)
	}
	prep := &model.Seq2SeqPrep{Src: se, Tgt: te, MaxLen: o.MaxLen}
	if err := m.SetSeq2SeqPrep(prep); err != nil {
		return err
	}
	dir, err := o.outDir()
	if err != nil {
		return err
	}
	info := fmt.Sprintf("seq2seq %s: %d pairs (train %d), vocabularies %d → %d (%s); encoder lstm %d×%d, %s attention, %d parameters",
		filepath.Base(o.Data), len(pairs), a, se.Vocab.Len(), te.Vocab.Len(), o.Level, m.Spec.Layers, m.Spec.Hidden, m.Spec.Attention, m.NumParams())
	task := &model.Seq2SeqTask{M: m}
	var vd, td train.Data
	if b > a {
		vd = prep.NewPairData(shuffled[a:b], o.BatchSize)
	}
	if len(shuffled) > b {
		td = prep.NewPairData(shuffled[b:], o.BatchSize)
	}
	res, metrics, err := fitAndTest(ctx, o, task, m, prep.NewPairData(shuffled[:a], o.BatchSize), vd, td, true, dir, info, stdout, stderr)
	if err != nil {
		return err
	}
	var example string
	var figs []*figure
	if td != nil {
		out, w, err := m.Translate(shuffled[b].Src, 0, nn.SampleConfig{}, nil)
		if err != nil {
			return err
		}
		example = fmt.Sprintf("example: %q → %q (reference %q)", shuffled[b].Src, out, shuffled[b].Tgt)
		if !o.NoReport && len(w) > 0 {
			p, err := attentionPlot(tokens(se, shuffled[b].Src), tokens(te, out), w)
			if err != nil {
				return err
			}
			figs = append(figs, &figure{Name: "attention", Title: "Attention weights of " + example, plot: p})
		}
	}
	return finish(o, m, dir, model.Seq2Seq, metrics, nil, res, start, stdout, figs, func() {
		if t, ok := metrics["test"]; ok {
			fmt.Fprintf(stdout, "test token accuracy %.4f  perplexity %.3f\n%s\n", t["token_accuracy"], t["ppl"], example)
		}
	})
}

// tokens returns the tokens of s as the encoder sees them.
func tokens(e *text.Encoder, s string) []string {
	ids := e.Encode(s)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.Decode([]int{id})
	}
	return out
}

// fitAndTest trains task with fit and returns the run's result with its
// metrics: "valid" (the last validation, when there was one) and "test"
// (the task's metrics on test, when test is not nil).
func fitAndTest(ctx context.Context, o *trainOpts, task train.Task, m *model.Model, trainData, valid, test train.Data, shuffle bool, dir, info string, stdout, stderr io.Writer) (*train.Result, map[string]map[string]float64, error) {
	res, err := fit(ctx, o, task, m, trainData, valid, shuffle, dir, info, stdout, stderr)
	if err != nil {
		return nil, nil, err
	}
	metrics := map[string]map[string]float64{}
	if res.Valid != nil {
		metrics["valid"] = res.Valid
	}
	if test != nil {
		if metrics["test"], err = task.Evaluate(test); err != nil {
			return nil, nil, err
		}
	}
	return res, metrics, nil
}

// orNil returns d as a train.Data, or a nil interface when d is a nil
// pointer (an interface holding a nil pointer is not nil).
func orNil[P interface {
	comparable
	train.Data
}](d P) train.Data {
	var zero P
	if d == zero {
		return nil
	}
	return d
}
