package series

import (
	"slices"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		n          int
		train, val float64
		want       Split
	}{
		{144, 0.67, 0, Split{Range{0, 96}, Range{96, 96}, Range{96, 144}}},
		{100, 0.7, 0.15, Split{Range{0, 70}, Range{70, 85}, Range{85, 100}}},
		{10, 0.5, 0.2, Split{Range{0, 5}, Range{5, 7}, Range{7, 10}}},
	}
	for _, tt := range tests {
		got, err := SplitFraction(tt.n, tt.train, tt.val)
		if err != nil || got != tt.want {
			t.Errorf("SplitFraction(%d, %v, %v) = %v, %v, want %v", tt.n, tt.train, tt.val, got, err, tt.want)
		}
	}
	for _, bad := range [][2]float64{{0, 0}, {0.8, 0.2}, {1, 0}, {0.5, -0.1}} {
		if _, err := SplitFraction(100, bad[0], bad[1]); err == nil {
			t.Errorf("SplitFraction(100, %v, %v): got no error", bad[0], bad[1])
		}
	}
	if got, err := SplitCount(144, 12, 12); err != nil || got.Train != (Range{0, 120}) || got.Test != (Range{132, 144}) {
		t.Errorf("SplitCount(144, 12, 12) = %v, %v", got, err)
	}
	if _, err := SplitCount(10, 5, 5); err == nil {
		t.Error("SplitCount with no training rows: got no error")
	}
}

func TestMakeWindows(t *testing.T) {
	f, err := NewFrame([]string{"a", "b"}, [][]float64{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := MakeWindows(f, WindowConfig{Lookback: 3, Horizon: 2, Stride: 2}, Range{0, 10})
	if err != nil {
		t.Fatal(err)
	}
	// Origins 3, 5, 7 (7+2 <= 10; 9+2 > 10).
	if !slices.Equal(w.Origin, []int{3, 5, 7}) || !slices.Equal(w.X.Shape, []int{3, 3, 2}) || !slices.Equal(w.Y.Shape, []int{3, 2, 1}) {
		t.Fatalf("got origins %v X %v Y %v, want [3 5 7] [3 3 2] [3 2 1]", w.Origin, w.X.Shape, w.Y.Shape)
	}
	if want := []float32{2, 12, 3, 13, 4, 14}; !slices.Equal(w.X.Row(1).Data, want) {
		t.Errorf("X[1] = %v, want %v", w.X.Row(1).Data, want)
	}
	if want := []float32{17, 18}; !slices.Equal(w.Y.Row(2).Data, want) {
		t.Errorf("Y[2] = %v, want %v", w.Y.Row(2).Data, want)
	}
	// A test range uses the rows before it as lookback.
	w, err = MakeWindows(f, WindowConfig{Lookback: 4, Inputs: []string{"b"}, Targets: []string{"a", "b"}}, Range{8, 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Origin, []int{8, 9}) || !slices.Equal(w.X.Row(0).Data, []float32{14, 15, 16, 17}) || !slices.Equal(w.Y.Row(1).Data, []float32{9, 19}) {
		t.Errorf("got origins %v X[0] %v Y[1] %v", w.Origin, w.X.Row(0).Data, w.Y.Row(1).Data)
	}
}

func TestMakeWindowsErrors(t *testing.T) {
	f := frameOf(t, 1, 2, 3, 4, 5)
	tests := []struct {
		cfg  WindowConfig
		rows Range
		want string
	}{
		{WindowConfig{Lookback: 5}, Range{0, 5}, "window of 6 rows (lookback 5 + horizon 1) is longer than the series"},
		{WindowConfig{Lookback: 2, Horizon: 3}, Range{4, 5}, "window of 5 rows (lookback 2 + horizon 3) is longer"},
		{WindowConfig{Lookback: 0}, Range{0, 5}, "want lookback ≥ 1"},
		{WindowConfig{Lookback: 1}, Range{0, 6}, "rows [0, 6) of a series of 5 rows"},
		{WindowConfig{Lookback: 1, Targets: []string{"z"}}, Range{0, 5}, `no column "z"`},
	}
	for _, tt := range tests {
		_, err := MakeWindows(f, tt.cfg, tt.rows)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v %v: got %v, want an error containing %q", tt.cfg, tt.rows, err, tt.want)
		}
	}
	g, err := ReadFile("testdata/hourly.tsv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = MakeWindows(g, WindowConfig{Lookback: 2}, Range{0, 4})
	if want := `hourly.tsv:3: column "sales": missing value in a window (clean the series first)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestWalkForward(t *testing.T) {
	folds, err := WalkForward(10, WalkForwardConfig{Initial: 4, Test: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Fold{{Range{0, 4}, Range{4, 6}}, {Range{0, 6}, Range{6, 8}}, {Range{0, 8}, Range{8, 10}}}
	if !slices.Equal(folds, want) {
		t.Errorf("expanding: got %v, want %v", folds, want)
	}
	folds, err = WalkForward(10, WalkForwardConfig{Initial: 5, Test: 2, Step: 1, Window: 3})
	if err != nil {
		t.Fatal(err)
	}
	want = []Fold{{Range{2, 5}, Range{5, 7}}, {Range{3, 6}, Range{6, 8}}, {Range{4, 7}, Range{7, 9}}, {Range{5, 8}, Range{8, 10}}}
	if !slices.Equal(folds, want) {
		t.Errorf("rolling: got %v, want %v", folds, want)
	}
	if _, err := WalkForward(5, WalkForwardConfig{Initial: 5}); err == nil {
		t.Error("no room for a test fold: got no error")
	}
}
