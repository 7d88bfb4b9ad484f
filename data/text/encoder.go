package text

// Encoder turns text into ids and back with a tokenizer and a vocabulary.
//
// Decode(Encode(s)) equals the tokenizer's normal form of s (see
// [Tokenizer]) when every token of s is in the vocabulary; tokens that are
// not come back as the Unk token.
type Encoder struct {
	Tok   Tokenizer
	Vocab *Vocab
}

// Encode returns the ids of the tokens of s.
func (e Encoder) Encode(s string) []int { return e.Vocab.Encode(nil, e.Tok.Tokenize(s)) }

// Decode returns the text of ids. Specials are decoded to their names,
// except Pad, which is dropped.
func (e Encoder) Decode(ids []int) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == e.Vocab.Pad {
			continue
		}
		toks = append(toks, e.Vocab.Token(id))
	}
	return e.Tok.Detokenize(toks)
}
