package text

import (
	"os"
	"testing"
)

func benchCorpus(b *testing.B) string {
	data, err := os.ReadFile("testdata/shakespeare_head.txt")
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

func BenchmarkTokenize(b *testing.B) {
	s := benchCorpus(b)
	bpe, err := TrainBPE(s, BPEConfig{Size: 300})
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		tok  Tokenizer
	}{{"char", CharTokenizer{}}, {"word", WordTokenizer{}}, {"bpe", bpe}} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				tt.tok.Tokenize(s)
			}
		})
	}
}

func BenchmarkTrainBPE(b *testing.B) {
	s := benchCorpus(b)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := TrainBPE(s, BPEConfig{Size: 300}); err != nil {
			b.Fatal(err)
		}
	}
}
