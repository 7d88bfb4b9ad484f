package series

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestScalerFit(t *testing.T) {
	train := frameOf(t, 1, 2, 3, 4, 10)
	tests := []struct {
		method        ScaleMethod
		center, scale float64
	}{
		{MinMax, 1, 9},
		{ZScore, 4, math.Sqrt(10)}, // deviations -3 -2 -1 0 6: 50/5
		{Robust, 3, 2},             // quartiles 2, 3, 4
	}
	for _, tt := range tests {
		s, err := FitScaler(tt.method, train)
		if err != nil {
			t.Fatal(err)
		}
		if s.Center[0] != tt.center || math.Abs(s.Scale[0]-tt.scale) > 1e-15 {
			t.Errorf("%s: got center %v scale %v, want %v %v", tt.method, s.Center[0], s.Scale[0], tt.center, tt.scale)
		}
	}
	s, err := FitScaler(ZScore, frameOf(t, 5, 5, 5))
	if err != nil || s.Scale[0] != 1 {
		t.Errorf("constant column: got %v %v, want scale 1", s, err)
	}
	if _, err := FitScaler("log", train); err == nil {
		t.Error("unknown method: got no error")
	}
}

// TestScalerTrainOnly checks that a scaler fitted on the training rows
// does not see the test rows, and that Inverse undoes Transform.
func TestScalerTrainOnly(t *testing.T) {
	f, err := ReadFile("testdata/AirPassengers.csv", CSVOptions{Columns: []string{"value"}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := SplitFraction(f.Len(), 0.67, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FitScaler(MinMax, f.Slice(sp.Train.From, sp.Train.To))
	if err != nil {
		t.Fatal(err)
	}
	// The training months (1949-1956) range from 104 to 413.
	if s.Center[0] != 104 || s.Scale[0] != 413-104 {
		t.Errorf("got min %v range %v, want 104 309", s.Center[0], s.Scale[0])
	}
	g, err := s.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Values[0][143]; got <= 1 {
		t.Errorf("December 1960 scaled to %v, want > 1 (test data outside the training range)", got)
	}
	back, err := s.Inverse(g)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range f.Values[0] {
		if math.Abs(back.Values[0][i]-x) > 1e-12 {
			t.Fatalf("row %d: got %v after round trip, want %v", i, back.Values[0][i], x)
		}
	}
	y := tensor.FromSlice([]float32{float32(g.Values[0][0]), float32(g.Values[0][143])}, 2, 1)
	inv, err := s.InverseTensor(nil, y, []string{"value"})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(inv.Data[0])-112) > 1e-4 || math.Abs(float64(inv.Data[1])-432) > 1e-4 {
		t.Errorf("InverseTensor: got %v, want [112 432]", inv.Data)
	}
}

func TestScalerJSON(t *testing.T) {
	s := &Scaler{Method: Robust, Columns: []string{"a", "b"}, Center: []float64{1.5, -2}, Scale: []float64{0.1, 3}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"robust","columns":["a","b"],"center":[1.5,-2],"scale":[0.1,3]}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var got Scaler
	if err := json.Unmarshal(b, &got); err != nil || !slices.Equal(got.Scale, s.Scale) || got.Method != Robust {
		t.Errorf("round trip: got %+v %v", got, err)
	}
	for _, bad := range []string{
		`{"method":"robust","columns":["a"],"center":[1],"scale":[0]}`,
		`{"method":"cube","columns":["a"],"center":[1],"scale":[1]}`,
		`{"method":"zscore","columns":["a","b"],"center":[1],"scale":[1]}`,
	} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s: got no error", bad)
		}
	}
}

func TestLog(t *testing.T) {
	f := frameOf(t, 1, math.E, 100)
	g, err := Log{}.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	if g.Values[0][1] != 1 {
		t.Errorf("log(e) = %v, want 1", g.Values[0][1])
	}
	back, _ := Log{}.Inverse(g)
	for i := range f.Values[0] {
		if math.Abs(back.Values[0][i]-f.Values[0][i]) > 1e-12 {
			t.Errorf("round trip row %d: got %v, want %v", i, back.Values[0][i], f.Values[0][i])
		}
	}
	_, err = Log{}.Transform(frameOf(t, 1, 0))
	if err == nil || !strings.Contains(err.Error(), `"0" is outside the domain`) {
		t.Errorf("got %v, want a domain error", err)
	}
	if g, err := (Log{Plus1: true}).Transform(frameOf(t, 0)); err != nil || g.Values[0][0] != 0 {
		t.Errorf("log1p(0): got %v %v, want 0", g, err)
	}
}

func TestDiffIntegrate(t *testing.T) {
	x := []float64{1, 4, 9, 16, 25, 36, 49, 64}
	for _, lag := range []int{1, 2, 3} {
		d := Diff{Lag: lag}
		g, err := d.Transform(frameOf(t, x...))
		if err != nil {
			t.Fatal(err)
		}
		if g.Len() != len(x)-lag || g.Values[0][0] != x[lag]-x[0] {
			t.Fatalf("lag %d: got %v, want len %d first %v", lag, g.Values[0], len(x)-lag, x[lag]-x[0])
		}
		// Forecast the last 4 values from the true differences: exact.
		origin := 4
		got := d.Integrate(nil, x[:origin], g.Values[0][origin-lag:])
		if !slices.Equal(got, x[origin:]) {
			t.Errorf("lag %d: integrated %v, want %v", lag, got, x[origin:])
		}
	}
	if _, err := (Diff{Lag: 12}).Transform(frameOf(t, x...)); err == nil {
		t.Error("lag longer than the series: got no error")
	}
}

func TestCalendar(t *testing.T) {
	f, err := ReadFile("testdata/AirPassengers.csv", CSVOptions{Columns: []string{"value"}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := AddCalendar(f, Calendar{Month: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Columns, []string{"value", "month_sin", "month_cos"}) {
		t.Fatalf("got columns %q", g.Columns)
	}
	// January: angle 0; April: angle π/2; row 12 is January again.
	for _, c := range []struct {
		row      int
		sin, cos float64
	}{{0, 0, 1}, {3, 1, 0}, {12, 0, 1}, {6, 0, -1}} {
		if s, co := g.Values[1][c.row], g.Values[2][c.row]; math.Abs(s-c.sin) > 1e-12 || math.Abs(co-c.cos) > 1e-12 {
			t.Errorf("row %d: got (%v, %v), want (%v, %v)", c.row, s, co, c.sin, c.cos)
		}
	}
	h, err := ReadFile("testdata/hourly.tsv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hg, err := AddCalendar(h, Calendar{Hour: true, Weekday: true})
	if err != nil {
		t.Fatal(err)
	}
	// 2021-03-01 was a Monday; 10:00 is angle 2π·10/24.
	if got, want := hg.Values[2][0], math.Sin(2*math.Pi/7); math.Abs(got-want) > 1e-12 {
		t.Errorf("weekday_sin: got %v, want %v", got, want)
	}
	if got, want := hg.Values[4][0], math.Sin(2*math.Pi*10/24); math.Abs(got-want) > 1e-12 {
		t.Errorf("hour_sin: got %v, want %v", got, want)
	}
	if _, err := AddCalendar(frameOf(t, 1), Calendar{Month: true}); err == nil {
		t.Error("no time column: got no error")
	}
	if _, err := AddCalendar(g, Calendar{Month: true}); err == nil {
		t.Error("calendar added twice: got no error")
	}
}

func TestDates(t *testing.T) {
	// R's business-day index (frequency 260): 1991.5 is an exact twelfth
	// but must not jump back to July 1 before its predecessor.
	f := &Frame{TimeKind: TimeDecimalYear, Time: []float64{1991.496154, 1991.5, 1991.503846}, Columns: []string{"y"}, Values: [][]float64{{1, 2, 3}}}
	d, err := f.Dates()
	if err != nil {
		t.Fatal(err)
	}
	if !d[0].Before(d[1]) || !d[1].Before(d[2]) {
		t.Errorf("dates out of order: %v", d)
	}
	if got := d[1].Format("2006-01-02 15:04"); got != "1991-07-02 12:00" {
		t.Errorf("1991.5 = %s, want 1991-07-02 12:00 (half of 365 days)", got)
	}
	f.Time = []float64{1991, 1991.25, 1991.5, 1991.75}
	f.Values = [][]float64{{1, 2, 3, 4}}
	d, _ = f.Dates()
	if got := d[3].Format("2006-01-02"); got != "1991-10-01" {
		t.Errorf("quarterly 1991.75 = %s, want 1991-10-01", got)
	}
	if _, err := frameOf(t, 1).Dates(); err == nil {
		t.Error("no time column: got no error")
	}
}
