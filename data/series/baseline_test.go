package series

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func airPassengers(t testing.TB) *Frame {
	t.Helper()
	f, err := ReadFile("testdata/AirPassengers.csv", CSVOptions{Columns: []string{"value"}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAirPassengersSeasonalNaive reproduces the known figure: with the
// first floor(0.67·144) = 96 months for training and the last 48 for
// testing, one-step forecasts, the seasonal naive forecast (season 12) has
// test RMSE 41.85 thousand passengers, persistence 48.04.
func TestAirPassengersSeasonalNaive(t *testing.T) {
	f := airPassengers(t)
	sp, err := SplitFraction(f.Len(), 0.67, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Test != (Range{96, 144}) {
		t.Fatalf("got test rows %v, want [96, 144)", sp.Test)
	}
	w, err := MakeWindows(f, WindowConfig{Lookback: 12}, sp.Test)
	if err != nil {
		t.Fatal(err)
	}
	scored, season, scales, err := Baselines(f, w, BaselineConfig{Train: sp.Train})
	if err != nil {
		t.Fatal(err)
	}
	if season != 12 || len(scored) != 5 || scored[3].Name != "holt-winters (A,A,M)" || scored[4].Name != "arima (ARIMA(1,1,0)(1,1,0)[12])" {
		t.Fatalf("got season %d and %d baselines, want 12 and 5 (the last two Holt-Winters and R's auto.arima choice)", season, len(scored))
	}
	// R's forecast package on the same protocol: auto.arima 14.6.
	if r := scored[4].Metrics.RMSE; math.Abs(r-14.6) > 0.05 {
		t.Errorf("ARIMA test RMSE %.2f, want R's 14.6", r)
	}
	// References computed here in float64 straight from the data.
	y := f.Values[0]
	var mean float64
	for _, v := range y[:96] {
		mean += v
	}
	mean /= 96
	var scale float64
	for i := 12; i < 96; i++ {
		scale += math.Abs(y[i] - y[i-12])
	}
	scale /= 84
	rmse := func(p func(i int) float64) (r, mae float64) {
		for i := 96; i < 144; i++ {
			r += (p(i) - y[i]) * (p(i) - y[i])
			mae += math.Abs(p(i) - y[i])
		}
		return math.Sqrt(r / 48), mae / 48
	}
	refs := []struct {
		name string
		p    func(int) float64
	}{
		{"persistence", func(i int) float64 { return y[i-1] }},
		{"seasonal naive (12)", func(i int) float64 { return y[i-12] }},
		{"mean", func(int) float64 { return mean }},
	}
	for k, ref := range refs {
		r, mae := rmse(ref.p)
		got := scored[k]
		if got.Name != ref.name || math.Abs(got.Metrics.RMSE-r) > 1e-4*r || math.Abs(got.Metrics.MASE-mae/scale) > 1e-4 {
			t.Errorf("%s: got %s %v, want %s RMSE %v MASE %v", ref.name, got.Name, got.Metrics, ref.name, r, mae/scale)
		}
	}
	if got := scored[1].Metrics.RMSE; math.Abs(got-41.8537) > 1e-4 {
		t.Errorf("seasonal naive RMSE %v, want 41.8537", got)
	}
	if math.Abs(scales[0]-scale) > 1e-12 {
		t.Errorf("got MASE scale %v, want %v", scales[0], scale)
	}
}

func TestScore(t *testing.T) {
	actual := tensor.FromSlice([]float32{1, 2, 4, 0}, 2, 2, 1)
	pred := tensor.FromSlice([]float32{2, 2, 2, 1}, 2, 2, 1)
	m := Score(pred, actual, []float64{2})
	// errors 1 0 2 1: RMSE sqrt(6/4), MAE 1; MAPE over 1, 2, 4: (1 + 0 + 0.5)/3;
	// sMAPE (2/3 + 0 + 4/6 + 2/1)/4.
	want := Metrics{RMSE: math.Sqrt(1.5), MAE: 1, MAPE: 50, SMAPE: 100 * (2.0/3 + 4.0/6 + 2) / 4, MASE: 0.5}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"RMSE", m.RMSE, want.RMSE}, {"MAE", m.MAE, want.MAE}, {"MAPE", m.MAPE, want.MAPE}, {"sMAPE", m.SMAPE, want.SMAPE}, {"MASE", m.MASE, want.MASE}} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if m := Score(pred, actual, nil); !math.IsNaN(m.MASE) {
		t.Errorf("MASE without scale: got %v, want NaN", m.MASE)
	}
}

func TestBaselinesMultiStep(t *testing.T) {
	y := make([]float64, 30)
	for i := range y {
		y[i] = float64(i%5) * 10 // season 5
	}
	f := frameOf(t, y...)
	w, err := MakeWindows(f, WindowConfig{Lookback: 5, Horizon: 7}, Range{20, 30})
	if err != nil {
		t.Fatal(err)
	}
	p, err := SeasonalNaive(f, w, 5)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Actual(f, w)
	if m := Score(p, a, nil); m.RMSE != 0 {
		t.Errorf("seasonal naive of a pure season: RMSE %v, want 0", m.RMSE)
	}
	// Step 6 of the window at origin 20 forecasts row 26 from row 21,
	// two seasons back, never from rows ≥ 20.
	if got := p.Data[6]; got != float32(y[21]) {
		t.Errorf("step 6: got %v, want %v", got, y[21])
	}
	if got := DetectSeason(y, 12); got != 5 {
		t.Errorf("DetectSeason = %d, want 5", got)
	}
	if _, err := SeasonalNaive(f, &Windows{Origin: []int{3}, Horizon: 1, Targets: []string{"y"}}, 5); err == nil || !strings.Contains(err.Error(), "origin ≥ 5") {
		t.Errorf("origin before one season: got %v", err)
	}
}

// TestScoreBy: per-target and per-step errors, hand-computed.
func TestScoreBy(t *testing.T) {
	// Two windows, two steps, two targets; the errors are 1 on target 0
	// step 0, 3 on target 1 step 1, 0 elsewhere.
	actual := tensor.FromSlice([]float32{10, 20, 10, 20, 10, 20, 10, 20}, 2, 2, 2)
	pred := tensor.FromSlice([]float32{11, 20, 10, 23, 11, 20, 10, 23}, 2, 2, 2)
	byTarget, byStep := ScoreBy(pred, actual, []float64{1, 2})
	if byTarget[0].MAE != 0.5 || byTarget[1].MAE != 1.5 || byTarget[1].MASE != 0.75 {
		t.Errorf("by target: %+v", byTarget)
	}
	if byStep[0].MAE != 0.5 || byStep[1].MAE != 1.5 || byStep[0].RMSE != math.Sqrt(0.5) {
		t.Errorf("by step: %+v", byStep)
	}
}
