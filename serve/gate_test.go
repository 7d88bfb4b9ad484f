package serve

import (
	"context"
	"testing"
	"time"
)

// TestGate: of four slots, batches still open to requests compute two at
// a time and closed ones fill the rest; a waiting batch enters when one
// leaves or when it is closed, and gives up when its context ends.
func TestGate(t *testing.T) {
	g := newGate(4)
	open, closed := make(chan struct{}), make(chan struct{})
	close(closed)
	for i, want := range []bool{true, true, false} {
		if ok, _ := g.try(open); ok != want {
			t.Fatalf("open batch %d: entered %v, want %v", i, ok, want)
		}
	}
	for i, want := range []bool{true, true, false} {
		if ok, _ := g.try(closed); ok != want {
			t.Fatalf("closed batch %d: entered %v, want %v (four computing)", i, ok, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if g.enter(ctx, open) {
		t.Fatal("an open batch entered with four of four slots computing")
	}
	// Two leave: an open batch still waits (two compute), a closed one
	// does not; closing the waiting batch lets it in.
	g.leave()
	g.leave()
	entered := make(chan bool)
	mine := make(chan struct{})
	go func() { entered <- g.enter(context.Background(), mine) }()
	select {
	case <-entered:
		t.Fatal("an open batch entered with two of four slots computing")
	case <-time.After(20 * time.Millisecond):
	}
	close(mine)
	if !<-entered {
		t.Fatal("a closed batch did not enter with two of four slots free")
	}
	go func() { entered <- g.enter(context.Background(), open) }()
	g.leave()
	g.leave()
	if !<-entered {
		t.Fatal("an open batch did not enter once one batch computed")
	}
	if g.busy != 2 {
		t.Errorf("%d batches counted computing, want 2", g.busy)
	}
}
