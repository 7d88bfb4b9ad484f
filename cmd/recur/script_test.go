package main

// Script tests run the recur binary (this test binary re-executed with
// RECUR_TEST_MAIN=1 behaves as recur) against the scripts in
// testdata/script/*.txtar. A script is a txtar archive: its comment holds
// one command per line, its files are written into a fresh work directory.
//
//	recur ARGS...      run recur; it must succeed (exit 0)
//	! recur ARGS...    run recur; it must fail (exit != 0)
//	status N           the last recur exited with status N
//	stdout RE          the last stdout matches the regular expression
//	stderr RE          likewise for stderr; "! stdout RE" must not match
//	exists PATH        the file exists ("! exists" must not)
//	truncate PATH N    cut the file to N bytes
//	setbyte PATH N B   set byte N of the file to B (decimal)
//	json P:KIND ...    every line of the last stdout is a JSON value and the
//	                   last one has, at each dotted path P (array items by
//	                   index), a value of KIND: number, string, bool,
//	                   object or array
//
// $WORK expands to the work directory; '...' quotes an argument.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv("RECUR_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			runScript(t, exe, file)
		})
	}
}

type archiveFile struct {
	name string
	data []byte
}

// parseTxtar splits a txtar archive into its comment and files.
func parseTxtar(b []byte) (comment []byte, files []archiveFile) {
	lines := bytes.SplitAfter(b, []byte("\n"))
	cur := -1
	for _, l := range lines {
		s := strings.TrimRight(string(l), "\r\n")
		if strings.HasPrefix(s, "-- ") && strings.HasSuffix(s, " --") && len(s) > 6 {
			files = append(files, archiveFile{name: strings.TrimSpace(s[3 : len(s)-3])})
			cur = len(files) - 1
			continue
		}
		if cur < 0 {
			comment = append(comment, l...)
		} else {
			files[cur].data = append(files[cur].data, l...)
		}
	}
	return comment, files
}

// splitArgs splits a script line into words, honouring '...' quotes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQ = !inQ
			have = true
		case (r == ' ' || r == '\t') && !inQ:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

func runScript(t *testing.T, exe, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	comment, files := parseTxtar(b)
	work := t.TempDir()
	for _, f := range files {
		p := filepath.Join(work, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr string
	status := -1
	for i, line := range strings.Split(string(comment), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		loc := fmt.Sprintf("%s:%d", file, i+1)
		line = strings.ReplaceAll(line, "$WORK", work)
		neg := strings.HasPrefix(line, "! ")
		args := splitArgs(strings.TrimPrefix(line, "! "))
		switch args[0] {
		case "recur":
			cmd := exec.CommandContext(context.Background(), exe, args[1:]...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "RECUR_TEST_MAIN=1")
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			stdout, stderr = o.String(), e.String()
			status = 0
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("%s: %v", loc, err)
			}
			if (status != 0) != neg {
				t.Fatalf("%s: %s: exit status %d\nstdout:\n%s\nstderr:\n%s", loc, line, status, stdout, stderr)
			}
		case "status":
			want, _ := strconv.Atoi(args[1])
			if status != want {
				t.Fatalf("%s: exit status %d, want %d\nstderr:\n%s", loc, status, want, stderr)
			}
		case "stdout", "stderr":
			text := stdout
			if args[0] == "stderr" {
				text = stderr
			}
			re, err := regexp.Compile("(?m)" + strings.Join(args[1:], " "))
			if err != nil {
				t.Fatalf("%s: %v", loc, err)
			}
			if re.MatchString(text) == neg {
				t.Fatalf("%s: %s %s: got\n%s", loc, map[bool]string{true: "unexpected match for", false: "no match for"}[neg], re, text)
			}
		case "exists":
			_, err := os.Stat(filepath.Join(work, args[1]))
			if (err == nil) == neg {
				t.Fatalf("%s: exists %s: %v", loc, args[1], err)
			}
		case "truncate":
			n, _ := strconv.Atoi(args[2])
			if err := os.Truncate(filepath.Join(work, args[1]), int64(n)); err != nil {
				t.Fatalf("%s: %v", loc, err)
			}
		case "setbyte":
			p := filepath.Join(work, args[1])
			n, _ := strconv.Atoi(args[2])
			v, _ := strconv.Atoi(args[3])
			data, err := os.ReadFile(p)
			if err != nil || n >= len(data) {
				t.Fatalf("%s: setbyte: %v (file of %d bytes)", loc, err, len(data))
			}
			data[n] = byte(v)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		case "json":
			if err := checkJSON(stdout, args[1:]); err != nil {
				t.Fatalf("%s: %v\nstdout:\n%s", loc, err, stdout)
			}
		default:
			t.Fatalf("%s: unknown script command %q", loc, args[0])
		}
	}
}

// checkJSON implements the script command json: every non-empty line of
// out must decode as JSON, and the last line must hold a value of the
// given kind at each "dotted.path:kind".
func checkJSON(out string, specs []string) error {
	var last any
	n := 0
	for i, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			return fmt.Errorf("stdout line %d is not JSON: %v", i+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no JSON on stdout")
	}
	for _, spec := range specs {
		path, kind, ok := strings.Cut(spec, ":")
		if !ok {
			return fmt.Errorf("json %q: want PATH:KIND", spec)
		}
		v := last
		for _, k := range strings.Split(path, ".") {
			switch c := v.(type) {
			case map[string]any:
				if v, ok = c[k]; !ok {
					return fmt.Errorf("json: %s: no key %q", path, k)
				}
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= len(c) {
					return fmt.Errorf("json: %s: no item %q in an array of %d", path, k, len(c))
				}
				v = c[i]
			default:
				return fmt.Errorf("json: %s: %q is inside a %T, not an object or array", path, k, v)
			}
		}
		got := map[string]bool{"number": isKind[float64](v), "string": isKind[string](v), "bool": isKind[bool](v),
			"object": isKind[map[string]any](v), "array": isKind[[]any](v)}
		if ok, known := got[kind]; !known {
			return fmt.Errorf("json %q: unknown kind %q", spec, kind)
		} else if !ok {
			return fmt.Errorf("json: %s is %T (%v), want a %s", path, v, v, kind)
		}
	}
	return nil
}

func isKind[T any](v any) bool { _, ok := v.(T); return ok }
