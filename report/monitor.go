package report

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// Monitor is a train.Callback that records what the network does during
// training, for the debugging pictures: at each epoch's end, the gradient
// norm of each layer at the epoch's last step, and, for an LSTM, the
// share of saturated gates of the first layer on the epoch's last batch.
type Monitor struct {
	model  func() model.Model
	last   train.Batch
	epochs []float64
	layers []string
	norms  map[string][]float64
	sat    [4][]float64
	hist   [4][]float64 // the last epoch's gate histograms
}

// NewMonitor returns a Monitor of the model m returns (a func, so that the
// monitor can go into the config the model is built from).
func NewMonitor(m func() model.Model) *Monitor {
	return &Monitor{model: m, norms: map[string][]float64{}}
}

// On implements train.Callback.
func (mo *Monitor) On(ev *train.Event) error {
	switch ev.Kind {
	case train.StepEnd:
		mo.last = ev.Batch
	case train.EpochEnd:
		mo.epochs = append(mo.epochs, float64(ev.Epoch))
		sums := map[string]float64{}
		for i, p := range ev.Trainer.Params() {
			l := model.LayerOf(p.Name)
			if _, ok := mo.norms[l]; !ok {
				mo.layers = append(mo.layers, l)
			}
			n := ev.Trainer.GradNorms()[i]
			sums[l] += n * n
			if _, ok := mo.norms[l]; !ok {
				mo.norms[l] = nil
			}
		}
		for _, l := range mo.layers {
			mo.norms[l] = append(mo.norms[l], math.Sqrt(sums[l]))
		}
		s, ok := model.GateSaturation(mo.model(), mo.last)
		if !ok {
			s = model.Saturation{Input: math.NaN(), Forget: math.NaN(), Cell: math.NaN(), Output: math.NaN()}
		}
		for g, v := range []float64{s.Input, s.Forget, s.Cell, s.Output} {
			mo.sat[g] = append(mo.sat[g], v)
		}
		mo.hist = s.Histogram
	}
	return nil
}

// LastBatch returns the last training batch seen (nil before training),
// for HiddenStates.
func (mo *Monitor) LastBatch() train.Batch { return mo.last }

// Figures draws the per-layer gradient norms over the epochs (log scale)
// and, for an LSTM, the gate saturation over the epochs.
func (mo *Monitor) Figures() ([]*Figure, error) {
	if len(mo.epochs) == 0 {
		return nil, nil
	}
	var series []Series
	for _, l := range mo.layers {
		var xy plotter.XYs
		for e, n := range mo.norms[l] {
			if n > 0 {
				xy = append(xy, plotter.XY{X: mo.epochs[e], Y: n})
			}
		}
		series = append(series, Series{l, xy})
	}
	gn, err := Line("Gradient norm per layer (last step of each epoch, before clipping)", "epoch", "norm (log scale)", series...)
	if err != nil {
		return nil, err
	}
	gn.Y.Scale, gn.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	figs := []*Figure{{Name: "layers", Title: "Gradient norm per layer", Plot: gn}}
	if math.IsNaN(mo.sat[0][len(mo.sat[0])-1]) {
		return figs, nil
	}
	series = nil
	for g, name := range []string{"input gate", "forget gate", "cell candidate", "output gate"} {
		var xy plotter.XYs
		for e, v := range mo.sat[g] {
			xy = append(xy, plotter.XY{X: mo.epochs[e], Y: v})
		}
		series = append(series, Series{name, xy})
	}
	sat, err := Line("Saturated LSTM gates, first layer (sigmoid < 0.05 or > 0.95; tanh beyond ±0.95)", "epoch", "share of activations", series...)
	if err != nil {
		return nil, err
	}
	figs = append(figs, &Figure{Name: "saturation", Title: "Gate saturation", Plot: sat})
	hist, err := gateHistogram(mo.hist)
	if err != nil {
		return nil, err
	}
	return append(figs, hist), nil
}

// gateHistogram draws the distribution of each LSTM gate's activations:
// the sigmoids over [0, 1], the cell candidate's tanh rescaled from
// [-1, 1]. Mass piled at the ends is saturation.
func gateHistogram(h [4][]float64) (*Figure, error) {
	var series []Series
	for g, name := range []string{"input gate", "forget gate", "cell candidate (tanh, (a+1)/2)", "output gate"} {
		var xy plotter.XYs
		for b, v := range h[g] {
			xy = append(xy, plotter.XY{X: (float64(b) + 0.5) / float64(len(h[g])), Y: v})
		}
		series = append(series, Series{name, xy})
	}
	p, err := Line("LSTM gate activations, first layer, last epoch's last batch", "activation (bin centre)", "share of activations", series...)
	if err != nil {
		return nil, err
	}
	p.Legend.Left = false
	return &Figure{Name: "gates", Title: "Gate activation histogram", Plot: p}, nil
}

// cells adapts a (rows, columns) matrix to plotter.GridXYZ, row 0 at the
// top.
type cells struct {
	v          []float32
	rows, cols int
}

func (c cells) Dims() (int, int)   { return c.cols, c.rows }
func (c cells) Z(x, y int) float64 { return float64(c.v[(c.rows-1-y)*c.cols+x]) }
func (c cells) X(x int) float64    { return float64(x) }
func (c cells) Y(y int) float64    { return float64(y) }

// HiddenStates draws the recurrent stack's output over the steps of one
// example of batch b (model.HiddenStates): units down, steps across.
func HiddenStates(m model.Model, b train.Batch) (*Figure, error) {
	h, ok := model.HiddenStates(m, b)
	if !ok {
		return nil, fmt.Errorf("report: no hidden states for this model or batch")
	}
	T, F := h.Shape[0], h.Shape[1]
	t := tensor.New(F, T) // units as rows
	for s := range T {
		for u := range F {
			t.Data[u*T+s] = h.Data[s*F+u]
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Hidden states of one example (%d units × %d steps; red low, white high)", F, T)
	p.Add(plotter.NewHeatMap(cells{t.Data, F, T}, palette.Heat(32, 1)))
	p.X.Label.Text, p.Y.Label.Text = "step", "unit"
	return &Figure{Name: "hidden", Title: "Hidden states", Plot: p}, nil
}

// TokenWeights draws the weights of the tokens (a classifier's attention
// pooling) as bars, the most weighted at the top: the top 25 of a long
// text, so that every label can be read.
func TokenWeights(title string, tokens []string, w []float32) (*Figure, error) {
	if len(w) == 0 || len(tokens) < len(w) {
		return nil, fmt.Errorf("report: %d weights for %d tokens", len(w), len(tokens))
	}
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return w[idx[a]] > w[idx[b]] })
	idx = idx[:min(25, len(idx))]
	vals := make(plotter.Values, len(idx))
	names := make([]string, len(idx))
	for r, i := range idx { // the bar chart draws its first value at the bottom
		vals[len(idx)-1-r] = float64(w[i])
		names[len(idx)-1-r] = fmt.Sprintf("%s (#%d)", tokens[i], i+1)
	}
	p := plot.New()
	p.Title.Text = title
	bars, err := plotter.NewBarChart(vals, vg.Points(8))
	if err != nil {
		return nil, err
	}
	bars.Horizontal, bars.Color = true, colors[0]
	p.Add(bars)
	p.NominalY(names...)
	p.X.Label.Text = "weight"
	return &Figure{Name: "pooling", Title: "Attention pooling weights", Plot: p}, nil
}
