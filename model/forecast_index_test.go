package model

import (
	"math"
	"slices"
	"testing"

	"github.com/recur-ml/recur/data/series"
)

// TestWindowBatchIndexed: batches gathered from windows that index their
// frame equal those gathered from copied windows, bit for bit.
func TestWindowBatchIndexed(t *testing.T) {
	n := 200
	cols := [][]float64{make([]float64, n), make([]float64, n)}
	for r := range n {
		cols[0][r] = math.Sin(float64(r)/5) / 3
		cols[1][r] = float64(r) / 7
	}
	f, err := series.NewFrame([]string{"x", "y"}, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []series.WindowConfig{
		{Lookback: 12},
		{Lookback: 7, Horizon: 3, Stride: 2, Targets: []string{"x", "y"}},
	} {
		copied, err := series.MakeWindows(f, cfg, series.Range{From: 0, To: n})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Index = true
		indexed, err := series.MakeWindows(f, cfg, series.Range{From: 0, To: n})
		if err != nil {
			t.Fatal(err)
		}
		for from := 0; from < copied.Len(); from += 16 {
			to := min(from+16, copied.Len())
			a, b := windowBatch(copied, from, to), windowBatch(indexed, from, to)
			if !slices.Equal(a.X.Data, b.X.Data) || !slices.Equal(a.X.Shape, b.X.Shape) || !slices.Equal(a.Y.Data, b.Y.Data) || !slices.Equal(a.Index, b.Index) {
				t.Fatalf("%+v: batch [%d, %d) differs between copied and indexed windows", cfg, from, to)
			}
		}
	}
}
