package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
)

// cancelAfter is a writer that cancels a context once the text written
// to it contains mark: it splits a training run at a point the progress
// output names.
type cancelAfter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   string
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.mark) {
		w.cancel()
	}
	return len(p), nil
}

// TestResumeWithDropoutIsExact interrupts runs of a two-layer model with
// dropout between the layers (drawn from the recurrent layer's own
// generator) after their first epoch, resumes them from the checkpoint,
// and checks that the final weights equal an uninterrupted run's bit for
// bit: every generator's state travels with the checkpoint.
func TestResumeWithDropoutIsExact(t *testing.T) {
	var corpus strings.Builder
	for i := range 40 {
		corpus.WriteString([]string{"the cat sat on the mat. ", "a dog ran to the log. ", "we saw it. "}[i%3])
	}
	text := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(text, []byte(corpus.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var pairs strings.Builder
	words := [][2]string{{"one", "un"}, {"two", "deux"}, {"three", "trois"}, {"four", "quatre"}}
	for i := range 60 {
		a, b := words[i%4], words[(i/4)%4]
		fmt.Fprintf(&pairs, "%s %s\t%s %s\n", a[0], b[0], a[1], b[1])
	}
	pairsFile := filepath.Join(t.TempDir(), "pairs.tsv")
	if err := os.WriteFile(pairsFile, []byte(pairs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"forecast", []string{"train", "--epochs", "3", "--hidden", "6", "--layers", "2", "--dropout", "0.3", "--seed", "5"}},
		{"lm", []string{"train", "--task", "lm", "--data", text, "--epochs", "3", "--hidden", "8", "--layers", "2", "--dropout", "0.3",
			"--batch-size", "4", "--seq-len", "10", "--seed", "5"}},
		{"seq2seq", []string{"train", "--task", "seq2seq", "--data", pairsFile, "--epochs", "3", "--hidden", "8", "--dropout", "0.3",
			"--batch-size", "8", "--seed", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole, split := t.TempDir(), t.TempDir()
			var out bytes.Buffer
			if err := runMain(context.Background(), append(tc.args, "--out", whole), &out, &out); err != nil {
				t.Fatalf("uninterrupted run: %v\n%s", err, out.String())
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &cancelAfter{mark: "epoch 1/3", cancel: cancel}
			err := runMain(ctx, append(tc.args, "--out", split), w, w)
			if code := exitCode(err, &out); code != 130 {
				t.Fatalf("interrupted run: exit %d (%v), want 130\n%s", code, err, w.buf.String())
			}
			out.Reset()
			last := filepath.Join(split, "last.safetensors")
			if err := runMain(context.Background(), append(tc.args, "--out", split, "--resume", last), &out, &out); err != nil {
				t.Fatalf("resumed run: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "resumed from "+last+" at epoch 2") {
				t.Errorf("resumed run did not start in epoch 2:\n%s", out.String())
			}
			a, err := checkpoint.Read(filepath.Join(whole, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := checkpoint.Read(filepath.Join(split, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Tensors) == 0 || len(a.Tensors) != len(b.Tensors) {
				t.Fatalf("got %d tensors after resuming, want %d", len(b.Tensors), len(a.Tensors))
			}
			for name, x := range a.Tensors {
				y := b.Tensors[name]
				if y == nil || len(y.Data) != len(x.Data) {
					t.Fatalf("%s: missing or resized after resuming", name)
				}
				for i := range x.Data {
					if math.Float32bits(x.Data[i]) != math.Float32bits(y.Data[i]) {
						t.Fatalf("%s[%d]: got %v after resuming, want %v (uninterrupted)", name, i, y.Data[i], x.Data[i])
					}
				}
			}
		})
	}
}
