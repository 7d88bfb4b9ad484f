package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/train"
)

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

// column returns the values of key in rows against their epochs,
// skipping rows without it (epochs without validation).
func column(rows []train.Row, key string) plotter.XYs {
	var out plotter.XYs
	for _, r := range rows {
		if v, ok := r[key]; ok && !math.IsNaN(v) {
			out = append(out, plotter.XY{X: r["epoch"], Y: v})
		}
	}
	return out
}

// curves returns the loss, learning-rate and gradient-norm figures of a
// run's history (every epoch, resumed runs included).
func curves(rows []train.Row) ([]*figure, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	series := []any{"train", column(rows, "train_loss")}
	if v := column(rows, "val_loss"); len(v) > 0 {
		series = append(series, "validation", v)
	}
	loss, err := linePlot("Loss", "epoch", "loss", series...)
	if err != nil {
		return nil, err
	}
	lr, err := linePlot("Learning rate", "epoch", "lr", "lr", column(rows, "lr"))
	if err != nil {
		return nil, err
	}
	gn, err := linePlot("Gradient norm (last step of each epoch, before clipping)", "epoch", "norm", "global norm", column(rows, "grad_norm"))
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
<pre>{{.Info}}</pre>
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

// reportData is what the HTML report shows.
type reportData struct {
	Task, Info, Model  string
	Metrics, Baselines map[string]any
	Figures            []*figure
}

// rows flattens sets of metrics ({"test": {"rmse": 1}}) into table rows.
func rows(prefix string, sets map[string]any) []reportRow {
	var out []reportRow
	for _, set := range sortedKeys(sets) {
		if m, ok := sets[set].(map[string]float64); ok {
			for _, k := range sortedKeys(m) {
				out = append(out, reportRow{prefix + set, k, m[k]})
			}
		}
	}
	return out
}

// writeReport saves every figure as DIR/<name>.png and writes
// DIR/report.html, a self-contained page with the results and the plots;
// each file is written atomically.
func writeReport(dir string, d *reportData) (string, error) {
	for _, f := range d.Figures {
		wt, err := f.plot.WriterTo(7*vg.Inch, 3.5*vg.Inch, "png")
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return "", err
		}
		if err := checkpoint.WriteAtomic(filepath.Join(dir, f.Name+".png"), func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
			return "", err
		}
		f.PNG = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	}
	path := filepath.Join(dir, "report.html")
	page := map[string]any{"Task": d.Task, "Info": d.Info, "Model": d.Model,
		"Rows": append(rows("", d.Metrics), rows("baseline ", d.Baselines)...), "Figures": d.Figures}
	if err := checkpoint.WriteAtomic(path, func(w io.Writer) error { return reportTmpl.Execute(w, page) }); err != nil {
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
