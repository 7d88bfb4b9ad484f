package serve_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/recur-ml/recur/serve"
)

// FuzzPredictRequest feeds arbitrary bodies to DecodeRequest and to a
// forecaster's and a classifier's /v1/predict: decoding never panics, its
// errors are *serve.Error values with a 400 or 413 status, and the handler
// answers 200, 400 or 413, never 500.
func FuzzPredictRequest(f *testing.F) {
	for _, s := range []string{
		`{"values":{"y":[1,2,3,4,5,6],"x":[0,0,0,0,0,0]}}`,
		`{"values":{"y":[1,2,null,4,5,6],"x":[0,0,0,0,0,0]}}`,
		`{"texts":["a fine film","dull"]}`,
		`{"texts":[""]}`,
		`{"prompt":"a","length":3,"temperature":0.5,"top_k":2,"top_p":0.9,"seed":4}`,
		`{"texts":["je"],"max_length":4,"attention":true}`,
		`{"values":{"y":"x"}}`, `[]`, `{} {}`, `{"values":{"y":[1e400]}}`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	fm, _ := forecastModel(f)
	fh, err := serve.New(fm, serve.Options{MaxBody: 4096})
	if err != nil {
		f.Fatal(err)
	}
	ch, err := serve.New(classifyModel(f), serve.Options{MaxBody: 4096, MaxItems: 4})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := serve.DecodeRequest(bytes.NewReader(body))
		var e *serve.Error
		if err != nil && (!errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Message == "") {
			t.Fatalf("DecodeRequest(%q): error %#v, want a *serve.Error with status 400 and a message", body, err)
		}
		if err == nil && req == nil {
			t.Fatalf("DecodeRequest(%q): nil request and nil error", body)
		}
		for _, h := range []http.Handler{fh, ch} {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/v1/predict", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(w, r)
			switch w.Code {
			case 200:
			case 400, 413, 422:
				if !strings.Contains(w.Body.String(), `"error":`) {
					t.Fatalf("body %q: status %d without a JSON error: %s", body, w.Code, w.Body)
				}
			default:
				t.Fatalf("body %q: status %d: %s", body, w.Code, w.Body)
			}
		}
	})
}
