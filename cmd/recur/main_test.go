package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errHelpShown, 0},
		{usagef("bad flag"), 2},
		{fmt.Errorf("train: %w", usagef("x")), 2},
		{context.Canceled, 130},
		{fmt.Errorf("train: saved checkpoint: %w", context.Canceled), 130},
		{errors.New("boom"), 1},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if got := exitCode(tt.err, &buf); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !strings.Contains(out.String(), c.Name) {
			t.Errorf("help output lacks command %q:\n%s", c.Name, out.String())
		}
	}
	out.Reset()
	if err := runMain(context.Background(), []string{"help", "version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "usage: recur version") {
		t.Errorf("help version = %q, want the usage line", out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nosuch"}, {"help", "nosuch"}, {"version", "extra"}, {"version", "-nosuchflag"}} {
		var out bytes.Buffer
		err := runMain(context.Background(), args, &out, &out)
		if got := exitCode(err, &out); got != 2 {
			t.Errorf("recur %q: exit %d (%v), want 2", args, got, err)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "recur ") || !strings.Contains(out.String(), "kernels: ") {
		t.Errorf("version = %q", out.String())
	}
}
