package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
)

type serveOpts struct {
	Model        string
	Addr         string
	MaxBody      int64
	Timeout      time.Duration
	Concurrency  int
	Queue        int
	MaxItems     int
	MaxTokens    int
	MaxLength    int
	MaxAttention int
	MaxBatch     int
	BatchWait    time.Duration
	AllowHosts   string
	TokenFile    string
	TLSCert      string
	TLSKey       string
	LogFormat    string
	LogLevel     string
	DrainDelay   time.Duration
	Threads      int
	// ready, when set (tests), receives the listening address; hup, when
	// set (tests), stands for SIGHUP.
	ready func(addr string)
	hup   chan os.Signal
}

var cmdServe = &command{
	Name:      "serve",
	UsageLine: "recur serve --model DIR|FILE [--addr 127.0.0.1:8080] [--auth-token-file F] [--tls-cert F --tls-key F] [--max-batch N] [limits]",
	Short:     "serve a trained model over HTTP (JSON), with metrics, batching and reload",
	Long: `Serve answers HTTP requests with a trained model until interrupted:

  GET  /healthz      {"status":"ok"}: the process is alive
  GET  /readyz       {"status":"ready"}, or 503 {"status":"draining"} once
                     shutting down: send it traffic
  GET  /metrics      Prometheus metrics: requests by route and status,
                     latency histograms, in flight, queue length, batch
                     sizes, the model (name, task, parameters), reloads,
                     and the Go runtime and process (memory, CPU)
  GET  /v1/model     the spec, task, parameter count, training metrics and
                     preprocessing of the model
  POST /v1/predict   forecast: {"values":{"column":[last lookback raw values]}}
                     classify: {"texts":["...", ...]}
                     lm:       {"prompt":"...","length":200,"temperature":0.8,"top_k":0,"seed":1}
                     seq2seq:  {"texts":["..."],"attention":false}

Errors are JSON {"error":"...","field":"..."}: 400 for bad input, 401
without the bearer token of --auth-token-file, 403 for a Host header not
allowed, 408 for a body that stops arriving, 413 for a body over
--max-body, 415 for a body not sent as application/json, 422 for a request
over a limit (--max-items, --max-tokens, --max-length, --max-attention;
the message names it), 503 past --timeout or, with Retry-After, when
--queue requests already wait. A request past its deadline stops
computing and frees its slot.

Batching: with --max-batch above 1, concurrent requests to a classifier
or a point forecaster run as one forward pass of up to --max-batch texts
or windows, gathered for up to --batch-wait (a lone request does not
wait). A text's answer is then the same whatever it was batched with,
and agrees with recur predict (a batch of one) to float32 rounding (see
package serve's documentation). Language models, translators and
quantile or hybrid forecasters run unbatched.

Reload: SIGHUP loads --model again (a run directory's model.safetensors,
or the file) and, if it loads and is a model of the same task, puts it in
service; requests already running finish on the old model. A file that
fails to load, or a model of another task, is logged and the old model
keeps serving. recur_model_reloads_total counts both.

Threads: each prediction or batch computes on --threads threads (1 by
default) and --concurrency of them run side by side (one per CPU; a
batch that is not full waits while half of them compute, so that it
fills while the other CPUs answer requests, and a full one takes any),
which is what concurrent clients want: a computation split over the
cores pays a hand-off between them at every step, and a worker woken
from idle takes 100 µs or more to start. --threads 0 lets one request use every CPU,
which lowers the latency of a large model (hidden 256 or more) when
requests come one at a time.

Logs go to stderr, as text or JSON (--log-format); --log-level debug adds
one line per request (method, route, status, duration, bytes).

The default address is loopback only, and then only the Host names
localhost, 127.0.0.1 and ::1 are answered (a web page cannot reach the
server through DNS rebinding); --allow-host adds names. Give --addr
:8080 to listen on every interface: then set --auth-token-file and
--tls-cert/--tls-key, or put the server behind a proxy that does; recur
warns when a public address has neither. The token guards every route
but /healthz and /readyz, /metrics included (Prometheus sends it with
authorization: credentials_file). SIGINT or SIGTERM drains the server
(/readyz answers 503), waits --drain-delay for load balancers to notice,
then shuts down gracefully, letting running requests finish. SECURITY.md
says what the server protects against and what it does not.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &serveOpts{}
		fs.StringVar(&o.Model, "model", "", "model: a run `dir`ectory or a .safetensors file")
		fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "listen `address` (host:port)")
		fs.Int64Var(&o.MaxBody, "max-body", 1<<20, "largest request body in `bytes`")
		fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "deadline of one request")
		fs.IntVar(&o.Concurrency, "concurrency", 0, "most predictions or batches computed at once (0: one per CPU; a batch not full waits while half compute)")
		fs.IntVar(&o.Queue, "queue", 0, "most requests or batches waiting for a computing slot; more get 503 (0: 4 per slot)")
		fs.IntVar(&o.MaxItems, "max-items", 256, "most texts in one request")
		fs.IntVar(&o.MaxTokens, "max-tokens", 4096, "most tokens of one text, prompt or source sentence")
		fs.IntVar(&o.MaxLength, "max-length", 1000, "most tokens one request may generate")
		fs.IntVar(&o.MaxAttention, "max-attention", 1<<16, "most attention weights in one seq2seq response")
		fs.IntVar(&o.MaxBatch, "max-batch", defaultMaxBatch, "most texts or windows run as one batch (classify, forecast; 1: no batching)")
		fs.DurationVar(&o.BatchWait, "batch-wait", 2*time.Millisecond, "longest a batch waits for more requests (0: only while the computing slots are busy)")
		fs.StringVar(&o.AllowHosts, "allow-host", "", "comma-separated Host names answered besides the loopback names (a loopback bind) or any (other binds)")
		fs.StringVar(&o.TokenFile, "auth-token-file", "", "`file` holding the bearer token every request but /healthz and /readyz must send")
		fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM); with --tls-key, serve HTTPS")
		fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
		fs.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
		fs.StringVar(&o.LogLevel, "log-level", "info", "least level logged: debug (adds a line per request), info, warn or error")
		fs.DurationVar(&o.DrainDelay, "drain-delay", 0, "time between /readyz turning 503 and the listener closing, at shutdown")
		fs.IntVar(&o.Threads, "threads", 1, "threads one prediction or batch computes on (0: one per CPU; see the help)")
		return noArgs("serve", func(ctx context.Context, stdout, stderr io.Writer) error { return runServe(ctx, o, stderr) })
	},
}

// defaultMaxBatch is --max-batch's default.
const defaultMaxBatch = 32

// runServe loads the model, listens on o.Addr and serves until ctx ends,
// then drains and shuts down gracefully. SIGHUP reloads the model.
func runServe(ctx context.Context, o *serveOpts, stderr io.Writer) error {
	so, err := o.options()
	if err != nil {
		return err
	}
	logger, err := o.logger(stderr)
	if err != nil {
		return err
	}
	prev := kernel.Threads()
	kernel.SetThreads(o.Threads)
	defer kernel.SetThreads(prev)
	m, path, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	so.Name, so.Metrics, so.Logger = path, m.Metrics(), logger
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	loopback := isLoopback(ln.Addr())
	if so.AllowedHosts, err = o.hosts(loopback); err != nil {
		ln.Close()
		return err
	}
	if !loopback && (so.AuthToken == "" || o.TLSCert == "") {
		logger.Warn("recur serve: listening on a non-loopback address without --auth-token-file and TLS: anyone who reaches it can use the model, and requests travel in clear", "addr", ln.Addr().String())
	}
	h, err := serve.New(m, so)
	if err != nil {
		ln.Close()
		return err
	}
	srv := o.httpServer(ctx, h, logger)
	stop := o.watchReloads(h)
	defer stop()
	scheme := "http://"
	if o.TLSCert != "" {
		scheme = "https://"
	}
	logger.Info("recur serve: listening", "addr", scheme+ln.Addr().String(), "model", path, "task", m.Spec().Task, "batched", h.Model().Batched)
	if o.ready != nil {
		o.ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if o.TLSCert != "" {
			errc <- srv.ServeTLS(ln, o.TLSCert, o.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return o.shutdown(ctx, srv, h, logger, errc)
}

// httpServer is the http.Server over h, with explicit timeouts.
func (o *serveOpts) httpServer(ctx context.Context, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10*time.Second + o.Timeout/4,
		// A response is written after the request's deadline at the latest.
		WriteTimeout: o.Timeout + 15*time.Second,
		IdleTimeout:  60 * time.Second,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// shutdown drains h (/readyz answers 503), waits --drain-delay, then
// stops srv gracefully: it stops listening and lets running requests
// finish.
func (o *serveOpts) shutdown(ctx context.Context, srv *http.Server, h *serve.Server, logger *slog.Logger, errc chan error) error {
	h.Drain()
	logger.Info("recur serve: draining", "delay", o.DrainDelay)
	time.Sleep(o.DrainDelay)
	logger.Info("recur serve: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Timeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// watchReloads reloads --model into h on every SIGHUP (o.hup in tests)
// until the returned stop is called. A reload that fails is logged by h
// and leaves the old model in service.
func (o *serveOpts) watchReloads(h *serve.Server) (stop func()) {
	hup := o.hup
	if hup == nil {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-hup:
				h.Reload(func() (model.Model, string, error) { return loadModel(o.Model) })
			case <-done:
				return
			}
		}
	}()
	return func() {
		if o.hup == nil {
			signal.Stop(hup)
		}
		close(done)
		<-finished
	}
}

// logger is the log of --log-format and --log-level, on stderr.
func (o *serveOpts) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level // info
	if err := level.UnmarshalText([]byte(cmp.Or(o.LogLevel, "info"))); err != nil {
		return nil, flagErr("log-level", o.LogLevel, "debug, info, warn or error")
	}
	ho := &slog.HandlerOptions{Level: level}
	switch o.LogFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(stderr, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, ho)), nil
	}
	return nil, flagErr("log-format", o.LogFormat, "text or json")
}

// options checks the flags and turns them into the server's options;
// the token is read here, before the model, so a bad file fails first.
func (o *serveOpts) options() (serve.Options, error) {
	for _, f := range []struct {
		name string
		v    int
	}{{"concurrency", o.Concurrency}, {"queue", o.Queue}, {"max-items", o.MaxItems}, {"max-tokens", o.MaxTokens},
		{"max-length", o.MaxLength}, {"max-attention", o.MaxAttention}, {"max-batch", o.MaxBatch}} {
		if f.v < 0 {
			return serve.Options{}, flagErr(f.name, f.v, ">= 0 (0: the default)")
		}
	}
	switch {
	case o.MaxBody <= 0:
		return serve.Options{}, flagErr("max-body", o.MaxBody, ">= 1")
	case o.Timeout <= 0:
		return serve.Options{}, flagErr("timeout", o.Timeout, "a positive duration")
	case o.BatchWait < 0 || o.BatchWait > time.Second:
		return serve.Options{}, flagErr("batch-wait", o.BatchWait, "a duration from 0 to 1s")
	case o.DrainDelay < 0:
		return serve.Options{}, flagErr("drain-delay", o.DrainDelay, "a duration >= 0")
	case o.Threads < 0:
		return serve.Options{}, flagErr("threads", o.Threads, ">= 0 (0: one per CPU)")
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return serve.Options{}, usagef("serve: --tls-cert and --tls-key go together")
	}
	// --batch-wait 0 is no wait, which Options spells negative (its zero
	// is the default).
	so := serve.Options{MaxBody: o.MaxBody, Timeout: o.Timeout, Concurrency: o.Concurrency, Queue: o.Queue,
		MaxItems: o.MaxItems, MaxTokens: o.MaxTokens, MaxLength: o.MaxLength, MaxAttention: o.MaxAttention,
		MaxBatch: o.MaxBatch, BatchWait: cmp.Or(o.BatchWait, -1)}
	if o.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey); err != nil {
			return so, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	}
	if o.TokenFile != "" {
		b, err := os.ReadFile(o.TokenFile)
		if err != nil {
			return so, fmt.Errorf("--auth-token-file: %w", err)
		}
		so.AuthToken = strings.TrimSpace(string(b))
		if len(so.AuthToken) < 16 || strings.ContainsAny(so.AuthToken, " \t\r\n") {
			return so, fmt.Errorf("--auth-token-file %s: want one token of at least 16 characters without spaces", o.TokenFile)
		}
	}
	return so, nil
}

// hosts is the Host allow-list: the loopback names on a loopback bind,
// plus --allow-host; nil (any) on other binds unless --allow-host names
// some.
func (o *serveOpts) hosts(loopback bool) ([]string, error) {
	var hs []string
	if loopback {
		hs = append(hs, serve.LoopbackHosts...)
	}
	for _, h := range strings.Split(o.AllowHosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if strings.ContainsAny(h, "/ ") {
			return nil, flagErr("allow-host", h, "host names without scheme or path, comma-separated")
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// isLoopback reports whether a is a loopback address.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
