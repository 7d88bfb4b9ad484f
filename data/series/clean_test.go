package series

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func frameOf(t *testing.T, values ...float64) *Frame {
	t.Helper()
	f, err := NewFrame([]string{"y"}, [][]float64{values})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCleanMissing(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		cfg  CleanConfig
		want []float64
	}{
		{"drop", CleanConfig{Missing: MissingDrop}, []float64{1, 4, 8}},
		{"ffill", CleanConfig{Missing: MissingForwardFill}, []float64{1, 1, 1, 4, 4, 8}},
		{"interpolate", CleanConfig{Missing: MissingInterpolate}, []float64{1, 2, 3, 4, 6, 8}},
		{"mean", CleanConfig{Missing: MissingMean}, []float64{1, 13.0 / 3, 13.0 / 3, 4, 13.0 / 3, 8}},
		{"mean of fit rows", CleanConfig{Missing: MissingMean, FitRows: 4}, []float64{1, 2.5, 2.5, 4, 2.5, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := frameOf(t, 1, nan, nan, 4, nan, 8)
			g, rep, err := Clean(in, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.Values[0], tt.want) {
				t.Errorf("got %v, want %v", g.Values[0], tt.want)
			}
			if len(rep.Missing) != 3 || rep.Missing[0].Line != 2 || rep.Missing[2].Line != 5 {
				t.Errorf("got report %+v, want 3 missing on lines 2, 3, 5", rep.Missing)
			}
			if !math.IsNaN(in.Values[0][1]) {
				t.Error("Clean modified its input")
			}
		})
	}
	// Leading and trailing gaps.
	g, _, err := Clean(frameOf(t, nan, 2, nan, 4, nan), CleanConfig{Missing: MissingInterpolate})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{2, 2, 3, 4, 4}; !slices.Equal(g.Values[0], want) {
		t.Errorf("interpolate edges: got %v, want %v", g.Values[0], want)
	}
	g, _, _ = Clean(frameOf(t, nan, 2, nan), CleanConfig{Missing: MissingForwardFill})
	if want := []float64{2, 2, 2}; !slices.Equal(g.Values[0], want) {
		t.Errorf("ffill edges: got %v, want %v", g.Values[0], want)
	}
}

func TestCleanMissingErrors(t *testing.T) {
	nan := math.NaN()
	f, err := ReadFile("testdata/hourly.tsv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Clean(f, CleanConfig{})
	if want := `hourly.tsv:3: column "sales": missing value (choose a missing-value policy)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if _, _, err = Clean(frameOf(t, nan, nan), CleanConfig{Missing: MissingInterpolate}); err == nil {
		t.Error("all missing: got no error")
	}
	if _, _, err = Clean(frameOf(t, nan, nan), CleanConfig{Missing: MissingDrop}); err == nil {
		t.Error("all rows dropped: got no error")
	}
	g, rep, err := Clean(f, CleanConfig{Missing: MissingDrop})
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 2 || !slices.Equal(rep.DroppedRows, []int{3, 4}) || !slices.Equal(g.Lines, []int{2, 5}) {
		t.Errorf("got len %d dropped %v lines %v, want 2, [3 4], [2 5]", g.Len(), rep.DroppedRows, g.Lines)
	}
}

func TestCleanOutliers(t *testing.T) {
	v := []float64{10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 100}
	g, rep, err := Clean(frameOf(t, v...), CleanConfig{Outliers: OutliersIQR})
	if err != nil {
		t.Fatal(err)
	}
	// Q1 = 9.5, Q3 = 11 (type 7), IQR 1.5: fences 7.25 and 13.25.
	if b := rep.Bounds[0]; b.Lo != 7.25 || b.Hi != 13.25 {
		t.Errorf("got bounds %+v, want [7.25, 13.25]", b)
	}
	if len(rep.Outliers) != 1 || rep.Outliers[0].Old != 100 || g.Values[0][10] != 13.25 {
		t.Errorf("got outliers %+v last %v, want 100 clipped to 13.25", rep.Outliers, g.Values[0][10])
	}
	g, rep, err = Clean(frameOf(t, v...), CleanConfig{Outliers: OutliersZScore, Threshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	m, s := meanStd(v)
	if got := g.Values[0][10]; math.Abs(got-(m+2*s)) > 1e-12 || len(rep.Outliers) != 1 {
		t.Errorf("z-score: got %v (%d clipped), want %v", got, len(rep.Outliers), m+2*s)
	}
}

func TestCleanOrder(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"duplicate.csv", `duplicate.csv:4: column "date": "2020-01-02" duplicates the time on line 3 (use sorting to fix the order)`},
		{"unsorted.csv", `unsorted.csv:3: column "date": "2020-01-01" is before the time on line 2 (use sorting to fix the order)`},
	} {
		f, err := ReadFile("testdata/"+tt.file, CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Clean(f, CleanConfig{}); err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
	f, _ := ReadFile("testdata/duplicate.csv", CSVOptions{})
	g, rep, err := Clean(f, CleanConfig{Order: OrderSort})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Values[0], []float64{1, 3, 4}) || len(rep.Duplicates) != 1 || !slices.Equal(rep.Duplicates[0].Lines, []int{3, 4}) {
		t.Errorf("got %v duplicates %+v, want [1 3 4] and lines [3 4]", g.Values[0], rep.Duplicates)
	}
	if !strings.Contains(rep.String(), "2020-01-02 on lines [3 4]") {
		t.Errorf("report does not list the duplicate:\n%s", rep)
	}
	f, _ = ReadFile("testdata/unsorted.csv", CSVOptions{})
	g, rep, err = Clean(f, CleanConfig{Order: OrderSort})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Values[0], []float64{1, 2, 3}) || rep.Unsorted != 1 || !slices.Equal(g.Lines, []int{3, 4, 2}) {
		t.Errorf("got %v unsorted %d lines %v, want [1 2 3], 1, [3 4 2]", g.Values[0], rep.Unsorted, g.Lines)
	}
}

func TestReportJSON(t *testing.T) {
	nan := math.NaN()
	_, rep, err := Clean(frameOf(t, 1, nan, 3), CleanConfig{Missing: MissingDrop})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"missing":[{"row":-1,"line":2,"column":"y","old":null,"new":null}],"dropped_rows":[2],"outliers":null,"bounds":null,"unsorted":0,"duplicates":null}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	m, err := json.Marshal(Metrics{RMSE: 1.5, MAPE: nan, MASE: math.Inf(1)})
	if err != nil || string(m) != `{"rmse":1.5,"mae":0,"mape":null,"smape":0,"mase":null}` {
		t.Errorf("metrics: got %s %v", m, err)
	}
}

// TestClipOnlyFitRows: outliers are clipped among the first FitRows rows
// only, so that a trend's later values (what a model is scored on) stay
// as they were; they were once clipped to the training rows' bounds.
func TestClipOnlyFitRows(t *testing.T) {
	v := make([]float64, 40)
	for i := range v {
		v[i] = float64(i)
	}
	v[5] = 1000
	f, err := NewFrame([]string{"y"}, [][]float64{v})
	if err != nil {
		t.Fatal(err)
	}
	g, rep, err := Clean(f, CleanConfig{Outliers: OutliersIQR, FitRows: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outliers) != 1 || rep.Outliers[0].Row != 5 || g.Values[0][5] == 1000 {
		t.Errorf("clipped %v, row 5 = %v; want only row 5 clipped", rep.Outliers, g.Values[0][5])
	}
	for i := 20; i < 40; i++ {
		if g.Values[0][i] != float64(i) {
			t.Fatalf("row %d (after the fit rows) changed to %v", i, g.Values[0][i])
		}
	}
}
