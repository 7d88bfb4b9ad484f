package onnx

import (
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/model"
)

// graphDoc is the doc_string of a task's graph.
func graphDoc(s model.Spec, part string) string {
	switch s.Task {
	case model.Forecast:
		return "recur forecaster: a window of the series in the pipeline's scaled space -> the forecast of the next steps, scaled (invert with metadata recur.pipeline)"
	case model.Classify:
		return "recur classifier: token ids and lengths -> class logits and probabilities"
	case model.LM:
		return "recur language model: token ids and the recurrent state -> the next token's logits after each step and the new state"
	case model.Tag:
		return "recur tagger: sequences and lengths -> outputs at every step"
	}
	if part == "encoder" {
		return "recur seq2seq encoder: source ids and lengths -> keys, projected keys and the decoder's first state"
	}
	return "recur seq2seq decoder step: the previous token, the state and the encoder's keys -> the next token's logits, attention weights and the next state"
}

// set adds a metadata property.
func (e *exporter) set(key, value string) {
	e.meta = append(e.meta, &pb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}

// setJSON adds a metadata property holding v as JSON.
func (e *exporter) setJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("onnx: metadata %s: %w", key, err)
	}
	e.set(key, string(b))
	return nil
}

// metaCommon adds the metadata every export carries (task, part, spec,
// the model file's preprocessing state as it is) and the task's own
// (vocabularies, classes, pipeline). It returns the preprocessing state.
func (e *exporter) metaCommon(m model.Model, part string) (json.RawMessage, error) {
	e.set("recur.task", e.spec.Task)
	if part != "" {
		e.set("recur.part", part)
	}
	if err := e.setJSON("recur.spec", e.spec); err != nil {
		return nil, err
	}
	f, err := m.File()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	prep := json.RawMessage(f.Metadata[model.MetaPrep])
	if json.Valid(prep) {
		e.set("recur.prep", string(prep))
	}
	switch x := m.(type) {
	case *model.Forecaster:
		if p := x.Prep(); p != nil {
			return prep, e.metaForecast(p)
		}
	case *model.GlobalForecaster:
		return prep, e.metaGlobal(x)
	case *model.Classifier:
		if p := x.Prep(); p != nil {
			if err := e.setJSON("recur.classes", p.Classes); err != nil {
				return nil, err
			}
			return prep, e.metaVocab("recur.", p.Encoder)
		}
	case *model.LanguageModel:
		return prep, e.metaVocab("recur.", x.Encoder())
	case *model.Translator:
		if p := x.Prep(); p != nil {
			if err := e.metaVocab("recur.src_", p.Src); err != nil {
				return nil, err
			}
			return prep, e.metaVocab("recur.tgt_", p.Tgt)
		}
	case *model.Tagger:
		if names := x.ClassNames(); names != nil {
			return prep, e.setJSON("recur.classes", names)
		}
	}
	return prep, nil
}

// metaVocab adds a vocabulary: its tokens in id order (a JSON array) and
// the ids of its special tokens (-1: absent). Tokenizing text (cleaning,
// the tokenizer, BPE merges) is not a graph operation: recur.prep holds
// the whole encoder.
func (e *exporter) metaVocab(prefix string, enc *text.Encoder) error {
	if enc == nil || enc.Vocab == nil {
		return nil
	}
	v := enc.Vocab
	if err := e.setJSON(prefix+"vocab", v.Tokens()); err != nil {
		return err
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"pad", v.Pad}, {"unk", v.Unk}, {"bos", v.BOS}, {"eos", v.EOS}} {
		e.set(prefix+id.name, strconv.Itoa(id.v))
	}
	return nil
}

// preprocessing says how to reproduce a forecaster's inputs and invert
// its outputs from the metadata.
const preprocessing = `The graph's input is a window of the last recur.lookback rows of the ` +
	`recur.inputs columns after the pipeline (recur.pipeline), in this order: the recur.log ` +
	`columns (every value column when null) take log(x), or log(1+x) with log1p; each lag of ` +
	`recur.diffs in turn replaces every value column's x[t] by x[t] - x[t-lag]; the calendar ` +
	`features are appended (not scaled); each column of recur.scaler becomes ` +
	`(x - center) / scale. The forecast is in that scaled space: x * scale + center, then undo ` +
	`the differences in reverse order from the last observed levels, then the log (exp(x), or ` +
	`exp(x) - 1).`

// metaForecast adds a forecaster's pipeline, whole and by part.
func (e *exporter) metaForecast(p *model.ForecastPrep) error {
	pl := p.Pipeline
	if pl == nil {
		return nil
	}
	e.set("recur.preprocessing", preprocessing)
	e.set("recur.lookback", strconv.Itoa(pl.Lookback))
	e.set("recur.horizon", strconv.Itoa(pl.Horizon))
	diffs := make([]int, len(pl.Diffs))
	for i, d := range pl.Diffs {
		diffs[i] = max(d.Lag, 1)
	}
	for _, kv := range []struct {
		key string
		v   any
	}{
		{"recur.pipeline", pl}, {"recur.inputs", pl.Inputs}, {"recur.targets", pl.Targets},
		{"recur.scaler", scalerOrNone(pl.Scaler)}, {"recur.log", pl.Log}, {"recur.diffs", diffs},
		{"recur.quantiles", e.spec.Quantiles}, {"recur.holt_winters", p.HoltWinters}, {"recur.arima", p.ARIMA},
	} {
		if err := e.setJSON(kv.key, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// scalerOrNone is the scaler, or an empty object without scaling.
func scalerOrNone(s *series.Scaler) any {
	if s == nil {
		return struct{}{}
	}
	return s
}

// globalPreprocessing says how a global forecaster's graph is fed.
const globalPreprocessing = `One network serves many series; each has its own pipeline, listed by ` +
	`name in recur.series (the whole state is recur.prep). A window of a series is the last ` +
	`recur.lookback values of its one input column: take log(x) when the series' log is set, ` +
	`then (x - center) / scale with its scaler. The forecast is in that scaled space: x * scale + ` +
	`center, then exp(x) when the log is set. A series not listed is scaled on its own rows ` +
	`(min-max unless recur.prep's scale says otherwise), as recur predict does.`

// seriesMeta is one series' entry of recur.series.
type seriesMeta struct {
	Name        string                `json:"name"`
	Inputs      []string              `json:"inputs"`
	Targets     []string              `json:"targets"`
	Scaler      any                   `json:"scaler"`
	Log         *series.Log           `json:"log"`
	HoltWinters []*series.HoltWinters `json:"holt_winters,omitempty"`
}

// metaGlobal adds a global forecaster's per-series pipelines.
func (e *exporter) metaGlobal(g *model.GlobalForecaster) error {
	e.set("recur.global", "true")
	e.set("recur.preprocessing", globalPreprocessing)
	e.set("recur.lookback", strconv.Itoa(g.Lookback()))
	e.set("recur.horizon", strconv.Itoa(g.Horizon()))
	var all []seriesMeta
	for _, name := range g.Series() {
		p := g.SeriesForecaster(name).Prep()
		pl := p.Pipeline
		all = append(all, seriesMeta{Name: name, Inputs: pl.Inputs, Targets: pl.Targets, Scaler: scalerOrNone(pl.Scaler), Log: pl.Log, HoltWinters: p.HoltWinters})
	}
	if err := e.setJSON("recur.series", all); err != nil {
		return err
	}
	return e.setJSON("recur.quantiles", e.spec.Quantiles)
}
