package text

import (
	"slices"
	"strings"
	"testing"
)

// chunkCorpus mixes what a cut could break: CRLF and bare newlines,
// tabs and runs of spaces, combining marks, Unicode spaces, punctuation,
// long lines without newlines and a trailing newline run.
var chunkCorpus = strings.Repeat("The cafe\u0301 opened.\r\nIt's 9am\tnow,  said  she; (yes) don't!\n"+
	"na\u00efve r\u00e9sum\u00e9\u3000fa\u00e7ade \u00c5ngstr\u00f6m e\u0301e\u0301\n"+
	strings.Repeat("word ", 40)+"END\n\n  indented line\n", 30)

// TestEncodeInChunks: encoding a long text in chunks gives the ids of
// encoding it whole, for every tokenizer and cleaner the chunked path
// takes, at chunk sizes small enough to put cuts everywhere.
func TestEncodeInChunks(t *testing.T) {
	bpe, err := TrainBPE(chunkCorpus, BPEConfig{Size: 120})
	if err != nil {
		t.Fatal(err)
	}
	toks := map[string]Tokenizer{"char": CharTokenizer{}, "word": WordTokenizer{}, "word space-only keep-case": WordTokenizer{SpaceOnly: true, KeepCase: true}, "bpe": bpe}
	cleaners := map[string]Cleaner{"plain": {}, "nfkc": {Form: NFKC}, "line end": {LineEnd: "<eos>"}, "lower": {Lower: true}}
	for tn, tok := range toks {
		for cn, cl := range cleaners {
			counts := Counts{}
			for _, w := range tok.Tokenize(cl.Clean(chunkCorpus)) {
				counts[w]++
			}
			v, err := BuildVocab(counts, VocabConfig{})
			if err != nil {
				t.Fatal(err)
			}
			e := &Encoder{Tok: tok, Clean: cl, Vocab: v}
			want := v.Encode(nil, tok.Tokenize(cl.Clean(chunkCorpus)))
			for _, n := range []int{7, 16, 61, 256} {
				if chunks := countChunks(chunkCorpus, n, cutter(tok)); chunks < 10 {
					t.Fatalf("%s, chunks of %d: only %d chunks: the test would not see cuts", tn, n, chunks)
				}
				if got := e.encodeIn(chunkCorpus, n); !slices.Equal(got, want) {
					t.Errorf("%s, %s, chunks of %d: %d ids differ from the whole text's %d", tn, cn, n, len(got), len(want))
				}
			}
		}
	}
}

func countChunks(s string, n int, cut func(string, int) bool) int {
	c := 0
	for len(s) > 0 {
		s = s[chunkEnd(s, n, cut):]
		c++
	}
	return c
}
