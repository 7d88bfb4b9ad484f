package dataset

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestAddingProblem(t *testing.T) {
	x, y, err := AddingProblem(50, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	var mse float64
	for i, s := range x {
		var sum float32
		marks := 0
		for tt := range 50 {
			if s[2*tt+1] == 1 {
				marks++
				sum += s[2*tt]
				if (marks == 1) != (tt < 25) {
					t.Fatalf("sequence %d: marker %d at step %d", i, marks, tt)
				}
			}
		}
		if marks != 2 || sum != y[i] {
			t.Fatalf("sequence %d: %d markers, sum %v, target %v", i, marks, sum, y[i])
		}
		mse += float64((y[i] - 1) * (y[i] - 1))
	}
	// The variance of a sum of two U(0, 1): 1/6.
	if mse /= 2000; math.Abs(mse-1.0/6) > 0.015 {
		t.Errorf("MSE of always 1: %v, want about 0.167", mse)
	}
	if _, _, err := AddingProblem(1, 5, 1); err == nil {
		t.Error("T = 1 accepted")
	}
}

func TestAddition(t *testing.T) {
	src, tgt, err := Addition(3, 500, 2)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, q := range src {
		a, b, ok := strings.Cut(q, "+")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || x > 999 || y > 999 || strconv.Itoa(x+y) != tgt[i] || seen[q] {
			t.Fatalf("pair %d: %q -> %q", i, q, tgt[i])
		}
		seen[q] = true
	}
	if _, _, err := Addition(1, 1000, 1); err == nil {
		t.Error("more distinct one-digit questions than exist were accepted")
	}
}
