//go:build mpi

package train

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/recur-ml/recur/internal/mpi"
)

// These tests run the trainer over MPI: build the test binary with -tags
// mpi and start it with `mpirun -np 2` (.ci/run does). Alone they skip.

var world *mpi.World

func TestMain(m *testing.M) {
	w, err := mpi.Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.Finalize(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func needRanks(t *testing.T) {
	if world.Size() < 2 {
		t.Skip("one MPI rank: run the test binary under mpirun -np 2")
	}
}

// onWorld trains on the MPI job's ranks (fit's rank is this process's).
func onWorld(t *testing.T, dropout float64, cfg Config, fit func(tr *Trainer, rank int) (*Result, error)) distRun {
	t.Helper()
	cfg.Comm = world
	tr, err := newMLPTrainer(dropout, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fit(tr, world.Rank())
	return distRun{weights(tr.params), res, err, tr}
}

// sharedDir returns a directory every rank sees (rank 0's temporary
// directory; the ranks of these tests share a machine).
func sharedDir(t *testing.T) string {
	dir := make([]byte, 512)
	copy(dir, t.TempDir())
	if err := world.Bcast(dir, 0); err != nil {
		t.Fatal(err)
	}
	for i, b := range dir {
		if b == 0 {
			return string(dir[:i])
		}
	}
	return string(dir)
}

// TestMPIMatchesOneRank: the job's ranks with a global batch reach the
// weights of one rank with that batch after 100 steps (to 1e-5: see
// TestDistMatchesOneRank for how the sums differ), every rank holds the
// same bits, and a second run gives the same bits again.
func TestMPIMatchesOneRank(t *testing.T) {
	needRanks(t)
	cfg := Config{Epochs: 50, Accum: 2, Shuffle: true, Seed: 3, ClipNorm: 1, L1: 1e-4}
	one := runRanks(t, 0, 0, cfg, fitWith(trainRows, validRows))[0]
	a := onWorld(t, 0, cfg, fitWith(trainRows, validRows))
	b := onWorld(t, 0, cfg, fitWith(trainRows, validRows))
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	if a.res.Steps != 100 {
		t.Errorf("%d steps, want 100", a.res.Steps)
	}
	rel := maxRel(a.w, one.w)
	t.Logf("rank %d of %d: max relative weight difference to one rank after 100 steps %.3g", world.Rank(), world.Size(), rel)
	if rel > 1e-5 {
		t.Errorf("rank %d: weights %.3g off one rank's, want <= 1e-5", world.Rank(), rel)
	}
	if !sameBits(a.w, b.w) {
		t.Errorf("rank %d: two runs on %d ranks differ", world.Rank(), world.Size())
	}
	// Every rank the same bits: rank 0's weights broadcast.
	w0 := make([]byte, 4*len(a.w))
	for i, v := range a.w {
		u := math.Float32bits(v)
		w0[4*i], w0[4*i+1], w0[4*i+2], w0[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	mine := string(w0)
	if err := world.Bcast(w0, 0); err != nil {
		t.Fatal(err)
	}
	if string(w0) != mine {
		t.Errorf("rank %d's weights differ from rank 0's", world.Rank())
	}
}

// TestMPIResumeAcrossRanks: a checkpoint the job writes (stopped by its
// last rank) resumes on one rank, and one rank's checkpoint resumes on
// the job, both ending where one uninterrupted rank ends (to 1e-5); on
// the job, an interrupted run with dropout resumes bit for bit.
func TestMPIResumeAcrossRanks(t *testing.T) {
	needRanks(t)
	cfg := Config{Epochs: 6, Shuffle: true, Seed: 3, RestoreBest: true}
	ref := runRanks(t, 0, 0, cfg, fitWith(trainRows, validRows))[0]
	last := world.Size() - 1

	dir := sharedDir(t)
	c := cfg
	c.Dir = dir
	onWorld(t, 0, c, interruptAt(t, last, 9))
	world.Barrier()
	lone := runRanks(t, 0, 0, cfg, resumeFrom(t, filepath.Join(dir, "last.safetensors")))[0]
	if lone.err != nil {
		t.Fatal(lone.err)
	}
	if rel := maxRel(lone.w, ref.w); rel > 1e-5 {
		t.Errorf("the job's checkpoint resumed on one rank: %.3g off", rel)
	}

	dir = sharedDir(t)
	if world.Rank() == 0 {
		c.Dir = dir
		runRanks(t, 0, 0, c, interruptAt(t, 0, 14))
	}
	world.Barrier()
	run := onWorld(t, 0, cfg, resumeFrom(t, filepath.Join(dir, "last.safetensors")))
	if run.err != nil {
		t.Fatal(run.err)
	}
	if rel := maxRel(run.w, ref.w); rel > 1e-5 {
		t.Errorf("one rank's checkpoint resumed on %d: %.3g off", world.Size(), rel)
	}

	full := onWorld(t, 0.3, cfg, fitWith(trainRows, validRows))
	dir = sharedDir(t)
	c.Dir = dir
	onWorld(t, 0.3, c, interruptAt(t, 0, 11))
	world.Barrier() // rank 0 writes the checkpoint after the others stop
	again := onWorld(t, 0.3, cfg, resumeFrom(t, filepath.Join(dir, "last.safetensors")))
	if again.err != nil || !sameBits(again.w, full.w) {
		t.Errorf("rank %d: interrupted and resumed with dropout: %v, differs from uninterrupted: %v", world.Rank(), again.err, !sameBits(again.w, full.w))
	}
}
