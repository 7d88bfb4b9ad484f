// Package train runs training loops: epochs of batches through a Task,
// optimizer steps with accumulation and clipping, validation, callbacks,
// checkpoints and exact resume.
//
// The Trainer knows nothing about models. A Task (implemented by package
// model, or by a test) computes the loss of a batch on a tape and evaluates a
// data set; a Data hands out batches by index. Everything else is here:
//
//	tr, err := train.New(task, opt, train.Config{Epochs: 20, ClipNorm: 1, Seed: 1})
//	res, err := tr.Fit(ctx, trainData, validData)
//
// Each step zeroes the gradients, runs Task.Loss and Backward on Accum
// batches (each loss scaled by 1/Accum), checks every gradient for NaN/Inf
// (a NonFiniteError names the step, the parameter and its norm), clips the
// global norm, sets the scheduled learning rate and steps the optimizer.
//
// Callbacks receive Events (step end, evaluation end, epoch end, train end).
// A Callback has one method; CallbackFunc adapts a func and Callbacks is a
// list that is itself a Callback. Returning ErrStop ends training cleanly.
// EarlyStopping, ReduceLROnPlateau, CSVLog, JSONLog and GradMonitor are the
// stock callbacks.
//
// Determinism and resume: the batch order of each epoch comes from a
// shuffle generator seeded by Config.Seed, whose state at the start of the
// epoch is saved with the weights, the optimizer state, the epoch, step and
// position in the epoch, the best metric and the states of the generators in
// Config.RNGs (dropout), and the state a Carrier task (truncated BPTT)
// carries across batches. A run resumed from such a checkpoint reaches the
// same final weights as an uninterrupted one. When ctx is cancelled, Fit
// saves a checkpoint (if Config.Dir is set) and returns ctx's error.
package train
