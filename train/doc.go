// Package train runs training loops: epochs of batches through a Task,
// optimizer steps with accumulation and clipping, validation, early
// stopping, plateaus, freezing schedules, checkpoints, metric logs and
// exact resume.
//
// The Trainer knows nothing about models. A Task (implemented by package
// model's front doors, or by a test) computes the loss of a batch on a tape
// and evaluates a data set; a Data hands out batches by index (EpochData
// orders its own batches each epoch). Everything else is here:
//
//	tr, err := train.New(task, opt, train.Config{Epochs: 20, ClipNorm: 1, Seed: 1,
//		EarlyStop: train.EarlyStop{Patience: 5}, RestoreBest: true, Dir: "runs/x"})
//	res, err := tr.Fit(ctx, trainData, validData)
//	fmt.Println(res.StopReason, res.Restored)
//
// Each step zeroes the gradients, runs Task.Loss and Backward on Accum
// batches (each loss scaled by 1/Accum), adds the L1 penalty, computes the
// gradient norms (optim.GradNorms; a NaN or infinity is a NonFiniteError
// naming the step, the parameter and where), clips by value and by norm
// (optim.ClipGradValue, optim.ClipToNorm), sets the scheduled learning rate
// (and momentum, for one-cycle) times any plateau reductions, and steps the
// optimizer. Step runs one such step outside Fit. FindLR runs the
// learning-rate range test with the same steps and restores the weights and
// optimizer state afterwards.
//
// Validation after each epoch (and every EvalEvery steps) tracks the best
// value of the monitored metric, saves best.safetensors, keeps the best
// weights for RestoreBest, counts evaluations for EarlyStop and feeds the
// plateau rule (sched.Plateau). Freeze and UnfreezeAfter freeze parameter
// patterns for the first epochs.
//
// Callbacks receive Events (train begin, step end, evaluation end, epoch
// end, train end). A Callback has one method; CallbackFunc adapts a func and
// Callbacks is a list that is itself a Callback. Returning ErrStop, or
// Stop(reason), ends training cleanly. GradMonitor flags vanishing and
// exploding gradients.
//
// Determinism and resume: the batch order of each epoch comes from a
// shuffle generator seeded by Config.Seed. A checkpoint holds the weights,
// the optimizer state, the position (epoch, batch, step), the history of
// every epoch's metrics, the best metric, early stopping's and the plateau
// rule's state, the best weights, the states of the generators in
// Config.RNGs (dropout) and the state a Carrier task (truncated BPTT)
// carries across batches. A run resumed from it reaches the same final
// weights, learning rate and history as an uninterrupted one. When ctx is
// cancelled, Fit saves a checkpoint (if Config.Dir is set) and returns
// ctx's error. With Dir set, metrics.csv and metrics.jsonl hold the whole
// history, rewritten atomically at each epoch end.
package train
