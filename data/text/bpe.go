package text

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BPE is a byte-pair-encoding tokenizer over Unicode characters (Sennrich
// et al. 2016). Text is first cut into pieces — a run of letters and
// marks, a run of digits, a run of other symbols, or a run of white space
// — with one leading U+0020 space attached to the piece after it, as GPT-2
// does, so that "the cat" gives the pieces "the", " cat". Each piece starts
// as its characters and adjacent symbols are merged by the learned merges,
// lowest rank first. Tokens never cross pieces.
//
// Round trip: Detokenize concatenates, so Detokenize(Tokenize(s)) == s for
// every valid UTF-8 s (invalid bytes become U+FFFD). Characters not seen
// in training stay single-character tokens, which a [Vocab] built from
// [BPE.Symbols] maps to Unk.
//
// A BPE is immutable and safe for concurrent use. Its JSON form
// (MarshalJSON, [ReadBPE]) is
//
//	{"format":"recur-bpe","version":1,"alphabet":[...],"merges":[["a","b"],...]}
type BPE struct {
	alphabet []string
	merges   [][2]string
	ranks    map[[2]string]int
}

// BPEConfig configures [TrainBPE]. Size is required.
type BPEConfig struct {
	// Size is the number of distinct symbols to reach: the alphabet (the
	// characters of the corpus) plus the merged symbols. Specials are
	// not counted; a Vocab from Symbols has Size plus the specials ids.
	Size int
	// MinPairFreq stops training early when the most frequent pair occurs
	// fewer times; zero means 2.
	MinPairFreq int
}

// bpeWord is a distinct piece of the corpus as symbol ids.
type bpeWord struct {
	syms  []int32
	count int
}

type symPair struct{ a, b int32 }

// TrainBPE learns merges from corpus. Each step merges the most frequent
// adjacent pair of symbols (counted over pieces, weighted by piece
// frequency); ties go to the pair whose left symbol, then right symbol, is
// smallest in byte order, so training is deterministic.
func TrainBPE(corpus string, cfg BPEConfig) (*BPE, error) {
	if !utf8.ValidString(corpus) {
		corpus = strings.ToValidUTF8(corpus, "\uFFFD")
	}
	minFreq := cfg.MinPairFreq
	if minFreq == 0 {
		minFreq = 2
	}
	if minFreq < 1 {
		return nil, fmt.Errorf("text: BPE MinPairFreq %d, must be >= 0", cfg.MinPairFreq)
	}
	counts := map[string]int{}
	for _, p := range pieces(corpus) {
		counts[p]++
	}
	alphaSet := map[string]bool{}
	for p := range counts {
		for _, r := range p {
			alphaSet[string(r)] = true
		}
	}
	alphabet := slices.Sorted(func(yield func(string) bool) {
		for a := range alphaSet {
			if !yield(a) {
				return
			}
		}
	})
	if cfg.Size < len(alphabet) {
		return nil, fmt.Errorf("text: BPE Size %d is smaller than the corpus alphabet of %d characters", cfg.Size, len(alphabet))
	}
	syms := slices.Clone(alphabet)
	symID := make(map[string]int32, cfg.Size)
	for i, s := range syms {
		symID[s] = int32(i)
	}
	words := make([]bpeWord, 0, len(counts))
	for _, p := range slices.Sorted(mapKeys(counts)) {
		w := bpeWord{count: counts[p]}
		for _, r := range p {
			w.syms = append(w.syms, symID[string(r)])
		}
		words = append(words, w)
	}
	pairCount := map[symPair]int{}
	where := map[symPair][]int32{}
	addPairs := func(wi int32, sign int) {
		w := &words[wi]
		for i := 0; i+1 < len(w.syms); i++ {
			p := symPair{w.syms[i], w.syms[i+1]}
			pairCount[p] += sign * w.count
			if sign > 0 {
				where[p] = append(where[p], wi)
			} else if pairCount[p] == 0 {
				delete(pairCount, p)
			}
		}
	}
	for wi := range words {
		addPairs(int32(wi), 1)
	}
	b := &BPE{alphabet: alphabet, ranks: map[[2]string]int{}}
	stamp := make([]int, len(words))
	for step := 1; len(syms) < cfg.Size; step++ {
		best, bestN := symPair{-1, -1}, 0
		for p, n := range pairCount {
			if n > bestN || n == bestN && pairLess(syms, p, best) {
				best, bestN = p, n
			}
		}
		if bestN < minFreq {
			break
		}
		left, right := syms[best.a], syms[best.b]
		merged := left + right
		id, ok := symID[merged]
		if !ok {
			id = int32(len(syms))
			syms = append(syms, merged)
			symID[merged] = id
		}
		b.ranks[[2]string{left, right}] = len(b.merges)
		b.merges = append(b.merges, [2]string{left, right})
		for _, wi := range where[best] {
			if stamp[wi] == step {
				continue
			}
			stamp[wi] = step
			w := &words[wi]
			if !hasPair(w.syms, best) {
				continue
			}
			addPairs(wi, -1)
			out := w.syms[:0]
			for i := 0; i < len(w.syms); i++ {
				if i+1 < len(w.syms) && w.syms[i] == best.a && w.syms[i+1] == best.b {
					out = append(out, id)
					i++
				} else {
					out = append(out, w.syms[i])
				}
			}
			w.syms = out
			addPairs(wi, 1)
		}
		delete(where, best)
		delete(pairCount, best)
	}
	return b, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func pairLess(syms []string, p, q symPair) bool {
	if q.a < 0 {
		return true
	}
	if c := strings.Compare(syms[p.a], syms[q.a]); c != 0 {
		return c < 0
	}
	return syms[p.b] < syms[q.b]
}

func hasPair(s []int32, p symPair) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == p.a && s[i+1] == p.b {
			return true
		}
	}
	return false
}

// pieceClass is the class of a rune for pre-tokenization.
func pieceClass(r rune) int {
	switch {
	case unicode.IsSpace(r):
		return 0
	case unicode.IsLetter(r) || unicode.IsMark(r):
		return 1
	case unicode.IsNumber(r):
		return 2
	}
	return 3
}

// pieces cuts valid UTF-8 s into the pieces described on [BPE]; their
// concatenation is s.
func pieces(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		start := i
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == ' ' && i+n < len(s) {
			if r2, _ := utf8.DecodeRuneInString(s[i+n:]); pieceClass(r2) != 0 {
				i += n // the space leads the next run
				r, n = r2, utf8.RuneLen(r2)
			}
		}
		cls := pieceClass(r)
		i += n
		for i < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[i:])
			if pieceClass(r2) != cls {
				break
			}
			if cls == 0 && r2 == ' ' && i+n2 < len(s) {
				if r3, _ := utf8.DecodeRuneInString(s[i+n2:]); pieceClass(r3) != 0 {
					break // leave this space to the next run
				}
			}
			i += n2
		}
		out = append(out, s[start:i])
	}
	return out
}

// Tokenize cuts s into pieces and each piece into BPE symbols.
func (b *BPE) Tokenize(s string) []string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var toks []string
	var syms []string
	for _, p := range pieces(s) {
		syms = syms[:0]
		for i, r := range p {
			syms = append(syms, p[i:i+utf8.RuneLen(r)])
		}
		toks = append(toks, b.merge(syms)...)
	}
	return toks
}

// merge applies the merges to the symbols of one piece, in place.
func (b *BPE) merge(syms []string) []string {
	for len(syms) > 1 {
		best, rank := -1, len(b.merges)
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := b.ranks[[2]string{syms[i], syms[i+1]}]; ok && r < rank {
				best, rank = i, r
			}
		}
		if best < 0 {
			break
		}
		left, right := syms[best], syms[best+1]
		out := syms[:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == left && syms[i+1] == right {
				out = append(out, left+right)
				i++
			} else {
				out = append(out, syms[i])
			}
		}
		syms = out
	}
	return syms
}

// Detokenize concatenates toks.
func (b *BPE) Detokenize(toks []string) string { return strings.Join(toks, "") }

// Merges returns the learned merges in rank order. The caller must not
// modify it.
func (b *BPE) Merges() [][2]string { return b.merges }

// Symbols returns every symbol the tokenizer can produce from the
// training alphabet: the alphabet (sorted) and then each new merged
// symbol in merge order. Build the vocabulary with
// NewVocab(bpe.Symbols(), DefaultSpecials).
func (b *BPE) Symbols() []string {
	seen := make(map[string]bool, len(b.alphabet)+len(b.merges))
	out := make([]string, 0, len(b.alphabet)+len(b.merges))
	for _, s := range b.alphabet {
		seen[s] = true
		out = append(out, s)
	}
	for _, m := range b.merges {
		if s := m[0] + m[1]; !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type bpeJSON struct {
	header
	Alphabet []string    `json:"alphabet"`
	Merges   [][2]string `json:"merges"`
}

const bpeFormat = "recur-bpe"

// MarshalJSON encodes the tokenizer as described on [BPE].
func (b *BPE) MarshalJSON() ([]byte, error) {
	m := b.merges
	if m == nil {
		m = [][2]string{}
	}
	return json.Marshal(bpeJSON{header: header{bpeFormat, 1}, Alphabet: b.alphabet, Merges: m})
}

// UnmarshalJSON decodes a tokenizer written by MarshalJSON. It checks
// that alphabet entries are distinct single characters and that both
// halves of every merge are symbols known at that point.
func (b *BPE) UnmarshalJSON(data []byte) error {
	var j bpeJSON
	if err := decodeVersioned(data, &j, &j.header, "bpe", bpeFormat); err != nil {
		return err
	}
	known := map[string]bool{}
	for i, a := range j.Alphabet {
		if utf8.RuneCountInString(a) != 1 || known[a] {
			return fmt.Errorf("text: bpe: alphabet entry %d %q is not a distinct single character", i, a)
		}
		known[a] = true
	}
	nb := &BPE{alphabet: j.Alphabet, merges: j.Merges, ranks: make(map[[2]string]int, len(j.Merges))}
	for i, m := range j.Merges {
		if !known[m[0]] || !known[m[1]] {
			return fmt.Errorf("text: bpe: merge %d %q uses an unknown symbol", i, m)
		}
		if _, dup := nb.ranks[m]; dup {
			return fmt.Errorf("text: bpe: merge %d %q repeats", i, m)
		}
		nb.ranks[m] = i
		known[m[0]+m[1]] = true
	}
	if nb.alphabet == nil {
		nb.alphabet = []string{}
	}
	*b = *nb
	return nil
}

// WriteTo writes the JSON form of b to w.
func (b *BPE) WriteTo(w io.Writer) (int64, error) { return writeJSON(w, b) }

// ReadBPE reads a tokenizer written by [BPE.WriteTo]; name is used in
// errors.
func ReadBPE(r io.Reader, name string) (*BPE, error) {
	return readJSONValue(r, name, new(BPE))
}

// readJSONValue reads all of r into v, turning errors into *ParseError
// values with the position of JSON syntax errors.
func readJSONValue[T json.Unmarshaler](r io.Reader, name string, v T) (T, error) {
	var zero T
	data, err := io.ReadAll(r)
	if err != nil {
		return zero, &ParseError{File: name, Err: err}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return zero, &ParseError{File: name, Err: ErrEmpty}
	}
	if err := v.UnmarshalJSON(data); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, int(se.Offset)-1)
			return zero, &ParseError{File: name, Line: line, Col: col, Err: err}
		}
		return zero, &ParseError{File: name, Err: err}
	}
	return v, nil
}
