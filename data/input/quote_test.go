package input

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("a", 10<<20)
	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{"tab\there", `"tab\there"`},
		{strings.Repeat("x", 100), strconv.Quote(strings.Repeat("x", 100))},
		{strings.Repeat("x", 101), `"` + strings.Repeat("x", 100) + `…" (101 bytes)`},
		{long, `"` + strings.Repeat("a", 100) + `…" (10485760 bytes)`},
		// A cut never splits a character: é is two bytes, at 99 and 100.
		{strings.Repeat("x", 99) + "é" + strings.Repeat("x", 10), `"` + strings.Repeat("x", 99) + `…" (111 bytes)`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%.20q… %d bytes) = %.140s, want %.140s", tt.in, len(tt.in), got, tt.want)
		}
	}
}

func TestQuoteList(t *testing.T) {
	short := []string{"a", "b c"}
	if got, want := QuoteList(short), fmt.Sprintf("%q", short); got != want {
		t.Errorf("got %s, want %s (as %%q)", got, want)
	}
	wide := make([]string, 100000)
	for i := range wide {
		wide[i] = "column" + strconv.Itoa(i)
	}
	got := QuoteList(wide)
	if len(got) > 4*QuoteBytes || !strings.HasPrefix(got, `["column0" "column1"`) || !strings.HasSuffix(got, "… 100000 items]") {
		t.Errorf("got %d bytes %s, want at most %d ending with the count", len(got), got, 4*QuoteBytes)
	}
	if got := QuoteList([]string{strings.Repeat("h", 5<<20)}); len(got) > 2*QuoteBytes {
		t.Errorf("one huge item: got %d bytes", len(got))
	}
}

func TestCut(t *testing.T) {
	if got := Cut("short"); got != "short" {
		t.Errorf("got %q", got)
	}
	msg := `json: unknown field "` + strings.Repeat("k", 1<<20) + `"`
	got := Cut(msg)
	if len(got) > 3*QuoteBytes || !strings.HasPrefix(got, `json: unknown field "kkk`) || !strings.HasSuffix(got, "… (1048598 bytes)") {
		t.Errorf("got %d bytes %q", len(got), got)
	}
}
