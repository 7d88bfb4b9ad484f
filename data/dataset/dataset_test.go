package dataset

import (
	"testing"
	"time"

	"github.com/recur-ml/recur/data/series"
)

func TestEmbeddedSeries(t *testing.T) {
	tests := []struct {
		name        string
		load        func() (*series.Frame, error)
		n           int
		first, last float64
		start       time.Time
	}{
		{"AirPassengers", AirPassengers, 144, 112, 432, time.Date(1949, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"SunspotsYearly", SunspotsYearly, 289, 5, 100.2, time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		f, err := tt.load()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		v := f.Values[0]
		if f.Len() != tt.n || v[0] != tt.first || v[len(v)-1] != tt.last || f.Columns[0] != "value" {
			t.Errorf("%s: got %d rows %q first %v last %v, want %d %v %v", tt.name, f.Len(), f.Columns, v[0], v[len(v)-1], tt.n, tt.first, tt.last)
		}
		if d, ok := series.Date(f.TimeKind, f.Time[0]); !ok || !d.Equal(tt.start) {
			t.Errorf("%s: starts %v, want %v", tt.name, d, tt.start)
		}
		if _, rep, err := series.Clean(f, series.CleanConfig{}); err != nil || len(rep.Missing) != 0 {
			t.Errorf("%s: not clean: %v %v", tt.name, err, rep)
		}
	}
	f, _ := SunspotsYearly()
	if s := series.DetectSeason(f.Values[0], 20); s < 9 || s > 12 {
		t.Errorf("sunspot season %d, want about 11", s)
	}
}
