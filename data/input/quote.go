package input

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// QuoteBytes is about the most bytes of one value that [Quote] shows.
const QuoteBytes = 100

// Quote returns s quoted as by %q when it is at most QuoteBytes long;
// a longer s is cut at a character boundary after about QuoteBytes bytes,
// quoted, and followed by an ellipsis and its length:
//
//	"2019-01-01,1,2,3,4,5,6,7,8,9,10,11,12,…" (104857600 bytes)
func Quote(s string) string {
	if len(s) <= QuoteBytes {
		return strconv.Quote(s)
	}
	cut := QuoteBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]+"…") + " (" + strconv.Itoa(len(s)) + " bytes)"
}

// QuoteList returns list written as by %q (["a" "b"]), each item quoted
// by [Quote] and the list cut after about 3·QuoteBytes bytes, where it
// ends with the number of items:
//
//	["c0" "c1" "c2" … 100000 items]
func QuoteList(list []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range list {
		if b.Len() > 3*QuoteBytes {
			b.WriteString("… " + strconv.Itoa(len(list)) + " items]")
			return b.String()
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(s))
	}
	b.WriteByte(']')
	return b.String()
}

// Cut returns a message made elsewhere that may hold a whole value
// (encoding/json's "unknown field", a flag's "invalid value") as it is
// when it is at most 2·QuoteBytes long, and otherwise cut at a character
// boundary after about that many bytes and followed by an ellipsis and
// its length.
func Cut(msg string) string {
	if len(msg) <= 2*QuoteBytes {
		return msg
	}
	cut := 2 * QuoteBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "… (" + strconv.Itoa(len(msg)) + " bytes)"
}
