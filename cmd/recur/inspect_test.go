package main

import "testing"

func TestCheckJSON(t *testing.T) {
	out := "{\"a\":1}\n{\"m\":{\"x\":[1,\"s\"]},\"b\":true}\n"
	for _, c := range []struct {
		out   string
		specs []string
		ok    bool
	}{
		{out, []string{"m:object", "m.x:array", "m.x.0:number", "m.x.1:string", "b:bool"}, true},
		{out, []string{"a:number"}, false},     // only the last line is checked
		{out, []string{"m.x.2:number"}, false}, // out of range
		{out, []string{"b:string"}, false},
		{out, []string{"b.c:bool"}, false},
		{out, []string{"b:float"}, false},
		{out, []string{"b"}, false},
		{"not json\n", nil, false},
		{"", nil, false},
	} {
		if err := checkJSON(c.out, c.specs); (err == nil) != c.ok {
			t.Errorf("checkJSON(%q, %q) = %v, want ok %v", c.out, c.specs, err, c.ok)
		}
	}
}
