package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/onnx"
	"github.com/recur-ml/recur/pytorch"
	"github.com/recur-ml/recur/tensor"
)

var cmdImport = &command{
	Name:      "import",
	UsageLine: "recur import [--from onnx|pytorch] [--spec FILE] [-o FILE] MODEL [DECODER]",
	Short:     "turn an ONNX model or a PyTorch state dict into a recur model file",
	Long: `Import reads a model trained elsewhere and writes a recur model file
(safetensors: the weights under PyTorch's names, the spec and, when the source
has it, the preprocessing state). Flags may come before or after MODEL.

--from onnx (the default for .onnx files) reads an ONNX model. A file recur
exported comes back as it was (a seq2seq model: give its encoder and decoder
files). Any other graph must be a recurrent stack: the input or an embedding
(Gather), LSTM, GRU or RNN nodes (peepholes and linear_before_reset = 0
included), and optionally one linear output layer (Gemm, or MatMul and Add)
over the top layer's final states or its outputs at every step, with a softmax
or sigmoid; anything else is refused, naming the node and its operator. The
task comes from the graph's shape, or from --spec (its task and task fields;
the stack's fields must agree with the graph). --bind NAME=FILE.pb feeds a
graph input from a serialized TensorProto, which makes it a constant (ONNX's
operator tests take their weights as inputs).

--from pytorch (the default for .pt and .pth files) reads a file written by
torch.save(model.state_dict()), without Python: its pickle may hold only
tensors and ordered dicts (PyTorch's own weights_only rule); any other object
is refused, and nothing in the file is executed. --spec is required: it
describes the network the weights are for. Recurrent weights match by their
PyTorch names (weight_ih_l0, ...) whatever their module is called; the others
match embedding.weight, head.weight, head.bias (and pool.*) by name, after
--rename FROM=TO prefix renames (--rename fc.=head.), or, failing that, by
being the only tensor of their shape.

A model whose task needs preprocessing state the source lacks (a vocabulary,
a forecaster's pipeline) is written with its weights and spec: train from it
with recur train --init-from FILE, which builds that state from the data.
-o defaults to MODEL with .safetensors. Exit status 1 when the source is
refused.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &importOptions{}
		fs.StringVar(&o.from, "from", "", "the source format: onnx or pytorch (default: from MODEL's extension)")
		fs.StringVar(&o.spec, "spec", "", "a spec `file` (YAML or JSON): the task the weights are for (required for pytorch)")
		fs.StringVar(&o.out, "o", "", "the output `file` (default: MODEL with .safetensors)")
		fs.Func("bind", "feed ONNX graph input `NAME=FILE.pb` from a TensorProto file (repeatable)", func(v string) error {
			o.bind = append(o.bind, v)
			return nil
		})
		fs.Func("rename", "rename PyTorch keys starting with `FROM=TO` (repeatable)", func(v string) error {
			from, to, ok := strings.Cut(v, "=")
			if !ok || from == "" {
				return errors.New("want FROM=TO")
			}
			o.rename = append(o.rename, [2]string{from, to})
			return nil
		})
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			// Flags may follow the files: recur import enc.onnx dec.onnx -o m.
			var files []string
			for len(args) > 0 {
				files = append(files, args[0])
				if err := fs.Parse(args[1:]); err != nil {
					return usagef("import: %v (run \"recur help import\")", err)
				}
				args = fs.Args()
			}
			args = files
			if len(args) < 1 || len(args) > 2 {
				return usagef("import: want a model file (an ONNX seq2seq model: its encoder and decoder), got %d arguments", len(args))
			}
			o.files = args
			return runImport(o, stdout)
		}
	},
}

type importOptions struct {
	from, spec, out string
	files           []string
	bind            []string
	rename          [][2]string
}

func runImport(o *importOptions, stdout io.Writer) error {
	from := o.from
	if from == "" {
		from = "onnx"
		if ext := strings.ToLower(filepath.Ext(o.files[0])); ext == ".pt" || ext == ".pth" || ext == ".bin" {
			from = "pytorch"
		}
	}
	var spec *model.Spec
	if o.spec != "" {
		s, err := model.ReadSpec(o.spec)
		if err != nil {
			return fmt.Errorf("--spec: %w", err)
		}
		spec = &s
	}
	var (
		f     *checkpoint.File
		notes []string
		err   error
	)
	switch from {
	case "onnx":
		f, notes, err = importONNX(o, spec)
	case "pytorch":
		f, notes, err = importPyTorch(o, spec)
	default:
		return usagef("flag --from: %q: want onnx or pytorch", o.from)
	}
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = strings.TrimSuffix(o.files[0], filepath.Ext(o.files[0])) + ".safetensors"
	}
	if err := checkpoint.Write(out, f); err != nil {
		return err
	}
	return reportImport(stdout, out, f, notes)
}

// reportImport says what was written and what the source left out.
func reportImport(w io.Writer, out string, f *checkpoint.File, notes []string) error {
	var s model.Spec
	if _, err := f.GetJSON(model.MetaSpec, &s); err != nil {
		return err
	}
	n := 0
	for _, t := range f.Tensors {
		n += t.Len()
	}
	fmt.Fprintf(w, "wrote %s (%s model, %s, hidden %d, %d layer(s); %d tensors, %d parameters)\n", out, s.Task, cellName(s), s.Hidden, max(s.Layers, 1), len(f.Tensors), n)
	if _, err := model.FromFile(out, f); err != nil {
		notes = append(notes, fmt.Sprintf("it does not load as a model on its own (%v): train from its weights with recur train --init-from %s", err, out))
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func cellName(s model.Spec) string {
	c := s.Cell
	if c == "" {
		c = "lstm"
	}
	if s.Bidirectional {
		c += " bidirectional"
	}
	if s.Peephole {
		c += " with peepholes"
	}
	if s.ResetBefore {
		c += " reset before"
	}
	return c
}

// importONNX reads the ONNX file(s) of o.
func importONNX(o *importOptions, spec *model.Spec) (*checkpoint.File, []string, error) {
	bound := map[string]*tensor.Tensor{}
	for _, b := range o.bind {
		name, path, ok := strings.Cut(b, "=")
		if !ok || name == "" {
			return nil, nil, usagef("flag --bind: %q: want NAME=FILE.pb", b)
		}
		t, err := readTensorFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("--bind %s: %w", name, err)
		}
		bound[name] = t
	}
	var rs []io.Reader
	for _, p := range o.files {
		r, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		defer r.Close()
		rs = append(rs, r)
	}
	var (
		g   *onnx.Graph
		err error
	)
	if len(rs) == 2 {
		g, err = onnx.ReadParts(rs...)
	} else {
		g, err = onnx.Read(rs[0], onnx.ReadOptions{Inputs: bound, Spec: spec})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.files[0], err)
	}
	f, err := g.File()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.files[0], err)
	}
	return f, g.Notes, nil
}

// readTensorFile reads a serialized TensorProto.
func readTensorFile(path string) (*tensor.Tensor, error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	_, t, err := onnx.ReadTensor(r)
	return t, err
}

// importPyTorch reads a torch.save(state_dict) file into the model spec
// describes.
func importPyTorch(o *importOptions, spec *model.Spec) (*checkpoint.File, []string, error) {
	if spec == nil {
		return nil, nil, usagef("import --from pytorch: --spec is required (a state dict holds weights, not the network they are for)")
	}
	if len(o.files) != 1 {
		return nil, nil, usagef("import --from pytorch: want one file")
	}
	sd, err := pytorch.Open(o.files[0])
	if err != nil {
		return nil, nil, err
	}
	m, err := model.Build(*spec, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("--spec: %w", err)
	}
	f, notes, err := matchStateDict(sd, m, o.rename)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.files[0], err)
	}
	if err := f.SetJSON(model.MetaSpec, m.Spec()); err != nil {
		return nil, nil, err
	}
	if err := model.Check(o.files[0], f); err != nil {
		return nil, nil, err
	}
	return f, notes, nil
}

// matchStateDict names the state dict's tensors as m's parameters:
// recurrent weights by their PyTorch names whatever their module's name,
// the others by name after the renames, or by being the only tensor of
// their shape.
func matchStateDict(sd *pytorch.StateDict, m model.Model, rename [][2]string) (*checkpoint.File, []string, error) {
	keys := map[string]string{} // the file's key of each renamed key
	for _, k := range sd.Keys {
		n := k
		for _, r := range rename {
			if strings.HasPrefix(n, r[0]) {
				n = r[1] + strings.TrimPrefix(n, r[0])
				break
			}
		}
		keys[strings.TrimPrefix(n, "module.")] = k
	}
	f := checkpoint.New()
	used := map[string]bool{}
	var notes []string
	for _, p := range m.Params() {
		k, err := findKey(sd, keys, p.Name, p.Value.Shape, used)
		if err != nil {
			return nil, nil, err
		}
		t := sd.Tensors[k]
		if !slices.Equal(t.Shape, p.Value.Shape) {
			return nil, nil, fmt.Errorf("tensor %q has shape %v, parameter %s wants %v", k, t.Shape, p.Name, p.Value.Shape)
		}
		used[k] = true
		f.Tensors[p.Name] = t
		if k != p.Name {
			notes = append(notes, fmt.Sprintf("%s <- %s", p.Name, k))
		}
	}
	for _, k := range sd.Keys {
		if !used[k] {
			notes = append(notes, fmt.Sprintf("tensor %s %v is not a parameter of the spec's model: left out", k, sd.Tensors[k].Shape))
		}
	}
	return f, notes, nil
}

// findKey returns the file's key for parameter name.
func findKey(sd *pytorch.StateDict, keys map[string]string, name string, shape []int, used map[string]bool) (string, error) {
	if k, ok := keys[name]; ok {
		return k, nil
	}
	_, local, _ := strings.Cut(name, ".")
	var cands []string
	if strings.HasPrefix(name, "rnn.") || strings.HasPrefix(name, "encoder.") {
		for r, k := range keys { // the same PyTorch name under another module
			if r == local || strings.HasSuffix(r, "."+local) {
				cands = append(cands, k)
			}
		}
	} else {
		for _, k := range sd.Keys {
			if !used[k] && slices.Equal(sd.Tensors[k].Shape, shape) {
				cands = append(cands, k)
			}
		}
	}
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return "", fmt.Errorf("no tensor for parameter %s %v (rename keys with --rename FROM=TO)", name, shape)
	}
	slices.Sort(cands)
	return "", fmt.Errorf("parameter %s %v could be any of %q (rename keys with --rename FROM=TO)", name, shape, cands)
}

// readModelFile reads a model file for --init-from: a recur model file,
// an ONNX model (its weights, as recur import writes them) or a PyTorch
// state dict (.pt, .pth; see initNames).
func readModelFile(path string) (*checkpoint.File, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pt", ".pth":
		sd, err := pytorch.Open(path)
		if err != nil {
			return nil, err
		}
		f, err := initNames(sd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return f, nil
	case ".onnx":
	default:
		return checkpoint.Read(path)
	}
	r, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	g, err := onnx.Read(r, onnx.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g.File()
}

// rnnTensor matches the names PyTorch gives a recurrent stack's tensors
// (nn.LSTM, nn.GRU, nn.RNN), which recur's stack shares under "rnn.".
var rnnTensor = regexp.MustCompile(`^(weight|bias)_(ih|hh|hr)_l[0-9]+(_reverse)?$`)

// initNames names a PyTorch state dict's tensors for --init-from, which
// copies the tensors whose names and shapes match the new model's: a
// prefix every key shares (a checkpoint's "model.") is dropped, and the
// tensors of the recurrent stack, whatever its module's name ("lstm.",
// "encoder.rnn."), go under "rnn.". Other tensors keep their names, so a
// module named as recur names it (embedding, head) matches; to map any
// other name, convert the file with recur import --from pytorch --spec
// and --rename.
func initNames(sd *pytorch.StateDict) (*checkpoint.File, error) {
	if len(sd.Keys) == 0 {
		return nil, errors.New("the state dict holds no tensors")
	}
	common, _, _ := strings.Cut(sd.Keys[0], ".")
	for _, k := range sd.Keys {
		if !strings.HasPrefix(k, common+".") {
			common = ""
			break
		}
	}
	names := make([]string, len(sd.Keys))
	stacks := map[string]bool{}
	for j, k := range sd.Keys {
		names[j] = strings.TrimPrefix(k, common+".")
		if i := strings.LastIndexByte(names[j], '.'); i >= 0 && rnnTensor.MatchString(names[j][i+1:]) {
			stacks[names[j][:i]] = true
			names[j] = "rnn." + names[j][i+1:]
		}
	}
	if len(stacks) > 1 {
		ss := slices.Sorted(maps.Keys(stacks))
		return nil, fmt.Errorf("recurrent stacks under %d names (%s): --init-from takes one; convert the file with recur import --from pytorch --spec and --rename", len(ss), strings.Join(ss, ", "))
	}
	f := checkpoint.New()
	for j, k := range sd.Keys {
		if _, dup := f.Tensors[names[j]]; dup {
			return nil, fmt.Errorf("tensor %q and another both map to %s", k, names[j])
		}
		f.Tensors[names[j]] = sd.Tensors[k]
	}
	return f, nil
}
