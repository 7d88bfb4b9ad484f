package tune

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
)

// FuzzParseSpace feeds the space parser arbitrary files: it returns a
// space or a *SpaceError, never panics, and every space it accepts gives
// values within its ranges and survives the study file's JSON round trip.
func FuzzParseSpace(f *testing.F) {
	f.Add([]byte(goodSpace))
	f.Add([]byte("lr: {log-uniform: [1e-4, 1e-1]}\n"))
	f.Add([]byte("h: {log-int: [1, 9007199254740992]}\nc: {choice: [a, '', ~]}\n"))
	f.Add([]byte("x: {uniform: [-1e308, 1e308]}\n"))
	f.Add([]byte("a: &x {int: [1, 2]}\nb: *x\n"))
	f.Add([]byte("- 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpace("fuzz.yaml", data)
		if err != nil {
			if _, ok := err.(*SpaceError); !ok {
				t.Fatalf("error %v is a %T, want *SpaceError", err, err)
			}
			return
		}
		for _, u := range []float64{0, 0.25, 0.5, 0.999, math.Nextafter(1, 0)} {
			for _, p := range s.Params {
				v := p.Value(u)
				if p.Kind == Choice {
					continue
				}
				x, err := strconv.ParseFloat(v, 64)
				if err != nil || x < p.Low || x > p.High {
					t.Fatalf("%s (%s [%v, %v]).Value(%v) = %q: outside the range", p.Key, p.Kind, p.Low, p.High, u, v)
				}
			}
		}
		b, err := json.Marshal(s.Params)
		if err != nil {
			t.Fatal(err)
		}
		var back []Param
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		for i := range back {
			back[i].Line = s.Params[i].Line
		}
		if !reflect.DeepEqual(normal(back), normal(s.Params)) {
			t.Fatalf("JSON round trip: %s", b)
		}
	})
}
