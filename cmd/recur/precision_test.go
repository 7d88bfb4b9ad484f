package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
)

// TestTrainPrecision trains the default forecaster briefly with
// --precision bf16: the JSON result records what the steps ran in (bf16
// where the CPU has AVX512_BF16, fp32 with a warning where it is forced
// off), and an unknown precision is refused naming the flag.
func TestTrainPrecision(t *testing.T) {
	for _, off := range []bool{false, true} {
		was := kernel.SetBF16(!off)
		var out, errb bytes.Buffer
		err := runMain(context.Background(), []string{"train", "--epochs", "1", "--hidden", "8", "--precision", "bf16",
			"--out", t.TempDir(), "--no-report", "--json"}, &out, &errb)
		kernel.SetBF16(was)
		if err != nil {
			t.Fatalf("train --precision bf16: %v\n%s", err, errb.String())
		}
		var res trainResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("JSON result %q: %v", out.String(), err)
		}
		want, warned := "bf16", strings.Contains(errb.String(), "warning: --precision bf16")
		if off || !kernel.HasBF16() {
			want = "fp32"
		}
		if res.Precision != want {
			t.Errorf("AVX512_BF16 forced off %v: JSON precision %q, want %q", off, res.Precision, want)
		}
		if warned != (want == "fp32") {
			t.Errorf("AVX512_BF16 forced off %v: warned %v, stderr:\n%s", off, warned, errb.String())
		}
	}
	var out bytes.Buffer
	err := runMain(context.Background(), []string{"train", "--precision", "fp16", "--out", t.TempDir()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "precision") {
		t.Errorf("train --precision fp16: error %v, want one naming --precision", err)
	}
}
