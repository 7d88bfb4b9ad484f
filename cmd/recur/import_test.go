package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/pytorch"
	"github.com/recur-ml/recur/tensor"
)

// TestImportPyTorch imports the state dicts PyTorch saved in
// pytorch/testdata into the models their specs describe: every parameter
// is the file's tensor, and the result loads as a model.
func TestImportPyTorch(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		file, spec string
		args       []string
		notes      []string
	}{
		// Embedding(7, 3), LSTM(3, 4, 2 layers, bidirectional), fc Linear(8, 2).
		{"classifier.pt", "task: classify\nvocab: 7\nembed: 3\nhidden: 4\nlayers: 2\nbidirectional: true\nclasses: 2\n",
			[]string{"--rename", "fc.=head.", "--rename", "emb.=embedding."}, []string{"embedding.weight <- emb.weight", "head.bias <- fc.bias", "rnn.weight_ih_l1_reverse <- lstm.weight_ih_l1_reverse"}},
		// {"model": {rnn: GRU(2, 3), head: Linear(3, 2)}, "epoch": 3, ...}:
		// the names under model. match without renames.
		{"checkpoint.pt", "task: tag\ncell: gru\ninputs: 2\nhidden: 3\ntargets: 2\n", nil, []string{"head.weight <- model.head.weight", "rnn.bias_hh_l0 <- model.rnn.bias_hh_l0"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			src := filepath.Join("..", "..", "pytorch", "testdata", c.file)
			spec := filepath.Join(dir, c.file+".yaml")
			out := filepath.Join(dir, c.file+".safetensors")
			if err := os.WriteFile(spec, []byte(c.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"import", "--from", "pytorch", src, "--spec", spec, "-o", out}, c.args...)
			if err := runMain(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("recur %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			for _, n := range c.notes {
				if !strings.Contains(stdout.String(), "note: "+n+"\n") {
					t.Errorf("no note %q in:\n%s", n, stdout.String())
				}
			}
			sd, err := pytorch.Open(src)
			if err != nil {
				t.Fatal(err)
			}
			f, err := checkpoint.Read(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := model.Check(out, f); err != nil {
				t.Fatal(err)
			}
			for name, tt := range f.Tensors {
				found := false
				for _, k := range sd.Keys {
					if slices.Equal(sd.Tensors[k].Shape, tt.Shape) && slices.Equal(sd.Tensors[k].Data, tt.Data) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: not one of the file's tensors", name)
				}
			}
		})
	}
}

// TestImportPyTorchRefuses checks a missing spec, an ambiguous match and
// a file that pickles a model object.
func TestImportPyTorchRefuses(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	os.WriteFile(spec, []byte("task: tag\ncell: gru\ninputs: 2\nhidden: 3\ntargets: 3\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--from", "pytorch", "../../pytorch/testdata/checkpoint.pt"}, "--spec is required"},
		{[]string{"import", "--from", "pytorch", "../../pytorch/testdata/checkpoint.pt", "--spec", spec}, "no tensor for parameter head.weight [3 3]"},
		{[]string{"import", "../../pytorch/testdata/module.pt", "--spec", spec}, "global __main__.Tagger is not allowed"},
	} {
		var stdout, stderr bytes.Buffer
		err := runMain(context.Background(), append(c.args, "-o", filepath.Join(dir, "x.safetensors")), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("recur %s: %v, want an error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.safetensors")); err == nil {
		t.Error("a refused import wrote its output")
	}
}

// TestImportBind imports ONNX's operator test of a peephole LSTM, whose
// weights are graph inputs, with --bind (when Debian's libonnx-testdata
// is installed).
func TestImportBind(t *testing.T) {
	dir := "/usr/share/libonnx-testdata/data/node/test_lstm_with_peepholes"
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		t.Skip("ONNX's operator test data is absent: install Debian's libonnx-testdata")
	}
	out := filepath.Join(t.TempDir(), "peep.safetensors")
	args := []string{"import", filepath.Join(dir, "model.onnx"), "-o", out}
	for i, name := range []string{"W", "R", "B"} {
		args = append(args, "--bind", fmt.Sprintf("%s=%s/test_data_set_0/input_%d.pb", name, dir, i+1))
	}
	args = append(args, "--bind", "P="+dir+"/test_data_set_0/input_7.pb")
	var stdout, stderr bytes.Buffer
	if err := runMain(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("recur %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	for _, want := range []string{"(tag model, lstm with peepholes, hidden 3, 1 layer(s); 5 tensors", "note: input initial_h holds initial states"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("no %q in:\n%s", want, stdout.String())
		}
	}
	var stderr2 bytes.Buffer
	err := runMain(context.Background(), []string{"import", filepath.Join(dir, "model.onnx"), "-o", out}, &stdout, &stderr2)
	if err == nil || !strings.Contains(err.Error(), `node "#0" (LSTM): its weights W must be float constants`) {
		t.Errorf("without --bind: %v, want the LSTM node's weights refused", err)
	}
}

// TestInitFromPyTorch: --init-from reads a PyTorch state dict: the
// recurrent stack, whatever its module's name ("lstm." here), seeds the
// new model's "rnn." weights; tensors named otherwise stay fresh, and a
// checkpoint dict's common "model." prefix is dropped.
func TestInitFromPyTorch(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "reviews.tsv")
	rows := "text\tlabel\n"
	for i := range 12 {
		rows += []string{"a good film\tpos\n", "a bad film\tneg\n", "really superb acting\tpos\n", "awful plot\tneg\n"}[i%4]
	}
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "..", "pytorch", "testdata", "classifier.pt")
	out := filepath.Join(dir, "run")
	var stdout, stderr bytes.Buffer
	args := []string{"train", "--task", "classify", "--data", data, "--embed", "3", "--hidden", "4", "--layers", "2", "--bidirectional",
		"--epochs", "1", "--lr", "1e-12", "--init-from", src, "--out", out, "--no-report"}
	if err := runMain(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("recur %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if want := "init-from " + src + ": 16 parameters loaded (rnn.weight_ih_l0, "; !strings.Contains(stdout.String(), want) {
		t.Errorf("no %q in:\n%s", want, stdout.String())
	}
	sd, err := pytorch.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := checkpoint.Read(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	// One epoch at a learning rate of 1e-12 leaves the weights where they
	// started, to float32 rounding.
	got, want := f.Tensors["rnn.weight_hh_l1_reverse"], sd.Tensors["lstm.weight_hh_l1_reverse"]
	for i := range want.Data {
		if d := got.Data[i] - want.Data[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("rnn.weight_hh_l1_reverse[%d] = %v, the state dict's %v", i, got.Data[i], want.Data[i])
		}
	}

	ck, err := readModelFile(filepath.Join("..", "..", "pytorch", "testdata", "checkpoint.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ck.Names(), []string{"head.bias", "head.weight", "rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"}; !slices.Equal(got, want) {
		t.Errorf("checkpoint.pt for --init-from: %q, want %q", got, want)
	}
	two := &pytorch.StateDict{Keys: []string{"enc.weight_ih_l0", "dec.weight_ih_l0"}, Tensors: map[string]*tensor.Tensor{"enc.weight_ih_l0": tensor.New(4, 1), "dec.weight_ih_l0": tensor.New(4, 1)}}
	if _, err := initNames(two); err == nil || !strings.Contains(err.Error(), "recurrent stacks under 2 names (dec, enc)") {
		t.Errorf("two stacks: %v", err)
	}
}
