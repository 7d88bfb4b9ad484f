// Package tune searches hyperparameters: a search space over the keys of
// "recur train" (ParseSpace), the points that sample it (a scrambled
// Halton sequence or independent draws, NewSampler), asynchronous
// successive halving to stop weak trials early (Rungs), and a study file
// that records every trial so that a search resumes after an interruption
// (Study, Tuner). Trials run through a Runner; Exec runs each as a child
// "recur train" process in its own run directory.
//
// # Successive halving
//
// A trial trains first for the epochs of the lowest rung. Whenever a
// runner is free, the tuner promotes a trial that is among the best 1/eta
// of those that completed its rung (the highest such rung first) to the
// next rung; if none is promotable, it starts a new trial. Trials never
// promoted stop at their rung. Ranks use the study's validation metric:
// the best epoch's value within the rung's epochs.
//
// A promoted trial trains again from its first epoch to the next rung's
// epochs, rather than continuing its checkpoint. A finished recur run's
// checkpoint holds its best epoch's weights (it restores them), so
// continuing it would not be the run that its configuration with the new
// epoch count describes; training afresh keeps every result reproducible
// by "recur train --config" with the trial's configuration, at most
// eta/(eta-1) times the epochs of the trial's last rung.
//
// # The study directory
//
//	study.json        settings and every trial's configuration, state and rung results
//	leaderboard.json  the trials ranked (written by the command)
//	best.yaml         the best trial's configuration as a "recur train --config" file
//	trial-NNN/        each trial's run directory (model, checkpoints, metrics, tune.log)
//
// The study file is rewritten atomically after every change. A trial that
// was running when a session ended (Ctrl-C, a time limit, a crash) is run
// again by the next session: resumed from its last checkpoint when it has
// one, which continues it exactly.
//
// # Over the ranks of an MPI job
//
// With a Group of several processes (`mpirun -np N recur tune`, a binary
// built with -tags mpi) the trials spread over the ranks in rounds: rank 0
// keeps the study and picks up to N jobs, rank r runs job r, and the
// results come back to rank 0 before the next round (see ranks.go). The
// study directory must be visible to every rank.
package tune
