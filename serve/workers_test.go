package serve

import (
	"sync"
	"testing"
	"time"
)

// TestWorkersKeepGoroutines: functions handed to workers one after
// another run on a goroutine that is kept, not on one each; concurrent
// ones each run at once; and the kept goroutines end once idle.
func TestWorkersKeepGoroutines(t *testing.T) {
	w := newWorkers(200 * time.Millisecond)
	ran := 0
	for range 50 {
		done := make(chan struct{})
		w.do(func() { ran++; close(done) })
		<-done
		// Let the goroutine get back to waiting, as it does between
		// batches under load.
		time.Sleep(2 * time.Millisecond)
	}
	if ran != 50 {
		t.Fatalf("%d of 50 functions ran", ran)
	}
	// A goroutine each would leave 50 (the idle time is longer than the
	// loop); a kept one leaves one, a few on a loaded machine.
	if n := w.live.Load(); n < 1 || n > 10 {
		t.Errorf("50 functions one after another left %d goroutines, want them run on one or a few, kept", n)
	}
	// Functions that block one another need a goroutine each.
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for range 8 {
		wg.Add(1)
		w.do(func() { <-gate; wg.Done() })
	}
	close(gate)
	wg.Wait()
	for start := time.Now(); w.live.Load() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d goroutines still kept 5 s after the last work, idle time 200 ms", w.live.Load())
		}
	}
}
