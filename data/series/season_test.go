package series

import (
	"math"
	"testing"
)

func timed(kind TimeKind, step float64, n int) *Frame {
	f := &Frame{Name: "t.csv", TimeKind: kind, Time: make([]float64, n), Columns: []string{"v"}, Values: [][]float64{make([]float64, n)}}
	for i := range n {
		f.Time[i] = 1000*step + float64(i)*step
	}
	return f
}

func TestCalendarSeason(t *testing.T) {
	const day = 86400.0
	for _, c := range []struct {
		name string
		f    *Frame
		want int
		ok   bool
	}{
		{"monthly decimal years", timed(TimeDecimalYear, 1.0/12, 40), 12, true},
		{"quarterly decimal years", timed(TimeDecimalYear, 0.25, 40), 4, true},
		{"yearly decimal years", timed(TimeDecimalYear, 1, 40), 1, true},
		{"weekly ts index", timed(TimeNumber, 1.0/52, 120), 52, true},
		{"plain index", timed(TimeNumber, 1, 40), 0, false},
		{"hourly dates", timed(TimeUnix, 3600, 100), 24, true},
		{"daily dates", timed(TimeUnix, day, 100), 7, true},
		{"monthly dates", timed(TimeUnix, 30.4*day, 100), 12, true},
		{"every 10 minutes", timed(TimeUnix, 600, 100), 0, false},
		{"irregular decimal years", timed(TimeDecimalYear, 0.37, 40), 0, false},
		{"no time column", &Frame{Columns: []string{"v"}, Values: [][]float64{make([]float64, 40)}}, 0, false},
	} {
		got, why, ok := CalendarSeason(c.f)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got %d %v (%q), want %d %v", c.name, got, ok, why, c.want, c.ok)
		}
		if ok && why == "" {
			t.Errorf("%s: no reason given", c.name)
		}
	}
}

func TestCalendarSeasonAirPassengers(t *testing.T) {
	f, err := ReadFile("testdata/AirPassengers.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m, why, ok := CalendarSeason(f); m != 12 || !ok {
		t.Fatalf("got %d %v (%q), want 12 (monthly)", m, ok, why)
	}
}

func TestSeasonalStrength(t *testing.T) {
	rng := uint64(7)
	noise := func() float64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return float64(rng>>11)/float64(1<<53) - 0.5
	}
	n := 120
	seasonal, flat, walk := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		seasonal[i] = 100 + 0.5*float64(i) + 10*math.Sin(2*math.Pi*float64(i)/12) + noise()
		flat[i] = 100 + noise()
		if i > 0 {
			walk[i] = walk[i-1] + noise()
		}
	}
	for _, c := range []struct {
		name   string
		y      []float64
		season int
		lo, hi float64
	}{
		{"clear season with a trend", seasonal, 12, 0.95, 1},
		{"noise", flat, 12, 0, 0.3},
		{"random walk", walk, 12, 0, MinSeasonalStrength},
		{"odd season", seasonal, 7, 0, 0.3},
		{"no season", seasonal, 1, 0, 0},
		{"shorter than two seasons", seasonal[:20], 12, 0, 0},
	} {
		if got := SeasonalStrength(c.y, c.season); !(got >= c.lo && got <= c.hi) {
			t.Errorf("%s: got strength %.3f, want in [%g, %g]", c.name, got, c.lo, c.hi)
		}
	}
}

func TestSwingGrowsWithLevel(t *testing.T) {
	f := airPassengers(t)
	if grows, b := SwingGrowsWithLevel(f.Values[0][:96], 12); !grows || b < 0.8 {
		t.Errorf("AirPassengers: got grows %v (power %.2f), want true (near 1: a multiplicative season)", grows, b)
	}
	n := 96
	additive := make([]float64, n)
	for i := range n {
		additive[i] = 100 + 2*float64(i) + 10*math.Sin(2*math.Pi*float64(i)/12)
	}
	if grows, b := SwingGrowsWithLevel(additive, 12); grows {
		t.Errorf("an additive season: got grows true (power %.2f), want false", b)
	}
	additive[5] = -1
	if grows, _ := SwingGrowsWithLevel(additive, 12); grows {
		t.Error("a series with a negative value: got grows true, want false (no log)")
	}
}

// LocalSeasonalStrength follows R's seas.heuristic (forecast 8.20, the
// strength nsdiffs tests) on AirPassengers, whose season grows with the
// level, where SeasonalStrength's fixed season counts the growth as
// remainder.
func TestLocalSeasonalStrength(t *testing.T) {
	ap := airPassengers(t).Values[0]
	for _, c := range []struct {
		n    int
		want float64 // R: forecast:::seas.heuristic(ts(AirPassengers[1:n], frequency = 12))
	}{{48, 0.942}, {96, 0.920}, {144, 0.941}} {
		got := LocalSeasonalStrength(ap[:c.n], 12)
		if math.Abs(got-c.want) > 0.03 {
			t.Errorf("first %d rows: %.3f, want R's %.3f", c.n, got, c.want)
		}
		if fixed := SeasonalStrength(ap[:c.n], 12); c.n == 144 && fixed >= got {
			t.Errorf("all rows: fixed season %.3f, local %.3f: want the local one stronger", fixed, got)
		}
	}
	if got := LocalSeasonalStrength([]float64{1, 2, 3}, 12); got != 0 {
		t.Errorf("three rows, season 12: %v, want 0", got)
	}
}
