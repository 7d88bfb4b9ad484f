package serve

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/recur-ml/recur/model"
)

// TestPanicRecovered: a panic in a handler or inside the prediction becomes
// a 500 with a JSON error and a log line holding the panic value.
func TestPanicRecovered(t *testing.T) {
	m, err := model.Build(model.Spec{Task: model.Forecast, Hidden: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A forecaster with no preprocessing state: New would refuse it.
	var logs bytes.Buffer
	s := &Server{slot: make(chan struct{}, 1), workers: newWorkers(workerIdle), opts: Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	s.opts, _ = s.opts.withDefaults()
	s.cur.Store(&loaded{m: m, fc: m.(*model.Forecaster)})
	s.metrics = newMetrics(s)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/predict", s.predict)
	s.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom in handler") })
	for _, tc := range []struct{ method, path, body, logged string }{
		{"GET", "/boom", "", "boom in handler"},
		{"POST", "/v1/predict", `{"values":{"y":[1]}}`, "nil pointer"},
	} {
		logs.Reset()
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(w, r)
		var e Error
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != 500 || e.Message != "internal error" {
			t.Errorf("%s %s: got %d %s, want 500 internal error", tc.method, tc.path, w.Code, w.Body)
		}
		if !strings.Contains(logs.String(), tc.logged) {
			t.Errorf("%s %s: log %q lacks %q", tc.method, tc.path, logs.String(), tc.logged)
		}
	}
}
