package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf, 2); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "held-out accuracy") || !strings.Contains(buf.String(), "P(positive)") {
		t.Errorf("output:\n%s", buf.String())
	}
}
