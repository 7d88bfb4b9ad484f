package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/onnx"
)

var cmdExport = &command{
	Name:      "export",
	UsageLine: "recur export [--format onnx] [-o FILE] MODEL",
	Short:     "write a model as an ONNX file for ONNX Runtime and other runtimes",
	Long: `Export writes the inference graph of a model file (or run directory) as an
ONNX model (opset 17): the recurrent stack as ONNX's LSTM, GRU and RNN
operators, embeddings as Gather, heads as Gemm/MatMul, with the vocabulary,
classes and the forecaster's scaling pipeline as metadata. Flags may come
before or after MODEL.

Each task's graph: forecast: a window (batch, lookback, inputs) in the
scaled space to the forecast (batch, horizon, targets); classify: token ids
and sequence_lens to logits and probabilities; lm: token ids and the state
(h0, c0) to the next token's logits and the new state, one step or many;
tag: sequences to outputs at every step. A seq2seq model writes two files,
FILE with .encoder.onnx and .decoder.onnx in place of .onnx: the encoder, and
one decoder step that is called once per target token.

-o defaults to MODEL with .onnx in place of .safetensors (model.onnx in a
run directory). A model ONNX cannot express (an LSTM with a projection,
--proj) is refused with the feature named; nothing is written.`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &exportOptions{}
		fs.StringVar(&o.format, "format", "onnx", "the output format (onnx)")
		fs.StringVar(&o.out, "o", "", "the output file (default: MODEL with .onnx)")
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			// Flags after MODEL: recur export MODEL -o model.onnx.
			if len(args) > 1 {
				if err := fs.Parse(args[1:]); err != nil {
					return usagef("export: %v (run \"recur help export\")", err)
				}
				args = append(args[:1], fs.Args()...)
			}
			if len(args) != 1 {
				return usagef("export: want exactly one model file or run directory, got %d arguments", len(args))
			}
			o.model = args[0]
			return runExport(o, stdout)
		}
	},
}

type exportOptions struct {
	model, format, out string
}

func runExport(o *exportOptions, stdout io.Writer) error {
	if o.format != "onnx" {
		return usagef("flag --format: %q: want onnx", o.format)
	}
	m, path, err := loadModel(o.model)
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = strings.TrimSuffix(path, filepath.Ext(path)) + ".onnx"
	}
	opts := onnx.Options{ProducerVersion: exportVersion()}
	for _, part := range onnx.Parts(m) {
		opts.Part = part
		dst := partPath(out, part)
		if err := writeONNX(dst, m, opts); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (ONNX opset %d, %s %s)\n", dst, onnx.Opset, m.Spec().Task, strings.TrimSpace(part+" graph"))
	}
	return nil
}

// partPath is where part of a model goes: out itself for a one-graph
// model, out with .encoder.onnx or .decoder.onnx otherwise.
func partPath(out, part string) string {
	if part == "" {
		return out
	}
	return strings.TrimSuffix(out, ".onnx") + "." + part + ".onnx"
}

// writeONNX exports m to path atomically; a refused model writes nothing.
func writeONNX(path string, m model.Model, o onnx.Options) error {
	b, err := onnx.Marshal(m, o)
	if err != nil {
		return err
	}
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// exportVersion is recur's module version for the file's producer_version.
func exportVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
