package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
)

// ForecastResponse is the answer of a forecaster: for each target, the
// next Horizon values in the data's units; a quantile forecaster also
// gives each level's forecast, keyed by the level ("0.1", "0.9").
type ForecastResponse struct {
	Task      string                          `json:"task"`
	Horizon   int                             `json:"horizon"`
	Forecast  map[string][]float32            `json:"forecast"`
	Quantiles map[string]map[string][]float32 `json:"quantiles,omitempty"`
}

// forecastFrame checks a forecast request's values and returns them as a
// frame of fc's input columns.
func forecastFrame(fc *model.Forecaster, req *PredictRequest) (*series.Frame, error) {
	pl := fc.Prep().Pipeline
	return valuesFrame(req.Values, pl.Columns, pl.Lookback+pl.Shift(), false)
}

// valuesFrame checks values, which must hold each of columns and no other,
// need values each (at least need when atLeast), and returns them as a
// frame.
func valuesFrame(values Values, columns []string, need int, atLeast bool) (*series.Frame, error) {
	if len(values) == 0 {
		return nil, badRequest("values", "required: the last %d values of each input column %q", need, columns)
	}
	for name := range values {
		if !contains(columns, name) {
			return nil, badRequest("values."+name, "unknown column; the model's inputs are %q", columns)
		}
	}
	cols := make([][]float64, len(columns))
	for c, name := range columns {
		vs, ok := values[name]
		field := "values." + name
		if !ok {
			return nil, badRequest(field, "missing: the model needs the last %d values of %q", need, name)
		}
		if atLeast && len(vs) < need {
			return nil, badRequest(field, "got %d values, the model needs at least %d (its lookback)", len(vs), need)
		}
		if !atLeast && len(vs) != need {
			return nil, badRequest(field, "got %d values, the model needs %d (its lookback)", len(vs), need)
		}
		cols[c] = make([]float64, len(vs))
		for i, v := range vs {
			if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
				return nil, badRequest(fmt.Sprintf("%s[%d]", field, i), "missing or non-finite value")
			}
			cols[c][i] = *v
		}
	}
	f, err := series.NewFrame(columns, cols)
	if err != nil {
		return nil, badRequest("values", "%v", err)
	}
	f.Name = "request"
	return f, nil
}

func (s *Server) forecast(l *loaded, req *PredictRequest) (*ForecastResponse, error) {
	f, err := forecastFrame(l.fc, req)
	if err != nil {
		return nil, err
	}
	return forecastWith(l.fc, f)
}

// forecastGlobal forecasts the series req.Series names with a global
// forecaster: a training series from its last Lookback values, scaled as
// in training; a series the model has not seen from all the values given
// (at least Lookback), which its scaling is fitted on.
func (s *Server) forecastGlobal(l *loaded, req *PredictRequest) (*ForecastResponse, error) {
	if req.Series == "" {
		return nil, badRequest("series", "required: the name of the series to forecast (one of the %d the model was trained on, listed by GET /v1/model, or a new name)", len(l.gf.Series()))
	}
	if fc := l.gf.SeriesForecaster(req.Series); fc != nil {
		f, err := forecastFrame(fc, req)
		if err != nil {
			return nil, err
		}
		return forecastWith(fc, f)
	}
	if len(req.Values) == 0 {
		return nil, badRequest("values", "required: at least the last %d values of the series (a new series is scaled on them)", l.gf.Lookback())
	} else if len(req.Values) > 1 {
		return nil, badRequest("values", "a global forecaster forecasts one column; got %d", len(req.Values))
	}
	var col string
	for name := range req.Values {
		col = name
	}
	if t := l.gf.Target(); t != "" && col != t {
		return nil, badRequest("values."+col, "unknown column; the model forecasts %q", t)
	}
	f, err := valuesFrame(req.Values, []string{col}, l.gf.Lookback(), true)
	if err != nil {
		return nil, err
	}
	f.Name = req.Series
	fc, err := l.gf.ForecasterFor(f)
	if err != nil {
		return nil, badRequest("values", "%v", err)
	}
	return forecastWith(fc, f)
}

// forecastWith forecasts the Horizon steps after f's last row with fc.
func forecastWith(fc *model.Forecaster, f *series.Frame) (*ForecastResponse, error) {
	pl := fc.Prep().Pipeline
	y, err := fc.Predict(f)
	if err != nil {
		// The frame is well formed, so what fails is the transform of
		// its values (a log of a negative number, say).
		return nil, badRequest("values", "%v", err)
	}
	out := &ForecastResponse{Task: model.Forecast, Horizon: pl.Horizon}
	if out.Forecast, err = forecastRows(y.Targets, y.Values); err != nil {
		return nil, err
	}
	for q, level := range y.Levels {
		if out.Quantiles == nil {
			out.Quantiles = map[string]map[string][]float32{}
		}
		if out.Quantiles[strconv.FormatFloat(level, 'g', -1, 64)], err = forecastRows(y.Targets, y.Quantiles[q]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// forecastRows turns values[h][k] into each target's row of Horizon
// values, refusing a forecast that is not finite.
func forecastRows(targets []string, values [][]float64) (map[string][]float32, error) {
	out := map[string][]float32{}
	for k, name := range targets {
		row := make([]float32, len(values))
		for h := range values {
			v := values[h][k]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, badRequest("values", "the forecast of %q is not finite; the values are far outside the training range", name)
			}
			row[h] = float32(v)
		}
		out[name] = row
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Classification is the answer for one text.
type Classification struct {
	Label         string             `json:"label"`
	Probabilities map[string]float32 `json:"probabilities"`
	// Labels is a multi-label classifier's set: the classes of
	// probability 0.5 or more (possibly none: []); absent for a
	// single-label classifier.
	Labels *[]string `json:"labels,omitempty"`
	// Tokens counts the text's tokens (before the cut to the model's
	// max_len) and Unknown those not in the vocabulary.
	Tokens  int `json:"tokens"`
	Unknown int `json:"unknown"`
}

// ClassifyResponse answers a classifier, one prediction per text in order.
type ClassifyResponse struct {
	Task        string           `json:"task"`
	Predictions []Classification `json:"predictions"`
}

func (s *Server) texts(req *PredictRequest) error {
	if len(req.Texts) == 0 {
		return badRequest("texts", "required: an array of at least one text")
	}
	if len(req.Texts) > s.opts.MaxItems {
		return tooMany("texts", "texts", len(req.Texts), s.opts.MaxItems, "MaxItems")
	}
	for i, t := range req.Texts {
		if strings.TrimSpace(t) == "" {
			return badRequest(fmt.Sprintf("texts[%d]", i), "empty text")
		}
	}
	return nil
}

// encodeLimited encodes t with e and refuses more than MaxTokens tokens;
// the model then computes on the same ids, so a text is encoded once.
func (s *Server) encodeLimited(e *text.Encoder, t, field string) ([]int, error) {
	ids := e.Encode(t)
	if len(ids) > s.opts.MaxTokens {
		return nil, tooMany(field, "tokens", len(ids), s.opts.MaxTokens, "MaxTokens")
	}
	return ids, nil
}

func (s *Server) classify(ctx context.Context, l *loaded, req *PredictRequest) (*ClassifyResponse, error) {
	if err := s.texts(req); err != nil {
		return nil, err
	}
	// A text longer than the model's max_len is cut before the network
	// sees it; only a model without one (or a longer one) reads more
	// than MaxTokens.
	preds, err := l.cls.PredictLimited(ctx, req.Texts, s.opts.MaxTokens)
	if tl := (*model.TokenLimitError)(nil); errors.As(err, &tl) {
		return nil, tooMany(fmt.Sprintf("texts[%d]", tl.Index), "tokens", tl.Tokens, tl.Limit, "MaxTokens")
	}
	if err != nil {
		return nil, err
	}
	out := &ClassifyResponse{Task: model.Classify}
	names := classNames(l.cls)
	for i, p := range preds {
		if p.Tokens == 0 {
			return nil, badRequest(fmt.Sprintf("texts[%d]", i), "the text has no tokens after cleaning")
		}
		out.Predictions = append(out.Predictions, classificationOf(p, names))
	}
	return out, nil
}

// classificationOf is the answer for one of a classifier's predictions.
func classificationOf(p model.Prediction, names []string) Classification {
	c := Classification{Label: p.Label, Probabilities: make(map[string]float32, len(names)), Tokens: p.Tokens, Unknown: p.Unknown}
	if p.Labels != nil {
		c.Labels = &p.Labels
	}
	for k, name := range names {
		c.Probabilities[name] = p.Probabilities[k]
	}
	return c
}

// classNames are the classes the probabilities are keyed by: the model's
// names, or the class numbers when it has none.
func classNames(c *model.Classifier) []string {
	names, C := c.Classes(), c.Spec().Classes
	if len(names) == C {
		return names
	}
	names = make([]string, C)
	for k := range names {
		names[k] = fmt.Sprint(k)
	}
	return names
}

// sampling validates the sampling fields; temp is the temperature when the
// request gives none.
func sampling(req *PredictRequest, temp float64) (model.SampleConfig, error) {
	sc := model.SampleConfig{Temperature: temp, TopK: req.TopK, TopP: req.TopP}
	if req.Temperature != nil {
		sc.Temperature = *req.Temperature
	}
	if sc.Temperature < 0 || sc.Temperature > 100 {
		return sc, badRequest("temperature", "%g outside [0, 100] (0: greedy)", sc.Temperature)
	}
	if sc.TopK < 0 {
		return sc, badRequest("top_k", "%d is negative (0: all tokens)", sc.TopK)
	}
	if sc.TopP < 0 || sc.TopP > 1 {
		return sc, badRequest("top_p", "%g outside [0, 1] (0: off)", sc.TopP)
	}
	if err := sc.Validate(); err != nil {
		return sc, badRequest("temperature", "%v", err)
	}
	return sc, nil
}

func seed(req *PredictRequest) *tensor.RNG {
	if req.Seed == 0 {
		return tensor.NewRNG(1)
	}
	return tensor.NewRNG(req.Seed)
}

// GenerateResponse answers a language model: the continuation alone and
// the prompt followed by it, as the tokenizer joins them.
type GenerateResponse struct {
	Task string `json:"task"`
	*model.Generation
}

func (s *Server) generate(ctx context.Context, l *loaded, req *PredictRequest) (*GenerateResponse, error) {
	if strings.TrimSpace(req.Prompt) == "" {
		return nil, badRequest("prompt", "required: a non-empty text to continue")
	}
	n := min(200, s.opts.MaxLength)
	if req.Length != nil {
		n = *req.Length
	}
	if n < 0 {
		return nil, badRequest("length", "%d is negative", n)
	}
	if n > s.opts.MaxLength {
		return nil, tooMany("length", "tokens to generate", n, s.opts.MaxLength, "MaxLength")
	}
	ids, err := s.encodeLimited(l.lm.Encoder(), req.Prompt, "prompt")
	if err != nil {
		return nil, err
	}
	sc, err := sampling(req, 0.8)
	if err != nil {
		return nil, err
	}
	g, err := l.lm.GenerateIDs(ctx, ids, n, sc, seed(req))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, badRequest("prompt", "%v", err)
	}
	return &GenerateResponse{Task: model.LM, Generation: g}, nil
}

// Translation is the answer for one source sentence. Attention, when asked
// for, holds per output token the weights over the source tokens.
type Translation struct {
	Source    string      `json:"source"`
	Output    string      `json:"output"`
	Unknown   int         `json:"unknown"`
	Attention [][]float32 `json:"attention,omitempty"`
}

// TranslateResponse answers a seq2seq model, one translation per text.
type TranslateResponse struct {
	Task         string        `json:"task"`
	Translations []Translation `json:"translations"`
}

func (s *Server) translate(ctx context.Context, l *loaded, req *PredictRequest) (*TranslateResponse, error) {
	if err := s.texts(req); err != nil {
		return nil, err
	}
	if req.MaxLength < 0 {
		return nil, badRequest("max_length", "%d is negative (0: twice the source length plus 10)", req.MaxLength)
	}
	if req.MaxLength > s.opts.MaxLength {
		return nil, tooMany("max_length", "tokens to generate", req.MaxLength, s.opts.MaxLength, "MaxLength")
	}
	sc, err := sampling(req, 0)
	if err != nil {
		return nil, err
	}
	srcs, maxLens, err := s.outputBounds(l, req)
	if err != nil {
		return nil, err
	}
	rng := seed(req)
	out := &TranslateResponse{Task: model.Seq2Seq}
	for i, t := range req.Texts {
		field := fmt.Sprintf("texts[%d]", i)
		tr, err := l.tr.TranslateIDs(ctx, srcs[i], model.TranslateOptions{MaxLen: maxLens[i], Sample: sc, RNG: rng})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, badRequest(field, "%v", err)
		}
		one := Translation{Source: t, Output: tr.Output, Unknown: tr.Unknown}
		if req.Attention {
			one.Attention = tr.Attention
		}
		out.Translations = append(out.Translations, one)
	}
	return out, nil
}

// outputBounds encodes every source text, checks it against MaxTokens
// and returns the sources' ids (what is decoded: each text is encoded
// once) and each one's output bound; with attention asked for, the
// weights the response would carry are bounded by MaxAttention before any
// decoding.
func (s *Server) outputBounds(l *loaded, req *PredictRequest) (srcs [][]int, maxLens []int, err error) {
	srcs, maxLens = make([][]int, len(req.Texts)), make([]int, len(req.Texts))
	cells := 0
	for i, t := range req.Texts {
		if srcs[i], err = s.encodeLimited(l.tr.Prep().Src, t, fmt.Sprintf("texts[%d]", i)); err != nil {
			return nil, nil, err
		}
		n := len(srcs[i])
		maxLens[i] = req.MaxLength
		if maxLens[i] == 0 {
			maxLens[i] = min(2*n+10, s.opts.MaxLength)
		}
		cells += n * maxLens[i]
	}
	if req.Attention && cells > s.opts.MaxAttention {
		return nil, nil, tooMany("attention", "attention weights (source tokens × output bound)", cells, s.opts.MaxAttention, "MaxAttention")
	}
	return srcs, maxLens, nil
}
