package series

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestPrepareExactInverse feeds the true transformed targets back as the
// "forecast": after inverting scaling, differencing and the log, the
// error in original units must be float32 rounding only.
func TestPrepareExactInverse(t *testing.T) {
	f := airPassengers(t)
	tests := []struct {
		name string
		cfg  PrepareConfig
	}{
		{"minmax", PrepareConfig{Window: WindowConfig{Lookback: 12}}},
		{"log diff 1 12 zscore horizon 6", PrepareConfig{Window: WindowConfig{Lookback: 12, Horizon: 6}, Log: true, Diffs: []int{1, 12}, Scale: ZScore, Val: 0.1}},
		{"robust diff 1 calendar", PrepareConfig{Window: WindowConfig{Lookback: 6, Horizon: 3, Stride: 2}, Diffs: []int{1}, Scale: Robust, Calendar: Calendar{Month: true}}},
		{"log1p no scale", PrepareConfig{Window: WindowConfig{Lookback: 3}, Log1p: true, Scale: NoScale, TestRows: 24, ValRows: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := Prepare(f, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []*Windows{pr.Train, pr.Val, pr.Test} {
				if w == nil {
					continue
				}
				m, base, err := pr.Evaluate(w, w.Y)
				if err != nil {
					t.Fatal(err)
				}
				if m.RMSE > 1e-3 || m.MAE > 1e-3 {
					t.Errorf("true targets scored RMSE %v MAE %v, want ~0", m.RMSE, m.MAE)
				}
				if len(base) < 2 || base[0].Metrics.RMSE < 1 {
					t.Errorf("got baselines %+v", base)
				}
			}
		})
	}
}

func TestPrepareAirPassengers(t *testing.T) {
	f := airPassengers(t)
	pr, err := Prepare(f, PrepareConfig{Window: WindowConfig{Lookback: 12}})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Train.Len() != 84 || pr.Test.Len() != 48 || pr.Val != nil || pr.Season != 12 {
		t.Fatalf("got %d train %d test windows, season %d; want 84, 48, 12", pr.Train.Len(), pr.Test.Len(), pr.Season)
	}
	// Training windows never see the test rows: the scaler's range is the
	// training range, and the scaled training data lie in [0, 1].
	for _, v := range pr.Train.X.Data {
		if v < 0 || v > 1 {
			t.Fatalf("training input %v outside [0, 1]", v)
		}
	}
	// The first test window's inputs are the last 12 training months.
	want := pr.Frame.Values[0][84:96]
	for i, v := range pr.Test.X.Row(0).Data {
		if math.Abs(float64(v)-want[i]) > 1e-6 {
			t.Fatalf("test window 0 input %d: got %v, want %v", i, v, want[i])
		}
	}
	// The test baselines are the ones of TestAirPassengersSeasonalNaive.
	_, base, err := pr.Evaluate(pr.Test, pr.Test.Y)
	if err != nil {
		t.Fatal(err)
	}
	if base[1].Name != "seasonal naive (12)" || math.Abs(base[1].Metrics.RMSE-41.8537) > 1e-4 {
		t.Errorf("got %s RMSE %v, want seasonal naive (12) 41.8537", base[1].Name, base[1].Metrics.RMSE)
	}
}

func TestPipelineJSONAndLastWindow(t *testing.T) {
	f := airPassengers(t)
	pr, err := Prepare(f, PrepareConfig{Window: WindowConfig{Lookback: 4, Horizon: 2}, Log: true, Diffs: []int{12}, Scale: ZScore, Calendar: Calendar{Month: true}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(pr.Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	var p Pipeline
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Inputs, []string{"value", "month_sin", "month_cos"}) || p.Shift() != 12 || p.Scaler.Center[0] != pr.Pipeline.Scaler.Center[0] {
		t.Fatalf("round trip: got %s", b)
	}
	// The window for forecasting after the first 100 rows is the window
	// with raw origin 100 (transformed row 100 − 12).
	x, err := p.LastWindow(f.Slice(0, 100))
	if err != nil {
		t.Fatal(err)
	}
	w, err := MakeWindows(pr.Frame, WindowConfig{Lookback: 4, Inputs: p.Inputs, Targets: p.Targets}, Range{100 - 12, 100 - 12 + 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape, []int{1, 4, 3}) || !slices.Equal(x.Data, w.X.Data) {
		t.Errorf("LastWindow: got %v %v, want %v", x.Shape, x.Data, w.X.Data)
	}
	// Inverting the true transformed next values gives the raw ones.
	y, err := p.Invert(nil, w.Y, f, []int{100})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(y.Data[0])-f.Values[0][100]) > 1e-3 {
		t.Errorf("Invert: got %v, want %v", y.Data[0], f.Values[0][100])
	}
	if _, err := p.LastWindow(f.Slice(0, 15)); err == nil {
		t.Error("too short a history: got no error")
	}
}

func TestPipelineValidate(t *testing.T) {
	good := `{"columns":["value"],"inputs":["value"],"targets":["value"],"lookback":3,"horizon":1,"diffs":[{"lag":12}],"scaler":{"method":"zscore","columns":["value"],"center":[1],"scale":[2]}}`
	var p Pipeline
	if err := json.Unmarshal([]byte(good), &p); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"columns":["value"],"inputs":["value"],"targets":["x"],"lookback":3,"horizon":1}`,
		`{"columns":["value"],"inputs":["value"],"targets":["value"],"lookback":0,"horizon":1}`,
		`{"columns":["value"],"inputs":[],"targets":["value"],"lookback":1,"horizon":1}`,
		`{"columns":["value"],"inputs":["value"],"targets":["value"],"lookback":1,"horizon":1,"diffs":[{"lag":-1}]}`,
		`{"columns":["value"],"inputs":["value"],"targets":["value"],"lookback":1,"horizon":1,"scaler":{"method":"zscore","columns":["v"],"center":[1],"scale":[2]}}`,
	} {
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("%s: got no error", bad)
		}
	}
}

func FuzzPipelineJSON(f *testing.F) {
	f.Add(`{"columns":["value"],"inputs":["value"],"targets":["value"],"lookback":3,"horizon":2,"log":{"log1p":true},"diffs":[{"lag":1}],"scaler":{"method":"zscore","columns":["value"],"center":[1],"scale":[2]}}`)
	f.Add(`{"columns":["value"],"inputs":["value","month_sin"],"targets":["value"],"lookback":2,"horizon":1,"calendar":{"month":true}}`)
	data := airPassengers(f)
	f.Fuzz(func(t *testing.T, s string) {
		var p Pipeline
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return
		}
		x, err := p.LastWindow(data)
		if err != nil {
			return
		}
		y := x.Reshape(1, x.Dim(1)*x.Dim(2), 1)
		if len(p.Targets) != 1 || y.Dim(1) > 1000 {
			return
		}
		p.Invert(nil, y, data, []int{data.Len()}) // must not panic
	})
}

// TestReaderLargeStream reads a generated file row by row without
// holding it.
func TestReaderLargeStream(t *testing.T) {
	const n = 200000
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		fmt.Fprintln(bw, "t,a,b")
		for i := range n {
			fmt.Fprintf(bw, "%d,%d,%d.5\n", i, i%7, i%3)
		}
		bw.Flush()
		pw.Close()
	}()
	r := NewReader(pr, "big.csv", CSVOptions{TimeColumn: "t"})
	var rows int
	var sum float64
	for r.Next() {
		row := r.Row()
		if row.Time != float64(rows) || row.Line != rows+2 {
			t.Fatalf("row %d: time %v line %d", rows, row.Time, row.Line)
		}
		sum += row.Values[0] + row.Values[1]
		rows++
	}
	if err := r.Err(); err != nil || rows != n {
		t.Fatalf("got %d rows, err %v; want %d", rows, err, n)
	}
	var want float64
	for i := range n {
		want += float64(i%7) + float64(i%3) + 0.5
	}
	if sum != want {
		t.Errorf("got sum %v, want %v", sum, want)
	}
}

// TestTargetsToModel maps raw target values as Transform maps the target
// column: logged and scaled; a differencing pipeline refuses.
func TestTargetsToModel(t *testing.T) {
	f, err := ReadFile("testdata/AirPassengers.csv", CSVOptions{Columns: []string{"value"}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := Prepare(f, PrepareConfig{Window: WindowConfig{Lookback: 4}, Log: true, Scale: ZScore})
	if err != nil {
		t.Fatal(err)
	}
	z, err := pr.Pipeline.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	v := tensor.FromSlice([]float32{float32(f.Values[0][7]), float32(f.Values[0][100])}, 2, 1)
	if err := pr.Pipeline.TargetsToModel(v); err != nil {
		t.Fatal(err)
	}
	zc, _ := z.Column("value")
	for i, r := range []int{7, 100} {
		if math.Abs(float64(v.Data[i])-zc[r]) > 1e-5 {
			t.Errorf("row %d: got %v, want %v", r, v.Data[i], zc[r])
		}
	}
	d, err := Prepare(f, PrepareConfig{Window: WindowConfig{Lookback: 4}, Diffs: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Pipeline.TargetsToModel(tensor.New(1, 1)); err == nil || !strings.Contains(err.Error(), "differencing") {
		t.Errorf("differencing pipeline: %v", err)
	}
}
