package text

import (
	"slices"
	"testing"
)

func TestCharTokenizer(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"ab c", []string{"a", "b", " ", "c"}},
		{"été\n", []string{"é", "t", "é", "\n"}},
		{"a\xff", []string{"a", "\uFFFD"}},
	}
	var tok CharTokenizer
	for _, tt := range tests {
		got := tok.Tokenize(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := tok.Detokenize(tok.Tokenize("Hi, été!\n")); got != "Hi, été!\n" {
		t.Errorf("round trip = %q", got)
	}
}

func TestWordTokenizer(t *testing.T) {
	tests := []struct {
		name string
		tok  WordTokenizer
		in   string
		want []string
		back string
	}{
		{"default", WordTokenizer{}, "Hello, World!", []string{"hello", ",", "world", "!"}, "hello, world!"},
		{"apostrophe", WordTokenizer{}, "Don't stop", []string{"don", "'", "t", "stop"}, "don't stop"},
		{"quote marks", WordTokenizer{}, "he said 'no' . rock'n'roll", []string{"he", "said", "'", "no", "'", ".", "rock", "'", "n", "'", "roll"}, "he said ' no '. rock ' n'roll"},
		{"contractions", WordTokenizer{}, "It's, we're I'VE", []string{"it", "'", "s", ",", "we", "'", "re", "i", "'", "ve"}, "it's, we're i've"},
		{"brackets", WordTokenizer{}, "a (b) [c] 3% $5", []string{"a", "(", "b", ")", "[", "c", "]", "3", "%", "$", "5"}, "a (b) [c] 3% $5"},
		{"keep case", WordTokenizer{KeepCase: true}, "Go.Go", []string{"Go", ".", "Go"}, "Go. Go"},
		{"unicode", WordTokenizer{}, "Ça va? Très bien.", []string{"ça", "va", "?", "très", "bien", "."}, "ça va? très bien."},
		{"space only", WordTokenizer{SpaceOnly: true}, " the <unk> N \n", []string{"the", "<unk>", "n"}, "the <unk> n"},
		{"space only keep case", WordTokenizer{SpaceOnly: true, KeepCase: true}, "a  N", []string{"a", "N"}, "a N"},
		{"empty", WordTokenizer{}, " \t", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.tok.Tokenize(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			back := tt.tok.Detokenize(got)
			if back != tt.back {
				t.Errorf("Detokenize(%q) = %q, want %q", got, back, tt.back)
			}
			if again := tt.tok.Tokenize(back); !slices.Equal(again, got) {
				t.Errorf("Tokenize(Detokenize(%q)) = %q", got, again)
			}
		})
	}
}

func TestWordTokenizerCanonicalStringRoundTrip(t *testing.T) {
	var w WordTokenizer
	for _, s := range []string{"hello, world. (yes) don't 3% more", "a: b; c!", "«ok» fine"} {
		if got := w.Detokenize(w.Tokenize(s)); got != s {
			t.Errorf("Detokenize(Tokenize(%q)) = %q, want it unchanged", s, got)
		}
	}
}

// TestDetokenizeElision: French elisions are joined again; they came back
// as "je l ' ai vu" before.
func TestDetokenizeElision(t *testing.T) {
	var w WordTokenizer
	for _, s := range []string{"je l'ai vu?", "qu'il vienne, jusqu'à demain.", "c'est l'été", "it's don't", "êtes-vous là?", "well-known"} {
		if got := w.Detokenize(w.Tokenize(s)); got != s {
			t.Errorf("Detokenize(Tokenize(%q)) = %q", s, got)
		}
	}
	if got := w.Detokenize([]string{"rock", "'", "n", "'", "roll"}); got != "rock ' n'roll" {
		t.Errorf("an apostrophe after a longer word stays spaced: %q", got)
	}
}
