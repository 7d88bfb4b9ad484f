package dataset

import (
	"strings"
	"testing"
)

func TestLoadJSBExcerpt(t *testing.T) {
	c, err := LoadJSB("testdata/jsb-excerpt.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 2 || len(c.Valid) != 1 || len(c.Test) != 1 {
		t.Fatalf("got %d/%d/%d chorales, want 2/1/1", len(c.Train), len(c.Valid), len(c.Test))
	}
	// The first test chorale starts with the chord 72 76 79 84.
	x := PianoRoll(c.Test[0])
	if x.Shape[0] != len(c.Test[0]) || x.Shape[1] != 88 {
		t.Fatalf("got shape %v, want [%d 88]", x.Shape, len(c.Test[0]))
	}
	var on []int
	for p, v := range x.Row(0).Data {
		if v == 1 {
			on = append(on, p+LowestPitch)
		} else if v != 0 {
			t.Fatalf("frame value %v, want 0 or 1", v)
		}
	}
	if len(on) != 4 || on[0] != 72 || on[3] != 84 {
		t.Errorf("step 0 notes %v, want [72 76 79 84]", on)
	}
	// A rest (step 6 of that chorale) is an all-zero frame.
	if x.Row(6).Sum() != 0 {
		t.Errorf("rest frame sums to %v, want 0", x.Row(6).Sum())
	}
}

func TestReadJSBErrors(t *testing.T) {
	ok := `"valid": [[[60]]], "test": [[[60]]]`
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "c.json: empty file"},
		{"syntax", "{\"train\": [[[60, ]]]}", "c.json:1:18: invalid character ']'"},
		{"type", "{\"train\":\n [[[60.5]]], " + ok + "}", "c.json:2:8: json: cannot unmarshal number 60.5"},
		{"string", `{"train": [[["C4"]]], ` + ok + "}", "c.json:1:17: json: cannot unmarshal string"},
		{"unknown split", `{"training": [], ` + ok + "}", `c.json: json: unknown field "training"`},
		{"missing split", `{"valid": [[[60]]], "test": [[[60]]]}`, `c.json: split "train" is missing or empty`},
		{"empty chorale", `{"train": [[[60]], []], ` + ok + "}", "c.json: train chorale 1 has no time steps"},
		{"pitch", `{"train": [[[60], [], [120]]], ` + ok + "}", "c.json: train chorale 0 step 2: pitch 120 outside 21-108"},
		{"trailing", `{"train": [[[60]]], ` + ok + "} {}", "c.json: data after the JSON object"},
	}
	for _, tt := range tests {
		_, err := ReadJSB(strings.NewReader(tt.in), "c.json")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error starting %q", tt.name, err, tt.want)
		}
	}
}

func FuzzReadJSB(f *testing.F) {
	f.Add(`{"train": [[[60, 64], []]], "valid": [[[60]]], "test": [[[21, 108]]]}`)
	f.Add(`{"train": [[[60.5]]]}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ReadJSB(strings.NewReader(s), "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, ch := range c.Train {
			PianoRoll(ch) // must not panic after a successful read
		}
	})
}
