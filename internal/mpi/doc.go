// Package mpi is the small part of MPI that data-parallel training needs:
// joining the job (Init, Finalize), the process's rank and the job's size,
// an in-place sum over all ranks of float32 and float64 buffers
// (AllreduceF32, AllreduceF64), a broadcast of bytes (Bcast), a barrier
// and Abort.
//
// Built with the tag mpi, World calls the MPI C library through cgo
// (Open MPI from Debian's libopenmpi-dev; pkg-config name "mpi"), and
// `mpirun -np N prog` starts N processes that find each other. Without the
// tag World is a job of one process (rank 0 of 1, every collective a
// no-op), so the default build stays pure Go and static; Enabled says
// which.
//
// Local connects n goroutines of one process as the n ranks of a job, with
// the same methods: it is how training's multi-rank logic is tested
// without mpirun.
//
// # Threads and faults
//
// World asks for MPI_THREAD_SERIALIZED and takes a lock around every call,
// so it may be used from any goroutine (Go moves goroutines between
// threads), one call at a time. Errors are returned (MPI_ERRORS_RETURN on
// the world communicator), not fatal. A rank that dies leaves the others
// blocked in their next collective: mpirun notices the death, names the
// rank and ends the job, and Watchdog is the guard for launchers that do
// not, ending the job when one collective waits longer than a limit.
package mpi
