package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizer splits text into string tokens and joins them back.
//
// Every tokenizer in this package documents its normal form N such that
// Detokenize(Tokenize(s)) == N(s) for every string s. Map tokens to ids with
// a [Vocab] (or use an [Encoder], which combines the two).
//
// Tokenizers are immutable after construction and safe for concurrent use.
type Tokenizer interface {
	Tokenize(s string) []string
	Detokenize(toks []string) string
}

// CharTokenizer makes one token per Unicode code point.
//
// Round trip: Detokenize(Tokenize(s)) == s for valid UTF-8; each run of
// invalid bytes comes back as one U+FFFD (the normal form is
// strings.ToValidUTF8(s, "\uFFFD"), as for every tokenizer here).
type CharTokenizer struct{}

// Tokenize returns the code points of s as strings.
func (CharTokenizer) Tokenize(s string) []string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	toks := make([]string, 0, len(s))
	for i, r := range s {
		toks = append(toks, s[i:i+utf8.RuneLen(r)])
	}
	return toks
}

// Detokenize concatenates toks.
func (CharTokenizer) Detokenize(toks []string) string { return strings.Join(toks, "") }

// WordTokenizer splits text into words and punctuation. The zero value
// lowercases and splits punctuation.
//
// A word is a maximal run of letters, marks, and digits (Unicode classes L,
// M, N); any other non-space code point is a token by itself, so "don't!"
// gives "don", "'", "t", "!". White space separates tokens and is dropped.
// With SpaceOnly, tokens are the white-space separated fields unchanged
// (the right choice for pre-tokenized corpora such as PTB, whose "<unk>"
// must stay one token).
//
// Detokenize puts one space between tokens except before closing
// punctuation (. , ; : ! ? ) ] } % and closing quotes), after opening
// punctuation (( [ { $ # and opening quotes), and around an apostrophe
// between a word and an English contraction suffix (s t re ve ll d m:
// "don", "'", "t" gives "don't", "it ' s" gives "it's"). What round-trips exactly is the
// token sequence: Tokenize(Detokenize(Tokenize(s))) == Tokenize(s) for every
// s. The string round-trips, Detokenize(Tokenize(s)) == s, when s is
// lower case (or KeepCase is set), valid UTF-8, and spaced the way
// Detokenize spaces it — "hello, world. (yes) don't 3% more" does;
// "hello ,world" comes back as "hello, world".
type WordTokenizer struct {
	KeepCase  bool `json:"keep_case,omitempty"`  // do not lowercase
	SpaceOnly bool `json:"space_only,omitempty"` // split on white space only
}

// Tokenize splits s into words and punctuation tokens.
func (w WordTokenizer) Tokenize(s string) []string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !w.KeepCase {
		s = strings.ToLower(s)
	}
	if w.SpaceOnly {
		return strings.Fields(s)
	}
	var toks []string
	start := -1 // start of the current word, or -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) {
			toks = append(toks, s[i:i+utf8.RuneLen(r)])
		}
	}
	if start >= 0 {
		toks = append(toks, s[start:])
	}
	return toks
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r)
}

// closers attach to the token before them; openers to the token after.
const (
	closers = ".,;:!?)]}%\u201d\u2019\u00bb"
	openers = "([{\u201c\u2018\u00ab$#"
)

// Detokenize joins toks with spaces, attaching punctuation as described
// on [WordTokenizer].
func (w WordTokenizer) Detokenize(toks []string) string {
	if w.SpaceOnly {
		return strings.Join(toks, " ")
	}
	var b strings.Builder
	glueNext := false
	for i, t := range toks {
		if t == "" {
			continue
		}
		between := i > 0 && i+1 < len(toks) && isWord(toks[i-1]) && isWord(toks[i+1])
		inWord := between && (isSingle(t, apostrophes) && (contractions[strings.ToLower(toks[i+1])] || elides(toks[i-1])) || t == "-")
		if i > 0 && b.Len() > 0 && !glueNext && !inWord && !glued(toks[i-1], t) {
			b.WriteByte(' ')
		}
		glueNext = inWord
		b.WriteString(t)
	}
	return b.String()
}

// An apostrophe between a word and an English contraction suffix, or
// after an elided French or Italian word, glues them, and so does a hyphen
// between words: "don ' t" gives "don't", "l ' ai" gives "l'ai", "êtes -
// vous" gives "êtes-vous".
const apostrophes = "'\u2019"

var contractions = map[string]bool{"s": true, "t": true, "re": true, "ve": true, "ll": true, "d": true, "m": true}

// elides reports whether a word drops its vowel before an apostrophe, as
// French and Italian articles and pronouns do: one letter (l' d' j' m' n'
// s' t' c') or a word ending in qu (qu' jusqu' lorsqu' puisqu'), so that
// "l ' ai" gives "l'ai".
func elides(w string) bool {
	w = strings.ToLower(w)
	return utf8.RuneCountInString(w) == 1 || strings.HasSuffix(w, "qu")
}

// isWord reports whether t starts with a word rune (it is then a whole
// word token).
func isWord(t string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	return isWordRune(r)
}

// glued reports whether no space goes between prev and t. Two word tokens
// are never glued, so re-tokenizing gives the same tokens.
func glued(prev, t string) bool {
	if isSingle(t, closers) {
		return true
	}
	return isSingle(prev, openers)
}

func isSingle(t, set string) bool {
	r, n := utf8.DecodeRuneInString(t)
	return n == len(t) && n > 0 && strings.ContainsRune(set, r)
}
