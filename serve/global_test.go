package serve_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
	"github.com/recur-ml/recur/train"
)

// globalModel returns a global forecaster trained for an epoch on three
// seasonal series at different levels (s0, s1, s2; column y), and the
// series.
func globalModel(t testing.TB) (*model.GlobalForecaster, []*series.Frame) {
	t.Helper()
	var data []*series.Frame
	for s := range 3 {
		level := math.Pow(10, float64(s))
		v := make([]float64, 60)
		for i := range v {
			v[i] = level * (5 + math.Sin(2*math.Pi*float64(i+s)/12) + 0.02*float64(i))
		}
		f, err := series.NewFrame([]string{"y"}, [][]float64{v})
		if err != nil {
			t.Fatal(err)
		}
		f.Name = fmt.Sprintf("s%d", s)
		data = append(data, f)
	}
	g, err := model.NewGlobalForecaster(model.GlobalConfig{Spec: model.Spec{Hidden: 8}, Lookback: 12, Horizon: 2, Season: 12,
		Fit: model.FitConfig{Seed: 2, BatchSize: 8, Train: train.Config{Epochs: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Fit(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	return g, data
}

func floats(vs []float64) []*float64 {
	out := make([]*float64, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	return out
}

// The server forecasts a training series from its last lookback values
// as the model forecasts the whole series, and a new series from the
// values given as the model does; GET /v1/model lists the series.
func TestServeGlobalForecaster(t *testing.T) {
	g, data := globalModel(t)
	ts := newServer(t, g, serve.Options{MaxBatch: 8})
	last := data[1].Values[0][data[1].Len()-12:]
	newVals := make([]float64, 30)
	for i := range newVals {
		newVals[i] = 40 + 3*math.Sin(2*math.Pi*float64(i)/12)
	}
	fresh, _ := series.NewFrame([]string{"y"}, [][]float64{newVals})
	fresh.Name = "fresh"
	for _, tc := range []struct {
		name string
		req  serve.PredictRequest
		of   *series.Frame
	}{
		{"training series", serve.PredictRequest{Series: "s1", Values: serve.Values{"y": floats(last)}}, data[1]},
		{"new series", serve.PredictRequest{Series: "fresh", Values: serve.Values{"y": floats(newVals)}}, fresh},
	} {
		code, body := post(t, ts, mustJSON(t, tc.req))
		if code != 200 {
			t.Fatalf("%s: status %d: %s", tc.name, code, body)
		}
		got := decode[serve.ForecastResponse](t, body)
		want, err := g.Predict(tc.of)
		if err != nil {
			t.Fatal(err)
		}
		if got.Horizon != 2 || len(got.Forecast["y"]) != 2 {
			t.Fatalf("%s: got %s", tc.name, body)
		}
		for h, v := range got.Forecast["y"] {
			if w := want.Values[h][0]; math.Abs(float64(v)-w) > 1e-5*math.Abs(w) {
				t.Errorf("%s step %d: served %v, model %v", tc.name, h, v, w)
			}
		}
	}
	_, _, info := send(t, ts, "GET", "/v1/model", "", nil)
	if !strings.Contains(info, `"global":true`) || !strings.Contains(info, `"series":["s0","s1","s2"]`) || !strings.Contains(info, `"batched":false`) {
		t.Errorf("GET /v1/model: %s", info)
	}
}

func TestServeGlobalForecasterErrors(t *testing.T) {
	g, _ := globalModel(t)
	ts := newServer(t, g, serve.Options{})
	twelve := strings.TrimSuffix(strings.Repeat("5,", 12), ",")
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"no series", `{"values":{"y":[` + twelve + `]}}`, "series", "required"},
		{"training series, short", `{"series":"s0","values":{"y":[1,2,3]}}`, "values.y", "needs 12"},
		{"training series, other column", `{"series":"s0","values":{"z":[` + twelve + `]}}`, "values.z", "unknown column"},
		{"new series, two columns", `{"series":"n","values":{"y":[` + twelve + `],"z":[` + twelve + `]}}`, "values", "one column"},
		{"new series, short", `{"series":"n","values":{"y":[1,2,3]}}`, "values.y", "at least 12"},
		{"new series, no values", `{"series":"n"}`, "values", "required"},
		{"new series, null", `{"series":"n","values":{"y":[` + twelve + `,null]}}`, "values.y[12]", "missing"},
	} {
		code, body := post(t, ts, tc.body)
		e := decode[serve.Error](t, body)
		if code != 400 || e.Field != tc.field || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: got %d %s, want 400 at %q containing %q", tc.name, code, body, tc.field, tc.want)
		}
	}
}

// A server keeps its request shape: a global forecaster does not replace a
// forecaster of one series, nor the other way round.
func TestSwapKeepsGlobalOrNot(t *testing.T) {
	g, _ := globalModel(t)
	fc, _ := forecastModel(t)
	for _, tc := range []struct {
		served, next model.Model
	}{{fc, g}, {g, fc}} {
		s, err := serve.New(tc.served, serve.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Swap(tc.next, "next.safetensors"); err == nil || !strings.Contains(err.Error(), "request shape") {
			t.Errorf("swap %T for %T: %v, want a refusal", tc.served, tc.next, err)
		}
	}
}
