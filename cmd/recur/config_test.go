package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestEveryFlagIsAConfigKey sets each flag of train once from a YAML key
// (underscores for hyphens) and once on the command line: both must give
// the flag the same value, so every option has its config key.
func TestEveryFlagIsAConfigKey(t *testing.T) {
	all := flag.NewFlagSet("train", flag.ContinueOnError)
	(&trainOpts{}).register(all)
	dir := t.TempDir()
	n := 0
	all.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		// A value of the flag's type, other than the usual defaults.
		val := map[string]string{"*flag.boolValue": "true", "*flag.stringValue": "a,b", "*flag.intValue": "3", "*flag.uint64Value": "3"}[fmt.Sprintf("%T", f.Value)]
		if val == "" {
			val = "0.25"
		}
		key := strings.ReplaceAll(f.Name, "-", "_")
		path := filepath.Join(dir, f.Name+".yaml")
		if err := os.WriteFile(path, []byte(key+": "+val+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fromFile := flag.NewFlagSet("train", flag.ContinueOnError)
		(&trainOpts{}).register(fromFile)
		if err := applyConfig(fromFile, path); err != nil {
			t.Errorf("key %s: %v", key, err)
			return
		}
		fromFlag := flag.NewFlagSet("train", flag.ContinueOnError)
		(&trainOpts{}).register(fromFlag)
		if err := fromFlag.Parse([]string{"--" + f.Name + "=" + val}); err != nil {
			t.Errorf("flag --%s=%s: %v", f.Name, val, err)
			return
		}
		if a, b := fromFile.Lookup(f.Name).Value.String(), fromFlag.Lookup(f.Name).Value.String(); a != b {
			t.Errorf("key %s gives %q, flag --%s gives %q", key, a, f.Name, b)
		}
		n++
	})
	t.Logf("%d flags", n)
	if n < 90 {
		t.Errorf("only %d flags checked", n)
	}
}
