// Package benchrun measures whole models the way a user meets them: the
// time of a full training step (forward, loss, backward, Adam, in float32)
// or of one batch-1 inference, for the standard configurations of the
// project's benchmarks, in-process. It is the engine behind "recur bench".
//
// # Configurations
//
// A Config names a kind of model and its shapes. Standard returns the
// issue-7 table: the four single-LSTM configurations of the recurrent-layer
// benchmarks (MSE on the last layer's output sequence), the PTB-small
// language model (Embedding 10k×200 → 2-layer LSTM 200 → Linear 200×10k →
// cross-entropy at every step), a bidirectional 2-layer LSTM classifier
// with mean pooling, a seq2seq model with Luong attention (nn.Seq2Seq), and
// the batch-1 forecast and text-classifier latencies. Select resolves names
// given on a command line; the "tiny" configurations exist for tests.
//
// # What is reported
//
// Run times Options.Repeat repeats of Options.Steps steps after a warm-up
// and reports the median ms per step, sequences per second, GFLOP/s from
// Config.Flops (the recurrent layers' 2·T·B·(I+H)·4H per layer and
// direction plus the Linear heads and attention products, training 3x) and
// its share of the measured peak (CorePeak, a one-thread packed SGEMM on
// cache-resident data, times the kernel thread count), the peak RSS of the
// process while the configuration ran (the kernel's high-water mark is
// reset before each configuration), Config.MinBytes as the floor that
// memory is judged against, and heap allocations per step from
// runtime.MemStats.
//
// # Peers side by side
//
// A Peer is another implementation timed on the same configuration right
// after each recur run, with the same steps and repeats, so that the sides
// share a time window on a machine whose speed drifts; each peer tries 1
// and 2 threads, each count in its own process, and keeps the better.
// PyTorch runs bench/torch_models.py, which builds the same model from the
// Config passed as JSON, with the same step definition (OMP_NUM_THREADS,
// OPENBLAS_NUM_THREADS and OMP_WAIT_POLICY=PASSIVE set before torch is
// imported). OneDNN runs bench/onednn's program on oneDNN's LSTM
// primitive: the LSTM layers alone (forward and backward for the lstm
// configurations, forward for the inference ones), a lower bound on a
// framework built on it. ORT runs bench/ort/bench.js in node on the model
// recur exports (package onnx), inference only, and reports its per-call
// floor on an Identity model. A Result lists every peer's best time and
// recur's speed-up against each and against the fastest.
//
// # History
//
// With Session.Fresh, an inference configuration is also timed in a fresh
// process beside its time in this process after the training
// configurations (FreshMs, TrainedBefore): what earlier work in the
// process costs a batch-1 call.
//
// # Scaling
//
// SweepCases varies T, B, H and the layer count of the first LSTM
// configuration; WriteSweepCSV and PlotSweep write the measured points and a
// log-log plot against the cost the FLOP count predicts.
package benchrun
