package model

import (
	"context"
	"math"
	"testing"

	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/train"
)

func TestCrossValidate(t *testing.T) {
	cfg := ForecastConfig{Spec: Spec{Hidden: 8, Residual: true}, Lookback: 12, Horizon: 2,
		Fit: FitConfig{Seed: 1, Optim: optim.Config{LR: 0.01}, Train: train.Config{Epochs: 3}}}
	rep, err := CrossValidate(context.Background(), cfg, sine(120), 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Folds) != 4 {
		t.Fatalf("%d folds", len(rep.Folds))
	}
	// 120 rows, the last 40 in four blocks of 10: fold k tests rows
	// [80+10k, 90+10k) and trains on what comes before.
	for k, f := range rep.Folds {
		if f.Split.Test.Len() != 10 || f.Split.Test.To != 90+10*k {
			t.Errorf("fold %d tests rows %+v", k, f.Split.Test)
		}
		if len(f.ByStep) != 2 || len(f.ByTarget) != 1 {
			t.Errorf("fold %d: %d step and %d target scores", k, len(f.ByStep), len(f.ByTarget))
		}
	}
	var sum float64
	for _, f := range rep.Folds {
		sum += f.Test.RMSE
	}
	if m := rep.Mean["rmse"]; math.Abs(m-sum/4) > 1e-9 || !(rep.Std["rmse"] >= 0) || rep.Mean["baseline/persistence/rmse"] == 0 {
		t.Errorf("mean RMSE %v (want %v), std %v, persistence %v", m, sum/4, rep.Std["rmse"], rep.Mean["baseline/persistence/rmse"])
	}
	if _, err := CrossValidate(context.Background(), cfg, sine(120), 1); err == nil {
		t.Error("one fold accepted")
	}
}
