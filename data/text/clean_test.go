package text

import "testing"

func TestCleaner(t *testing.T) {
	tests := []struct {
		name string
		c    Cleaner
		in   string
		want string
	}{
		{"zero value composes", Cleaner{}, "e\u0301t\u00e9", "\u00e9t\u00e9"},
		{"no norm keeps decomposed", Cleaner{Form: NoNorm}, "e\u0301", "e\u0301"},
		{"nfkc folds ligature and nbsp", Cleaner{Form: NFKC, FoldSpace: true}, "\ufb01ne\u00a0 day\u202f!", "fine day !"},
		{"imdb br", Cleaner{StripHTML: true, FoldSpace: true}, "Good.<br /><br />Bad", "Good. Bad"},
		{"br keeps words apart", Cleaner{StripHTML: true}, "a<br/>b", "a b"},
		{"inline tags vanish", Cleaner{StripHTML: true}, "<i>so</i>-<b>so</b>", "so-so"},
		{"attributes", Cleaner{StripHTML: true}, `<a href="x>">link</a>`, `">link`},
		{"entities", Cleaner{StripHTML: true}, "Tom &amp; Jerry &lt;3 &#233;", "Tom & Jerry <3 \u00e9"},
		{"less-than kept", Cleaner{StripHTML: true}, "a < b and c<d", "a < b and c<d"},
		{"unclosed tag kept", Cleaner{StripHTML: true}, "x <br", "x <br"},
		{"comment", Cleaner{StripHTML: true}, "a<!-- hidden -->b", "ab"},
		{"not a tag name", Cleaner{StripHTML: true}, "1<2+3>0", "1<2+3>0"},
		{"fold space", Cleaner{FoldSpace: true}, "  a\t\tb\n\nc  ", "a b c"},
		{"lower", Cleaner{Lower: true}, "ÉCOLE Go", "école go"},
		{"line ends", Cleaner{LineEnd: "<eos>", FoldSpace: true}, " the cat \n a dog\r\n", "the cat <eos> a dog <eos>"},
		{"invalid utf8", Cleaner{}, "a\xffb", "a\uFFFDb"},
		{"empty", Cleaner{StripHTML: true, FoldSpace: true, Lower: true}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Clean(tt.in); got != tt.want {
				t.Errorf("%+v.Clean(%q) = %q, want %q", tt.c, tt.in, got, tt.want)
			}
		})
	}
}
