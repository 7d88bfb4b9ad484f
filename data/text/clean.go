package text

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Form selects a Unicode normalization form for [Cleaner].
type Form int

const (
	// NFC composes characters canonically (é as one code point). It
	// changes no visible text and is the default.
	NFC Form = iota
	// NFKC also folds compatibility characters: ligatures (ﬁ → fi),
	// full-width letters, non-breaking spaces (to U+0020 after whitespace
	// folding), superscripts.
	NFKC
	// NoNorm leaves the code points as they are.
	NoNorm
)

// Cleaner normalizes raw text before tokenization. The zero value applies
// NFC normalization only; the other steps are opt-in. Clean applies the
// steps in the order of the fields: invalid UTF-8 is replaced by U+FFFD,
// HTML is stripped, the text is normalized, line ends become LineEnd,
// whitespace is folded, and the result is lowercased.
//
// A Cleaner is a plain value: save its fields with the model so that
// prediction cleans text exactly as training did.
type Cleaner struct {
	// StripHTML removes tags and decodes entities (&amp; → &). Block-level
	// tags (br, p, div, li, tr, h1-h6, ...) become one space, so that
	// "good.<br /><br />Bad" gives "good.  Bad"; inline tags (b, i, a,
	// span, ...) and comments vanish. A '<' that does not start a tag
	// ("a < b") is kept.
	StripHTML bool `json:"strip_html,omitempty"`
	// Form is the Unicode normalization form; zero means NFC.
	Form Form `json:"form,omitempty"`
	// FoldSpace turns every run of Unicode white space (including
	// newlines and tabs) into one U+0020 and trims both ends.
	FoldSpace bool `json:"fold_space,omitempty"`
	// Lower maps the text to lower case (Unicode simple case mapping).
	Lower bool `json:"lower,omitempty"`
	// LineEnd, when set, replaces every line end ("\n", "\r\n") with
	// this token between spaces, e.g. "<eos>": language models of
	// PTB count a sentence end as a word, one per line.
	LineEnd string `json:"line_end,omitempty"`
}

// Clean returns s cleaned as described by c. It never fails: invalid UTF-8
// sequences become U+FFFD.
func (c Cleaner) Clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if c.StripHTML {
		s = StripHTML(s)
	}
	switch c.Form {
	case NFC:
		s = norm.NFC.String(s)
	case NFKC:
		s = norm.NFKC.String(s)
	}
	if c.LineEnd != "" {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", " "+c.LineEnd+" ")
	}
	if c.FoldSpace {
		s = FoldSpace(s)
	}
	if c.Lower {
		s = strings.ToLower(s)
	}
	return s
}

// FoldSpace replaces each run of white space in s by one space and trims
// the ends.
func FoldSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// blockTags are the elements whose tags separate words.
var blockTags = map[string]bool{
	"br": true, "p": true, "div": true, "li": true, "ul": true, "ol": true,
	"tr": true, "td": true, "th": true, "table": true, "hr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"blockquote": true, "pre": true, "section": true, "article": true,
	"header": true, "footer": true, "dd": true, "dt": true, "dl": true,
}

// StripHTML removes HTML tags and comments from s and decodes character
// references. Block-level tags become a space; see [Cleaner.StripHTML].
func StripHTML(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+lt])
		i += lt
		end, block := tagEnd(s[i:])
		if end == 0 {
			b.WriteByte('<')
			i++
			continue
		}
		if block {
			b.WriteByte(' ')
		}
		i += end
	}
	return html.UnescapeString(b.String())
}

// tagEnd reports the length of the tag or comment at the start of s
// (which begins with '<'), or 0 if s does not start one, and whether it is
// a block-level tag.
func tagEnd(s string) (n int, block bool) {
	if strings.HasPrefix(s, "<!--") {
		end := strings.Index(s[4:], "-->")
		if end < 0 {
			return 0, false
		}
		return 4 + end + 3, false
	}
	j := 1
	if j < len(s) && (s[j] == '/' || s[j] == '!' || s[j] == '?') {
		j++
	}
	start := j
	for j < len(s) && isASCIIAlnum(s[j]) {
		j++
	}
	if j == start || !isASCIILetter(s[start]) && s[start-1] != '!' && s[start-1] != '?' {
		return 0, false
	}
	if j < len(s) && !strings.ContainsRune(" \t\r\n/>", rune(s[j])) {
		return 0, false // "<b+c": not a tag name
	}
	name := strings.ToLower(s[start:j])
	gt := strings.IndexByte(s[j:], '>')
	if gt < 0 {
		return 0, false
	}
	if lt := strings.IndexByte(s[j:j+gt], '<'); lt >= 0 {
		return 0, false // "<b <i>": not a tag
	}
	return j + gt + 1, blockTags[name]
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isASCIIAlnum(c byte) bool  { return isASCIILetter(c) || c >= '0' && c <= '9' }
