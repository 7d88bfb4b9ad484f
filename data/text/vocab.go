package text

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Specials names the special tokens of a [Vocab]. An empty name means the
// vocabulary has no such token, except Unk, which is required. The
// specials take the first ids, in the order Pad, Unk, BOS, EOS, Extra...
// (skipping empty names), so with the defaults pad is 0, unk 1, bos 2 and
// eos 3.
type Specials struct {
	Pad   string   `json:"pad,omitempty"`
	Unk   string   `json:"unk"`
	BOS   string   `json:"bos,omitempty"`
	EOS   string   `json:"eos,omitempty"`
	Extra []string `json:"extra,omitempty"`
}

// DefaultSpecials are the specials used when [VocabConfig.Specials] is nil.
var DefaultSpecials = Specials{Pad: "<pad>", Unk: "<unk>", BOS: "<bos>", EOS: "<eos>"}

func (s Specials) list() []string {
	var l []string
	for _, t := range append([]string{s.Pad, s.Unk, s.BOS, s.EOS}, s.Extra...) {
		if t != "" {
			l = append(l, t)
		}
	}
	return l
}

// VocabConfig configures [BuildVocab]. The zero value keeps every token
// seen at least once, without a size limit, with [DefaultSpecials].
type VocabConfig struct {
	MinFreq  int       // drop tokens counted fewer times; zero means 1
	MaxSize  int       // at most this many ids, specials included; zero means no limit
	Specials *Specials // nil means DefaultSpecials
}

// Counts counts tokens; build it with Add and turn it into a vocabulary
// with [BuildVocab].
type Counts map[string]int

// Add counts each token of toks once.
func (c Counts) Add(toks []string) {
	for _, t := range toks {
		c[t]++
	}
}

// Vocab maps tokens to dense ids and back. Specials come first; then
// the tokens in a deterministic order. Tokens not in the vocabulary map to
// Unk. A Vocab is immutable and safe for concurrent use.
//
// Its JSON form (MarshalJSON, [ReadVocab]) is
//
//	{"format":"recur-vocab","version":1,"specials":{...},"tokens":[...]}
//
// where tokens lists every token, specials included, in id order.
type Vocab struct {
	tokens   []string
	index    map[string]int
	specials Specials
	// Ids of the special tokens; -1 when absent (Unk is always present).
	Pad, Unk, BOS, EOS int
}

// BuildVocab makes a vocabulary from token counts. Tokens counted fewer
// than MinFreq times are dropped; the rest are ordered by count,
// descending, then by their bytes, ascending, and cut to MaxSize ids.
// Counts of tokens equal to a special are ignored.
func BuildVocab(counts Counts, cfg VocabConfig) (*Vocab, error) {
	sp := DefaultSpecials
	if cfg.Specials != nil {
		sp = *cfg.Specials
	}
	if cfg.MinFreq < 0 || cfg.MaxSize < 0 {
		return nil, fmt.Errorf("text: vocab MinFreq %d, MaxSize %d: must be >= 0", cfg.MinFreq, cfg.MaxSize)
	}
	minFreq := max(cfg.MinFreq, 1)
	specials := sp.list()
	if cfg.MaxSize > 0 && cfg.MaxSize < len(specials) {
		return nil, fmt.Errorf("text: vocab MaxSize %d is less than the %d special tokens", cfg.MaxSize, len(specials))
	}
	isSpecial := make(map[string]bool, len(specials))
	for _, s := range specials {
		isSpecial[s] = true
	}
	words := make([]string, 0, len(counts))
	for w, n := range counts {
		if n >= minFreq && !isSpecial[w] {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		ci, cj := counts[words[i]], counts[words[j]]
		if ci != cj {
			return ci > cj
		}
		return words[i] < words[j]
	})
	if cfg.MaxSize > 0 && len(specials)+len(words) > cfg.MaxSize {
		words = words[:cfg.MaxSize-len(specials)]
	}
	return NewVocab(words, sp)
}

// NewVocab makes a vocabulary whose ids are the specials followed by
// tokens, in the given order. It fails if Unk is empty or a token occurs
// twice (specials included).
func NewVocab(tokens []string, sp Specials) (*Vocab, error) {
	if sp.Unk == "" {
		return nil, errors.New("text: vocab needs an unknown token (Specials.Unk)")
	}
	all := append(sp.list(), tokens...)
	v := &Vocab{tokens: all, index: make(map[string]int, len(all)), specials: sp}
	for i, t := range all {
		if _, dup := v.index[t]; dup {
			return nil, fmt.Errorf("text: vocab token %q occurs twice", t)
		}
		v.index[t] = i
	}
	id := func(s string) int {
		if s == "" {
			return -1
		}
		return v.index[s]
	}
	v.Pad, v.Unk, v.BOS, v.EOS = id(sp.Pad), id(sp.Unk), id(sp.BOS), id(sp.EOS)
	return v, nil
}

// Len returns the number of ids (V).
func (v *Vocab) Len() int { return len(v.tokens) }

// Specials returns the special token names.
func (v *Vocab) Specials() Specials { return v.specials }

// Tokens returns every token in id order. The caller must not modify it.
func (v *Vocab) Tokens() []string { return v.tokens }

// ID returns the id of tok and whether it is in the vocabulary; an
// unknown token gets Unk.
func (v *Vocab) ID(tok string) (int, bool) {
	id, ok := v.index[tok]
	if !ok {
		return v.Unk, false
	}
	return id, true
}

// Token returns the token with the given id. It panics if id is out of
// range.
func (v *Vocab) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		panic(fmt.Sprintf("text: token id %d out of range [0,%d)", id, len(v.tokens)))
	}
	return v.tokens[id]
}

// Encode appends the ids of toks to dst and returns it; unknown tokens
// become Unk.
func (v *Vocab) Encode(dst []int, toks []string) []int {
	for _, t := range toks {
		id, _ := v.ID(t)
		dst = append(dst, id)
	}
	return dst
}

// Wrap returns a new slice holding BOS, ids and EOS; an absent special
// (id -1) is left out. For sequence to sequence, wrapped targets give the
// decoder input (all but the last id) and the next-token targets (all but
// the first).
func (v *Vocab) Wrap(ids []int) []int {
	out := make([]int, 0, len(ids)+2)
	if v.BOS >= 0 {
		out = append(out, v.BOS)
	}
	out = append(out, ids...)
	if v.EOS >= 0 {
		out = append(out, v.EOS)
	}
	return out
}

// Decode appends the tokens of ids to dst and returns it. It panics on an
// id out of range.
func (v *Vocab) Decode(dst []string, ids []int) []string {
	for _, id := range ids {
		dst = append(dst, v.Token(id))
	}
	return dst
}

type vocabJSON struct {
	header
	Specials Specials `json:"specials"`
	Tokens   []string `json:"tokens"`
}

const vocabFormat = "recur-vocab"

// MarshalJSON encodes the vocabulary as described on [Vocab].
func (v *Vocab) MarshalJSON() ([]byte, error) {
	return json.Marshal(vocabJSON{header: header{vocabFormat, 1}, Specials: v.specials, Tokens: v.tokens})
}

// UnmarshalJSON decodes a vocabulary written by MarshalJSON, checking
// that the specials lead the token list in their documented order and that
// no token repeats.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	var j vocabJSON
	if err := decodeVersioned(b, &j, &j.header, "vocab", vocabFormat); err != nil {
		return err
	}
	sp := j.Specials.list()
	if len(j.Tokens) < len(sp) {
		return fmt.Errorf("text: vocab: %d tokens, fewer than the %d specials", len(j.Tokens), len(sp))
	}
	for i, s := range sp {
		if j.Tokens[i] != s {
			return fmt.Errorf("text: vocab: token %d is %q, want special %q", i, j.Tokens[i], s)
		}
	}
	nv, err := NewVocab(j.Tokens[len(sp):], j.Specials)
	if err != nil {
		return err
	}
	*v = *nv
	return nil
}

// WriteTo writes the JSON form of v to w.
func (v *Vocab) WriteTo(w io.Writer) (int64, error) { return writeJSON(w, v) }

// header leads every JSON file of this package.
type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// decodeVersioned unmarshals data into v, whose header is h, and checks
// that the header is format version 1.
func decodeVersioned(data []byte, v any, h *header, what, format string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("text: %s: %w", what, err)
	}
	if h.Format != format || h.Version != 1 {
		return fmt.Errorf("text: %s: format %q version %d, want %q version 1", what, h.Format, h.Version, format)
	}
	return nil
}

// writeJSON writes the JSON form of v and a newline to w.
func writeJSON(w io.Writer, v json.Marshaler) (int64, error) {
	b, err := v.MarshalJSON()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// ReadVocab reads a vocabulary written by [Vocab.WriteTo]; name is used in
// errors.
func ReadVocab(r io.Reader, name string) (*Vocab, error) {
	return readJSONValue(r, name, new(Vocab))
}

// position converts a byte offset in b to a 1-based line and column.
func position(b []byte, off int) (line, col int) {
	off = min(max(off, 0), len(b))
	line = 1 + bytes.Count(b[:off], []byte("\n"))
	return line, off - bytes.LastIndexByte(b[:off], '\n')
}
