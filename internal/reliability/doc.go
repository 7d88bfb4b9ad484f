// Package reliability attacks the recur binary as a hostile user, a
// crashing machine and a careless operator would, and checks that it
// holds: no 5xx and no crash from hostile requests, bounded memory, no
// failed request while the served model is reloaded (SIGHUP, good and
// broken files in turn), checkpoints that survive kill -9 at any moment, runs that never mix,
// bounded input files, and bit-identical models from the assembly and
// pure-Go kernels.
//
// It has no API: its tests build cmd/recur (twice: with and without the
// noasm tag) into a temporary directory and run it as a user would, on
// loopback only, with every attack bounded in size and time.
//
// go test ./internal/reliability runs the short form (part of go test
// ./..., about a minute on two cores). RECUR_RELIABILITY=long runs the
// long form: 2,000 idle connections instead of 200, 24 kill -9 trials
// instead of 4, slow bodies, and a load test at 1, 8 and 64 clients of
// servers with and without batching, whose throughput, latencies, errors,
// batch sizes and memory bench/reliability.sh prints for BENCHMARKS.md
// (RECUR_RELIABILITY=long go test -run TestLoad -v ./internal/reliability
// runs it alone, in about two minutes). The tests skip under -short (the race pass) and in a
// noasm build (the suite builds both kernels' binaries itself).
package reliability
