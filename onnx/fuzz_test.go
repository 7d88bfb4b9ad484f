package onnx_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/onnx"
)

// FuzzRead feeds the reader arbitrary files: it must return a model or an
// error, never panic or allocate beyond what the file holds, and a model
// it returns must pass model.Check. The committed corpus
// (testdata/fuzz/FuzzRead) holds recur's exports, PyTorch's and graphs
// built by hand; run bench/fuzz.sh or
//
//	go test ./onnx -run '^$' -fuzz FuzzRead -fuzztime 1m
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "torch", "*.onnx"))
	ops, _ := filepath.Glob("/usr/share/libonnx-testdata/data/node/test_*_seq_length/model.onnx") // libonnx-testdata, when installed
	files = append(files, ops...)
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []model.Spec{
		{Task: model.Classify, Cell: "gru", Hidden: 3, Bidirectional: true, Vocab: 6, Embed: 2, Classes: 2, ResetBefore: true},
		{Task: model.Tag, Cell: "lstm", Hidden: 2, Inputs: 2, Targets: 1, Peephole: true},
	} {
		m, err := model.Build(s, 1)
		if err != nil {
			f.Fatal(err)
		}
		b, err := onnx.Marshal(m, onnx.Options{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := onnx.Read(bytes.NewReader(b), onnx.ReadOptions{})
		if err != nil {
			return
		}
		if _, err := g.File(); err != nil {
			return
		}
		if g.Spec.Task == "" {
			t.Errorf("a model without task: %+v", g.Spec)
		}
	})
}
