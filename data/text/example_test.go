package text_test

import (
	"context"
	"fmt"

	"github.com/recur-ml/recur/data/batch"
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
	it, err := streams.Chunks(text.BPTT{T: 3}, text.StreamCursor{})
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

// Classification from a TSV file: read, clean, tokenize, build the
// vocabulary, and batch with bucketing.
func Example_classification() {
	lab, err := text.ReadLabelledFile("testdata/imdb_head.tsv", text.LabelledConfig{})
	if err != nil {
		panic(err)
	}
	enc, err := text.NewEncoder(lab.Texts,
		text.Cleaner{StripHTML: true, FoldSpace: true},
		text.WordTokenizer{}, text.VocabConfig{MinFreq: 2})
	if err != nil {
		panic(err)
	}
	loader, err := batch.NewLoader(
		&batch.Dataset{Seqs: enc.EncodeAll(lab.Texts), Labels: lab.Labels},
		batch.Config{BatchSize: 2, Shuffle: true, Seed: 1, Bucket: 2, MaxLen: 400, Pad: enc.Vocab.Pad})
	if err != nil {
		panic(err)
	}
	it, err := loader.Iter(context.Background(), batch.Cursor{})
	if err != nil {
		panic(err)
	}
	defer it.Close()
	fmt.Println("classes", lab.Classes, "vocab", enc.Vocab.Len())
	for it.Next() {
		b := it.Batch()
		fmt.Println("B", b.B, "T", b.T, "lengths", b.Lengths, "labels", b.Labels)
	}
	// Output:
	// classes [0 1] vocab 77
	// B 2 T 146 lengths [125 146] labels [0 1]
	// B 2 T 185 lengths [149 185] labels [0 1]
}

// A character-level language model on a text file: the whole file is
// one token sequence, cut into B streams and walked in chunks of T.
func Example_charLM() {
	corpus, err := text.ReadTextFile("testdata/shakespeare_head.txt")
	if err != nil {
		panic(err)
	}
	enc, err := text.NewEncoder([]string{corpus}, text.Cleaner{}, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		panic(err)
	}
	ids := enc.Encode(corpus)
	split := len(ids) * 9 / 10
	train, err := text.NewStreams(ids[:split], 4)
	if err != nil {
		panic(err)
	}
	it, err := train.Chunks(text.BPTT{T: 64}, text.StreamCursor{})
	if err != nil {
		panic(err)
	}
	chunks := 0
	for it.Next() {
		chunks++
	}
	c := it.Chunk()
	fmt.Println("vocab", enc.Vocab.Len(), "tokens", len(ids), "per stream", train.N)
	fmt.Println("chunks", chunks, "last T", c.T, "next epoch", it.Cursor().Epoch)
	fmt.Printf("%q\n", enc.Decode(train.Stream(0)[:15]))
	// Output:
	// vocab 56 tokens 4000 per stream 900
	// chunks 15 last T 3 next epoch 1
	// "First Citizen:\n"
}

// Sentence pairs for sequence to sequence: one character vocabulary per
// language, targets wrapped in BOS/EOS, batched with the target lengths.
func Example_seq2seq() {
	pairs, err := text.ReadPairsFile("testdata/fra_head.txt", text.PairsConfig{Max: 8})
	if err != nil {
		panic(err)
	}
	var src, tgt []string
	for _, p := range pairs {
		src, tgt = append(src, p.Src), append(tgt, p.Tgt)
	}
	clean := text.Cleaner{Form: text.NFKC, Lower: true}
	srcEnc, err := text.NewEncoder(src, clean, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		panic(err)
	}
	tgtEnc, err := text.NewEncoder(tgt, clean, text.CharTokenizer{}, text.VocabConfig{})
	if err != nil {
		panic(err)
	}
	ds := &batch.Dataset{Seqs: srcEnc.EncodeAll(src)}
	for _, ids := range tgtEnc.EncodeAll(tgt) {
		ds.Targets = append(ds.Targets, tgtEnc.Vocab.Wrap(ids))
	}
	loader, err := batch.NewLoader(ds, batch.Config{BatchSize: 4, SortDesc: true})
	if err != nil {
		panic(err)
	}
	b := loader.Make(loader.Plan(0)[0])
	fmt.Println("src lengths", b.Lengths, "target lengths", b.TargetLengths)
	fmt.Printf("%q -> %q\n", srcEnc.Decode(b.IDs[:b.T]), tgtEnc.Decode(b.Targets[:b.TT]))
	// Output:
	// src lengths [4 4 4 3] target lengths [9 10 12 6]
	// "run!" -> "<bos>cours !<eos>"
}
