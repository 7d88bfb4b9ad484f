package text

import (
	"encoding/json"
	"slices"
	"testing"
)

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestStreamsChunks(t *testing.T) {
	// 23 tokens, B=3: N=7, streams 0..6, 7..13, 14..20; tokens 21, 22 dropped.
	s, err := NewStreams(seq(23), 3)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.Chunks(BPTT{T: 4}, StreamCursor{})
	if err != nil {
		t.Fatal(err)
	}
	var xs, ys [][]int
	var ts []int
	for it.Next() {
		c := it.Chunk()
		xs = append(xs, slices.Clone(c.X))
		ys = append(ys, slices.Clone(c.Y))
		ts = append(ts, c.T)
	}
	wantX := [][]int{{0, 7, 14, 1, 8, 15, 2, 9, 16, 3, 10, 17}, {4, 11, 18, 5, 12, 19}}
	wantY := [][]int{{1, 8, 15, 2, 9, 16, 3, 10, 17, 4, 11, 18}, {5, 12, 19, 6, 13, 20}}
	if len(xs) != 2 || !slices.Equal(xs[0], wantX[0]) || !slices.Equal(xs[1], wantX[1]) || !slices.Equal(ys[0], wantY[0]) || !slices.Equal(ys[1], wantY[1]) || !slices.Equal(ts, []int{4, 2}) {
		t.Errorf("X %v Y %v T %v, want X %v Y %v T [4 2]", xs, ys, ts, wantX, wantY)
	}
	if got := s.Steps(4); got != len(xs) {
		t.Errorf("Steps(4) = %d, want %d", got, len(xs))
	}
	if got := it.Cursor(); got.Epoch != 1 || got.Pos != 0 || got.Chunk != 0 {
		t.Errorf("cursor after epoch = %+v, want epoch 1 at 0", got)
	}
	c := it.Chunk()
	if got := c.XBatchFirst(nil); !slices.Equal(got, []int{4, 5, 11, 12, 18, 19}) {
		t.Errorf("XBatchFirst = %v", got)
	}
}

func TestStreamsContinuity(t *testing.T) {
	s, err := NewStreams(seq(1000), 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []BPTT{{T: 5}, {T: 12, Random: true, Seed: 3}} {
		it, _ := s.Chunks(cfg, StreamCursor{})
		last := make([]int, s.B)
		for b := range last {
			last[b] = s.Stream(b)[0] - 1
		}
		covered := 0
		for it.Next() {
			c := it.Chunk()
			for b := range c.B {
				for i := range c.T {
					x, y := c.X[i*c.B+b], c.Y[i*c.B+b]
					if x != last[b]+1 || y != x+1 {
						t.Fatalf("%+v chunk %d stream %d step %d: x %d y %d after %d", cfg, c.Index, b, i, x, y, last[b])
					}
					last[b] = x
				}
			}
			covered += c.T
		}
		if covered != s.N-1 {
			t.Errorf("%+v covered %d steps, want %d", cfg, covered, s.N-1)
		}
	}
}

func TestStreamsResume(t *testing.T) {
	s, _ := NewStreams(seq(5000), 4)
	cfg := BPTT{T: 20, Random: true, Seed: 9}
	run := func(from StreamCursor, n int) (lens []int, cur StreamCursor) {
		it, err := s.Chunks(cfg, from)
		if err != nil {
			t.Fatal(err)
		}
		for len(lens) < n && it.Next() {
			lens = append(lens, it.Chunk().T*10000+it.Chunk().Pos)
		}
		return lens, it.Cursor()
	}
	all, _ := run(StreamCursor{}, 1000)
	first, cur := run(StreamCursor{}, 10)
	b, err := json.Marshal(cur)
	if err != nil {
		t.Fatal(err)
	}
	var back StreamCursor
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rest, _ := run(back, 1000)
	if got := append(first, rest...); !slices.Equal(got, all) {
		t.Errorf("resumed run %v, want %v", got, all)
	}
	distinct := map[int]bool{}
	for _, v := range all {
		distinct[v/10000] = true
	}
	if len(distinct) < 5 {
		t.Errorf("random lengths took only %d values", len(distinct))
	}
}

func TestStreamsErrors(t *testing.T) {
	if _, err := NewStreams(seq(5), 3); err == nil {
		t.Error("NewStreams(5 tokens, B=3): got nil error")
	}
	if _, err := NewStreams(seq(5), 0); err == nil {
		t.Error("NewStreams(B=0): got nil error")
	}
	s, _ := NewStreams(seq(10), 2)
	if _, err := s.Chunks(BPTT{}, StreamCursor{}); err == nil {
		t.Error("T=0: got nil error")
	}
	if _, err := s.Chunks(BPTT{T: 2}, StreamCursor{Pos: 5}); err == nil {
		t.Error("cursor past the end: got nil error")
	}
}

func TestTokenizeLines(t *testing.T) {
	got := TokenizeLines(" the cat <unk>\nsat N\n", WordTokenizer{SpaceOnly: true}, "<eos>")
	want := []string{"the", "cat", "<unk>", "<eos>", "sat", "n", "<eos>"}
	if !slices.Equal(got, want) {
		t.Errorf("TokenizeLines = %q, want %q", got, want)
	}
}
