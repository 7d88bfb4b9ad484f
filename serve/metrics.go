package serve

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are a Server's Prometheus metrics, in a registry of its own (no
// global state: two Servers in one process, or in one test binary, never
// share or collide).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, code
	latency  *prometheus.HistogramVec // route
	inFlight prometheus.Gauge
	rows     prometheus.Histogram // rows of each batch
	jobs     prometheus.Histogram // requests in each batch
	info     *prometheus.GaugeVec // name, task
	params   prometheus.Gauge
	loaded   prometheus.Gauge
	reloads  *prometheus.CounterVec // result
}

// routes are the route labels: the served paths, and "other" for the
// rest, so that a scan of random paths cannot grow the label sets.
var routes = []string{"/healthz", "/readyz", "/metrics", "/v1/model", "/v1/predict"}

func routeOf(path string) string {
	for _, r := range routes {
		if path == r {
			return r
		}
	}
	return "other"
}

var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

var sizeBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}

func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recur_http_requests_total",
			Help: "HTTP requests answered, by route and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "recur_http_request_duration_seconds",
			Help: "Time from a request's arrival to its answer, by route.", Buckets: latencyBuckets}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recur_http_requests_in_flight",
			Help: "Requests being answered."}),
		rows: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "recur_batch_rows",
			Help: "Rows (texts or windows) gathered in each batch.", Buckets: sizeBuckets}),
		jobs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "recur_batch_requests",
			Help: "Requests gathered into each batch.", Buckets: sizeBuckets}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "recur_model_info",
			Help: "The served model: 1 for its file's base name and task."}, []string{"name", "task"}),
		params: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recur_model_parameters",
			Help: "Scalar parameters of the served model."}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recur_model_loaded_timestamp_seconds",
			Help: "When the served model was put in service (Unix time)."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recur_model_reloads_total",
			Help: "Model reloads, by result (ok, error: the old model kept)."}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight, m.rows, m.jobs, m.info, m.params, m.loaded, m.reloads,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recur_queue_length",
			Help: "Predictions (or batches) waiting for a computing slot."}, func() float64 { return float64(s.waiting.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recur_computing",
			Help: "Computing slots in use."}, func() float64 { return float64(len(s.slot)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recur_computing_slots",
			Help: "Computing slots (Options.Concurrency)."}, func() float64 { return float64(cap(s.slot)) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, r := range []string{"ok", "error"} {
		m.reloads.WithLabelValues(r)
	}
	return m
}

// model records the model put in service.
func (m *metrics) model(info *ModelInfo) {
	m.info.Reset()
	m.info.WithLabelValues(info.Name, info.Task).Set(1)
	m.params.Set(float64(info.Parameters))
	m.loaded.SetToCurrentTime()
}

// handler serves the registry in Prometheus' text format (or OpenMetrics
// when asked); a failure to gather is logged and answered 500.
func (m *metrics) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.HTTPErrorOnError,
		EnableOpenMetrics: true,
	})
}

// recorder remembers a response's status and size for the request log
// and the metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unwrap returns the writer below a recorder: http.MaxBytesReader closes
// the connection after an oversized body only when it holds the server's
// own writer.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	if r, ok := w.(*recorder); ok {
		return r.ResponseWriter
	}
	return w
}

// observe counts a finished request and logs it at debug level: method,
// route, status, duration and bytes written.
func (s *Server) observe(w *recorder, r *http.Request, start time.Time) {
	d := time.Since(start)
	route, status := routeOf(r.URL.Path), w.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(route).Observe(d.Seconds())
	s.metrics.inFlight.Dec()
	if s.opts.Logger.Enabled(context.Background(), slog.LevelDebug) {
		s.opts.Logger.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", d), slog.Int64("bytes", w.bytes))
	}
}
