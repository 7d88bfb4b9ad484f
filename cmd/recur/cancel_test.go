package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCancelSavesAndResumes interrupts a training run (as Ctrl-C does,
// through the context), checks the exit status and the saved checkpoint,
// then resumes from it to the end.
func TestCancelSavesAndResumes(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	// The network alone: an automatic forecaster would be interrupted
	// while choosing its form, before there is anything to save (below).
	args := []string{"train", "--epochs", "3", "--hidden", "4", "--out", dir, "--base", "none"}
	err := runMain(ctx, args, &out, &out)
	if code := exitCode(err, &out); code != 130 {
		t.Fatalf("interrupted train: exit %d (%v), want 130", code, err)
	}
	last := filepath.Join(dir, "last.safetensors")
	if !strings.Contains(err.Error(), "checkpoint saved to "+last) {
		t.Errorf("error %q does not say where the checkpoint is", err)
	}
	if _, err := os.Stat(last); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runMain(context.Background(), append(args, "--resume", last), &out, &out); err != nil {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "resumed from "+last+" at epoch 1, step 0") || !strings.Contains(out.String(), "epoch 3/3") {
		t.Errorf("resume output:\n%s", out.String())
	}
}

// An automatic forecaster interrupted while it chooses its form has
// trained nothing to save: it says so and exits as interrupted.
func TestCancelWhileChoosingForm(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := runMain(ctx, []string{"train", "--epochs", "3", "--hidden", "4", "--out", dir}, &out, &out)
	if code := exitCode(err, &out); code != 130 {
		t.Fatalf("interrupted train: exit %d (%v), want 130", code, err)
	}
	if !strings.Contains(err.Error(), "choosing the forecaster's form") {
		t.Errorf("error %q does not say what was interrupted", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "last.safetensors")); err == nil {
		t.Error("a checkpoint was saved before any training")
	}
}
