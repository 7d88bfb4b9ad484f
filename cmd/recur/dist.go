package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/internal/mpi"
	"github.com/recur-ml/recur/train"
)

// ranks is this process's place in a data-parallel job: `mpirun -np N
// recur train ...` with a recur built with -tags mpi. Rank 0 reads and
// writes as a lone run does; the others train their shards and write
// nothing.
type ranks struct {
	w          *mpi.World // nil for a lone process
	rank, size int
	stderr     io.Writer
}

// rankTimeout is how long a collective may wait for the other ranks
// before the job is ended (RECUR_RANK_TIMEOUT, in seconds, overrides it):
// longer than any work one rank does alone between two of them.
const rankTimeout = 5 * time.Minute

// launched returns the number of processes the launcher started, from
// the variables Open MPI, MPICH and PMI set (1 when none is set).
func launched() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 1 {
			return n
		}
	}
	return 1
}

// joinRanks joins the MPI job when a launcher started this process as
// one of several, and shares the machine's cores among the ranks on it.
func joinRanks(stderr io.Writer) (*ranks, error) {
	rk := &ranks{size: 1, stderr: stderr}
	n := launched()
	if n == 1 {
		return rk, nil
	}
	if !mpi.Enabled {
		return nil, fmt.Errorf("started by mpirun as one of %d processes, but this recur was built without MPI: build it with `go build -tags mpi ./cmd/recur` (Debian: apt-get install libopenmpi-dev)", n)
	}
	w, err := mpi.Init()
	if err != nil {
		return nil, err
	}
	rk.w, rk.rank, rk.size = w, w.Rank(), w.Size()
	shareCores()
	return rk, nil
}

// watch ends the job when a collective waits longer than rankTimeout
// (RECUR_RANK_TIMEOUT) for the other ranks: in training, where no rank
// works alone for long, a rank that stopped answering hangs the others.
func (rk *ranks) watch() {
	if rk.w == nil {
		return
	}
	limit := rankTimeout
	if s, err := strconv.ParseFloat(os.Getenv("RECUR_RANK_TIMEOUT"), 64); err == nil && s > 0 {
		limit = time.Duration(s * float64(time.Second))
	}
	rk.w.Watchdog(limit, func(op string, waited time.Duration) {
		fmt.Fprintf(rk.stderr, "recur: rank %d of %d: %s waited %s for the other ranks (limit %s, RECUR_RANK_TIMEOUT): one of them died or hangs; ending the job\n",
			rk.rank, rk.size, op, waited.Round(time.Second), limit)
		rk.w.Abort(3)
	})
}

// shareCores gives each of the ranks on this machine its share of the
// cores (GOMAXPROCS and the kernels' threads), unless GOMAXPROCS is set.
func shareCores() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	for _, k := range []string{"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"} {
		if local, err := strconv.Atoi(os.Getenv(k)); err == nil && local > 1 {
			n := max(1, runtime.NumCPU()/local)
			runtime.GOMAXPROCS(n)
			kernel.SetThreads(n)
			return
		}
	}
}

// comm is the trainer's communicator: nil for a lone process.
func (rk *ranks) comm() train.Comm {
	if rk.size == 1 {
		return nil
	}
	return rk.w
}

// leave ends this process's part in the job. A failure of one rank ends
// the whole job at once (MPI_Abort), naming the rank, instead of leaving
// the others waiting for it; an interruption, which every rank agrees on,
// and success leave it together.
func (rk *ranks) leave(err error) error {
	if rk.w == nil {
		return err
	}
	if err == nil || errors.Is(err, context.Canceled) {
		if ferr := rk.w.Finalize(); err == nil {
			err = ferr
		}
		return err
	}
	rk.w.Abort(exitCode(fmt.Errorf("rank %d of %d: %w", rk.rank, rk.size, err), rk.stderr))
	return err
}
