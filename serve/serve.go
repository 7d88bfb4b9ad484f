package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
)

// Options configures a Server. The zero value gives the documented defaults.
type Options struct {
	// MaxBody is the largest request body in bytes (zero: 1 MiB); a larger
	// one is answered 413.
	MaxBody int64
	// Timeout is the deadline of one request, queueing included (zero: 30 s);
	// a request still running then is answered 503.
	Timeout time.Duration
	// MaxItems is the most texts one request may carry (zero: 256).
	MaxItems int
	// MaxLength is the most tokens one request may generate: an lm
	// "length", a seq2seq "max_length" (zero: 1000).
	MaxLength int
	// Concurrency is the most predictions computed at once (zero:
	// GOMAXPROCS); further requests wait for a slot until their deadline.
	Concurrency int
	// Queue is the most requests waiting for a slot (zero: 4 per slot);
	// one more is answered 503 with Retry-After at once, so a burst cannot
	// pile up goroutines and bodies behind a slow model.
	Queue int
	// MaxTokens is the most tokens one text may have: a classifier's text,
	// a language model's prompt, a translator's source (zero: 4096). The
	// work and memory of a request grow with it.
	MaxTokens int
	// MaxAttention is the most attention weights one seq2seq response may
	// carry: source tokens × output tokens, summed over its texts (zero:
	// 65536, about 1 MB of JSON).
	MaxAttention int
	// AllowedHosts, when not empty, are the only Host header values
	// answered (the port ignored; "localhost", "127.0.0.1", "[::1]"...);
	// others get 403. A server on loopback should allow only loopback
	// names, so a web page a browser shows cannot reach it through a
	// DNS name that resolves to 127.0.0.1 (DNS rebinding).
	AllowedHosts []string
	// AuthToken, when set, must be sent as "Authorization: Bearer TOKEN"
	// with every request but GET /healthz; others get 401.
	AuthToken string
	// Name is shown by GET /v1/model: a file's base name, never a local
	// path.
	Name string
	// Metrics, a JSON value recorded at training time, is shown by
	// GET /v1/model; nil shows nothing.
	Metrics json.RawMessage
	// Logger receives panics and failed responses; nil: slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxBody < 0:
		return o, fmt.Errorf("serve: Options.MaxBody %d is negative", o.MaxBody)
	case o.Timeout < 0:
		return o, fmt.Errorf("serve: Options.Timeout %v is negative", o.Timeout)
	case o.MaxItems < 0:
		return o, fmt.Errorf("serve: Options.MaxItems %d is negative", o.MaxItems)
	case o.MaxLength < 0:
		return o, fmt.Errorf("serve: Options.MaxLength %d is negative", o.MaxLength)
	case o.Concurrency < 0:
		return o, fmt.Errorf("serve: Options.Concurrency %d is negative", o.Concurrency)
	case o.Queue < 0 || o.MaxTokens < 0 || o.MaxAttention < 0:
		return o, fmt.Errorf("serve: Options.Queue %d, MaxTokens %d, MaxAttention %d: none may be negative", o.Queue, o.MaxTokens, o.MaxAttention)
	case o.Metrics != nil && !json.Valid(o.Metrics):
		return o, fmt.Errorf("serve: Options.Metrics is not valid JSON")
	}
	if o.MaxBody == 0 {
		o.MaxBody = 1 << 20
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxItems == 0 {
		o.MaxItems = 256
	}
	if o.MaxLength == 0 {
		o.MaxLength = 1000
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.Queue == 0 {
		o.Queue = 4 * o.Concurrency
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = 4096
	}
	if o.MaxAttention == 0 {
		o.MaxAttention = 1 << 16
	}
	o.Name = filepath.Base(o.Name)
	if o.Name == "." {
		o.Name = ""
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Server answers HTTP requests with one immutable model. It is an
// http.Handler; build it with New.
type Server struct {
	m    model.Model
	opts Options
	mux  *http.ServeMux
	slot chan struct{}
	// waiting counts the requests waiting for a slot (bounded by Queue).
	waiting atomic.Int64
	info    ModelInfo

	fc  *model.Forecaster
	cls *model.Classifier
	lm  *model.LanguageModel
	tr  *model.Translator
}

// New returns a Server over m (a model.Load result, say), which must not
// be given to anything that mutates it afterwards (training). It reports
// an error for a model without weights or a task it does not serve.
func New(m model.Model, opts Options) (*Server, error) {
	if m == nil {
		return nil, errors.New("serve: nil model")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{m: m, opts: o, slot: make(chan struct{}, o.Concurrency)}
	s.info = ModelInfo{Name: o.Name, Task: m.Spec().Task, Spec: m.Spec(), Parameters: m.NumParams(), Metrics: o.Metrics}
	if s.info.Preprocessing, err = s.bind(m); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /v1/model", s.modelInfo)
	s.mux.HandleFunc("POST /v1/predict", s.predict)
	return s, nil
}

// bind keeps the front door of m's task and describes its preprocessing.
func (s *Server) bind(m model.Model) (map[string]any, error) {
	switch x := m.(type) {
	case *model.Forecaster:
		p := x.Prep()
		if p == nil || p.Pipeline == nil {
			return nil, fmt.Errorf("serve: the forecaster has no preprocessing state")
		}
		s.fc = x
		pl := p.Pipeline
		pp := map[string]any{"inputs": pl.Columns, "targets": pl.Targets, "lookback": pl.Lookback + pl.Shift(), "horizon": pl.Horizon}
		if pl.Scaler != nil {
			pp["scaler"] = pl.Scaler.Method
		}
		if pl.Log != nil {
			pp["log"] = pl.Log
		}
		return pp, nil
	case *model.Classifier:
		p := x.Prep()
		if p == nil || p.Encoder == nil {
			return nil, fmt.Errorf("serve: the classifier has no text encoder (a classifier of numeric sequences is not served)")
		}
		s.cls = x
		return textInfo(p.Encoder, p.Classes, p.MaxLen), nil
	case *model.LanguageModel:
		if x.Encoder() == nil {
			return nil, fmt.Errorf("serve: the language model has no text encoder")
		}
		s.lm = x
		return textInfo(x.Encoder(), nil, 0), nil
	case *model.Translator:
		p := x.Prep()
		if p == nil {
			return nil, fmt.Errorf("serve: the translator has no preprocessing state")
		}
		s.tr = x
		return map[string]any{"src_tokenizer": fmt.Sprintf("%T", p.Src.Tok), "src_vocab": p.Src.Vocab.Len(),
			"tgt_tokenizer": fmt.Sprintf("%T", p.Tgt.Tok), "tgt_vocab": p.Tgt.Vocab.Len(), "max_len": p.MaxLen}, nil
	}
	return nil, fmt.Errorf("serve: task %q is not served", m.Spec().Task)
}

func textInfo(e *text.Encoder, classes []string, maxLen int) map[string]any {
	pp := map[string]any{"tokenizer": fmt.Sprintf("%T", e.Tok), "vocab": e.Vocab.Len()}
	if classes != nil {
		pp["classes"] = classes
	}
	if maxLen > 0 {
		pp["max_len"] = maxLen
	}
	return pp
}

// ServeHTTP routes r; a panic anywhere below becomes a 500 and a log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.opts.Logger.Error("serve: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, &Error{Status: http.StatusInternalServerError, Message: "internal error"})
		}
	}()
	if e := s.admit(r); e != nil {
		if e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="recur"`)
		}
		writeError(w, e)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// ModelInfo is the body of GET /v1/model.
type ModelInfo struct {
	Name          string          `json:"name,omitempty"`
	Task          string          `json:"task"`
	Spec          model.Spec      `json:"spec"`
	Parameters    int             `json:"parameters"`
	Metrics       json.RawMessage `json:"metrics,omitempty"`
	Preprocessing map[string]any  `json:"preprocessing"`
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) modelInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.info)
}

// Error is the body of every failed response: a message and, for bad input,
// the JSON field at fault ("values.y", "texts[2]", "temperature").
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func badRequest(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(&Error{Message: "encoding the response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, e) }

// PredictRequest is the body of POST /v1/predict. Which fields apply
// depends on the model's task (see the package documentation); a field
// that is not known is an error, a known field of another task is ignored.
type PredictRequest struct {
	// Values maps each input column of a forecaster to its last lookback
	// raw values, oldest first, in the data's units; null marks a missing
	// value, which is an error.
	Values Values `json:"values,omitempty"`
	// Texts are the texts to classify or the sentences to translate.
	Texts []string `json:"texts,omitempty"`
	// Prompt is the text a language model continues.
	Prompt string `json:"prompt,omitempty"`
	// Length is the number of tokens to generate (lm; nil: 200, or
	// Options.MaxLength when smaller).
	Length *int `json:"length,omitempty"`
	// Temperature, TopK and TopP choose how tokens are drawn (lm and
	// seq2seq; nil Temperature: 0.8 for lm, greedy for seq2seq).
	Temperature *float64 `json:"temperature,omitempty"`
	TopK        int      `json:"top_k,omitempty"`
	TopP        float64  `json:"top_p,omitempty"`
	// Seed seeds the sampling (zero: 1); the same seed gives the same text.
	Seed uint64 `json:"seed,omitempty"`
	// MaxLength bounds each translation (seq2seq; zero: twice the source
	// length plus 10).
	MaxLength int `json:"max_length,omitempty"`
	// Attention asks for the attention weights of each translation.
	Attention bool `json:"attention,omitempty"`
}

// Values maps column names to values, null standing for a missing one.
// Its decoding names the column at fault ("values.y") in type errors.
type Values map[string][]*float64

// UnmarshalJSON decodes a JSON object of arrays of numbers or nulls.
func (v *Values) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return badRequest("values", "want an object of arrays, got %s", typ.Value)
		}
		return err
	}
	if raw == nil {
		*v = nil
		return nil
	}
	out := make(Values, len(raw))
	for k, r := range raw {
		var col []*float64
		if err := json.Unmarshal(r, &col); err != nil {
			var typ *json.UnmarshalTypeError
			if errors.As(err, &typ) {
				return badRequest("values."+k, "want an array of numbers, got %s", typ.Value)
			}
			return badRequest("values."+k, "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		out[k] = col
	}
	*v = out
	return nil
}

// DecodeRequest reads one PredictRequest from r: one JSON object, no unknown
// fields, nothing after it. Its errors are *Error values naming the field
// at fault (status 400, or 413 when r is an http.MaxBytesReader over its
// limit).
func DecodeRequest(r io.Reader) (*PredictRequest, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var req PredictRequest
	if err := dec.Decode(&req); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, decodeError(err)
		}
		return nil, badRequest("", "malformed JSON: data after the request object")
	}
	return &req, nil
}

func decodeError(err error) *Error {
	var mb *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var own *Error
	var netErr net.Error
	switch {
	case errors.As(err, &own):
		return own
	case errors.As(err, &mb):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", mb.Limit)}
	case errors.As(err, &netErr) && netErr.Timeout():
		// The message of a network error names both socket addresses:
		// not for the client.
		return &Error{Status: http.StatusRequestTimeout, Message: "the request body did not arrive in time"}
	case errors.As(err, &netErr):
		return badRequest("", "reading the request body failed")
	case errors.Is(err, io.EOF):
		return badRequest("", "empty request body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: unexpected end of the body")
	case errors.As(err, &syn):
		return badRequest("", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		f := typ.Field
		if f == "" {
			return badRequest("", "want a JSON object, got %s", typ.Value)
		}
		return badRequest(f, "want %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return badRequest(strings.Trim(f, `"`), "unknown field")
	}
	return badRequest("", "malformed JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number (" + goKind + ")"
}

// predict decodes the request, waits for a computing slot and runs the
// task's prediction under the request deadline.
func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	if e := jsonBody(r); e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	req, err := DecodeRequest(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	if err != nil {
		writeError(w, err.(*Error))
		return
	}
	if !s.acquire(ctx) {
		if ctx.Err() == nil {
			w.Header().Set("Retry-After", "1")
			writeError(w, &Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("busy: %d requests computing and %d waiting", s.opts.Concurrency, s.opts.Queue)})
			return
		}
		s.fail(w, r, s.deadline(ctx))
		return
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-s.slot }()
		defer func() {
			if v := recover(); v != nil {
				s.opts.Logger.Error("serve: panic in prediction", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				done <- result{err: &Error{Status: http.StatusInternalServerError, Message: "internal error"}}
			}
		}()
		v, err := s.run(ctx, req)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			s.fail(w, r, res.err)
			return
		}
		writeJSON(w, http.StatusOK, res.v)
	case <-ctx.Done():
		// The computation sees the same context between tokens and texts,
		// stops and frees its slot; it does not run to its end.
		s.fail(w, r, s.deadline(ctx))
	}
}

type result struct {
	v   any
	err error
}

func (s *Server) deadline(ctx context.Context) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("the request did not finish within %v", s.opts.Timeout)}
	}
	return &Error{Status: http.StatusServiceUnavailable, Message: "request canceled"}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := err.(*Error)
	switch {
	case ok:
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e = &Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("the request did not finish within %v", s.opts.Timeout)}
	default:
		e = &Error{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	if e.Status >= 500 {
		s.opts.Logger.Warn("serve: request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "error", e.Message)
	}
	writeError(w, e)
}

func (s *Server) run(ctx context.Context, req *PredictRequest) (any, error) {
	switch {
	case s.fc != nil:
		return s.forecast(req)
	case s.cls != nil:
		return s.classify(ctx, req)
	case s.lm != nil:
		return s.generate(ctx, req)
	default:
		return s.translate(ctx, req)
	}
}

// ForecastResponse is the answer of a forecaster: for each target, the
// next Horizon values in the data's units; a quantile forecaster also
// gives each level's forecast, keyed by the level ("0.1", "0.9").
type ForecastResponse struct {
	Task      string                          `json:"task"`
	Horizon   int                             `json:"horizon"`
	Forecast  map[string][]float32            `json:"forecast"`
	Quantiles map[string]map[string][]float32 `json:"quantiles,omitempty"`
}

func (s *Server) forecast(req *PredictRequest) (*ForecastResponse, error) {
	pl := s.fc.Prep().Pipeline
	need := pl.Lookback + pl.Shift()
	if len(req.Values) == 0 {
		return nil, badRequest("values", "required: the last %d values of each input column %q", need, pl.Columns)
	}
	for name := range req.Values {
		if !contains(pl.Columns, name) {
			return nil, badRequest("values."+name, "unknown column; the model's inputs are %q", pl.Columns)
		}
	}
	cols := make([][]float64, len(pl.Columns))
	for c, name := range pl.Columns {
		vs, ok := req.Values[name]
		field := "values." + name
		if !ok {
			return nil, badRequest(field, "missing: the model needs the last %d values of %q", need, name)
		}
		if len(vs) != need {
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
	f, err := series.NewFrame(pl.Columns, cols)
	if err != nil {
		return nil, badRequest("values", "%v", err)
	}
	f.Name = "request"
	y, err := s.fc.Predict(f)
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

// tokenCount encodes t with e and refuses more than MaxTokens tokens.
func (s *Server) tokenCount(e *text.Encoder, t, field string) (int, error) {
	n := len(e.Encode(t))
	if n > s.opts.MaxTokens {
		return n, tooMany(field, "tokens", n, s.opts.MaxTokens, "MaxTokens")
	}
	return n, nil
}

func (s *Server) classify(ctx context.Context, req *PredictRequest) (*ClassifyResponse, error) {
	if err := s.texts(req); err != nil {
		return nil, err
	}
	// A text longer than the model's max_len is cut before the network
	// sees it; only a model without one reads whole texts.
	if p := s.cls.Prep(); p.MaxLen == 0 || p.MaxLen > s.opts.MaxTokens {
		for i, t := range req.Texts {
			if _, err := s.tokenCount(p.Encoder, t, fmt.Sprintf("texts[%d]", i)); err != nil {
				return nil, err
			}
		}
	}
	preds, err := s.cls.Predict(ctx, req.Texts)
	if err != nil {
		return nil, err
	}
	out := &ClassifyResponse{Task: model.Classify}
	for i, p := range preds {
		if p.Tokens == 0 {
			return nil, badRequest(fmt.Sprintf("texts[%d]", i), "the text has no tokens after cleaning")
		}
		c := Classification{Label: p.Label, Probabilities: map[string]float32{}, Tokens: p.Tokens, Unknown: p.Unknown}
		if p.Labels != nil {
			c.Labels = &p.Labels
		}
		for k, name := range s.cls.Classes() {
			c.Probabilities[name] = p.Probabilities[k]
		}
		out.Predictions = append(out.Predictions, c)
	}
	return out, nil
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

func (s *Server) generate(ctx context.Context, req *PredictRequest) (*GenerateResponse, error) {
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
	if _, err := s.tokenCount(s.lm.Encoder(), req.Prompt, "prompt"); err != nil {
		return nil, err
	}
	sc, err := sampling(req, 0.8)
	if err != nil {
		return nil, err
	}
	g, err := s.lm.Generate(ctx, req.Prompt, n, sc, seed(req))
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

func (s *Server) translate(ctx context.Context, req *PredictRequest) (*TranslateResponse, error) {
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
	maxLens, err := s.outputBounds(req)
	if err != nil {
		return nil, err
	}
	rng := seed(req)
	out := &TranslateResponse{Task: model.Seq2Seq}
	for i, t := range req.Texts {
		field := fmt.Sprintf("texts[%d]", i)
		tr, err := s.tr.Translate(ctx, t, model.TranslateOptions{MaxLen: maxLens[i], Sample: sc, RNG: rng})
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

// outputBounds checks every source text against MaxTokens and returns
// each one's output bound; with attention asked for, the weights the
// response would carry are bounded by MaxAttention before any decoding.
func (s *Server) outputBounds(req *PredictRequest) ([]int, error) {
	maxLens := make([]int, len(req.Texts))
	cells := 0
	for i, t := range req.Texts {
		n, err := s.tokenCount(s.tr.Prep().Src, t, fmt.Sprintf("texts[%d]", i))
		if err != nil {
			return nil, err
		}
		maxLens[i] = req.MaxLength
		if maxLens[i] == 0 {
			maxLens[i] = min(2*n+10, s.opts.MaxLength)
		}
		cells += n * maxLens[i]
	}
	if req.Attention && cells > s.opts.MaxAttention {
		return nil, tooMany("attention", "attention weights (source tokens × output bound)", cells, s.opts.MaxAttention, "MaxAttention")
	}
	return maxLens, nil
}
