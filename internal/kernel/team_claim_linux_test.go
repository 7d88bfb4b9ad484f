package kernel

import (
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestParallelCallerRunsAPrefix checks, on real threads, that the caller
// of a parallel call runs a prefix of its parts and the worker the rest,
// whatever the timing: the property that keeps each thread on the same
// operands from one call to the next.
func TestParallelCallerRunsAPrefix(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for a worker thread")
	}
	defer SetThreads(0)
	SetThreads(2)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	me := unix.Gettid()
	const parts = 8
	var mu sync.Mutex
	mine := make([]bool, parts)
	workerRan := 0
	for rep := 0; rep < 2000; rep++ {
		clear(mine)
		parallel(parts, func(p int) {
			tid := unix.Gettid()
			mu.Lock()
			mine[p] = tid == me
			mu.Unlock()
		})
		k := 0
		for k < parts && mine[k] {
			k++
		}
		for p := k; p < parts; p++ {
			if mine[p] {
				t.Fatalf("rep %d: the caller ran parts %v (true = caller), not a prefix", rep, mine)
			}
		}
		workerRan += parts - k
	}
	if workerRan == 0 {
		t.Log("the worker never ran a part (a loaded machine); the prefix property held trivially")
	}
}
