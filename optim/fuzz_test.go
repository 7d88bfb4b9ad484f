package optim

import (
	"math"
	"testing"
)

func FuzzParseNormType(f *testing.F) {
	for _, s := range []string{"2", "1", "inf", "INF", " 0.5 ", "-1", "0", "nan", "1e400", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseNormType(s)
		if err != nil {
			return
		}
		if !(p > 0) {
			t.Errorf("ParseNormType(%q) = %v, want a positive norm type or an error", s, p)
		}
		if !math.IsInf(p, 1) && math.IsInf(p, 0) {
			t.Errorf("ParseNormType(%q) = %v", s, p)
		}
	})
}
