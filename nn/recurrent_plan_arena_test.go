package nn

import (
	"testing"
	"unsafe"
)

// TestFloatArenaLineAligned checks that every slice the arena hands out
// starts on a 64-byte cache line, across odd sizes and a new chunk, and
// that a reset arena sized by what the last round needed serves the
// same round from one chunk.
func TestFloatArenaLineAligned(t *testing.T) {
	var a floatArena
	sizes := []int{1, 17, 1000, 3, 4096, 5, 33, 20000, 7}
	for round := 0; round < 2; round++ {
		chunks := map[*float32]bool{}
		for _, n := range sizes {
			s := a.takeRaw(n)
			if len(s) != n {
				t.Fatalf("takeRaw(%d) has length %d", n, len(s))
			}
			if p := uintptr(unsafe.Pointer(&s[0])); p%64 != 0 {
				t.Errorf("round %d: takeRaw(%d) starts at %#x, not on a cache line", round, n, p)
			}
			chunks[&a.buf[0]] = true
		}
		if round == 1 && len(chunks) != 1 {
			t.Errorf("after reset: %d chunks for the same takes, want 1", len(chunks))
		}
		// Sized from scratch by what the round needed.
		a.buf = nil
		a.reset()
	}
}
