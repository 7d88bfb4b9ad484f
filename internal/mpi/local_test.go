package mpi

import (
	"strings"
	"sync"
	"testing"
)

// runRanks runs f as every rank of a local job of n and waits for them.
func runRanks(n int, f func(c *Local)) {
	var wg sync.WaitGroup
	for _, c := range NewLocal(n) {
		wg.Go(func() { f(c) })
	}
	wg.Wait()
}

func TestLocalAllreduce(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		var mu sync.Mutex
		got := map[int][]float64{}
		runRanks(n, func(c *Local) {
			f32 := []float32{float32(c.Rank()), 1, 0.1}
			f64 := []float64{float64(c.Rank()), 1}
			if err := c.AllreduceF32(f32); err != nil {
				t.Error(err)
			}
			if err := c.AllreduceF64(f64); err != nil {
				t.Error(err)
			}
			mu.Lock()
			got[c.Rank()] = []float64{float64(f32[0]), float64(f32[1]), float64(f32[2]), f64[0], f64[1]}
			mu.Unlock()
		})
		var tenth float32
		for range n {
			tenth += 0.1
		}
		want := []float64{float64(n * (n - 1) / 2), float64(n), float64(tenth), float64(n * (n - 1) / 2), float64(n)}
		for r := range n {
			for i := range want {
				if got[r][i] != want[i] {
					t.Errorf("n=%d rank %d: sums %v, want %v", n, r, got[r], want)
					break
				}
			}
		}
	}
}

func TestLocalBcast(t *testing.T) {
	runRanks(3, func(c *Local) {
		b := []byte{byte(c.Rank()), 7}
		if err := c.Bcast(b, 2); err != nil {
			t.Error(err)
		}
		if b[0] != 2 || b[1] != 7 {
			t.Errorf("rank %d: Bcast from 2 left %v, want [2 7]", c.Rank(), b)
		}
		if err := c.Barrier(); err != nil {
			t.Error(err)
		}
	})
}

// A length mismatch is an error on every rank, not a hang or a panic.
func TestLocalMismatch(t *testing.T) {
	runRanks(2, func(c *Local) {
		err := c.AllreduceF32(make([]float32, 1+c.Rank()))
		if err == nil || !strings.Contains(err.Error(), "length") {
			t.Errorf("rank %d: mismatched lengths gave %v", c.Rank(), err)
		}
		// The job goes on.
		if err := c.AllreduceF64([]float64{1}); err != nil {
			t.Errorf("rank %d: after a mismatch: %v", c.Rank(), err)
		}
	})
}
