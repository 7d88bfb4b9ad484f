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
	if !strings.Contains(buf.String(), "LSTM test RMSE") || !strings.Contains(buf.String(), "forecast for January 1961") {
		t.Errorf("output:\n%s", buf.String())
	}
}
