package main

// Script tests run the recur binary against the scripts in
// testdata/script/*.txtar with testscript (github.com/rogpeppe/go-internal):
// "exec recur ARGS" runs this test binary as recur. Besides testscript's
// own commands (exec, stdout, stderr, exists, cmp, ...), scripts have:
//
//	truncate PATH N    cut the file to N bytes
//	setbyte PATH N B   set byte N of the file to B (decimal)
//	json P:KIND ...    every line of the last stdout is a JSON value and the
//	                   last one has, at each dotted path P (array items by
//	                   index), a value of KIND: number, string, bool,
//	                   object or array
//
// A failing recur writes "recur: exit status N" as its last stderr line
// here (only under test), so that scripts can check the status.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	if os.Getenv("RECUR_TEST_MAIN") == "1" {
		// "recur bench --isolate" re-executes its own binary: under test
		// that is this binary, which must then act as recur.
		main()
		return
	}
	testscript.Main(m, map[string]func(){"recur": testRecur})
}

// testRecur is recur as the scripts run it.
func testRecur() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := exitCode(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "recur: exit status %d\n", code)
	}
	os.Exit(code)
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"truncate": cmdTruncate,
			"setbyte":  cmdSetByte,
			"json":     cmdJSON,
		},
	})
}

func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate PATH N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(os.Truncate(ts.MkAbs(args[0]), int64(n)))
}

func cmdSetByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: setbyte PATH N B")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	v, err := strconv.Atoi(args[2])
	ts.Check(err)
	p := ts.MkAbs(args[0])
	data, err := os.ReadFile(p)
	ts.Check(err)
	if n >= len(data) {
		ts.Fatalf("setbyte: byte %d of a file of %d bytes", n, len(data))
	}
	data[n] = byte(v)
	ts.Check(os.WriteFile(p, data, 0o644))
}

func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	err := checkJSON(ts.ReadFile("stdout"), args)
	if (err == nil) == neg {
		ts.Fatalf("json %q: %v", args, err)
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
		if err := checkKind(last, spec); err != nil {
			return err
		}
	}
	return nil
}

// checkKind checks one "dotted.path:kind" of v.
func checkKind(v any, spec string) error {
	path, kind, ok := strings.Cut(spec, ":")
	if !ok {
		return fmt.Errorf("json %q: want PATH:KIND", spec)
	}
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
	return nil
}

func isKind[T any](v any) bool { _, ok := v.(T); return ok }
