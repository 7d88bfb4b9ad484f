package benchrun

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// SweepCase is one point of the scaling sweep: the base configuration
// with one axis (T, B, H or L) set to Value.
type SweepCase struct {
	Axis   string
	Value  int
	Config Config
}

// SweepPoint is a measured SweepCase.
type SweepPoint struct {
	SweepCase
	Result Result
}

// sweepValues are the values each axis takes; the base configuration
// (lstm-t50: T50 B32 I64 H256 L1) lies on every axis.
var sweepValues = []struct {
	axis   string
	values []int
}{
	{"T", []int{13, 25, 50, 100, 200}},
	{"B", []int{8, 16, 32, 64, 128}},
	{"H", []int{64, 128, 256, 512}},
	{"L", []int{1, 2, 3, 4}},
}

// SweepCases returns the sweep's configurations: the first standard LSTM
// configuration with T, B, H and the layer count each varied in turn.
func SweepCases() []SweepCase {
	base := standard[0]
	var cs []SweepCase
	for _, a := range sweepValues {
		for _, v := range a.values {
			c := base
			switch a.axis {
			case "T":
				c.T = v
			case "B":
				c.B = v
			case "H":
				c.H = v
			case "L":
				c.L = v
			}
			c.Name = fmt.Sprintf("sweep-%s%d", a.axis, v)
			cs = append(cs, SweepCase{Axis: a.axis, Value: v, Config: c})
		}
	}
	return cs
}

// WriteSweepCSV writes one row per point: axis, value, the shapes, recur's
// ms/step and GFLOP/s, and PyTorch's ms/step and the speedup when measured.
func WriteSweepCSV(w io.Writer, ps []SweepPoint) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"axis", "value", "T", "B", "I", "H", "L", "ms_per_step", "gflops", "pct_peak", "allocs_per_step", "torch_ms_per_step", "speedup"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, p := range ps {
		c, r := p.Config, p.Result
		row := []string{p.Axis, strconv.Itoa(p.Value), strconv.Itoa(c.T), strconv.Itoa(c.B), strconv.Itoa(c.I),
			strconv.Itoa(c.H), strconv.Itoa(c.L), f(r.MsPerStep), f(r.GFlops), f(r.PctPeak), f(r.Allocs), "", ""}
		if tp := r.Peer("pytorch"); tp != nil {
			row[11], row[12] = f(tp.MsPerStep), f(tp.Speedup)
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// PlotSweep draws the sweep as four panels, one per axis: ms/step (log
// scale) against the axis value (log scale but for L) for recur (and PyTorch when measured), with a
// dashed line of the cost the FLOP count predicts from the base point
// (the "FLOP model").
func PlotSweep(path string, ps []SweepPoint) error {
	var rows [][]*plot.Plot
	var row []*plot.Plot
	for _, a := range sweepValues {
		p := plot.New()
		p.Title.Text = "time per step vs " + a.axis
		p.X.Label.Text = a.axis
		p.Y.Label.Text = "ms/step"
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		if a.axis != "L" {
			p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		}
		var got, torch, model plotter.XYs
		var base *SweepPoint
		for i := range ps {
			if ps[i].Axis == a.axis && ps[i].Config == baseOnAxis(ps[i].Config) {
				base = &ps[i]
			}
		}
		for _, pt := range ps {
			if pt.Axis != a.axis {
				continue
			}
			x := float64(pt.Value)
			got = append(got, plotter.XY{X: x, Y: pt.Result.MsPerStep})
			if tp := pt.Result.Peer("pytorch"); tp != nil {
				torch = append(torch, plotter.XY{X: x, Y: tp.MsPerStep})
			}
			if base != nil {
				f0, _ := base.Config.Flops()
				f1, _ := pt.Config.Flops()
				model = append(model, plotter.XY{X: x, Y: base.Result.MsPerStep * f1 / f0})
			}
		}
		if len(got) == 0 {
			continue
		}
		if err := addLine(p, "recur", got, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 255}, false); err != nil {
			return err
		}
		if len(torch) > 0 {
			if err := addLine(p, "PyTorch", torch, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 255}, false); err != nil {
				return err
			}
		}
		if len(model) > 0 {
			if err := addLine(p, "FLOP model", model, color.Gray{Y: 0x80}, true); err != nil {
				return err
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		row = append(row, p)
		if len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		for len(row) < 2 {
			row = append(row, nil)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return fmt.Errorf("benchrun: no sweep points to plot")
	}
	img := vgimg.New(10*vg.Inch, vg.Length(len(rows))*4*vg.Inch)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(rows), Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(rows, t, dc)
	for i := range rows {
		for j, p := range rows[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// baseOnAxis returns c with its swept field put back to the base value,
// so that c == baseOnAxis(c) only for the base configuration itself.
func baseOnAxis(c Config) Config {
	b := standard[0]
	b.Name = c.Name
	return b
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, col color.Color, dashed bool) error {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, pts.Color = col, col
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
	} else {
		p.Add(l, pts)
	}
	p.Legend.Add(name, l)
	return nil
}
