// Package report draws what a training run did and writes it as PNG
// plots and a self-contained HTML page: learning curves from a run's
// history, a forecaster's test forecasts against the actual values and the
// seasonal-naive baseline, a classifier's confusion matrix, a translator's
// attention weights. recur train
// writes one per run; a Go program can build the same figures from a
// front door's report.
//
//	figs, err := report.Curves(rep.Result.History)
//	f, err := report.Forecast(fc, rep)
//	path, err := report.Write(dir, &report.Page{Task: "forecast", Figures: append(figs, f)})
package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/metrics"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/train"
)

// Figure is one plot of a report: saved as Name.png, shown under Title.
type Figure struct {
	Name, Title string
	Plot        *plot.Plot
}

// Series is one line of a plot.
type Series struct {
	Name   string
	Points plotter.XYs
}

// colors are matplotlib's tab10, so that up to ten lines stay apart.
var colors = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255}, color.RGBA{214, 39, 40, 255},
	color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255}, color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255},
	color.RGBA{188, 189, 34, 255}, color.RGBA{23, 190, 207, 255},
}

// Line draws series as lines with a legend, a grid and labelled axes.
func Line(title, x, y string, series ...Series) (*plot.Plot, error) {
	p := newPlot(title, x, y)
	return p, addLines(p, series)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	return p
}

func addLines(p *plot.Plot, series []Series) error {
	for i, s := range series {
		l, err := plotter.NewLine(s.Points)
		if err != nil {
			return fmt.Errorf("report: %s: %w", s.Name, err)
		}
		l.Color = colors[i%len(colors)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	return nil
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

// Curves returns the loss, learning-rate and gradient-norm figures of a
// run's history (train.Result.History: every epoch, resumed runs
// included); none for an empty history.
func Curves(rows []train.Row) ([]*Figure, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	series := []Series{{"train", column(rows, "train_loss")}}
	if v := column(rows, "val_loss"); len(v) > 0 {
		series = append(series, Series{"validation", v})
	}
	loss, err := Line("Loss", "epoch", "loss", series...)
	if err != nil {
		return nil, err
	}
	lr, err := Line("Learning rate", "epoch", "lr", Series{"lr", column(rows, "lr")})
	if err != nil {
		return nil, err
	}
	gn, err := Line("Gradient norm (last step of each epoch, before clipping)", "epoch", "norm", Series{"global norm", column(rows, "grad_norm")})
	if err != nil {
		return nil, err
	}
	return []*Figure{{"loss", "Loss", loss}, {"lr", "Learning rate", lr}, {"gradnorm", "Gradient norm", gn}}, nil
}

// Forecast draws the first target's one-step forecasts of a forecaster's
// test windows against the actual values and the seasonal-naive
// baseline; the model's line is named by its cell (LSTM, GRU, RNN).
func Forecast(fc *model.Forecaster, rep *model.ForecastReport) (*Figure, error) {
	if len(rep.Origins) == 0 {
		return nil, fmt.Errorf("report: the forecast report has no test windows")
	}
	p := newPlot(fmt.Sprintf("Test forecast of %s (step 1)", rep.Targets[0]), "time", rep.Targets[0])
	if iv := rep.Intervals; iv != nil {
		band, err := plotter.NewPolygon(intervalBand(rep))
		if err != nil {
			return nil, fmt.Errorf("report: interval: %w", err)
		}
		band.Color = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x40}
		band.LineStyle.Width = 0
		p.Add(band)
		p.Legend.Add(fmt.Sprintf("%.0f%% interval (covers %.0f%%)", 100*iv.Nominal, 100*iv.Coverage), band)
	}
	if err := addLines(p, ForecastSeries(fc, rep)); err != nil {
		return nil, err
	}
	return &Figure{Name: "forecast", Title: "Forecast vs actual", Plot: p}, nil
}

// intervalBand is the outline of the step-1 interval of the first
// target: along the lowest quantile level, back along the highest.
func intervalBand(rep *model.ForecastReport) plotter.XYs {
	hk := rep.Forecast.Len() / len(rep.Origins)
	lo, hi := rep.Quantiles[0], rep.Quantiles[len(rep.Quantiles)-1]
	n := len(rep.Origins)
	out := make(plotter.XYs, 2*n)
	for i, origin := range rep.Origins {
		x := float64(origin)
		if rep.Times != nil {
			x = rep.Times[i]
		}
		out[i] = plotter.XY{X: x, Y: float64(lo.Data[i*hk])}
		out[2*n-1-i] = plotter.XY{X: x, Y: float64(hi.Data[i*hk])}
	}
	return out
}

// ForecastSeries are the lines of Forecast: actual, the model, and the
// seasonal-naive baseline when there is one.
func ForecastSeries(fc *model.Forecaster, rep *model.ForecastReport) []Series {
	hk := rep.Forecast.Len() / max(len(rep.Origins), 1)
	var seasonal []float32
	for _, b := range rep.Baselines {
		if strings.HasPrefix(b.Name, "seasonal naive") {
			seasonal = b.Forecast.Data
		}
	}
	var act, pred, sn plotter.XYs
	for n, origin := range rep.Origins {
		x := float64(origin)
		if rep.Times != nil {
			x = rep.Times[n]
		}
		act = append(act, plotter.XY{X: x, Y: float64(rep.Actual.Data[n*hk])})
		pred = append(pred, plotter.XY{X: x, Y: float64(rep.Forecast.Data[n*hk])})
		if seasonal != nil {
			sn = append(sn, plotter.XY{X: x, Y: float64(seasonal[n*hk])})
		}
	}
	name := strings.ToUpper(strings.TrimSuffix(fc.Spec().Cell, "_relu"))
	out := []Series{{"actual", act}, {name, pred}}
	if sn != nil {
		out = append(out, Series{"seasonal naive", sn})
	}
	return out
}

// grid adapts attention weights (rows: output tokens, columns: source
// tokens) to plotter.GridXYZ.
type grid [][]float32

func (g grid) Dims() (c, r int)   { return len(g[0]), len(g) }
func (g grid) Z(c, r int) float64 { return float64(g[len(g)-1-r][c]) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// Attention draws the attention weights of one translation as a heat
// map, source tokens across, output tokens down (the end token last).
func Attention(title string, src, out []string, w [][]float32) (*Figure, error) {
	if len(w) == 0 || len(w[0]) == 0 {
		return nil, fmt.Errorf("report: no attention weights")
	}
	p := plot.New()
	p.Title.Text = "Attention weights (red low, white high)"
	p.Add(plotter.NewHeatMap(grid(w), palette.Heat(32, 1)))
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
	return &Figure{Name: "attention", Title: title, Plot: p}, nil
}

// matrix adapts a confusion matrix (rows: actual, columns: predicted)
// to plotter.GridXYZ, the first actual class at the top.
type matrix [][]int

func (m matrix) Dims() (c, r int)   { return len(m[0]), len(m) }
func (m matrix) Z(c, r int) float64 { return float64(m[len(m)-1-r][c]) }
func (m matrix) X(c int) float64    { return float64(c) }
func (m matrix) Y(r int) float64    { return float64(r) }

// Confusion draws a confusion matrix as a heat map with its counts,
// predicted classes across and actual classes down.
func Confusion(cm *metrics.Confusion) (*Figure, error) {
	C := len(cm.Classes)
	if C == 0 {
		return nil, fmt.Errorf("report: an empty confusion matrix")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Confusion matrix (%d examples; red few, white many)", cm.Total())
	p.Add(plotter.NewHeatMap(matrix(cm.Counts), palette.Heat(32, 1)))
	var labels plotter.XYLabels
	var xt, yt []plot.Tick
	for k, name := range cm.Classes {
		xt = append(xt, plot.Tick{Value: float64(k), Label: name})
		yt = append(yt, plot.Tick{Value: float64(C - 1 - k), Label: name})
		for j := range C {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: float64(C - 1 - k)})
			labels.Labels = append(labels.Labels, fmt.Sprint(cm.Counts[k][j]))
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	p.Add(l)
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Label.Text, p.Y.Label.Text = "predicted", "actual"
	return &Figure{Name: "confusion", Title: "Confusion matrix", Plot: p}, nil
}

var pageTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
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
{{range .Images}}<h2>{{.Title}}</h2><img alt="{{.Title}}" src="{{.PNG}}">
{{end}}</body></html>
`))

// Page is what a report shows: the run's description, its metrics and
// baselines by set ({"test": {"rmse": 1.2}}) and its figures.
type Page struct {
	Task, Info, Model  string
	Metrics, Baselines map[string]any
	Figures            []*Figure
}

type row struct {
	Set, Metric string
	Value       float64
}

// rows flattens sets of metrics into table rows, sorted.
func rows(prefix string, sets map[string]any) []row {
	var out []row
	for _, set := range sorted(sets) {
		if m, ok := sets[set].(map[string]float64); ok {
			for _, k := range sorted(m) {
				out = append(out, row{prefix + set, k, m[k]})
			}
		}
	}
	return out
}

func sorted[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Write saves every figure as dir/<name>.png and writes dir/report.html,
// a self-contained page with the results and the plots, each file
// atomically. It returns the page's path.
func Write(dir string, p *Page) (string, error) {
	type image struct {
		Title string
		PNG   template.URL
	}
	var images []image
	for _, f := range p.Figures {
		wt, err := f.Plot.WriterTo(7*vg.Inch, 3.5*vg.Inch, "png")
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
		images = append(images, image{f.Title, template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))})
	}
	path := filepath.Join(dir, "report.html")
	page := map[string]any{"Task": p.Task, "Info": p.Info, "Model": p.Model,
		"Rows": append(rows("", p.Metrics), rows("baseline ", p.Baselines)...), "Images": images}
	if err := checkpoint.WriteAtomic(path, func(w io.Writer) error { return pageTmpl.Execute(w, page) }); err != nil {
		return "", fmt.Errorf("report: writing %s: %w", path, err)
	}
	return path, nil
}
