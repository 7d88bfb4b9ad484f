package series

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// seasonal returns n rows of level + trend·t + a season of period 4,
// added or multiplied.
func seasonal(n int, mult bool) []float64 {
	pattern := []float64{3, -1, -4, 2}
	y := make([]float64, n)
	for t := range y {
		base := 50 + 0.5*float64(t)
		if mult {
			y[t] = base * (1 + pattern[t%4]/20)
		} else {
			y[t] = base + pattern[t%4]
		}
	}
	return y
}

func TestHoltWintersFitsItsOwnModel(t *testing.T) {
	for _, mult := range []bool{false, true} {
		y := seasonal(60, mult)
		hw, err := AutoHoltWinters(y[:48], 4)
		if err != nil {
			t.Fatal(err)
		}
		origins := []int{48, 52, 56}
		fc := hw.Forecast(y, origins, 4)
		var worst float64
		for i, o := range origins {
			for j, v := range fc[i] {
				worst = max(worst, math.Abs(v-y[o+j]))
			}
		}
		// A noise-free trend and season: four steps ahead within 1%.
		if worst > 0.01*y[59] {
			t.Errorf("mult=%v: %s forecasts off by up to %v", mult, hw.Name(), worst)
		}
		if mult && !strings.HasSuffix(hw.Name(), ",M") || !strings.Contains(hw.Name(), ",A") {
			t.Errorf("mult=%v: chose %s", mult, hw.Name())
		}
	}
}

func TestHoltWintersFuture(t *testing.T) {
	y := seasonal(40, false)
	hw, err := FitHoltWinters(y, HWConfig{Trend: true, Season: 4})
	if err != nil {
		t.Fatal(err)
	}
	fc := hw.Forecast(y, []int{len(y)}, 4)
	want := seasonal(44, false)[40:]
	for j := range 4 {
		if math.Abs(fc[0][j]-want[j]) > 0.5 {
			t.Errorf("step %d after the end: %v, want %v", j+1, fc[0][j], want[j])
		}
	}
}

func TestHoltWintersErrors(t *testing.T) {
	for _, c := range []struct {
		y    []float64
		cfg  HWConfig
		want string
	}{
		{[]float64{1, 2, 3, 4, 5}, HWConfig{Season: 4}, "needs 8 rows"},
		{[]float64{1, math.NaN(), 3}, HWConfig{}, "row 1 is NaN"},
		{[]float64{1, 0, 3, 4, 1, 2, 3, 4}, HWConfig{Season: 4, Multiplicative: true}, "row 1 is 0 (want finite and positive)"},
		{[]float64{1, 2, 3, 4}, HWConfig{Multiplicative: true}, "needs a period"},
	} {
		if _, err := FitHoltWinters(c.y, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %s: got %v, want %q", c.y, c.cfg.Name(), err, c.want)
		}
	}
	if got := (HWConfig{Damped: true, Trend: true, Season: 12, Multiplicative: true}).Name(); got != "A,Ad,M" {
		t.Errorf("name %q", got)
	}
}

func TestAutoHoltWintersWithoutSeason(t *testing.T) {
	hw, err := AutoHoltWinters([]float64{10, 12, 11, 13, 15, 14, 16, 18, 17, 19}, 0)
	if err != nil || hw.Season != 0 || hw.Multiplicative {
		t.Errorf("got %+v, %v; want a model without a season", hw, err)
	}
}

func TestNelderMead(t *testing.T) {
	// Rosenbrock's valley, minimum 0 at (1, 1).
	f := func(x []float64) float64 { return 100*math.Pow(x[1]-x[0]*x[0], 2) + math.Pow(1-x[0], 2) }
	x := nelderMead(f, []float64{-1.2, 1}, 2000)
	if math.Abs(x[0]-1) > 1e-3 || math.Abs(x[1]-1) > 1e-3 {
		t.Errorf("minimum at %v, want (1, 1)", x)
	}
}

func TestBaselinesHaveStatisticalModels(t *testing.T) {
	scored := seasonalBaselines(t, false)
	// The series is exactly Holt-Winters; a seasonal difference with
	// drift leaves the season's growth, 0.27 on a level of 80-90.
	for _, want := range []struct {
		prefix string
		rmse   float64
	}{{"holt-winters (A,", 0.5}, {"arima (ARIMA(", 1}} {
		i := slices.IndexFunc(scored, func(s Scored) bool { return strings.HasPrefix(s.Name, want.prefix) })
		if i < 0 || scored[i].Metrics.RMSE > want.rmse {
			t.Errorf("baselines %v: want %s... with RMSE at most %v", scored, want.prefix, want.rmse)
		}
	}
}

func TestBaselinesSkipModels(t *testing.T) {
	scored := seasonalBaselines(t, true)
	for _, s := range scored {
		if strings.HasPrefix(s.Name, "holt-winters") || strings.HasPrefix(s.Name, "arima") {
			t.Errorf("SkipModels: baseline %s scored", s.Name)
		}
	}
	if len(scored) != 3 {
		t.Errorf("%d baselines, want persistence, seasonal naive and mean", len(scored))
	}
}

// seasonalBaselines scores the baselines on the last 20 of 80 rows of a
// multiplicative seasonal series.
func seasonalBaselines(t *testing.T, skipModels bool) []Scored {
	t.Helper()
	f, _ := NewFrame([]string{"y"}, [][]float64{seasonal(80, true)})
	w, err := MakeWindows(f, WindowConfig{Lookback: 4, Horizon: 1, Targets: []string{"y"}, Inputs: []string{"y"}}, Range{From: 60, To: 80})
	if err != nil {
		t.Fatal(err)
	}
	scored, _, _, err := Baselines(f, w, BaselineConfig{Train: Range{From: 0, To: 60}, Season: 4, SkipModels: skipModels})
	if err != nil {
		t.Fatal(err)
	}
	return scored
}
