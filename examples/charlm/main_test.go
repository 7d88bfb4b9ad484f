package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf, 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "bits per character") || !strings.Contains(buf.String(), "the sea") {
		t.Errorf("output:\n%s", buf.String())
	}
}
