package serve_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
)

// Tiny models built from a seed: the server must reproduce the model's own
// predictions, whatever the weights are.

const lookback, horizon = 6, 3

// forecastModel returns a residual forecaster over columns y (the target)
// and x, with a log transform of y and a z-score scaler fitted on a
// synthetic series, and the frame it was fitted on.
func forecastModel(t testing.TB) (*model.Model, *series.Frame) {
	t.Helper()
	n := 40
	y, x := make([]float64, n), make([]float64, n)
	for i := range n {
		y[i] = 100 + 10*math.Sin(float64(i)/3) + float64(i)
		x[i] = math.Cos(float64(i) / 5)
	}
	f, err := series.NewFrame([]string{"y", "x"}, [][]float64{y, x})
	if err != nil {
		t.Fatal(err)
	}
	lg := &series.Log{Columns: []string{"y"}}
	lf, err := lg.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := series.FitScaler(series.ZScore, lf)
	if err != nil {
		t.Fatal(err)
	}
	p := &model.ForecastPrep{Inputs: []string{"y", "x"}, Targets: []string{"y"}, Lookback: lookback, Horizon: horizon, Log: lg, Scaler: sc}
	m, err := model.Build(p.SpecFor(model.Spec{Task: model.Forecast, Hidden: 8, Residual: true}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetForecastPrep(p); err != nil {
		t.Fatal(err)
	}
	return m, f
}

var corpus = []string{"a fine film with a good plot", "a dull film", "good acting and a fine story", "bad plot and dull acting"}

func classifyModel(t testing.TB) *model.Model {
	t.Helper()
	enc, err := text.NewEncoder(corpus, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(model.Spec{Task: model.Classify, Vocab: enc.Vocab.Len(), Hidden: 8, Classes: 2, Pool: "mean"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetTextPrep(&model.TextPrep{Encoder: enc, Classes: []string{"neg", "pos"}, MaxLen: 5}); err != nil {
		t.Fatal(err)
	}
	return m
}

func lmModel(t testing.TB) *model.Model {
	t.Helper()
	enc, err := text.NewEncoder(corpus, text.Cleaner{}, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(model.Spec{Task: model.LM, Vocab: enc.Vocab.Len(), Hidden: 8}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetTextPrep(&model.TextPrep{Encoder: enc}); err != nil {
		t.Fatal(err)
	}
	return m
}

func seq2seqModel(t testing.TB) *model.Model {
	t.Helper()
	se, err := text.NewEncoder([]string{"je suis là", "il est ici"}, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	te, err := text.NewEncoder([]string{"i am here", "he is here"}, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(model.Spec{Task: model.Seq2Seq, Vocab: se.Vocab.Len(), TgtVocab: te.Vocab.Len(), Hidden: 8}, 9)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetSeq2SeqPrep(&model.Seq2SeqPrep{Src: se, Tgt: te}); err != nil {
		t.Fatal(err)
	}
	return m
}

func newServer(t testing.TB, m *model.Model, o serve.Options) *httptest.Server {
	t.Helper()
	s, err := serve.New(m, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// post sends body to /v1/predict and returns the status and the body.
func post(t testing.TB, ts *httptest.Server, body string) (int, []byte) {
	t.Helper()
	resp, err := ts.Client().Post(ts.URL+"/v1/predict", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var _ = http.StatusOK
