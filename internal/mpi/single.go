//go:build !mpi

package mpi

import (
	"os"
	"time"
)

// Enabled reports whether this build calls the MPI library (tag mpi).
const Enabled = false

// World is the job's world communicator; in a build without the tag mpi
// it is a job of one process: rank 0 of 1, every collective returns at
// once with buf unchanged (the sum over one rank).
type World struct{}

// Init returns the job of this one process.
func Init() (*World, error) { return &World{}, nil }

// Rank returns this process's rank: 0.
func (w *World) Rank() int { return 0 }

// Size returns the number of processes in the job: 1.
func (w *World) Size() int { return 1 }

// AllreduceF32 leaves buf as it is: the sum over one rank.
func (w *World) AllreduceF32(buf []float32) error { return nil }

// AllreduceF64 leaves buf as it is.
func (w *World) AllreduceF64(buf []float64) error { return nil }

// Bcast leaves buf as it is: this process is the root.
func (w *World) Bcast(buf []byte, root int) error { return nil }

// Barrier returns at once.
func (w *World) Barrier() error { return nil }

// Abort ends the process with exit status code, as MPI_Abort ends the
// job of one.
func (w *World) Abort(code int) { os.Exit(code) }

// Watchdog does nothing: one process never waits for another.
func (w *World) Watchdog(limit time.Duration, onStall func(op string, waited time.Duration)) {}

// Finalize does nothing.
func (w *World) Finalize() error { return nil }
