package text_test

import (
	"fmt"

	"github.com/recur-ml/recur/data/text"
)

// A character-level encoder built from a corpus round-trips the corpus.
func Example_charRoundTrip() {
	corpus := "to be, or not to be"
	tok := text.CharTokenizer{}
	counts := text.Counts{}
	counts.Add(tok.Tokenize(corpus))
	vocab, err := text.BuildVocab(counts, text.VocabConfig{})
	if err != nil {
		panic(err)
	}
	enc := text.Encoder{Tok: tok, Vocab: vocab}
	ids := enc.Encode("not to be")
	fmt.Println(vocab.Len(), vocab.Tokens()[4:])
	fmt.Println(ids)
	fmt.Printf("%q\n", enc.Decode(ids))
	// Output:
	// 12 [  o t b e , n r]
	// [10 5 6 4 6 5 4 7 8]
	// "not to be"
}

// A tiny corpus cut into two streams and walked in chunks of three steps:
// each stream continues where its previous chunk stopped.
func ExampleStreams_Chunks() {
	tok := text.CharTokenizer{}
	corpus := "abcdefghijklmn"
	ids := make([]int, 0, len(corpus))
	for _, ch := range tok.Tokenize(corpus) {
		ids = append(ids, int(ch[0]-'a'))
	}
	streams, err := text.NewStreams(ids, 2)
	if err != nil {
		panic(err)
	}
	it, err := streams.Chunks(text.BPTT{T: 3}, text.Cursor{})
	if err != nil {
		panic(err)
	}
	letters := func(ids []int) string {
		b := make([]byte, len(ids))
		for i, id := range ids {
			b[i] = byte('a' + id)
		}
		return string(b)
	}
	for it.Next() {
		c := it.Chunk()
		x, y := c.XBatchFirst(nil), c.YBatchFirst(nil)
		for b := range c.B {
			fmt.Printf("chunk %d stream %d: %s -> %s\n", c.Index, b, letters(x[b*c.T:(b+1)*c.T]), letters(y[b*c.T:(b+1)*c.T]))
		}
	}
	// Output:
	// chunk 0 stream 0: abc -> bcd
	// chunk 0 stream 1: hij -> ijk
	// chunk 1 stream 0: def -> efg
	// chunk 1 stream 1: klm -> lmn
}
