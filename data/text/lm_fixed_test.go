package text

import (
	"slices"
	"testing"
)

// TestFixedChunksMatchStreams: FixedChunks gives the chunks Streams.Chunks
// gives, last short chunk included.
func TestFixedChunksMatchStreams(t *testing.T) {
	ids := make([]int, 1003)
	for i := range ids {
		ids[i] = i*7%31 + i/100
	}
	for _, c := range []struct{ b, t int }{{1, 5}, {4, 7}, {20, 35}, {7, 1}, {3, 400}} {
		got, err := FixedChunks(ids, c.b, c.t)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := NewStreams(ids, c.b)
		it, _ := s.Chunks(BPTT{T: c.t}, StreamCursor{})
		k := 0
		for ; it.Next(); k++ {
			w := it.Chunk()
			if k >= len(got) {
				t.Fatalf("B %d T %d: %d chunks, want more", c.b, c.t, len(got))
			}
			g := got[k]
			if !slices.Equal(g.X, w.X) || !slices.Equal(g.Y, w.Y) || g.T != w.T || g.B != w.B || g.Pos != w.Pos || g.Index != w.Index || g.Scale != w.Scale {
				t.Fatalf("B %d T %d: chunk %d differs: got %+v want %+v", c.b, c.t, k, *g, *w)
			}
		}
		if k != len(got) {
			t.Errorf("B %d T %d: %d chunks, want %d", c.b, c.t, len(got), k)
		}
	}
	if _, err := FixedChunks(ids, 600, 5); err == nil {
		t.Error("600 streams of 1 token: no error")
	}
}
