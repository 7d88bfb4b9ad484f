package main

import (
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/mpi"
)

// TestJoinRanks: a lone process joins no job; one started by mpirun as
// one of several either joins it (an MPI build) or says how to build one.
func TestJoinRanks(t *testing.T) {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"} {
		t.Setenv(k, "")
	}
	rk, err := joinRanks(nil)
	if err != nil || rk.size != 1 || rk.comm() != nil || rk.leave(nil) != nil {
		t.Fatalf("a lone process: %+v, %v", rk, err)
	}
	if mpi.Enabled {
		return // joining for real is TestMPIRankFaults's
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	if _, err := joinRanks(nil); err == nil || !strings.Contains(err.Error(), "-tags mpi") {
		t.Errorf("one of 2 processes in a build without MPI: %v", err)
	}
}
