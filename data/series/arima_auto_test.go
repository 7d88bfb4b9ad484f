package series

import (
	"math"
	"testing"
)

// TestAutoARIMAMatchesR compares the chosen model and its AICc with R 4's
// forecast::auto.arima (defaults) on the first 96 AirPassengers rows:
// auto.arima(ts(y, frequency=12)), the same on log(y), and on y without
// a frequency.
func TestAutoARIMAMatchesR(t *testing.T) {
	ap, logAP := airPassengers96(t)
	for _, c := range []struct {
		y      []float64
		season int
		want   string
		aicc   float64
	}{
		{ap, 12, "ARIMA(1,1,0)(1,1,0)[12]", 616.27},
		{logAP, 12, "ARIMA(2,0,0)(0,1,1)[12] with drift", -297.42},
		{ap, 1, "ARIMA(3,1,2)", 855.3},
	} {
		a, err := AutoARIMA(c.y, c.season)
		if err != nil {
			t.Fatal(err)
		}
		if a.Name() != c.want || math.Abs(a.AICc-c.aicc) > 0.05 {
			t.Errorf("season %d: %s, AICc %.2f; want R's %s, %.2f", c.season, a.Name(), a.AICc, c.want, c.aicc)
		}
	}
}

func TestKPSS(t *testing.T) {
	// A random walk needs one difference; its steps none. Seeded by a
	// fixed linear congruence so that the test reads no global state.
	steps := make([]float64, 400)
	walk := make([]float64, 400)
	x := uint64(7)
	for i := range steps {
		x = x*6364136223846793005 + 1442695040888963407
		steps[i] = float64(x>>11)/float64(1<<53) - 0.5
		if i > 0 {
			walk[i] = walk[i-1] + steps[i]
		}
	}
	if got := ndiffs(steps); got != 0 {
		t.Errorf("ndiffs(white noise) = %d, want 0 (KPSS %.3f)", got, kpss(steps))
	}
	if got := ndiffs(walk); got != 1 {
		t.Errorf("ndiffs(random walk) = %d, want 1 (KPSS %.3f)", got, kpss(walk))
	}
}

func TestMinRoot(t *testing.T) {
	for _, c := range []struct {
		c    []float64
		sign float64
		want float64
	}{
		{[]float64{0.5}, -1, 2},          // 1 − 0.5z
		{[]float64{0, -0.25}, 1, 2},      // 1 − 0.25z²
		{[]float64{-1.5, 0.56}, 1, 1.25}, // (1 − 0.8z)(1 − 0.7z): roots 1.25, 1.43
		{[]float64{0.9, 0}, 1, 1 / 0.9},  // a zero last coefficient is dropped
		{nil, 1, math.Inf(1)},
	} {
		if got := minRoot(c.c, c.sign); math.Abs(got-c.want) > 1e-9 && !(math.IsInf(got, 1) && math.IsInf(c.want, 1)) {
			t.Errorf("minRoot(%v, %v) = %v, want %v", c.c, c.sign, got, c.want)
		}
	}
}

// Degenerate series get a model that forecasts, not a panic or NaN: a
// constant, a straight line (constant once differenced), too few rows for
// the season, and a series of huge values.
func TestAutoARIMADegenerate(t *testing.T) {
	line := make([]float64, 30)
	huge := make([]float64, 40)
	for i := range line {
		line[i] = 3 + 2*float64(i)
	}
	for i := range huge {
		huge[i] = 1e9 * math.Exp(0.1*float64(i)) * (1 + 0.01*math.Sin(float64(i)))
	}
	for _, c := range []struct {
		name   string
		y      []float64
		season int
		next   float64 // the right next value; NaN: any finite one
	}{
		{"constant", []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 1, 5},
		{"line", line, 1, 63},
		{"short for its season", []float64{1, 3, 2, 4, 3, 5}, 12, math.NaN()},
		{"huge", huge, 1, math.NaN()},
	} {
		a, err := AutoARIMA(c.y, c.season)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := a.Forecast(c.y, []int{len(c.y)}, 1)[0][0]
		if math.IsNaN(got) || math.IsInf(got, 0) || !math.IsNaN(c.next) && math.Abs(got-c.next) > 1e-6*math.Abs(c.next) {
			t.Errorf("%s: %s forecasts %v, want %v", c.name, a.Name(), got, c.next)
		}
	}
}

func BenchmarkAutoARIMA(b *testing.B) {
	y := airPassengers(b).Values[0][:96]
	for range b.N {
		if _, err := autoARIMA(y, 12); err != nil { // the search, not the cache
			b.Fatal(err)
		}
	}
}

// A second search of the same rows is answered from the cache, with a
// model of its own: changing it changes nothing for the next caller.
func TestAutoARIMACache(t *testing.T) {
	y := airPassengers(t).Values[0][:60]
	a, err := AutoARIMA(y, 12)
	if err != nil {
		t.Fatal(err)
	}
	want := a.String()
	if len(a.AR)+len(a.SAR) > 0 {
		a.AR, a.SAR = nil, nil
	}
	a.Mean = 1e9
	b, err := AutoARIMA(y, 12)
	if err != nil || b.String() != want || b == a {
		t.Errorf("second search: %v (%v), want %s", b, err, want)
	}
	if c, _ := AutoARIMA(y, 4); c.Season == 12 {
		t.Errorf("season 4 answered from season 12's entry: %s", c)
	}
}
