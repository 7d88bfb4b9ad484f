package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/recur-ml/recur/train"
)

// history records the per-epoch curves of a run for the plots.
type history struct {
	epoch, trainLoss, validLoss, lr, gradNorm []float64
	lastNorm                                  float64
}

func (h *history) On(ev *train.Event) error {
	switch ev.Kind {
	case train.StepEnd:
		h.lastNorm = ev.GradNorm
	case train.EpochEnd:
		h.epoch = append(h.epoch, float64(ev.Epoch))
		h.trainLoss = append(h.trainLoss, ev.Loss)
		v, ok := ev.Metrics["loss"]
		if !ok {
			v = -1
		}
		h.validLoss = append(h.validLoss, v)
		h.lr = append(h.lr, ev.LR)
		h.gradNorm = append(h.gradNorm, h.lastNorm)
	}
	return nil
}

// figure is one plot of the report.
type figure struct {
	Name, Title string
	plot        *plot.Plot
	PNG         template.URL // data URI, filled by writeReport
}

func linePlot(title, x, y string, series ...any) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Add(plotter.NewGrid())
	colors := []color.Color{color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255}, color.RGBA{R: 44, G: 160, B: 44, A: 255}}
	for i := 0; i+1 < len(series); i += 2 {
		l, err := plotter.NewLine(series[i+1].(plotter.XYs))
		if err != nil {
			return nil, err
		}
		l.Color = colors[(i/2)%len(colors)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(series[i].(string), l)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

func xy(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(y))
	for i := range y {
		if y[i] >= 0 || x == nil {
			xv := float64(i)
			if x != nil {
				xv = x[i]
			}
			out = append(out, plotter.XY{X: xv, Y: y[i]})
		}
	}
	return out
}

// curves returns the loss, learning-rate and gradient-norm figures.
func (h *history) curves() ([]*figure, error) {
	if len(h.epoch) == 0 {
		return nil, nil
	}
	series := []any{"train", xy(h.epoch, h.trainLoss)}
	if v := xy(h.epoch, h.validLoss); len(v) > 0 {
		series = append(series, "validation", v)
	}
	loss, err := linePlot("Loss", "epoch", "loss", series...)
	if err != nil {
		return nil, err
	}
	lr, err := linePlot("Learning rate", "epoch", "lr", "lr", xy(h.epoch, h.lr))
	if err != nil {
		return nil, err
	}
	gn, err := linePlot("Gradient norm (last step of each epoch, before clipping)", "epoch", "norm", "global norm", xy(h.epoch, h.gradNorm))
	if err != nil {
		return nil, err
	}
	return []*figure{{Name: "loss", Title: "Loss", plot: loss}, {Name: "lr", Title: "Learning rate", plot: lr}, {Name: "gradnorm", Title: "Gradient norm", plot: gn}}, nil
}

var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>recur {{.Task}} run</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}img{max-width:100%}</style>
</head><body>
<h1>recur {{.Task}} run</h1>
<p>{{.Info}}</p>
<p>Model: <code>{{.Model}}</code></p>
<h2>Results</h2>
<table><tr><th></th><th>metric</th><th>value</th></tr>
{{range .Rows}}<tr><td>{{.Set}}</td><td>{{.Metric}}</td><td>{{printf "%.6g" .Value}}</td></tr>
{{end}}</table>
{{range .Figures}}<h2>{{.Title}}</h2><img alt="{{.Title}}" src="{{.PNG}}">
{{end}}</body></html>
`))

type reportRow struct {
	Set, Metric string
	Value       float64
}

// writeReport saves every figure as DIR/<name>.png and writes
// DIR/report.html, a self-contained page with the results and the plots.
func writeReport(dir, task, info, modelPath string, metrics, base map[string]map[string]float64, figs []*figure) (string, error) {
	var rows []reportRow
	for _, set := range sortedKeys(metrics) {
		for _, k := range sortedKeys(metrics[set]) {
			rows = append(rows, reportRow{set, k, metrics[set][k]})
		}
	}
	for _, b := range sortedKeys(base) {
		for _, k := range sortedKeys(base[b]) {
			rows = append(rows, reportRow{"baseline " + b, k, base[b][k]})
		}
	}
	for _, f := range figs {
		wt, err := f.plot.WriterTo(7*vg.Inch, 3.5*vg.Inch, "png")
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name+".png"), buf.Bytes(), 0o644); err != nil {
			return "", err
		}
		f.PNG = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	}
	path := filepath.Join(dir, "report.html")
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	err = reportTmpl.Execute(out, map[string]any{"Task": task, "Info": info, "Model": modelPath, "Rows": rows, "Figures": figs})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// attnGrid adapts attention weights (rows: output tokens, columns: source
// tokens) to plotter.GridXYZ.
type attnGrid [][]float32

func (g attnGrid) Dims() (c, r int)   { return len(g[0]), len(g) }
func (g attnGrid) Z(c, r int) float64 { return float64(g[len(g)-1-r][c]) }
func (g attnGrid) X(c int) float64    { return float64(c) }
func (g attnGrid) Y(r int) float64    { return float64(r) }

// attentionPlot draws the attention weights of one translation as a
// heat map, source tokens across, output tokens down.
func attentionPlot(src, out []string, w [][]float32) (*plot.Plot, error) {
	if len(w) == 0 || len(w[0]) == 0 {
		return nil, fmt.Errorf("no attention weights")
	}
	p := plot.New()
	p.Title.Text = "Attention weights"
	h := plotter.NewHeatMap(attnGrid(w), palette.Heat(32, 1))
	p.Add(h)
	var xt, yt []plot.Tick
	for c := range w[0] {
		label := ""
		if c < len(src) {
			label = src[c]
		}
		xt = append(xt, plot.Tick{Value: float64(c), Label: label})
	}
	for r := range w {
		label := "</s>"
		if r < len(out) {
			label = out[r]
		}
		yt = append(yt, plot.Tick{Value: float64(len(w) - 1 - r), Label: label})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Label.Text, p.Y.Label.Text = "source", "output"
	return p, nil
}
