package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigLimits: a config file is read within 1 MiB, and its errors
// quote at most about 100 bytes of a key or value.
func TestConfigLimits(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("v", 900<<10)
	tests := []struct {
		name, text, want string
	}{
		{"10 MB string", "name: " + strings.Repeat("s", 10<<20) + "\n", "--config CONFIG: larger than 1 MiB; a config file holds flags, not data"},
		{"huge unknown key", "? " + big + "\n: 1\n", `CONFIG:1: unknown key "vvvv`},
		{"huge bad value", "epochs: " + big + "\n", `CONFIG:1: key "epochs": parse error`},
		{"huge list item", "target:\n  - a\n  - ? " + big + "\n    : 1\n", `CONFIG:3: key "target": list items must be plain values`},
		{"huge YAML error", "a: [" + big + "\n", "CONFIG: yaml: line"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i))+".yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			fs := flag.NewFlagSet("train", flag.ContinueOnError)
			(&trainOpts{}).register(fs)
			err := applyConfig(fs, path)
			want := strings.ReplaceAll(tt.want, "CONFIG", path)
			if err == nil || !strings.HasPrefix(err.Error(), want) || len(err.Error()) > 400+len(path) {
				t.Errorf("got %.300v (%d bytes), want at most 400 starting %q", err, len(err.Error()), want)
			}
		})
	}
}

func TestLimitFlags(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	o := &trainOpts{}
	o.register(fs)
	if err := fs.Parse([]string{"--max-line-bytes", "4096", "--max-file-bytes", "-1"}); err != nil {
		t.Fatal(err)
	}
	if l := limits(o.MaxLineBytes, o.MaxFileBytes); l.MaxLineBytes != 4096 || l.MaxFileBytes != -1 {
		t.Errorf("got %+v, want 4096 and -1", l)
	}
	u := flag.NewFlagSet("eval", flag.ContinueOnError)
	uo := &useOpts{}
	uo.register(u)
	if err := u.Parse([]string{"--max-line-bytes=10", "--max-file-bytes=20"}); err != nil {
		t.Fatal(err)
	}
	if l := uo.limits(); l.MaxLineBytes != 10 || l.MaxFileBytes != 20 {
		t.Errorf("eval: got %+v, want 10 and 20", l)
	}
}
