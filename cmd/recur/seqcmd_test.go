package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/tensor"
)

// writeMNIST writes a tiny MNIST directory: n images of 28×28 whose label
// is the row holding their bright stripe (0-9), and 20 test images.
func writeMNIST(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rng := tensor.NewRNG(1)
	write := func(prefix string, n int) {
		img := make([]byte, n*784)
		lab := make([]byte, n)
		for i := range n {
			l := rng.IntN(10)
			lab[i] = byte(l)
			for c := range 28 {
				img[i*784+(2*l+3)*28+c] = 255
			}
		}
		for name, data := range map[string][]byte{
			prefix + "-images-idx3-ubyte": dataset.EncodeIDX([]int{n, 28, 28}, img),
			prefix + "-labels-idx1-ubyte": dataset.EncodeIDX([]int{n}, lab),
		} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("train", n)
	write("t10k", 20)
	return dir
}

// TestTrainMNIST: recur train --task classify --data DIR reads MNIST's IDX
// files row by row, pixel by pixel (--pixel) or permuted (--permute).
func TestTrainMNIST(t *testing.T) {
	dir := writeMNIST(t, 200)
	for _, extra := range [][]string{nil, {"--pixel"}, {"--permute", "--epochs", "1"}} {
		var out bytes.Buffer
		args := append([]string{"train", "--task", "classify", "--data", dir, "--epochs", "8", "--hidden", "16", "--lr", "0.02",
			"--out", t.TempDir(), "--no-report"}, extra...)
		if err := runMain(context.Background(), args, &out, &out); err != nil {
			t.Fatalf("%v: %v\n%s", extra, err, out.String())
		}
		want := "28 inputs per step"
		if extra != nil {
			want = "1 inputs per step"
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "test accuracy") {
			t.Errorf("%v: output lacks %q:\n%s", extra, want, out.String())
		}
		if extra == nil && !regexp.MustCompile(`test accuracy (0\.[6-9]|1\.0)`).MatchString(out.String()) {
			t.Errorf("row by row, the stripe's row is not learned:\n%s", out.String())
		}
	}
}
