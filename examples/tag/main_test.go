package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf, 3); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "held-out accuracy per step") || !strings.Contains(buf.String(), "step 3: P(spike)") {
		t.Errorf("output:\n%s", buf.String())
	}
}
