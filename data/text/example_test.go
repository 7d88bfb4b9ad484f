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
