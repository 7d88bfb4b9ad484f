package text

import (
	"fmt"
	"strings"

	"github.com/recur-ml/recur/tensor"
)

// Streams is a token sequence cut into B parallel contiguous streams for
// truncated backpropagation through time, as Zaremba et al. batch PTB:
// the sequence of length L is cut into B pieces of N = L/B tokens (the
// L mod B trailing tokens are dropped), and stream b is piece b. Stepping
// through all streams in parallel in chunks of T positions means that
// column b of chunk k+1 continues column b of chunk k, so the recurrent
// state at the end of one chunk is the right initial state for the next.
type Streams struct {
	B, N int   // streams and tokens per stream
	ids  []int // (B, N) row-major; a copy of the input
}

// NewStreams cuts ids into b streams. Each stream needs at least two
// tokens (one input and its target).
func NewStreams(ids []int, b int) (*Streams, error) {
	n, err := streamLen(len(ids), b)
	if err != nil {
		return nil, err
	}
	return &Streams{B: b, N: n, ids: append([]int(nil), ids[:b*n]...)}, nil
}

// streamLen is the tokens per stream of tokens cut into b streams.
func streamLen(tokens, b int) (int, error) {
	if b <= 0 {
		return 0, fmt.Errorf("text: streams: B = %d, must be > 0", b)
	}
	n := tokens / b
	if n < 2 {
		return 0, fmt.Errorf("text: streams: %d tokens give %d per stream for B = %d, need at least 2", tokens, n, b)
	}
	return n, nil
}

// Stream returns stream b (N ids). The caller must not modify it.
func (s *Streams) Stream(b int) []int { return s.ids[b*s.N : (b+1)*s.N] }

// Steps returns the number of chunks per epoch with fixed chunk length t:
// ceil((N-1)/t). With random lengths the count varies around it.
func (s *Streams) Steps(t int) int {
	if t <= 0 {
		panic(fmt.Sprintf("text: Steps(%d): chunk length must be > 0", t))
	}
	return (s.N - 1 + t - 1) / t
}

// BPTT configures [Streams.Chunks]. T is required.
type BPTT struct {
	T int // chunk length (time steps)
	// Random draws each chunk length as AWD-LSTM does: the base is T with
	// probability 0.95 and T/2 otherwise; the length is a normal draw
	// around the base with standard deviation 5, at least min(5, T) and at
	// most T+40. Seed fixes the draws.
	Random bool
	Seed   uint64
}

// StreamCursor is the position of a chunk iterator: the epoch, the stream
// position of the next chunk, the number of chunks already returned in the
// epoch, and the state of the length generator (Random only). The zero
// value is the start of epoch 0. It marshals to JSON for checkpoints.
type StreamCursor struct {
	Epoch int    `json:"epoch"`
	Pos   int    `json:"pos"`
	Chunk int    `json:"chunk"`
	RNG   []byte `json:"rng,omitempty"`
}

// Chunk is one step of truncated BPTT. X and Y are (T, B) time-major:
// X[t*B+b] is the token at position Pos+t of stream b and Y[t*B+b] the
// token after it (the target).
type Chunk struct {
	X, Y  []int
	T, B  int
	Pos   int // position in each stream of the first step
	Index int // chunk number within the epoch, from 0
	// Scale is T divided by the configured T; AWD-LSTM multiplies the
	// learning rate by it for random-length chunks. 1 otherwise.
	Scale float32
}

// XBatchFirst writes X as (B, T) into dst (grown as needed) and returns it.
func (c *Chunk) XBatchFirst(dst []int) []int { return transposeIDs(dst, c.X, c.T, c.B) }

// YBatchFirst writes Y as (B, T) into dst (grown as needed) and returns it.
func (c *Chunk) YBatchFirst(dst []int) []int { return transposeIDs(dst, c.Y, c.T, c.B) }

func transposeIDs(dst, src []int, t, b int) []int {
	dst = resizeInts(dst, t*b)
	for i := range t {
		for j := range b {
			dst[j*t+i] = src[i*b+j]
		}
	}
	return dst
}

// resizeInts returns s with length n, reallocated if too small; the
// contents are not preserved.
func resizeInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// ChunkIter walks the streams in chunks; see [Streams.Chunks]. Use it
// like a bufio.Scanner:
//
//	it, err := streams.Chunks(text.BPTT{T: 35}, cursor)
//	for it.Next() {
//		c := it.Chunk()
//		...
//	}
//	cursor = it.Cursor() // the start of the next epoch
type ChunkIter struct {
	s     *Streams
	cfg   BPTT
	rng   *tensor.RNG
	cur   StreamCursor
	done  bool
	chunk Chunk
}

// Chunks returns an iterator over one epoch of chunks, starting at the
// position saved in from (the zero StreamCursor for a fresh start). Restoring
// a StreamCursor saved after chunk k continues with chunk k+1 exactly as the
// uninterrupted run would, random lengths included.
func (s *Streams) Chunks(cfg BPTT, from StreamCursor) (*ChunkIter, error) {
	if cfg.T <= 0 {
		return nil, fmt.Errorf("text: BPTT T = %d, must be > 0", cfg.T)
	}
	if from.Pos < 0 || from.Pos > s.N-1 || from.Chunk < 0 || from.Epoch < 0 {
		return nil, fmt.Errorf("text: cursor %+v out of range for streams of %d tokens", from, s.N)
	}
	it := &ChunkIter{s: s, cfg: cfg, cur: from}
	it.cur.RNG = nil
	if cfg.Random {
		it.rng = tensor.NewRNG(cfg.Seed)
		if from.RNG != nil {
			if err := it.rng.UnmarshalBinary(from.RNG); err != nil {
				return nil, fmt.Errorf("text: cursor RNG state: %w", err)
			}
		}
	}
	return it, nil
}

// Next prepares the next chunk; it returns false at the end of the epoch.
func (it *ChunkIter) Next() bool {
	s := it.s
	if it.done || it.cur.Pos >= s.N-1 {
		it.done = true
		return false
	}
	t, scale := it.cfg.T, float32(1)
	if it.rng != nil {
		base := float64(it.cfg.T)
		if it.rng.Float64() >= 0.95 {
			base /= 2
		}
		t = max(int(it.rng.Normal(base, 5)), min(5, it.cfg.T))
		t = min(t, it.cfg.T+40)
		scale = float32(t) / float32(it.cfg.T)
	}
	t = min(t, s.N-1-it.cur.Pos)
	c := &it.chunk
	c.T, c.B, c.Pos, c.Index, c.Scale = t, s.B, it.cur.Pos, it.cur.Chunk, scale
	c.X, c.Y = resizeInts(c.X, t*s.B), resizeInts(c.Y, t*s.B)
	for b := range s.B {
		row := s.ids[b*s.N+c.Pos:]
		for i := range t {
			c.X[i*s.B+b] = row[i]
			c.Y[i*s.B+b] = row[i+1]
		}
	}
	it.cur.Pos += t
	it.cur.Chunk++
	if it.cur.Pos >= s.N-1 {
		it.cur = StreamCursor{Epoch: it.cur.Epoch + 1}
		it.done = true
	}
	return true
}

// Chunk returns the chunk prepared by the last call to Next. Its slices
// are reused by the next call to Next.
func (it *ChunkIter) Chunk() *Chunk { return &it.chunk }

// Cursor returns the position after the last chunk returned: saving it
// and passing it to [Streams.Chunks] resumes with the following chunk.
// After the last chunk of an epoch it is the start of the next epoch.
func (it *ChunkIter) Cursor() StreamCursor {
	c := it.cur
	if it.rng != nil {
		c.RNG, _ = it.rng.MarshalBinary()
	}
	return c
}

// TokenizeLines tokenizes text line by line with tok and appends eos
// after every line when eos is not empty: the usual way to turn a
// line-per-sentence corpus such as PTB into one token sequence (with
// WordTokenizer{SpaceOnly: true} and eos "<eos>"). A final line ending
// does not start an empty line.
func TokenizeLines(text string, tok Tokenizer, eos string) []string {
	var toks []string
	text = strings.TrimSuffix(text, "\n")
	for line := range strings.SplitSeq(text, "\n") {
		toks = append(toks, tok.Tokenize(strings.TrimSuffix(line, "\r"))...)
		if eos != "" {
			toks = append(toks, eos)
		}
	}
	return toks
}

// FixedChunks cuts ids into b streams and returns one epoch of chunks of
// t steps (the last one shorter), the same chunks as Streams.Chunks with
// BPTT{T: t} gives, for a caller that keeps them all. Their X and Y are
// views of one time-major copy of the streams (X of a chunk starts at
// row Pos, Y one row later), so an epoch of chunks takes 8 bytes a token
// instead of the 24 of streams plus copied chunks: a 20-million-token
// corpus saves 320 MB. The chunks share memory and must not be modified.
func FixedChunks(ids []int, b, t int) ([]*Chunk, error) {
	if t <= 0 {
		return nil, fmt.Errorf("text: BPTT T = %d, must be > 0", t)
	}
	n, err := streamLen(len(ids), b)
	if err != nil {
		return nil, err
	}
	tm := make([]int, n*b)
	for s := range b {
		for p, id := range ids[s*n : (s+1)*n] {
			tm[p*b+s] = id
		}
	}
	var out []*Chunk
	for pos := 0; pos < n-1; pos += t {
		k := min(t, n-1-pos)
		out = append(out, &Chunk{X: tm[pos*b : (pos+k)*b : (pos+k)*b], Y: tm[(pos+1)*b : (pos+1+k)*b : (pos+1+k)*b],
			T: k, B: b, Pos: pos, Index: len(out), Scale: 1})
	}
	return out, nil
}
