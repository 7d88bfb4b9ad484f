package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// FuzzApplyConfig checks that no config file makes applyConfig panic.
func FuzzApplyConfig(f *testing.F) {
	f.Add("hidden: 8\ntarget: [a, b]\n")
	f.Add("epochs: many\n")
	f.Add("- 1\n- 2\n")
	f.Add("a: {b: c}\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		(&trainOpts{}).register(fs)
		_ = applyConfig(fs, path)
	})
}
