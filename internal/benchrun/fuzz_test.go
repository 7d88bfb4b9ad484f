package benchrun

import (
	"strings"
	"testing"
)

// FuzzSelect: any spec either resolves to valid configurations or is an
// error that quotes a name; it never panics.
func FuzzSelect(f *testing.F) {
	for _, s := range []string{"all", "tiny", "tiny, ptb-lm", "", ",", "nosuch", "all,all"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cs, err := Select(spec)
		if err != nil {
			if !strings.Contains(err.Error(), "unknown configuration") {
				t.Fatalf("Select(%q) error %v", spec, err)
			}
			return
		}
		if len(cs) == 0 {
			t.Fatalf("Select(%q) = no configurations and no error", spec)
		}
		for _, c := range cs {
			if err := c.Validate(); err != nil {
				t.Fatalf("Select(%q) gave an invalid config: %v", spec, err)
			}
		}
	})
}

// FuzzParseTorch: script output of any shape is parsed or rejected, and
// an accepted result is for the asked name with a positive time.
func FuzzParseTorch(f *testing.F) {
	f.Add([]byte(`{"config": "a", "ms_per_step": 2.5, "threads": 2}`+"\n"), "a")
	f.Add([]byte("noise\n{\"config\": \"b\", \"ms_per_step\": -1}\n"), "b")
	f.Add([]byte("{"), "a")
	f.Fuzz(func(t *testing.T, out []byte, name string) {
		r, err := ParseTorch(out, name)
		if err != nil {
			return
		}
		if r.Config != name || !(r.MsPerStep > 0) {
			t.Fatalf("ParseTorch accepted %+v for %q", r, name)
		}
	})
}
