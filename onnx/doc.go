// Package onnx exports recur models as ONNX models, for ONNX Runtime and
// the other runtimes that read the format, and imports ONNX models whose
// graph is a recurrent stack as recur models.
//
// [Export] writes a model's inference graph with the standard operators
// of ONNX operator set 17 (IR version 8): the recurrent stack as ONNX's
// LSTM, GRU and RNN operators, one node per layer, embeddings as Gather,
// output layers as Gemm (or MatMul and Add over a sequence), pooling and
// attention as elementwise, reduction, MatMul and Softmax nodes. The
// weights are initializers; training-time parts (every dropout kind,
// zoneout, weight-drop) are not in the graph, as they are off at
// inference.
//
// # Recurrent layers
//
// recur's layers are PyTorch's, and ONNX's operators order the gates
// differently: an LSTM's W, R and B stack the gates i, o, f, c where
// PyTorch stacks i, f, g, o; a GRU's stack z, r, h where PyTorch stacks r,
// z, n, and PyTorch's GRU applies the reset gate after the recurrent
// product, which is ONNX's linear_before_reset = 1. B is the input and
// recurrent biases concatenated, [Wb, Rb]. A bidirectional layer is one
// node with direction "bidirectional" (the reverse direction second), and
// between stacked layers the output (T, D, B, H) becomes the next input
// (T, B, D·H), the directions side by side as in PyTorch. Sequence
// lengths go to the operators' sequence_lens, so each sequence's final
// state is its own and padding is never read.
//
// Inputs are batch-first (batch, time, ...), the common convention of
// exported models, and a Transpose turns them time-major for the
// recurrent operators (layout 0): ONNX Runtime 1.31 refuses layout = 1
// ("Batchwise recurrent operations (layout == 1) are not supported").
//
// # Graphs
//
// Dimensions named batch, time and src_time are free; the others are
// fixed by the model. Integer inputs are int64 ids and int32 lengths.
//
//   - forecast: input (batch, lookback, inputs), windows of the series in
//     the pipeline's scaled space, oldest row first → forecast (batch,
//     horizon, targets), scaled; with quantile levels also quantiles
//     (batch, horizon, targets, levels), sorted and conformally widened as
//     recur's Predict does. A residual forecaster adds the last observed
//     value of each target; a hybrid one (base holt-winters or arima)
//     takes the base forecast as a second input, base (batch, horizon,
//     targets). A
//     global forecaster (one network across many series) is the same
//     graph, each series scaled by its own pipeline (metadata
//     recur.series).
//   - classify: input_ids (batch, time) (or input (batch, time, inputs)
//     for numeric sequences) and sequence_lens (batch) → logits (batch,
//     classes) and probabilities (softmax; a sigmoid per class for a
//     multi-label classifier); attention pooling also gives attention
//     (batch, time). Pooling is the model's: the final states, the mean or
//     the maximum over the valid steps, or learned attention over them.
//   - lm: input_ids (batch, time), h0 and for an LSTM c0 (layers, batch,
//     hidden) → logits (batch, time, vocab), hn and cn. One generation step
//     is time = 1 with the state the previous call returned; zeros start a
//     text.
//   - seq2seq exports as two files (Options.Part). The encoder: src_ids
//     (batch, src_time), src_lens (batch) → keys (batch, src_time,
//     D·hidden), proj_keys (the keys as the attention projects them), h,
//     c (LSTM) and feed (zeros): the decoder's first state. The decoder
//     step: prev_ids (batch), h, c, feed, keys, proj_keys, src_lens →
//     logits (batch, tgt_vocab), attention (batch, src_time), h_out,
//     c_out, feed_out. Each output of one is the input of the next under
//     the same name (minus _out); greedy or beam search loops over the
//     step outside the graph, from recur.tgt_bos to recur.tgt_eos.
//   - tag: input (batch, time, inputs), sequence_lens → outputs (batch,
//     time, width) at every step and, for classes or 0/1 labels,
//     probabilities.
//
// # Metadata
//
// What a consumer needs to prepare inputs and read outputs is in the
// model's metadata_props: recur.task, recur.spec (the spec as JSON) and
// recur.prep (the model file's preprocessing state as JSON, as recur
// reads it), and for convenience: recur.vocab (the tokens in id order, a
// JSON array) with recur.pad, recur.unk, recur.bos and recur.eos (-1:
// none), recur.src_* and recur.tgt_* for the two sides of a seq2seq
// model, recur.classes; and for a forecaster recur.pipeline, its parts
// recur.inputs, recur.targets, recur.lookback, recur.horizon,
// recur.scaler (method, columns, center, scale: scaled = (x − center) /
// scale), recur.log, recur.diffs, recur.quantiles, recur.holt_winters
// and recur.arima (the base models), with recur.preprocessing saying in
// words how to
// apply them and invert the forecast; for a global forecaster
// recur.global ("true"), recur.lookback, recur.horizon and recur.series
// (each series' name, inputs, targets, scaler, log and Holt-Winters state)
// in place of recur.pipeline and its parts. Text cleaning and tokenizing
// are not graph operations; recur.prep holds the whole encoder (cleaner,
// tokenizer, BPE merges, vocabulary).
//
// # What is refused
//
// A model that the standard operators cannot express is an
// [UnsupportedError] naming the feature: an LSTM with a projection (proj,
// PyTorch's proj_size), as ONNX's LSTM has none. Monte Carlo dropout
// intervals are drawn at prediction time and are not part of the graph.
//
// # Import
//
// [Read] (and [Import], which returns the model itself) reads two kinds
// of file. A file recur exported (producer recur, metadata recur.spec)
// gives back the exported model: spec and preprocessing state from the
// metadata, weights from the initializers, and the graph checked to be
// exactly what Export writes for them, so that export, import and export
// again give the same bytes; [ReadParts] reads a seq2seq model's two
// files. Any other graph is read by what it computes: the nodes are
// interpreted in order, and the graph must be a recurrent stack —
//
//   - the input: float sequences, or token ids through an embedding (a
//     Gather of a constant table), batch-first or time-major, with
//     optional sequence lengths (sequence_lens, the same for every layer);
//   - LSTM, GRU or RNN nodes, each reading the whole output of the one
//     below (a Squeeze of the direction axis, or Transpose and Reshape
//     putting the directions side by side), forward or bidirectional,
//     layout 0 or 1, with the standard activations (an RNN's Tanh or
//     Relu); initial states absent, zeros (exporters build them from
//     Shape, ConstantOfShape, Slice and friends), or blocks of a state
//     input;
//   - optionally one linear output layer, Gemm or MatMul (+ Add), over the
//     top layer's final states (both directions, as Gather, Squeeze,
//     Concat or Transpose and Reshape pick them) or its outputs at every
//     step, and a Softmax, LogSoftmax or Sigmoid of it.
//
// Constants and the shape arithmetic between them are evaluated. Any
// other node, or a node outside that shape (a pooling, an activation
// between layers, a reverse-only direction, clip, other activations,
// another operator domain), is an [UnsupportedGraphError] naming the
// node and the operator. Weights fed as graph inputs (ONNX's operator
// tests do that) are bound to values with [ReadOptions.Inputs].
//
// The task is the graph's shape: token ids with an output layer on the
// final states classify, on every step they are a language model; float
// sequences with probabilities of the final states classify, without
// them forecast (the outputs as targets of one step, or one target over
// a horizon when there are more outputs than inputs), and an output layer
// at every step, or none, tags. [ReadOptions.Spec] chooses another task
// for the same weights. A graph that is not recur's carries no
// vocabulary or pipeline: its weights go to a model file, from which a
// model trains (init-from) with data of its own; a tagger, and a
// classifier of numeric sequences, need none and load as they are.
//
// ONNX's LSTM has peephole connections (input P) and its GRU a reset
// gate applied before the recurrent product (linear_before_reset = 0, its
// default). PyTorch has neither; recur's layers have both
// (nn.LSTMConfig.Peephole, nn.GRUConfig.ResetBefore; the spec's peephole
// and reset_before), so such graphs import, and export back, unchanged.
// A model with them does not load into PyTorch's nn.LSTM or nn.GRU.
//
// # Verification
//
// The tests export every task with random weights (LSTM, GRU, RNN with
// tanh and ReLU; one and two layers; one and two directions; sequences of
// different lengths) and check the files with real consumers: ONNX's own
// checker (Debian's python3-onnx, check_model with full_check) and ONNX
// Runtime (onnxruntime-node from npm, run by bench/ort/run.js), whose
// outputs must equal recur's to 1e-5 on the same random inputs. Each test
// says what to install when its consumer is absent. The import tests read
// back every exported file (the same bytes on export again), ONNX's own
// operator tests of LSTM, GRU and RNN from Debian's libonnx-testdata
// (recur's outputs equal the stored expected outputs to 1e-5), and the
// files PyTorch's exporter writes (testdata/torch, equal to PyTorch's
// outputs); FuzzRead fuzzes the reader.
package onnx
