package series

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// referenceWindows is MakeWindows as it was before windows could index
// their frame: every window's rows copied in order, the first missing
// value met an error.
func referenceWindows(f *Frame, L, H, S int, in, out []int, rows Range) (x, y *tensor.Tensor, err error) {
	first := max(rows.From, L)
	n := (rows.To-H-first)/S + 1
	x, y = tensor.New(n, L, len(in)), tensor.New(n, H, len(out))
	fill := func(dst []float32, from, to int, cols []int) error {
		k := 0
		for r := from; r < to; r++ {
			for _, c := range cols {
				v := f.Values[c][r]
				if math.IsNaN(v) {
					return &Error{File: f.Name, Line: f.line(r), Column: f.Columns[c], Msg: "missing value in a window (clean the series first)"}
				}
				dst[k] = float32(v)
				k++
			}
		}
		return nil
	}
	for i := range n {
		s := first + i*S
		if err := fill(x.Row(i).Data, s-L, s, in); err != nil {
			return nil, nil, err
		}
		if err := fill(y.Row(i).Data, s, s+H, out); err != nil {
			return nil, nil, err
		}
	}
	return x, y, nil
}

// TestWindowsIndexMatchesCopies checks that windows indexing the frame
// give the values, and the errors, of the copies they replace.
func TestWindowsIndexMatchesCopies(t *testing.T) {
	const rows = 60
	vals := make([][]float64, 3)
	for c := range vals {
		vals[c] = make([]float64, rows)
		for r := range vals[c] {
			vals[c][r] = math.Sin(float64(r*(c+1))) * 1e3 / 7 // not exact in float32
		}
	}
	tests := []struct {
		cfg   WindowConfig
		rows  Range
		in    []int
		out   []int
		nanAt [][2]int // column, row
		fails bool
	}{
		{WindowConfig{Lookback: 5}, Range{0, rows}, []int{0, 1, 2}, []int{2}, nil, false},
		{WindowConfig{Lookback: 7, Horizon: 3, Stride: 2, Inputs: []string{"b", "a"}, Targets: []string{"a", "c"}}, Range{10, 50}, []int{1, 0}, []int{0, 2}, nil, false},
		{WindowConfig{Lookback: 1, Horizon: 1, Stride: 5}, Range{0, rows}, []int{0, 1, 2}, []int{2}, nil, false},
		{WindowConfig{Lookback: 4, Horizon: 2}, Range{0, rows}, []int{0, 1, 2}, []int{2}, [][2]int{{1, 30}}, true},
		{WindowConfig{Lookback: 4, Horizon: 2, Inputs: []string{"a"}}, Range{0, rows}, []int{0}, []int{2}, [][2]int{{2, 20}, {0, 22}}, true},
		{WindowConfig{Lookback: 4, Horizon: 2, Inputs: []string{"a"}}, Range{0, rows}, []int{0}, []int{2}, [][2]int{{0, 22}, {2, 20}, {1, 3}}, true},
		// A missing value in rows that no window covers (between strides,
		// before the range's lookback) is not an error.
		{WindowConfig{Lookback: 2, Horizon: 1, Stride: 4}, Range{20, rows}, []int{0, 1, 2}, []int{2}, [][2]int{{0, 21}, {1, 2}}, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			cols := make([][]float64, len(vals))
			for c := range vals {
				cols[c] = slices.Clone(vals[c])
			}
			for _, at := range tt.nanAt {
				cols[at[0]][at[1]] = math.NaN()
			}
			f, err := NewFrame([]string{"a", "b", "c"}, cols)
			if err != nil {
				t.Fatal(err)
			}
			f.Name, f.Lines = "w.csv", make([]int, rows)
			for r := range f.Lines {
				f.Lines[r] = r + 2
			}
			L, H, S := tt.cfg.Lookback, max(tt.cfg.Horizon, 1), max(tt.cfg.Stride, 1)
			wantX, wantY, wantErr := referenceWindows(f, L, H, S, tt.in, tt.out, tt.rows)
			copied, errCopied := MakeWindows(f, tt.cfg, tt.rows)
			icfg := tt.cfg
			icfg.Index = true
			indexed, errIndexed := MakeWindows(f, icfg, tt.rows)
			if (wantErr != nil) != tt.fails {
				t.Fatalf("reference error %v, want an error: %v", wantErr, tt.fails)
			}
			if wantErr != nil {
				for _, err := range []error{errCopied, errIndexed} {
					if err == nil || err.Error() != wantErr.Error() {
						t.Errorf("got error %v, want %v", err, wantErr)
					}
				}
				return
			}
			if errCopied != nil || errIndexed != nil {
				t.Fatalf("got errors %v, %v", errCopied, errIndexed)
			}
			if !slices.Equal(copied.X.Data, wantX.Data) || !slices.Equal(copied.Y.Data, wantY.Data) || !slices.Equal(copied.X.Shape, wantX.Shape) {
				t.Fatal("copied windows differ from the reference")
			}
			if indexed.X != nil || indexed.Y != nil || !slices.Equal(indexed.Origin, copied.Origin) {
				t.Fatalf("indexed windows: X %v Y %v, origins %v, want nil, nil, %v", indexed.X, indexed.Y, indexed.Origin, copied.Origin)
			}
			lf, hk := L*len(tt.in), H*len(tt.out)
			x, y := make([]float32, lf), make([]float32, hk)
			for n := range indexed.Len() {
				for _, w := range []*Windows{copied, indexed} {
					w.Input(x, n)
					w.Target(y, n)
					if !slices.Equal(x, wantX.Data[n*lf:(n+1)*lf]) || !slices.Equal(y, wantY.Data[n*hk:(n+1)*hk]) {
						t.Fatalf("window %d: got %v %v, want %v %v", n, x, y, wantX.Row(n).Data, wantY.Row(n).Data)
					}
				}
			}
			if all := indexed.AllTargets(); !slices.Equal(all.Data, wantY.Data) || !slices.Equal(all.Shape, wantY.Shape) {
				t.Errorf("AllTargets: got %v, want %v", all.Shape, wantY.Shape)
			}
			if copied.AllTargets() != copied.Y {
				t.Error("AllTargets of copied windows is not Y")
			}
		})
	}
}
