package series_test

import (
	"fmt"
	"log"
	"math"

	"github.com/recur-ml/recur/data/series"
)

// Read AirPassengers, split it 67/33 in time, and score the baselines a
// model has to beat on the 48 test months.
func Example() {
	f, err := series.ReadFile("testdata/AirPassengers.csv", series.CSVOptions{Columns: []string{"value"}})
	if err != nil {
		log.Fatal(err)
	}
	pr, err := series.Prepare(f, series.PrepareConfig{Window: series.WindowConfig{Lookback: 12}, Test: 0.33})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows:", f.Len(), "split:", pr.Split.Train, pr.Split.Test)
	fmt.Println("train X:", pr.Train.X.Shape, "test Y:", pr.Test.Y.Shape)
	// A model's outputs (here: the true scaled targets) are scored in
	// passengers after inverting the scaling, next to the baselines.
	m, baselines, err := pr.Evaluate(pr.Test, pr.Test.Y)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("model RMSE %.3f\n", m.RMSE)
	for _, b := range baselines {
		fmt.Printf("%-31s RMSE %6.2f  MAE %6.2f  MASE %.3f\n", b.Name, b.Metrics.RMSE, b.Metrics.MAE, b.Metrics.MASE)
	}
	// Output:
	// rows: 144 split: {0 96} {96 144}
	// train X: [84 12 1] test Y: [48 1 1]
	// model RMSE 0.000
	// persistence                     RMSE  48.04  MAE  40.04  MASE 1.371
	// seasonal naive (12)             RMSE  41.85  MAE  36.98  MASE 1.266
	// mean                            RMSE 214.34  MAE 199.77  MASE 6.841
	// holt-winters (A,A,M)            RMSE  15.69  MAE  11.84  MASE 0.405
	// arima (ARIMA(1,1,0)(1,1,0)[12]) RMSE  14.64  MAE  11.27  MASE 0.386
}

// Fit a scaler on the training rows only, then transform and invert the
// whole series.
func ExampleFitScaler() {
	f, err := series.ReadFile("testdata/AirPassengers.csv", series.CSVOptions{Columns: []string{"value"}})
	if err != nil {
		log.Fatal(err)
	}
	sp, _ := series.SplitFraction(f.Len(), 0.67, 0)
	sc, err := series.FitScaler(series.ZScore, f.Slice(sp.Train.From, sp.Train.To))
	if err != nil {
		log.Fatal(err)
	}
	scaled, _ := sc.Transform(f)
	back, _ := sc.Inverse(scaled)
	worst := 0.0
	for i, v := range f.Values[0] {
		worst = max(worst, math.Abs(back.Values[0][i]-v))
	}
	fmt.Printf("mean %.2f std %.2f\n", sc.Center[0], sc.Scale[0])
	fmt.Printf("last month scaled %.3f, round-trip error < 1e-12: %v\n", scaled.Values[0][143], worst < 1e-12)
	// Output:
	// mean 213.71 std 71.54
	// last month scaled 3.051, round-trip error < 1e-12: true
}

// Cut windows with a 24-month lookback and a 12-month horizon every 6
// months.
func ExampleMakeWindows() {
	f, err := series.ReadFile("testdata/AirPassengers.csv", series.CSVOptions{Columns: []string{"value"}})
	if err != nil {
		log.Fatal(err)
	}
	w, err := series.MakeWindows(f, series.WindowConfig{Lookback: 24, Horizon: 12, Stride: 6}, series.Range{From: 0, To: f.Len()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Len(), "windows; X", w.X.Shape, "Y", w.Y.Shape, "origins", w.Origin[0], "...", w.Origin[w.Len()-1])
	_, err = series.MakeWindows(f, series.WindowConfig{Lookback: 140, Horizon: 12}, series.Range{From: 0, To: f.Len()})
	fmt.Println(err)
	// Output:
	// 19 windows; X [19 24 1] Y [19 12 1] origins 24 ... 132
	// series: AirPassengers.csv: window of 152 rows (lookback 140 + horizon 12) is longer than the series: rows [0, 144) give no window
}

// A bad value is reported with its file, line and column.
func ExampleReadFile_error() {
	_, err := series.ReadFile("testdata/nonnumeric.csv", series.CSVOptions{})
	fmt.Println(err)
	// Output:
	// nonnumeric.csv:4:12: column "value": "abc" is not a number
}

// Rolling-origin evaluation: each fold refits the pipeline on the months
// before its origin and scores the next 12.
func ExampleWalkForward() {
	f, err := series.ReadFile("testdata/AirPassengers.csv", series.CSVOptions{})
	if err != nil {
		log.Fatal(err)
	}
	folds, err := series.WalkForward(f.Len(), series.WalkForwardConfig{Initial: 108, Test: 12})
	if err != nil {
		log.Fatal(err)
	}
	for _, fold := range folds {
		pr, err := series.Prepare(f.Slice(0, fold.Test.To), series.PrepareConfig{
			Window: series.WindowConfig{Lookback: 12}, TestRows: fold.Test.Len(), Season: 12,
		})
		if err != nil {
			log.Fatal(err)
		}
		_, base, err := pr.Evaluate(pr.Test, pr.Test.Y)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("train %v test %v: %s RMSE %.2f\n", fold.Train, fold.Test, base[1].Name, base[1].Metrics.RMSE)
	}
	// Output:
	// train {0 108} test {108 120}: seasonal naive (12) RMSE 17.01
	// train {0 120} test {120 132}: seasonal naive (12) RMSE 49.25
	// train {0 132} test {132 144}: seasonal naive (12) RMSE 50.71
}

// AutoARIMA chooses the model R's auto.arima chooses on the first eight
// years of AirPassengers and forecasts the ninth's first months as R
// does (forecast(auto.arima(y), h = 3): 314.2, 306.6, 345.3).
func ExampleAutoARIMA() {
	f, err := series.ReadFile("testdata/AirPassengers.csv", series.CSVOptions{Columns: []string{"value"}})
	if err != nil {
		log.Fatal(err)
	}
	y := f.Values[0][:96]
	a, err := series.AutoARIMA(y, 12)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s AICc %.2f\n", a.Name(), a.AICc)
	fmt.Printf("next three months %.1f (actual %v)\n", a.Forecast(y, []int{96}, 3)[0], f.Values[0][96:99])
	// Output:
	// ARIMA(1,1,0)(1,1,0)[12] AICc 616.27
	// next three months [314.2 306.6 345.3] (actual [315 301 356])
}
