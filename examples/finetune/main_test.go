package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf, 1, 2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bits per character", "parameters loaded", "from scratch", "fine-tuned"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}
