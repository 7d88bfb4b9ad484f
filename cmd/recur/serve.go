package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/recur-ml/recur/serve"
)

type serveOpts struct {
	Model       string
	Addr        string
	MaxBody     int64
	Timeout     time.Duration
	Concurrency int
	// ready, when set (tests), receives the listening address.
	ready func(addr string)
}

var cmdServe = &command{
	Name:      "serve",
	UsageLine: "recur serve --model DIR|FILE [--addr 127.0.0.1:8080] [--max-body BYTES] [--timeout DUR]",
	Short:     "serve a trained model over HTTP (JSON)",
	Long: `Serve answers HTTP requests with a trained model until interrupted:

  GET  /healthz      {"status":"ok"}
  GET  /v1/model     the spec, task, parameter count, training metrics and
                     preprocessing of the model
  POST /v1/predict   forecast: {"values":{"column":[last lookback raw values]}}
                     classify: {"texts":["...", ...]}
                     lm:       {"prompt":"...","length":200,"temperature":0.8,"top_k":0,"seed":1}
                     seq2seq:  {"texts":["..."],"attention":false}

Errors are JSON {"error":"...","field":"..."}: 400 for bad input, 413 for a
body over --max-body, 503 past --timeout. The default address is loopback
only; give --addr :8080 to listen on every interface. SIGINT or SIGTERM
shuts the server down gracefully, letting running requests finish.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &serveOpts{}
		fs.StringVar(&o.Model, "model", "", "model: a run `dir`ectory or a .safetensors file")
		fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "listen `address` (host:port)")
		fs.Int64Var(&o.MaxBody, "max-body", 1<<20, "largest request body in `bytes`")
		fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "deadline of one request")
		fs.IntVar(&o.Concurrency, "concurrency", 0, "most predictions computed at once (0: one per CPU)")
		return noArgs("serve", func(ctx context.Context, stdout, stderr io.Writer) error { return runServe(ctx, o, stderr) })
	},
}

// runServe loads the model, listens on o.Addr and serves until ctx ends,
// then shuts down gracefully.
func runServe(ctx context.Context, o *serveOpts, stderr io.Writer) error {
	if o.MaxBody <= 0 {
		return usagef("serve: --max-body %d must be positive", o.MaxBody)
	}
	if o.Timeout <= 0 {
		return usagef("serve: --timeout %v must be positive", o.Timeout)
	}
	if o.Concurrency < 0 {
		return usagef("serve: --concurrency %d is negative", o.Concurrency)
	}
	m, path, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	h, err := serve.New(m, serve.Options{MaxBody: o.MaxBody, Timeout: o.Timeout, Concurrency: o.Concurrency,
		Name: path, Metrics: m.Metrics(), Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10*time.Second + o.Timeout/4,
		// A response is written after the request's deadline at the latest.
		WriteTimeout: o.Timeout + 15*time.Second,
		IdleTimeout:  60 * time.Second,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	addr := ln.Addr().String()
	logger.Info("recur serve: listening", "addr", "http://"+addr, "model", path, "task", m.Spec().Task)
	if o.ready != nil {
		o.ready(addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
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
