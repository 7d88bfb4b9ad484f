package text

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unicode/utf8"
)

// Encoder is a whole text-to-ids pipeline: a [Cleaner], a [Tokenizer] and
// a [Vocab]. It marshals to JSON, so storing it with a model makes
// prediction prepare text exactly as training did.
//
// Decode(Encode(s)) equals the tokenizer's normal form of Clean.Clean(s)
// (see [Tokenizer]) when every token is in the vocabulary; tokens that
// are not come back as the Unk token. With the zero Cleaner (NFC only)
// and the character or BPE tokenizer that is NFC(s) for valid UTF-8.
type Encoder struct {
	Clean Cleaner
	Tok   Tokenizer
	Vocab *Vocab
}

// NewEncoder builds the vocabulary of the cleaned and tokenized corpus
// with cfg and returns the encoder. Use it on the training split only.
// The texts are processed in parallel on GOMAXPROCS goroutines; the
// result does not depend on their number.
func NewEncoder(corpus []string, clean Cleaner, tok Tokenizer, cfg VocabConfig) (*Encoder, error) {
	parts := make([]Counts, workers(len(corpus)))
	parallel(len(corpus), len(parts), func(w, lo, hi int) {
		c := Counts{}
		for _, s := range corpus[lo:hi] {
			eachChunk(s, encodeChunk, clean, tok, c.Add)
		}
		parts[w] = c
	})
	counts := Counts{}
	for _, c := range parts {
		for t, n := range c {
			counts[t] += n
		}
	}
	v, err := BuildVocab(counts, cfg)
	if err != nil {
		return nil, err
	}
	return &Encoder{Clean: clean, Tok: tok, Vocab: v}, nil
}

// Encode returns the ids of the tokens of the cleaned s.
func (e *Encoder) Encode(s string) []int { return e.encodeIn(s, encodeChunk) }

// encodeChunk is the size of the pieces Encode reads a long text in.
const encodeChunk = 1 << 20

// encodeIn encodes s in chunks of about n bytes (see eachChunk).
func (e *Encoder) encodeIn(s string, n int) []int {
	var out []int
	eachChunk(s, n, e.Clean, e.Tok, func(toks []string) { out = e.Vocab.Encode(out, toks) })
	return out
}

// eachChunk calls f with the tokens of s, cleaned, a chunk of about n
// bytes at a time. A corpus of many megabytes is cleaned and tokenized a
// chunk at a time because its tokens as strings take 16 bytes and more
// each, several times the text. Chunks end only where the cleaner and
// the tokenizer give the same tokens as over the whole text (see
// cutter); a cleaner that strips HTML or folds white space (trimming the
// ends of every piece) reads the whole text at once.
func eachChunk(s string, n int, clean Cleaner, tok Tokenizer, f func(toks []string)) {
	if len(s) <= n || clean.StripHTML || clean.FoldSpace {
		f(tok.Tokenize(clean.Clean(s)))
		return
	}
	cut := cutter(tok)
	for len(s) > 0 {
		end := chunkEnd(s, n, cut)
		f(tok.Tokenize(clean.Clean(s[:end])))
		s = s[end:]
	}
}

// cutter says where tok's tokens of s[:i] and s[i:] are those of s. A
// newline after a non-space byte is such a place for every tokenizer: no
// word, character, BPE piece (which never starts with a newline) or
// normal-form composition spans it, and "\r\n" stays whole. Characters
// may also be cut before any ASCII non-space after a non-space, words at
// the start of a word after a space or tab (text8 is one line).
func cutter(tok Tokenizer) func(s string, i int) bool {
	nl := func(s string, i int) bool { return s[i] == '\n' && !isSpaceByte(s[i-1]) }
	switch tok.(type) {
	case CharTokenizer, *CharTokenizer:
		return func(s string, i int) bool {
			return nl(s, i) || s[i] < utf8.RuneSelf && !isSpaceByte(s[i]) && !isSpaceByte(s[i-1])
		}
	case WordTokenizer, *WordTokenizer:
		return func(s string, i int) bool {
			return nl(s, i) || (s[i-1] == ' ' || s[i-1] == '\t') && s[i] < utf8.RuneSelf && !isSpaceByte(s[i])
		}
	}
	return nl
}

// chunkEnd is the length of the first chunk of s: the last cut at most n,
// or when there is none in (n/2, n], the first cut after n, or len(s).
func chunkEnd(s string, n int, cut func(s string, i int) bool) int {
	if len(s) <= n {
		return len(s)
	}
	for i := n; i > n/2; i-- {
		if cut(s, i) {
			return i
		}
	}
	for i := n + 1; i < len(s); i++ {
		if cut(s, i) {
			return i
		}
	}
	return len(s)
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// EncodeAll encodes every text, in parallel on GOMAXPROCS goroutines.
func (e *Encoder) EncodeAll(texts []string) [][]int {
	out := make([][]int, len(texts))
	parallel(len(texts), workers(len(texts)), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = e.Encode(texts[i])
		}
	})
	return out
}

// workers is the number of goroutines for n texts.
func workers(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n/64)) }

// parallel calls f(w, lo, hi) on w goroutines that split [0, n) into
// contiguous ranges, and waits for them.
func parallel(n, w int, f func(w, lo, hi int)) {
	if w <= 1 {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range w {
		wg.Go(func() { f(i, i*n/w, (i+1)*n/w) })
	}
	wg.Wait()
}

// Decode returns the text of ids. Specials are decoded to their names,
// except Pad, which is dropped. It panics on an id out of range.
func (e *Encoder) Decode(ids []int) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == e.Vocab.Pad {
			continue
		}
		toks = append(toks, e.Vocab.Token(id))
	}
	return e.Tok.Detokenize(toks)
}

type tokenizerJSON struct {
	Kind      string `json:"kind"` // "char", "word" or "bpe"
	KeepCase  bool   `json:"keep_case,omitempty"`
	SpaceOnly bool   `json:"space_only,omitempty"`
	BPE       *BPE   `json:"bpe,omitempty"`
}

type encoderJSON struct {
	header
	Clean     Cleaner       `json:"clean"`
	Tokenizer tokenizerJSON `json:"tokenizer"`
	Vocab     *Vocab        `json:"vocab"`
}

const encoderFormat = "recur-text-encoder"

// MarshalJSON encodes the encoder as
//
//	{"format":"recur-text-encoder","version":1,"clean":{...},
//	 "tokenizer":{"kind":"char"|"word"|"bpe",...},"vocab":{...}}
//
// It fails for tokenizers other than this package's.
func (e *Encoder) MarshalJSON() ([]byte, error) {
	var tj tokenizerJSON
	switch t := e.Tok.(type) {
	case CharTokenizer:
		tj.Kind = "char"
	case WordTokenizer:
		tj = tokenizerJSON{Kind: "word", KeepCase: t.KeepCase, SpaceOnly: t.SpaceOnly}
	case *BPE:
		tj = tokenizerJSON{Kind: "bpe", BPE: t}
	default:
		return nil, fmt.Errorf("text: cannot save tokenizer of type %T", e.Tok)
	}
	return json.Marshal(encoderJSON{header: header{encoderFormat, 1}, Clean: e.Clean, Tokenizer: tj, Vocab: e.Vocab})
}

// UnmarshalJSON decodes an encoder written by MarshalJSON.
func (e *Encoder) UnmarshalJSON(data []byte) error {
	var j encoderJSON
	if err := decodeVersioned(data, &j, &j.header, "encoder", encoderFormat); err != nil {
		return err
	}
	if j.Clean.Form < NFC || j.Clean.Form > NoNorm {
		return fmt.Errorf("text: encoder: unknown normalization form %d", j.Clean.Form)
	}
	if j.Vocab == nil {
		return errors.New("text: encoder: no vocab")
	}
	ne := Encoder{Clean: j.Clean, Vocab: j.Vocab}
	switch j.Tokenizer.Kind {
	case "char":
		ne.Tok = CharTokenizer{}
	case "word":
		ne.Tok = WordTokenizer{KeepCase: j.Tokenizer.KeepCase, SpaceOnly: j.Tokenizer.SpaceOnly}
	case "bpe":
		if j.Tokenizer.BPE == nil {
			return errors.New("text: encoder: bpe tokenizer without merges")
		}
		ne.Tok = j.Tokenizer.BPE
	default:
		return fmt.Errorf("text: encoder: unknown tokenizer kind %q", j.Tokenizer.Kind)
	}
	*e = ne
	return nil
}

// WriteTo writes the JSON form of e to w.
func (e *Encoder) WriteTo(w io.Writer) (int64, error) { return writeJSON(w, e) }

// ReadEncoder reads an encoder written by [Encoder.WriteTo]; name is used
// in errors.
func ReadEncoder(r io.Reader, name string) (*Encoder, error) {
	return readJSONValue(r, name, new(Encoder))
}
