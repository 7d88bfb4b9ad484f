package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/nn"
)

var cmdQuantize = &command{
	Name:      "quantize",
	UsageLine: "recur quantize [--dtype int8|bf16] [-o FILE] MODEL",
	Short:     "write an int8 or bfloat16 copy of a model for faster inference",
	Long: `Quantize writes a copy of a trained model file (or run directory) whose
recurrent stack and output layer run their inference in int8, as PyTorch's
quantize_dynamic does: each weight matrix (the LSTM/GRU/RNN input and
recurrent weights of every layer and direction, the head's weight) is stored
as int8 with one float32 scale per row, activations are quantized per row
at run time, products are summed exactly in int32 and turned back into
float32; biases, gates and embeddings stay float32. The file is about a
quarter of the size for these weights, and a batch of one runs its
recurrent steps from int8 weights (see BENCHMARKS.md for the measured
speed and accuracy).

--dtype bf16 stores the same weights in bfloat16 instead (safetensors' BF16
dtype, which PyTorch reads as torch.bfloat16): half the size of float32, no
scales; at run time activations are rounded to bfloat16 and products summed
in float32 by VDPBF16PS, on CPUs with AVX512_BF16 (AMD Zen 4 and 5, Intel
Sapphire Rapids). Its error is smaller than int8's. Other CPUs (Zen 3: AVX2
only) run it through an exact emulation that gives the same results but is
slower than the float32 model; quantize says so when it runs on one.

recur predict, eval, inspect and serve load the quantized file as any other
model file. It is for inference: a spec saying quantize: int8 (or bf16)
does not train; --init-from takes the file, its weights dequantized, to
fine-tune a float32 model (quantize that again). A seq2seq model has no
quantized form.

-o defaults to MODEL with .int8.safetensors (.bf16.safetensors) in place of
.safetensors (model.int8.safetensors in a run directory). The file is
written atomically; -o naming the model itself is refused.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &quantizeOptions{}
		fs.StringVar(&o.out, "o", "", "the output file (default: MODEL with .int8.safetensors or .bf16.safetensors)")
		fs.StringVar(&o.dtype, "dtype", "int8", "the weights' format: int8 or bf16")
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			m, err := modelArg("quantize", fs, args)
			if err != nil {
				return err
			}
			o.model = m
			return runQuantize(o, stdout, stderr)
		}
	},
}

// modelArg returns the one MODEL argument of a command whose flags may
// also follow it (recur quantize MODEL -o FILE).
func modelArg(name string, fs *flag.FlagSet, args []string) (string, error) {
	if len(args) > 1 {
		if err := fs.Parse(args[1:]); err != nil {
			return "", usagef("%s: %v (run \"recur help %s\")", name, err, name)
		}
		args = append(args[:1], fs.Args()...)
	}
	if len(args) != 1 {
		return "", usagef("%s: want exactly one model file or run directory, got %d arguments", name, len(args))
	}
	return args[0], nil
}

type quantizeOptions struct {
	model, out, dtype string
}

func runQuantize(o *quantizeOptions, stdout, stderr io.Writer) error {
	kind, err := nn.ParseQuantKind(o.dtype)
	if err != nil || o.dtype == "" {
		return usagef("flag --dtype: %q: want int8 or bf16", o.dtype)
	}
	m, path, err := loadModel(o.model)
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = strings.TrimSuffix(path, filepath.Ext(path)) + "." + kind.String() + ".safetensors"
	}
	if a, b := filepath.Clean(out), filepath.Clean(path); a == b {
		return usagef("flag -o: %s is the model being quantized; choose another file", out)
	}
	q, err := model.QuantizeAs(m, kind)
	if err != nil {
		return err
	}
	if err := q.Save(out); err != nil {
		return err
	}
	f, err := q.File()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s: %d weight matrices; %s, the float32 model %s)\n", out, kind, len(f.Int8)+len(f.BF16), fileSize(out), fileSize(path))
	if kind == nn.QuantBF16 && nn.BF16.Effective() != nn.BF16 {
		fmt.Fprintln(stderr, "note: this CPU lacks AVX512_BF16: the bf16 model runs here through an exact emulation, slower than the float32 model (fast on AMD Zen 4/5, Intel Sapphire Rapids)")
	}
	return nil
}

// fileSize is the size of the file at path, in KiB or MiB ("?" when it
// cannot be read).
func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	if n := st.Size(); n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(st.Size())/(1<<20))
}
