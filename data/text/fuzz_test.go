package text

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var (
	fuzzBPEOnce sync.Once
	fuzzBPE     *BPE
)

func trainedBPE(t testing.TB) *BPE {
	fuzzBPEOnce.Do(func() {
		data, err := os.ReadFile("testdata/shakespeare_head.txt")
		if err != nil {
			t.Fatal(err)
		}
		fuzzBPE, err = TrainBPE(string(data), BPEConfig{Size: 150})
		if err != nil {
			t.Fatal(err)
		}
	})
	return fuzzBPE
}

// requireParseError fails the test unless err is a *ParseError.
func requireParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *ParseError", err)
	}
}

func FuzzTokenizers(f *testing.F) {
	for _, s := range []string{"", "First Citizen:\nBefore we proceed", "Don't stop, ça va?", "a\xffb", " \t\n ", "<br />x", "\u0301e", "３４ ﬁ"} {
		f.Add(s)
	}
	bpe := trainedBPE(f)
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToValidUTF8(s, "\uFFFD")
		var ch CharTokenizer
		if got := ch.Detokenize(ch.Tokenize(s)); got != want {
			t.Errorf("char: Detokenize(Tokenize(%q)) = %q, want %q", s, got, want)
		}
		if got := bpe.Detokenize(bpe.Tokenize(s)); got != want {
			t.Errorf("bpe: Detokenize(Tokenize(%q)) = %q, want %q", s, got, want)
		}
		for _, w := range []WordTokenizer{{}, {KeepCase: true}, {SpaceOnly: true}} {
			toks := w.Tokenize(s)
			if again := w.Tokenize(w.Detokenize(toks)); !slices.Equal(again, toks) {
				t.Errorf("%+v: Tokenize(Detokenize(%q)) = %q", w, toks, again)
			}
		}
		// Encoders with a vocabulary built from s itself: ids round-trip
		// to the NFC form of s.
		for _, tok := range []Tokenizer{ch, bpe} {
			e, err := NewEncoder([]string{s}, Cleaner{}, tok, VocabConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Decode(e.Encode(s)); got != norm.NFC.String(want) {
				t.Errorf("%T encoder: Decode(Encode(%q)) = %q, want %q", tok, s, got, norm.NFC.String(want))
			}
		}
		c := Cleaner{StripHTML: true, Form: NFKC, FoldSpace: true, Lower: true}
		if out := c.Clean(s); !utf8.ValidString(out) {
			t.Errorf("Clean(%q) = %q is not valid UTF-8", s, out)
		}
	})
}

func FuzzVocabLoad(f *testing.F) {
	v, _ := BuildVocab(Counts{"a": 2, "b": 1, "é": 3}, VocabConfig{})
	good, _ := v.MarshalJSON()
	f.Add(good)
	f.Add([]byte(`{"format":"recur-vocab","version":1,"specials":{"unk":"u","extra":["x"]},"tokens":["u","x","y"]}`))
	f.Add([]byte(`{"format":"recur-vocab","version":1,"specials":{"unk":"u"},"tokens":["u","u"]}`))
	f.Add([]byte("{\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ReadVocab(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			requireParseError(t, err)
			return
		}
		var buf bytes.Buffer
		if _, err := v.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ReadVocab(&buf, "again.json")
		if err != nil {
			t.Fatalf("reading back a written vocab: %v", err)
		}
		if !slices.Equal(back.Tokens(), v.Tokens()) || back.Pad != v.Pad || back.Unk != v.Unk || back.BOS != v.BOS || back.EOS != v.EOS {
			t.Errorf("round trip changed the vocab: %q -> %q", v.Tokens(), back.Tokens())
		}
		for id, tok := range v.Tokens() {
			if got, ok := v.ID(tok); !ok || got != id {
				t.Errorf("ID(%q) = %d, %v; want %d", tok, got, ok, id)
			}
		}
	})
}

func FuzzBPELoad(f *testing.F) {
	good, _ := trainedBPE(f).MarshalJSON()
	f.Add(good)
	f.Add([]byte(`{"format":"recur-bpe","version":1,"alphabet":["a","b"],"merges":[["a","b"],["ab","ab"]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBPE(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			requireParseError(t, err)
			return
		}
		s := "abab the cat, ünï"
		if got := b.Detokenize(b.Tokenize(s)); got != s {
			t.Errorf("loaded BPE does not round-trip: %q", got)
		}
	})
}

func FuzzLabelledReader(f *testing.F) {
	for _, p := range []string{"reviews.tsv", "small.csv", "small.jsonl", "bad_utf8.tsv", "bad_quote.csv", "short_row.tsv", "imdb_head.tsv"} {
		data, err := os.ReadFile("testdata/" + p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(FormatOf(p)))
	}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		cfg := LabelledConfig{Format: Format(1 + format%3)}
		l, err := ReadLabelled(bytes.NewReader(data), "fuzz", cfg)
		if err != nil {
			requireParseError(t, err)
			return
		}
		if len(l.Texts) == 0 || len(l.Texts) != len(l.Labels) || len(l.Texts) != len(l.Lines) {
			t.Fatalf("%d texts, %d labels, %d lines", len(l.Texts), len(l.Labels), len(l.Lines))
		}
		for i, y := range l.Labels {
			if y < 0 || y >= len(l.Classes) || !utf8.ValidString(l.Texts[i]) {
				t.Errorf("example %d: label %d of %d classes, text %q", i, y, len(l.Classes), l.Texts[i])
			}
		}
		if _, err := ReadPairs(bytes.NewReader(data), "fuzz", PairsConfig{}); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("pairs error %v is not a *ParseError", err)
			}
		}
	})
}

func FuzzEmbeddings(f *testing.F) {
	for _, p := range []string{"vectors_w2v.txt", "vectors_glove.txt", "ragged_vectors.txt", "bad_number_vectors.txt"} {
		data, err := os.ReadFile("testdata/" + p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	v, _ := NewVocab([]string{"the", "cat", "dog"}, DefaultSpecials)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, cov, err := ReadEmbeddings(nil, bytes.NewReader(data), "fuzz", v)
		if err != nil {
			requireParseError(t, err)
			return
		}
		if !slices.Equal(m.Shape, []int{v.Len(), cov.Dim}) || cov.Found > cov.Total || cov.Found+len(cov.Missing) > cov.Total {
			t.Errorf("shape %v, coverage %+v", m.Shape, cov)
		}
	})
}

func FuzzEncoderLoad(f *testing.F) {
	for _, tok := range []Tokenizer{CharTokenizer{}, WordTokenizer{SpaceOnly: true}, trainedBPE(f)} {
		e, err := NewEncoder([]string{"the cat sat"}, Cleaner{Lower: true}, tok, VocabConfig{})
		if err != nil {
			f.Fatal(err)
		}
		data, err := e.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ReadEncoder(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			requireParseError(t, err)
			return
		}
		ids := e.Encode("The cat, ünï <b>x</b>")
		for _, id := range ids {
			if id < 0 || id >= e.Vocab.Len() {
				t.Fatalf("id %d out of range [0,%d)", id, e.Vocab.Len())
			}
		}
		_ = e.Decode(ids)
	})
}
