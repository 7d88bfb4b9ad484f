package tune

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

const goodSpace = `# a space
lr: {log-uniform: [1e-4, 1e-1]}
dropout: {uniform: [0, 0.5]}
hidden: {log-int: [8, 128]}
look_back: {int: [12, 36]}
cell: {choice: [lstm, gru]}
`

func TestParseSpace(t *testing.T) {
	s, err := ParseSpace("space.yaml", []byte(goodSpace))
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{
		{Key: "lr", Kind: LogUniform, Low: 1e-4, High: 0.1, Line: 2},
		{Key: "dropout", Kind: Uniform, Low: 0, High: 0.5, Line: 3},
		{Key: "hidden", Kind: LogInt, Low: 8, High: 128, Line: 4},
		{Key: "look-back", Kind: Int, Low: 12, High: 36, Line: 5},
		{Key: "cell", Kind: Choice, Choices: []string{"lstm", "gru"}, Line: 6},
	}
	if len(s.Params) != len(want) {
		t.Fatalf("ParseSpace: %d params, want %d", len(s.Params), len(want))
	}
	for i, p := range s.Params {
		w := want[i]
		if p.Key != w.Key || p.Kind != w.Kind || p.Low != w.Low || p.High != w.High || p.Line != w.Line || strings.Join(p.Choices, ",") != strings.Join(w.Choices, ",") {
			t.Errorf("param %d = %+v, want %+v", i, p, w)
		}
	}
}

func TestParseSpaceErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "s.yaml: empty"},
		{"[1, 2]", "s.yaml:1: a space must be a mapping"},
		{"lr: 0.1", `s.yaml:1: key "lr": want one distribution`},
		{"a: {uniform: [0, 1]}\nlr: {loguniform: [1, 2]}", `s.yaml:2: key "lr": unknown distribution "loguniform"`},
		{"lr: {log-uniform: [0, 0.1]}", `s.yaml:1: key "lr": log-uniform: want 0 < low, got 0`},
		{"lr: {uniform: [1, 1]}", `s.yaml:1: key "lr": uniform: want low < high, got [1, 1]`},
		{"lr: {uniform: [1]}", `key "lr": uniform: want [low, high], got 1 values`},
		{"lr: {uniform: [a, 1]}", `key "lr": uniform: "a" is not a finite number`},
		{"lr: {uniform: [.nan, 1]}", `is not a finite number`},
		{"h: {int: [1.5, 4]}", `key "h": int: "1.5" is not an integer`},
		{"h: {log-int: [0, 4]}", `log-int: want 1 <= low`},
		{"c: {choice: []}", `choice: want 1 to 1000 values, got 0`},
		{"c: {choice: [[a]]}", `list items must be plain values`},
		{"c: {choice: a}", `want a list`},
		{"\n\nx: {int: [1, 2]}\nx: {int: [1, 2]}", `s.yaml:4: key "x": given twice (first on line 3)`},
		{"x_y: {int: [1, 2]}\nx-y: {int: [1, 2]}", `given twice`},
		{"lr: {uniform: [0, 1], int: [1, 2]}", `want one distribution`},
		{"lr: [unclosed", `s.yaml: yaml:`},
	} {
		_, err := ParseSpace("s.yaml", []byte(c.in))
		var se *SpaceError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSpace(%q) = %v, want a *SpaceError containing %q", c.in, err, c.want)
		}
	}
}

func TestParamValue(t *testing.T) {
	s, err := ParseSpace("s", []byte(goodSpace))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := range 1000 {
		u := (float64(i) + 0.5) / 1000
		for _, p := range s.Params {
			v := p.Value(u)
			if p.Kind == Choice {
				counts[v]++
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < p.Low || x > p.High {
				t.Fatalf("%s.Value(%v) = %q, want a number in [%v, %v]", p.Key, u, v, p.Low, p.High)
			}
			if (p.Kind == Int || p.Kind == LogInt) && x != math.Trunc(x) {
				t.Fatalf("%s.Value(%v) = %q, want an integer", p.Key, u, v)
			}
		}
	}
	if counts["lstm"] != 500 || counts["gru"] != 500 {
		t.Errorf("choice counts %v, want 500 each", counts)
	}
	// The ends of the ranges are reached, and log scales are log.
	lr, hidden, look := s.Params[0], s.Params[2], s.Params[3]
	for _, c := range []struct {
		p    Param
		u    float64
		want string
	}{
		{lr, 0, "0.0001"}, {lr, 0.5, "0.003162"}, {lr, 1, "0.1"},
		{hidden, 0, "8"}, {hidden, 0.999999, "128"}, {hidden, 0.5, "32"},
		{look, 0, "12"}, {look, 0.9999, "36"},
	} {
		if got := c.p.Value(c.u); got != c.want {
			t.Errorf("%s.Value(%v) = %s, want %s", c.p.Key, c.u, got, c.want)
		}
	}
}

func TestSpaceCheck(t *testing.T) {
	s, err := ParseSpace("s.yaml", []byte(goodSpace))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check(func(key, value string) error {
		if key == "hidden" && value == "128" {
			return errors.New("too big")
		}
		return nil
	})
	if err == nil || err.Error() != `s.yaml:4: key "hidden": too big` {
		t.Errorf("Check = %v, want the line and key of hidden", err)
	}
}
