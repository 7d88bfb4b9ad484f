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
// default). [Encoder] bundles a tokenizer and a vocabulary:
//
//	tok := text.CharTokenizer{}
//	counts := text.Counts{}
//	counts.Add(tok.Tokenize(corpus))
//	vocab, err := text.BuildVocab(counts, text.VocabConfig{})
//	enc := text.Encoder{Tok: tok, Vocab: vocab}
//	ids := enc.Encode(corpus)
//
// Every tokenizer documents its normal form N with
// Detokenize(Tokenize(s)) == N(s); for characters and BPE, N is the
// identity on valid UTF-8. The cleaner settings, the tokenizer settings,
// the vocabulary (JSON) and BPE merges (JSON) are plain values meant to be
// stored with a model, so prediction prepares text exactly as training did.
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
