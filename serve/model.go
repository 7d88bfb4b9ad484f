package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
)

// loaded is one model in service: the front door of its task, what
// GET /v1/model shows, and the batcher of its batched task. A request
// takes the Server's current loaded once, when it arrives, and runs on it
// to its end, so a Swap never changes the model under a request.
type loaded struct {
	m    model.Model
	info ModelInfo

	fc  *model.Forecaster
	gf  *model.GlobalForecaster
	cls *model.Classifier
	lm  *model.LanguageModel
	tr  *model.Translator

	// batch gathers the concurrent requests of a batched task (nil:
	// unbatched; see Options.MaxBatch).
	batch *batcher
}

// ModelInfo is the body of GET /v1/model.
type ModelInfo struct {
	Name          string          `json:"name,omitempty"`
	Task          string          `json:"task"`
	Spec          model.Spec      `json:"spec"`
	Parameters    int             `json:"parameters"`
	Metrics       json.RawMessage `json:"metrics,omitempty"`
	Preprocessing map[string]any  `json:"preprocessing"`
	// Batched tells whether concurrent requests are run as batches
	// (Options.MaxBatch above one and a task that batches).
	Batched bool `json:"batched"`
}

// load checks m and readies it for service: its task's front door, its
// description and, when batching, its batcher. metrics is the JSON shown
// by GET /v1/model (nil: none).
func (s *Server) load(m model.Model, name string, metrics json.RawMessage) (*loaded, error) {
	if m == nil {
		return nil, errors.New("serve: nil model")
	}
	if name = filepath.Base(name); name == "." {
		name = ""
	}
	l := &loaded{m: m}
	l.info = ModelInfo{Name: name, Task: m.Spec().Task, Spec: m.Spec(), Parameters: m.NumParams(), Metrics: metrics}
	var err error
	if l.info.Preprocessing, err = l.bind(); err != nil {
		return nil, err
	}
	if s.opts.MaxBatch > 1 {
		l.batch = s.newBatcher(l)
	}
	l.info.Batched = l.batch != nil
	return l, nil
}

// bind keeps the front door of l.m's task and describes its preprocessing.
func (l *loaded) bind() (map[string]any, error) {
	switch x := l.m.(type) {
	case *model.Forecaster:
		p := x.Prep()
		if p == nil || p.Pipeline == nil {
			return nil, fmt.Errorf("serve: the forecaster has no preprocessing state")
		}
		l.fc = x
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
		l.cls = x
		return textInfo(p.Encoder, p.Classes, p.MaxLen), nil
	case *model.LanguageModel:
		if x.Encoder() == nil {
			return nil, fmt.Errorf("serve: the language model has no text encoder")
		}
		l.lm = x
		return textInfo(x.Encoder(), nil, 0), nil
	case *model.Translator:
		p := x.Prep()
		if p == nil {
			return nil, fmt.Errorf("serve: the translator has no preprocessing state")
		}
		l.tr = x
		return map[string]any{"src_tokenizer": fmt.Sprintf("%T", p.Src.Tok), "src_vocab": p.Src.Vocab.Len(),
			"tgt_tokenizer": fmt.Sprintf("%T", p.Tgt.Tok), "tgt_vocab": p.Tgt.Vocab.Len(), "max_len": p.MaxLen}, nil
	}
	if x, ok := l.m.(*model.GlobalForecaster); ok {
		if x.Lookback() == 0 {
			return nil, fmt.Errorf("serve: the global forecaster has no preprocessing state")
		}
		l.gf = x
		pp := map[string]any{"global": true, "series": x.Series(), "lookback": x.Lookback(), "horizon": x.Horizon()}
		if x.Target() != "" {
			pp["target"] = x.Target()
		}
		return pp, nil
	}
	return nil, fmt.Errorf("serve: task %q is not served", l.m.Spec().Task)
}

func globalWord(l *loaded) string {
	if l.gf != nil {
		return "a global forecaster (one network across many series)"
	}
	return "a forecaster of one series"
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

// Swap puts m in service in place of the current model, which must be of
// the same task (clients expect its request and response shapes); name is
// the model file's base name for GET /v1/model (a path is cut to its
// base) and the metrics shown are m.Metrics(). m is checked as New checks
// its model first: on an error the current model stays in service.
// Requests that arrived before the swap finish on the model they started
// with; later ones use m. Like New's, m must not be mutated afterwards.
func (s *Server) Swap(m model.Model, name string) error {
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	l, err := s.load(m, name, metricsOf(m))
	if cur := s.cur.Load(); err == nil && l.info.Task != cur.info.Task {
		err = fmt.Errorf("serve: the new model's task is %s, the served model's %s: a server keeps its task", l.info.Task, cur.info.Task)
	} else if err == nil && (l.gf != nil) != (cur.gf != nil) {
		// A global forecaster's requests name their series; a
		// forecaster of one series has none to name.
		err = fmt.Errorf("serve: the new model is %s, the served model %s: a server keeps its request shape", globalWord(l), globalWord(cur))
	}
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	s.cur.Store(l)
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.metrics.model(&l.info)
	return nil
}

// metricsOf returns m's metrics, nil for a nil model (which load
// refuses).
func metricsOf(m model.Model) json.RawMessage {
	if m == nil {
		return nil
	}
	return m.Metrics()
}

// Reload calls load for a new model and its file's name and swaps it in
// (Swap). On any error, from load or from Swap, the current model stays
// in service and the error is logged, counted in
// recur_model_reloads_total{result="error"} and returned. recur serve
// calls it on SIGHUP.
func (s *Server) Reload(load func() (model.Model, string, error)) error {
	m, name, err := load()
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
	} else {
		err = s.Swap(m, name)
	}
	if err != nil {
		s.opts.Logger.Error("serve: reload failed; the old model stays in service", "model", s.cur.Load().info.Name, "error", err)
		return err
	}
	info := s.cur.Load().info
	s.opts.Logger.Info("serve: model reloaded", "model", info.Name, "task", info.Task, "parameters", info.Parameters)
	return nil
}

// Drain marks the server as going away: GET /readyz answers 503 from now
// on, so that a load balancer stops sending it new requests, while every
// other route goes on answering. recur serve drains before it shuts down.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: ready while a model is in service and the server is not
// draining.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "model": s.cur.Load().info.Name})
}

// Model describes the model in service, as GET /v1/model does.
func (s *Server) Model() ModelInfo { return s.cur.Load().info }

func (s *Server) modelInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.cur.Load().info)
}
