package serve

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
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
	// Concurrency is the most predictions (or batches) computed at once
	// (zero: GOMAXPROCS); further requests wait for a slot until their
	// deadline. A batch that can still take requests computes only while
	// fewer than half of the slots (at least one) compute batches: it
	// grows while they are busy, and the CPUs that do not compute read,
	// decode and answer the requests that fill it. A batch that can take
	// no more (MaxBatch rows, or no room for the next request) takes any
	// free slot: then the model, not the requests, limits the
	// throughput, and every CPU should compute.
	Concurrency int
	// Queue is the most requests (or batches) waiting for a slot (zero: 4
	// per slot); one more is answered 503 with Retry-After at once, so a
	// burst cannot pile up goroutines and bodies behind a slow model.
	Queue int
	// MaxTokens is the most tokens one text may have: a classifier's text,
	// a language model's prompt, a translator's source (zero: 4096). The
	// work and memory of a request grow with it.
	MaxTokens int
	// MaxAttention is the most attention weights one seq2seq response may
	// carry: source tokens × output tokens, summed over its texts (zero:
	// 65536, about 1 MB of JSON).
	MaxAttention int
	// MaxBatch, above one, turns on dynamic batching for a classifier and
	// a point forecaster: concurrent requests are run as one forward pass
	// of at most MaxBatch rows (texts or windows). Zero or one: every
	// request runs on its own (see the package documentation, "Batching").
	MaxBatch int
	// BatchWait is the longest a batch waits for more requests before it
	// asks for a computing slot (zero: 2 ms; negative: it does not wait,
	// and takes only the requests that arrive while it waits for a slot).
	// A batch stops waiting as soon as it is full or no other request is
	// on its way, so a lone request never waits.
	BatchWait time.Duration
	// AllowedHosts, when not empty, are the only Host header values
	// answered (the port ignored; "localhost", "127.0.0.1", "[::1]"...);
	// others get 403. A server on loopback should allow only loopback
	// names, so a web page a browser shows cannot reach it through a
	// DNS name that resolves to 127.0.0.1 (DNS rebinding).
	AllowedHosts []string
	// AuthToken, when set, must be sent as "Authorization: Bearer TOKEN"
	// with every request but GET /healthz and GET /readyz (GET /metrics
	// included); others get 401.
	AuthToken string
	// Name is shown by GET /v1/model and in the metrics: a file's base
	// name, never a local path.
	Name string
	// Metrics, a JSON value recorded at training time, is shown by
	// GET /v1/model; nil shows nothing.
	Metrics json.RawMessage
	// Logger receives panics, failed responses, reloads and, at debug
	// level, one line per request; nil: slog.Default().
	Logger *slog.Logger
}

// withDefaults checks o and fills in the defaults.
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
	case o.MaxBatch < 0:
		return o, fmt.Errorf("serve: Options.MaxBatch %d is negative", o.MaxBatch)
	}
	o.MaxBody = cmp.Or(o.MaxBody, 1<<20)
	o.Timeout = cmp.Or(o.Timeout, 30*time.Second)
	o.MaxItems = cmp.Or(o.MaxItems, 256)
	o.MaxLength = cmp.Or(o.MaxLength, 1000)
	o.Concurrency = cmp.Or(o.Concurrency, runtime.GOMAXPROCS(0))
	o.Queue = cmp.Or(o.Queue, 4*o.Concurrency)
	o.MaxTokens = cmp.Or(o.MaxTokens, 4096)
	o.MaxAttention = cmp.Or(o.MaxAttention, 1<<16)
	o.BatchWait = max(cmp.Or(o.BatchWait, 2*time.Millisecond), 0)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Server answers HTTP requests with one model at a time. It is an
// http.Handler; build it with New. The model in service can be replaced
// while it serves (Swap, Reload).
type Server struct {
	opts Options
	mux  *http.ServeMux
	slot chan struct{}
	// gate admits batches to the slots by kind (Options.Concurrency).
	gate *gate
	// waiting counts the requests (or batches) waiting for a slot
	// (bounded by Queue).
	waiting atomic.Int64
	// cur is the model in service; swapMu orders Swaps.
	cur      atomic.Pointer[loaded]
	swapMu   sync.Mutex
	draining atomic.Bool
	metrics  *metrics
	// workers run the computations (batches and unbatched predictions).
	workers *workers
}

// New returns a Server over m (a model.Load result, say), which must not
// be given to anything that mutates it afterwards (training). It reports
// an error for a model without weights or a task it does not serve.
func New(m model.Model, opts Options) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, slot: make(chan struct{}, o.Concurrency), gate: newGate(o.Concurrency), workers: newWorkers(workerIdle)}
	l, err := s.load(m, o.Name, o.Metrics)
	if err != nil {
		return nil, err
	}
	s.cur.Store(l)
	s.metrics = newMetrics(s)
	s.metrics.model(&l.info)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.handler(s.opts.Logger))
	s.mux.HandleFunc("GET /v1/model", s.modelInfo)
	s.mux.HandleFunc("POST /v1/predict", s.predict)
}

// Registry is the Server's own Prometheus registry, served at GET
// /metrics: a program that embeds the Server may register its own
// collectors in it.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// ServeHTTP routes r; a panic anywhere below becomes a 500 and a log line.
// Every request is counted and timed in the metrics and logged at debug
// level.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	s.metrics.inFlight.Inc()
	defer s.observe(rec, r, time.Now())
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.opts.Logger.Error("serve: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(rec, &Error{Status: http.StatusInternalServerError, Message: "internal error"})
		}
	}()
	if e := s.admit(r); e != nil {
		if e.Status == http.StatusUnauthorized {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="recur"`)
		}
		writeError(rec, e)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// Error is the body of every failed response: a message and, for bad input,
// the JSON field at fault ("values.y", "texts[2]", "temperature").
type Error struct {
	Status int `json:"-"`
	// retryAfter marks a 503 for a full queue: answered with
	// Retry-After, not logged.
	retryAfter bool
	Message    string `json:"error"`
	Field      string `json:"field,omitempty"`
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

func writeError(w http.ResponseWriter, e *Error) {
	if e.retryAfter {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, e)
}

// PredictRequest is the body of POST /v1/predict. Which fields apply
// depends on the model's task (see the package documentation); a field
// that is not known is an error, a known field of another task is ignored.
type PredictRequest struct {
	// Values maps each input column of a forecaster to its last lookback
	// raw values, oldest first, in the data's units; null marks a missing
	// value, which is an error.
	Values Values `json:"values,omitempty"`
	// Series names the series a global forecaster forecasts: one it was
	// trained on (Values then holds its last lookback values, scaled as
	// in training) or a new name (Values then holds at least lookback
	// values of its one column, which its scaling is fitted on).
	Series string `json:"series,omitempty"`
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

// predict decodes the request and answers it with the model in service
// when it arrived: in a batch (Options.MaxBatch) or on its own.
func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	if e := jsonBody(r); e != nil {
		writeError(w, e)
		return
	}
	l := s.cur.Load()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	var v any
	var err error
	if l.batch != nil {
		v, err = s.batched(ctx, l, w, r)
	} else {
		v, err = s.unbatched(ctx, l, w, r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// decode reads the request body under the MaxBody limit.
func (s *Server) decode(w http.ResponseWriter, r *http.Request) (*PredictRequest, error) {
	return DecodeRequest(http.MaxBytesReader(unwrap(w), r.Body, s.opts.MaxBody))
}

// batched checks the request and runs it in a batch of l's batcher. The
// batcher is told of the request before its body is read, so a batch does
// not stop waiting while a request is on its way to it.
func (s *Server) batched(ctx context.Context, l *loaded, w http.ResponseWriter, r *http.Request) (any, error) {
	l.batch.arrive()
	joined := false
	defer func() {
		if !joined {
			l.batch.leave()
		}
	}()
	req, err := s.decode(w, r)
	if err != nil {
		return nil, err
	}
	var j *job
	if l.cls != nil {
		j, err = s.classifyJob(l, req)
	} else {
		var f *series.Frame
		if f, err = forecastFrame(l.fc, req); err == nil {
			j, err = forecastJob(l.fc, f)
		}
	}
	if err != nil {
		return nil, err
	}
	joined = true
	if err := l.batch.do(ctx, j); err != nil {
		if ctx.Err() != nil {
			return nil, s.deadline(ctx)
		}
		return nil, err
	}
	return j.out, nil
}

// unbatched waits for a computing slot and runs the task's prediction
// under the request deadline.
func (s *Server) unbatched(ctx context.Context, l *loaded, w http.ResponseWriter, r *http.Request) (any, error) {
	req, err := s.decode(w, r)
	if err != nil {
		return nil, err
	}
	if !s.acquire(ctx) {
		if ctx.Err() == nil {
			return nil, s.busy()
		}
		return nil, s.deadline(ctx)
	}
	done := make(chan result, 1)
	s.workers.do(func() {
		defer func() { <-s.slot }()
		defer func() {
			if v := recover(); v != nil {
				s.opts.Logger.Error("serve: panic in prediction", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				done <- result{err: &Error{Status: http.StatusInternalServerError, Message: "internal error"}}
			}
		}()
		v, err := s.run(ctx, l, req)
		done <- result{v, err}
	})
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		// The computation sees the same context between tokens and texts,
		// stops and frees its slot; it does not run to its end.
		return nil, s.deadline(ctx)
	}
}

type result struct {
	v   any
	err error
}

// busy is the 503 of a request (or batch) refused because Queue others
// already wait for a slot.
func (s *Server) busy() *Error {
	return &Error{Status: http.StatusServiceUnavailable, retryAfter: true,
		Message: fmt.Sprintf("busy: %d requests computing and %d waiting", s.opts.Concurrency, s.opts.Queue)}
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
	if e.Status >= 500 && !e.retryAfter {
		s.opts.Logger.Warn("serve: request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "error", e.Message)
	}
	writeError(w, e)
}

func (s *Server) run(ctx context.Context, l *loaded, req *PredictRequest) (any, error) {
	switch {
	case l.fc != nil:
		return s.forecast(l, req)
	case l.gf != nil:
		return s.forecastGlobal(l, req)
	case l.cls != nil:
		return s.classify(ctx, l, req)
	case l.lm != nil:
		return s.generate(ctx, l, req)
	default:
		return s.translate(ctx, l, req)
	}
}
