package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/recur-ml/recur/data/series"
)

// seasonFrame is a frame of y whose time column steps by 1/perYear years
// (perYear 0: no time column).
func seasonFrame(y []float64, perYear int) *series.Frame {
	g := series.Of(y)
	if perYear > 0 {
		g.TimeKind = series.TimeDecimalYear
		g.Time = make([]float64, len(y))
		for i := range g.Time {
			g.Time[i] = 1990 + float64(i)/float64(perYear)
		}
	}
	return g
}

func TestChooseSeason(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	walk := func(n, m int, amp float64) []float64 {
		y, level := make([]float64, n), 100.0
		for i := range y {
			level += rng.NormFloat64()
			y[i] = level + amp*math.Sin(2*math.Pi*float64(i)/float64(m))
		}
		return y
	}
	// A season whose swing grows with the level: weak to an additive
	// decomposition, strong in the log.
	growing := make([]float64, 96)
	for i := range growing {
		growing[i] = math.Exp(0.05*float64(i)) * (1 + 0.6*math.Sin(2*math.Pi*float64(i)/12)) * (1 + 0.02*rng.NormFloat64())
	}
	if s := series.SeasonalStrength(growing, 12); s >= series.MinSeasonalStrength {
		t.Fatalf("the growing season's additive strength is %.2f; the case needs it below %.2f", s, series.MinSeasonalStrength)
	}
	for _, c := range []struct {
		name    string
		y       []float64
		perYear int
		want    int
	}{
		{"quarterly, weak: the calendar's season is kept", walk(80, 4, 0.2), 4, 4},
		{"monthly, strong", walk(120, 12, 20), 12, 12},
		{"quarterly, under two seasons of rows", walk(7, 4, 5), 4, 0},
		{"yearly", walk(80, 10, 20), 1, 0},
		{"weekly, weak: 52 must show itself", walk(300, 52, 0.2), 52, 0},
		{"weekly, strong", walk(300, 52, 40), 52, 52},
		{"no time column, a season growing with the level", growing, 0, 12},
		{"no time column, noise", walk(200, 7, 0), 0, 0},
	} {
		g := seasonFrame(c.y, c.perYear)
		if got, why := chooseSeason(g, g.Len()); got != c.want {
			t.Errorf("%s: season %d (%s), want %d", c.name, got, why, c.want)
		}
	}
}
