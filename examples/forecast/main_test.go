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
	for _, want := range []string{"LSTM test RMSE", "seasonal naive (12)", "forecast for 1961", "note: season 12"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}
