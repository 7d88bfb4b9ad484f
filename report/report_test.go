package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/train"
)

// TestForecastAndPage fits tiny forecasters of each cell and writes their
// report: the forecast plot names the model by its cell (it once said
// LSTM for every cell), and the page holds the metrics and every figure.
func TestForecastAndPage(t *testing.T) {
	air, err := dataset.AirPassengers()
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]string{"lstm": "LSTM", "gru": "GRU", "rnn_relu": "RNN"} {
		fc, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Cell: cell, Hidden: 4}, Fit: model.FitConfig{Train: train.Config{Epochs: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := fc.Fit(context.Background(), air)
		if err != nil {
			t.Fatal(err)
		}
		s := ForecastSeries(fc, rep)
		if len(s) != 3 || s[0].Name != "actual" || s[1].Name != want || s[2].Name != "seasonal naive" || len(s[1].Points) != 48 {
			t.Errorf("%s: lines %+v; want actual, %s and seasonal naive over 48 months", cell, s, want)
		}
		figs, err := Curves(rep.Result.History)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Forecast(fc, rep)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		path, err := Write(dir, &Page{Task: "forecast", Info: "tiny <run>", Model: "m.safetensors",
			Metrics: map[string]any{"test": map[string]float64{"rmse": rep.Test.RMSE}}, Figures: append(figs, f)})
		if err != nil {
			t.Fatal(err)
		}
		html, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"tiny &lt;run&gt;", "<td>test</td><td>rmse</td>", "Forecast vs actual", "data:image/png;base64,"} {
			if !strings.Contains(string(html), w) {
				t.Errorf("%s: the page lacks %q", cell, w)
			}
		}
		for _, name := range []string{"loss", "lr", "gradnorm", "forecast"} {
			if _, err := os.Stat(filepath.Join(dir, name+".png")); err != nil {
				t.Errorf("%s: %v", cell, err)
			}
		}
	}
}

func TestAttention(t *testing.T) {
	f, err := Attention("one → un", []string{"one"}, []string{"un"}, [][]float32{{1}, {1}})
	if err != nil || f.Name != "attention" {
		t.Fatalf("Attention: %v %v", f, err)
	}
	if _, err := Attention("none", nil, nil, nil); err == nil {
		t.Error("no weights accepted")
	}
	if figs, err := Curves(nil); figs != nil || err != nil {
		t.Errorf("Curves of no history: %v %v", figs, err)
	}
}

// TestMonitorFigures trains a tiny classifier with the Monitor attached:
// it draws a gradient-norm line per layer, the LSTM gate saturation over
// the epochs, one example's hidden states and the pooling weights.
func TestMonitorFigures(t *testing.T) {
	var c *model.Classifier
	mon := NewMonitor(func() model.Model { return c })
	cfg := model.ClassifyConfig{Spec: model.Spec{Hidden: 6, Pool: "attention"},
		Fit: model.FitConfig{BatchSize: 4, Train: train.Config{Epochs: 3, Callbacks: []train.Callback{mon}}}}
	var err error
	if c, err = model.NewClassifier(cfg); err != nil {
		t.Fatal(err)
	}
	data := &text.Labelled{Texts: []string{"a good film", "a bad film", "good good", "bad plot", "fine acting", "awful plot"},
		Labels: []int{1, 0, 1, 0, 1, 0}, Classes: []string{"neg", "pos"}}
	if _, err := c.Fit(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	figs, err := mon.Figures()
	if err != nil || len(figs) != 3 || figs[0].Name != "layers" || figs[1].Name != "saturation" || figs[2].Name != "gates" {
		t.Fatalf("monitor figures %v, %v", figs, err)
	}
	if len(mon.layers) != 4 || len(mon.norms["rnn_l0"]) != 3 || len(mon.sat[1]) != 3 {
		t.Errorf("recorded layers %v, %d norms of rnn_l0, %d saturations", mon.layers, len(mon.norms["rnn_l0"]), len(mon.sat[1]))
	}
	if f, err := HiddenStates(c, mon.LastBatch()); err != nil || f.Name != "hidden" {
		t.Errorf("hidden states: %v %v", f, err)
	}
	p, err := c.Predict(context.Background(), []string{"a good film"})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := TokenWeights("pooling", []string{"a", "good", "film"}, p[0].Attention); err != nil || f.Name != "pooling" {
		t.Errorf("token weights: %v %v", f, err)
	}
	if _, err := TokenWeights("x", []string{"a"}, []float32{1, 2}); err == nil {
		t.Error("more weights than tokens accepted")
	}
	if _, err := Write(t.TempDir(), &Page{Task: "classify", Figures: figs}); err != nil {
		t.Fatal(err)
	}
}
