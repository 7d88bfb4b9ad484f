package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
	"github.com/recur-ml/recur/tensor"
)

// forecastBody returns the request for the last lookback rows of f ending
// at row end (exclusive), and the model's own forecast of them.
func forecastBody(t testing.TB, m *model.Forecaster, f *series.Frame, end int) (string, []float32) {
	t.Helper()
	tail := f.Slice(end-lookback, end)
	vals := map[string][]float64{}
	for c, name := range tail.Columns {
		vals[name] = tail.Values[c]
	}
	y, err := m.Predict(tail)
	if err != nil {
		t.Fatal(err)
	}
	var want []float32
	for _, row := range y.Values {
		want = append(want, float32(row[0]))
	}
	return mustJSON(t, map[string]any{"values": vals}), want
}

func TestForecastMatchesModel(t *testing.T) {
	m, f := forecastModel(t)
	ts := newServer(t, m, serve.Options{})
	for _, end := range []int{lookback, 20, f.Len()} {
		body, want := forecastBody(t, m, f, end)
		code, b := post(t, ts, body)
		if code != http.StatusOK {
			t.Fatalf("end %d: status %d (%s), want 200", end, code, b)
		}
		got := decode[serve.ForecastResponse](t, b)
		if got.Task != model.Forecast || got.Horizon != horizon || len(got.Forecast["y"]) != horizon {
			t.Fatalf("end %d: got %s, want task forecast, horizon %d and %d values of y", end, b, horizon, horizon)
		}
		for h, v := range got.Forecast["y"] {
			if v != want[h] {
				t.Errorf("end %d step %d: got %v want %v (the model's own forecast)", end, h, v, want[h])
			}
		}
	}
}

// A quantile forecaster's server answers each level's forecast too, the
// model's own values.
func TestForecastQuantiles(t *testing.T) {
	n := 40
	y := make([]float64, n)
	for i := range n {
		y[i] = 10 + math.Sin(float64(i)/2)
	}
	f, err := series.NewFrame([]string{"y"}, [][]float64{y})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Hidden: 4, Quantiles: []float64{0.25, 0.75}}, Lookback: lookback, Horizon: 2, Fit: fit(5)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, m, serve.Options{})
	code, b := post(t, ts, mustJSON(t, map[string]any{"values": map[string][]float64{"y": y[n-lookback:]}}))
	if code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", code, b)
	}
	got := decode[serve.ForecastResponse](t, b)
	for q, key := range []string{"0.25", "0.75"} {
		vs := got.Quantiles[key]["y"]
		if len(vs) != 2 || vs[0] != float32(want.Quantiles[q][0][0]) || vs[1] != float32(want.Quantiles[q][1][0]) {
			t.Errorf("quantile %s: got %v, want %v", key, vs, want.Quantiles[q])
		}
	}
}

func TestClassifyMatchesModel(t *testing.T) {
	m := classifyModel(t)
	ts := newServer(t, m, serve.Options{})
	texts := []string{"a fine film", "dull plot and bad acting and a long story", "zzz unknownword film"}
	code, b := post(t, ts, mustJSON(t, map[string]any{"texts": texts}))
	if code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", code, b)
	}
	got := decode[serve.ClassifyResponse](t, b)
	if len(got.Predictions) != len(texts) {
		t.Fatalf("got %d predictions, want %d", len(got.Predictions), len(texts))
	}
	want, err := m.Predict(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		g := got.Predictions[i]
		for c, name := range m.Classes() {
			if g.Probabilities[name] != want[i].Probabilities[c] {
				t.Errorf("text %d class %s: got %v want %v", i, name, g.Probabilities[name], want[i].Probabilities[c])
			}
		}
		if g.Label != want[i].Label {
			t.Errorf("text %d: label %q want %q", i, g.Label, want[i].Label)
		}
	}
	if u := got.Predictions[2].Unknown; u != 2 {
		t.Errorf("unknown tokens of %q: got %d want 2", texts[2], u)
	}
}

func TestGenerateMatchesModel(t *testing.T) {
	m := lmModel(t)
	ts := newServer(t, m, serve.Options{})
	code, b := post(t, ts, `{"prompt":"a fine","length":12,"temperature":0.7,"top_k":5,"seed":3}`)
	if code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", code, b)
	}
	got := decode[serve.GenerateResponse](t, b)
	want, err := m.Generate(context.Background(), "a fine", 12, model.SampleConfig{Temperature: 0.7, TopK: 5}, tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	if got.Completion != want.Completion || got.Tokens != 12 {
		t.Errorf("got completion %q (%d tokens) want %q (12)", got.Completion, got.Tokens, want.Completion)
	}
	if !strings.HasPrefix(got.Text, "a fine") {
		t.Errorf("text %q does not start with the prompt", got.Text)
	}
}

func TestTranslateMatchesModel(t *testing.T) {
	m := seq2seqModel(t)
	ts := newServer(t, m, serve.Options{})
	code, b := post(t, ts, `{"texts":["je suis ici"],"attention":true,"max_length":6}`)
	if code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", code, b)
	}
	got := decode[serve.TranslateResponse](t, b)
	want, err := m.Translate(context.Background(), "je suis ici", model.TranslateOptions{MaxLen: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Translations) != 1 || got.Translations[0].Output != want.Output || len(got.Translations[0].Attention) != len(want.Attention) {
		t.Fatalf("got %s, want output %q with %d attention rows", b, want.Output, len(want.Attention))
	}
}

func TestModelInfoAndHealth(t *testing.T) {
	m, _ := forecastModel(t)
	ts := newServer(t, m, serve.Options{Name: "air.safetensors", Metrics: json.RawMessage(`{"rmse":1.5}`)})
	resp, err := ts.Client().Get(ts.URL + "/v1/model")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	info := decode[serve.ModelInfo](t, b)
	if info.Task != model.Forecast || info.Parameters != m.NumParams() || info.Name != "air.safetensors" ||
		string(info.Metrics) != `{"rmse":1.5}` || info.Preprocessing["lookback"] != float64(lookback) || !reflect.DeepEqual(info.Spec, m.Spec()) {
		t.Errorf("got %s, want the forecaster's task, spec, %d parameters, metrics and lookback %d", b, m.NumParams(), lookback)
	}
	resp, err = ts.Client().Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Errorf("healthz: got %d %s", resp.StatusCode, b)
	}
}

func TestBadRequests(t *testing.T) {
	fm, f := forecastModel(t)
	good, _ := forecastBody(t, fm, f, 20)
	_ = good
	fs := newServer(t, fm, serve.Options{MaxBody: 512})
	cm := classifyModel(t)
	cm.Prep().MaxLen = 0 // a model that reads whole texts
	cs := newServer(t, cm, serve.Options{MaxItems: 3, MaxTokens: 10})
	ls := newServer(t, lmModel(t), serve.Options{MaxLength: 50, MaxTokens: 10})
	ss := newServer(t, seq2seqModel(t), serve.Options{MaxLength: 50, MaxTokens: 10, MaxAttention: 200})
	six := `[1,2,3,4,5,6]`
	tests := []struct {
		name   string
		ts     *httptest.Server
		body   string
		status int
		field  string
		msg    string
	}{
		{"malformed", fs, `{"values":`, 400, "", "malformed JSON"},
		{"syntax", fs, `{"values":}`, 400, "", "malformed JSON"},
		{"empty body", fs, ``, 400, "", "empty request body"},
		{"not an object", fs, `[1,2]`, 400, "", "want a JSON object"},
		{"trailing data", fs, `{} {}`, 400, "", "data after"},
		{"unknown field", fs, `{"valuez":{}}`, 400, "valuez", "unknown field"},
		{"wrong type", fs, `{"values":{"y":"abc"}}`, 400, "values.y", "want an array of numbers, got string"},
		{"string value", fs, `{"values":{"y":["1"]}}`, 400, "values.y", "got string"},
		{"no values", fs, `{}`, 400, "values", "required"},
		{"missing column", fs, `{"values":{"y":` + six + `}}`, 400, "values.x", "missing"},
		{"unknown column", fs, `{"values":{"y":` + six + `,"x":` + six + `,"z":[1]}}`, 400, "values.z", "unknown column"},
		{"short window", fs, `{"values":{"y":[1,2,3],"x":` + six + `}}`, 400, "values.y", "got 3 values, the model needs 6 (its lookback)"},
		{"long window", fs, `{"values":{"y":[1,2,3,4,5,6,7],"x":` + six + `}}`, 400, "values.y", "got 7 values"},
		{"null is NaN", fs, `{"values":{"y":[1,2,null,4,5,6],"x":` + six + `}}`, 400, "values.y[2]", "missing or non-finite"},
		{"NaN literal", fs, `{"values":{"y":[1,2,NaN,4,5,6],"x":` + six + `}}`, 400, "", "malformed JSON"},
		{"log of negative", fs, `{"values":{"y":[1,2,-3,4,5,6],"x":` + six + `}}`, 400, "values", ""},
		{"huge number", fs, `{"values":{"y":[1e400,2,3,4,5,6],"x":` + six + `}}`, 400, "values.y", "1e400"},
		{"values not object", fs, `{"values":[1,2]}`, 400, "values", "want an object of arrays, got array"},
		{"null values", fs, `{"values":null}`, 400, "values", "required"},
		{"oversized body", fs, `{"values":{"y":[` + strings.Repeat("1,", 400) + `1]}}`, 413, "", "larger than 512 bytes"},
		{"no texts", cs, `{"texts":[]}`, 400, "texts", "required"},
		{"empty text", cs, `{"texts":["good"," "]}`, 400, "texts[1]", "empty text"},
		{"too many texts", cs, `{"texts":["a","b","c","d"]}`, 422, "texts", "4, over the server's limit of 3 (MaxItems)"},
		{"long text", cs, `{"texts":["a ` + strings.Repeat("fine ", 10) + `"]}`, 422, "texts[0]", "tokens: 11, over the server's limit of 10 (MaxTokens)"},
		{"texts type", cs, `{"texts":"good"}`, 400, "texts", "want an array"},
		{"no prompt", ls, `{"length":3}`, 400, "prompt", "required"},
		{"length too long", ls, `{"prompt":"a","length":51}`, 422, "length", "51, over the server's limit of 50 (MaxLength)"},
		{"long prompt", ls, `{"prompt":"` + strings.Repeat("a ", 11) + `"}`, 422, "prompt", "over the server's limit of 10 (MaxTokens)"},
		{"negative length", ls, `{"prompt":"a","length":-1}`, 400, "length", ""},
		{"hot temperature", ls, `{"prompt":"a","temperature":101}`, 400, "temperature", "outside"},
		{"cold temperature", ls, `{"prompt":"a","temperature":-0.5}`, 400, "temperature", "outside"},
		{"top_k", ls, `{"prompt":"a","top_k":-2}`, 400, "top_k", "negative"},
		{"top_p", ls, `{"prompt":"a","top_p":1.5}`, 400, "top_p", "outside"},
		{"seed type", ls, `{"prompt":"a","seed":-1}`, 400, "seed", "got number -1"},
		{"max_length", ss, `{"texts":["je"],"max_length":51}`, 422, "max_length", "over the server's limit of 50"},
		{"long source", ss, `{"texts":["` + strings.Repeat("je ", 11) + `"]}`, 422, "texts[0]", "(MaxTokens)"},
		{"attention bomb", ss, `{"texts":["je suis là", "je suis là"],"attention":true,"max_length":50}`, 422, "attention", "300, over the server's limit of 200 (MaxAttention)"},
		{"s2s empty", ss, `{"texts":[""]}`, 400, "texts[0]", "empty text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, b := post(t, tc.ts, tc.body)
			if code != tc.status {
				t.Fatalf("status %d (%s), want %d", code, b, tc.status)
			}
			e := decode[serve.Error](t, b)
			if e.Field != tc.field || !strings.Contains(e.Message, tc.msg) || e.Message == "" {
				t.Errorf("got field %q error %q, want field %q and an error containing %q", e.Field, e.Message, tc.field, tc.msg)
			}
		})
	}
}

func TestMuxErrors(t *testing.T) {
	m, _ := forecastModel(t)
	ts := newServer(t, m, serve.Options{})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/predict", 405},
		{"POST", "/healthz", 405},
		{"GET", "/v2/predict", 404},
		{"GET", "/", 404},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: got %d want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}

func TestNewRejects(t *testing.T) {
	cm := classifyModel(t)
	bare, err := model.Build(model.Spec{Task: model.Forecast, Hidden: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    model.Model
		o    serve.Options
		want string
	}{
		{"nil model", nil, serve.Options{}, "nil model"},
		{"no prep", bare, serve.Options{}, "serve:"},
		{"negative body", cm, serve.Options{MaxBody: -1}, "MaxBody -1"},
		{"negative timeout", cm, serve.Options{Timeout: -time.Second}, "Timeout"},
		{"bad metrics", cm, serve.Options{Metrics: json.RawMessage(`{`)}, "Metrics"},
		{"negative batch", cm, serve.Options{MaxBatch: -1}, "MaxBatch -1"},
	} {
		_, err := serve.New(tc.m, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestDeadline: a request that cannot get a computing slot before its
// deadline is answered 503.
func TestDeadline(t *testing.T) {
	m := lmModel(t)
	ts := newServer(t, m, serve.Options{Timeout: time.Millisecond, Concurrency: 1, MaxLength: 3000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	code, b := post(t, ts, `{"prompt":"a","length":3000}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(b), "did not finish within 1ms") {
		t.Errorf("got %d %s, want 503 naming the 1ms deadline", code, b)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestConcurrent sends many requests at once to one server per task; run
// with -race. Each must get exactly the answer it gets alone.
func TestConcurrent(t *testing.T) {
	fm, f := forecastModel(t)
	fts := newServer(t, fm, serve.Options{Concurrency: 4})
	cts := newServer(t, classifyModel(t), serve.Options{Concurrency: 4})
	lts := newServer(t, lmModel(t), serve.Options{Concurrency: 4})
	sts := newServer(t, seq2seqModel(t), serve.Options{Concurrency: 4})
	var reqs []request
	for end := lookback; end < lookback+8; end++ {
		body, _ := forecastBody(t, fm, f, end)
		reqs = append(reqs, request{fts.URL, body})
	}
	for i, tx := range corpus {
		reqs = append(reqs, request{cts.URL, mustJSON(t, map[string]any{"texts": []string{tx}})})
		reqs = append(reqs, request{lts.URL, fmt.Sprintf(`{"prompt":%q,"length":8,"seed":%d}`, tx[:4], i+1)})
		reqs = append(reqs, request{sts.URL, fmt.Sprintf(`{"texts":[%q],"attention":true,"temperature":0.5,"seed":%d}`, tx, i+1)})
	}
	sameAnswers(t, 4, reqs, nil)
}

// A multi-label classifier answers each text's label set, the empty set
// as []; a single-label one has no labels key.
func TestClassifyLabelSets(t *testing.T) {
	fc := fit(5)
	fc.Loss.Name = "bce"
	m, err := model.NewClassifier(model.ClassifyConfig{Spec: model.Spec{Hidden: 8, Pool: "mean"}, Fit: fc})
	if err != nil {
		t.Fatal(err)
	}
	sets := &text.Labelled{Texts: corpus, Sets: [][]int{{0}, {1}, {0, 1}, {}}, Classes: []string{"good", "bad"}}
	if _, err := m.Fit(context.Background(), sets, nil); err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(context.Background(), corpus[:2])
	if err != nil {
		t.Fatal(err)
	}
	code, b := post(t, newServer(t, m, serve.Options{}), mustJSON(t, map[string]any{"texts": corpus[:2]}))
	if code != http.StatusOK {
		t.Fatalf("status %d (%s)", code, b)
	}
	got := decode[serve.ClassifyResponse](t, b)
	for i, p := range got.Predictions {
		if p.Labels == nil || !reflect.DeepEqual(*p.Labels, want[i].Labels) {
			t.Errorf("text %d: labels %v, want %q", i, p.Labels, want[i].Labels)
		}
	}
	_, b = post(t, newServer(t, classifyModel(t), serve.Options{}), mustJSON(t, map[string]any{"texts": corpus[:1]}))
	if strings.Contains(string(b), `"labels"`) {
		t.Errorf("a single-label classifier answered label sets: %s", b)
	}
}
