// Package text turns raw text into token ids for recurrent models: cleaning,
// tokenizers, vocabularies, pretrained embeddings, readers for labelled
// text and sentence pairs, and language-model streams.
//
// # From text to ids
//
// A pipeline is a [Cleaner] (Unicode normalization, HTML removal,
// white-space folding, lowercasing), a [Tokenizer] ([CharTokenizer],
// [WordTokenizer] or a trained [BPE]) and a [Vocab] that maps tokens to
// dense ids, with special tokens first (pad 0, unk 1, bos 2, eos 3 by
// default). An [Encoder] holds all three, and [NewEncoder] builds the
// vocabulary from a training corpus:
//
//	enc, err := text.NewEncoder(trainTexts,
//		text.Cleaner{StripHTML: true, FoldSpace: true},
//		text.WordTokenizer{}, text.VocabConfig{MinFreq: 2, MaxSize: 20000})
//	seqs := enc.EncodeAll(trainTexts)
//	enc.WriteTo(w) // JSON, stored with the model; ReadEncoder loads it
//
// Every tokenizer documents its normal form N with
// Detokenize(Tokenize(s)) == N(s); for characters and BPE, N is the
// identity on valid UTF-8, and for words it is the token sequence that
// round-trips (see [WordTokenizer]). The cleaner, the tokenizer settings,
// BPE merges and the vocabulary are plain values saved as JSON with the
// model, so prediction prepares text exactly as training did.
//
// # Reading files
//
// [ReadLabelled] reads classification data from TSV, CSV or JSON Lines
// and maps class names to indices; [ReadPairs] reads tab-separated
// sentence pairs for sequence-to-sequence models; [ReadEmbeddings] reads
// word2vec/GloVe text vectors aligned with a vocabulary. [Open] opens a
// file and transparently decompresses gzip. Problems in a file are
// returned as a [*ParseError] naming file, line and column; nothing
// panics on bad input.
//
// # Language-model streams
//
// [NewStreams] cuts one long id sequence into B parallel contiguous
// streams (the batching Zaremba et al. use for PTB); [Streams.Chunks]
// walks them in chunks of T steps with next-token targets, so the hidden
// state at the end of one chunk is the right initial state for the next.
package text
