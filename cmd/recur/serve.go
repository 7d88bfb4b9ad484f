package main

import (
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
	"strings"
	"time"

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
	AllowHosts   string
	TokenFile    string
	TLSCert      string
	TLSKey       string
	// ready, when set (tests), receives the listening address.
	ready func(addr string)
}

var cmdServe = &command{
	Name:      "serve",
	UsageLine: "recur serve --model DIR|FILE [--addr 127.0.0.1:8080] [--auth-token-file F] [--tls-cert F --tls-key F] [limits]",
	Short:     "serve a trained model over HTTP (JSON)",
	Long: `Serve answers HTTP requests with a trained model until interrupted:

  GET  /healthz      {"status":"ok"}
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

The default address is loopback only, and then only the Host names
localhost, 127.0.0.1 and ::1 are answered (a web page cannot reach the
server through DNS rebinding); --allow-host adds names. Give --addr
:8080 to listen on every interface: then set --auth-token-file and
--tls-cert/--tls-key, or put the server behind a proxy that does; recur
warns when a public address has neither. SIGINT or SIGTERM shuts the
server down gracefully, letting running requests finish. SECURITY.md says
what the server protects against and what it does not.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &serveOpts{}
		fs.StringVar(&o.Model, "model", "", "model: a run `dir`ectory or a .safetensors file")
		fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "listen `address` (host:port)")
		fs.Int64Var(&o.MaxBody, "max-body", 1<<20, "largest request body in `bytes`")
		fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "deadline of one request")
		fs.IntVar(&o.Concurrency, "concurrency", 0, "most predictions computed at once (0: one per CPU)")
		fs.IntVar(&o.Queue, "queue", 0, "most requests waiting for a computing slot; more get 503 (0: 4 per slot)")
		fs.IntVar(&o.MaxItems, "max-items", 256, "most texts in one request")
		fs.IntVar(&o.MaxTokens, "max-tokens", 4096, "most tokens of one text, prompt or source sentence")
		fs.IntVar(&o.MaxLength, "max-length", 1000, "most tokens one request may generate")
		fs.IntVar(&o.MaxAttention, "max-attention", 1<<16, "most attention weights in one seq2seq response")
		fs.StringVar(&o.AllowHosts, "allow-host", "", "comma-separated Host names answered besides the loopback names (a loopback bind) or any (other binds)")
		fs.StringVar(&o.TokenFile, "auth-token-file", "", "`file` holding the bearer token every request but /healthz must send")
		fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM); with --tls-key, serve HTTPS")
		fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
		return noArgs("serve", func(ctx context.Context, stdout, stderr io.Writer) error { return runServe(ctx, o, stderr) })
	},
}

// runServe loads the model, listens on o.Addr and serves until ctx ends,
// then shuts down gracefully.
func runServe(ctx context.Context, o *serveOpts, stderr io.Writer) error {
	so, err := o.options()
	if err != nil {
		return err
	}
	m, path, err := loadModel(o.Model)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
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
	scheme := "http://"
	if o.TLSCert != "" {
		scheme = "https://"
	}
	logger.Info("recur serve: listening", "addr", scheme+addr, "model", path, "task", m.Spec().Task)
	if o.ready != nil {
		o.ready(addr)
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

// options checks the flags and turns them into the server's options;
// the token is read here, before the model, so a bad file fails first.
func (o *serveOpts) options() (serve.Options, error) {
	for _, f := range []struct {
		name string
		v    int
	}{{"concurrency", o.Concurrency}, {"queue", o.Queue}, {"max-items", o.MaxItems}, {"max-tokens", o.MaxTokens},
		{"max-length", o.MaxLength}, {"max-attention", o.MaxAttention}} {
		if f.v < 0 {
			return serve.Options{}, flagErr(f.name, f.v, ">= 0 (0: the default)")
		}
	}
	switch {
	case o.MaxBody <= 0:
		return serve.Options{}, flagErr("max-body", o.MaxBody, ">= 1")
	case o.Timeout <= 0:
		return serve.Options{}, flagErr("timeout", o.Timeout, "a positive duration")
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return serve.Options{}, usagef("serve: --tls-cert and --tls-key go together")
	}
	so := serve.Options{MaxBody: o.MaxBody, Timeout: o.Timeout, Concurrency: o.Concurrency, Queue: o.Queue,
		MaxItems: o.MaxItems, MaxTokens: o.MaxTokens, MaxLength: o.MaxLength, MaxAttention: o.MaxAttention}
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
