package benchrun

import (
	"math"
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

// FuzzParsePeer: a peer program's output of any shape is parsed or
// rejected, and an accepted result is the asked peer's and configuration's
// with a positive, finite time, at least one thread and a floor that is
// not negative.
func FuzzParsePeer(f *testing.F) {
	f.Add([]byte(`{"peer": "onednn", "config": "a", "threads": 1, "ms_per_step": 2.5}`+"\n"), "onednn", "a")
	f.Add([]byte("noise\n{\"peer\": \"ort\", \"config\": \"b\", \"threads\": 2, \"ms_per_step\": 0.1, \"floor_ms\": 0.01}\n"), "ort", "b")
	f.Add([]byte(`{"peer": "ort", "config": "b", "threads": 0, "ms_per_step": 1e400}`), "ort", "b")
	f.Add([]byte("{"), "onednn", "a")
	f.Fuzz(func(t *testing.T, out []byte, peer, name string) {
		r, err := ParsePeer(out, peer, name)
		if err != nil {
			return
		}
		if r.Peer != peer || r.Config != name || !(r.MsPerStep > 0) || math.IsInf(r.MsPerStep, 0) || r.Threads < 1 || r.FloorMs < 0 {
			t.Fatalf("ParsePeer accepted %+v for %q, %q", r, peer, name)
		}
	})
}
