package text

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestEncoderSaveLoad(t *testing.T) {
	corpus := []string{"The <b>cat</b> sat.<br />On the mat!", "Ça va? Très bien, the cat."}
	bpe, err := TrainBPE(strings.Join(corpus, "\n"), BPEConfig{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	clean := Cleaner{StripHTML: true, Form: NFKC, FoldSpace: true}
	for _, tok := range []Tokenizer{CharTokenizer{}, WordTokenizer{}, WordTokenizer{KeepCase: true, SpaceOnly: true}, bpe} {
		e, err := NewEncoder(corpus, clean, tok, VocabConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := e.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ReadEncoder(&buf, "enc.json")
		if err != nil {
			t.Fatalf("%T: %v", tok, err)
		}
		probe := "the CAT <i>sat</i> on a hat"
		if got, want := back.Encode(probe), e.Encode(probe); !slices.Equal(got, want) || back.Clean != clean {
			t.Errorf("%T: loaded encoder gives %v, want %v", tok, got, want)
		}
		ids := e.EncodeAll(corpus)
		if got, want := e.Decode(ids[0]), tok.Detokenize(tok.Tokenize(clean.Clean(corpus[0]))); got != want {
			t.Errorf("%T: Decode(Encode(corpus[0])) = %q, want %q", tok, got, want)
		}
	}
}

type otherTokenizer struct{ CharTokenizer }

func TestEncoderJSONErrors(t *testing.T) {
	v, _ := NewVocab(nil, DefaultSpecials)
	if _, err := (&Encoder{Tok: otherTokenizer{}, Vocab: v}).MarshalJSON(); err == nil {
		t.Error("marshalling a foreign tokenizer: got nil error")
	}
	vj, _ := v.MarshalJSON()
	tests := []struct{ name, in, want string }{
		{"kind", `{"format":"recur-text-encoder","version":1,"tokenizer":{"kind":"sentencepiece"},"vocab":` + string(vj) + `}`, "unknown tokenizer kind"},
		{"no vocab", `{"format":"recur-text-encoder","version":1,"tokenizer":{"kind":"char"}}`, "no vocab"},
		{"no merges", `{"format":"recur-text-encoder","version":1,"tokenizer":{"kind":"bpe"},"vocab":` + string(vj) + `}`, "without merges"},
		{"form", `{"format":"recur-text-encoder","version":1,"clean":{"form":7},"tokenizer":{"kind":"char"},"vocab":` + string(vj) + `}`, "normalization form 7"},
		{"format", `{"format":"recur-vocab","version":1}`, "want \"recur-text-encoder\""},
		{"bad vocab", `{"format":"recur-text-encoder","version":1,"tokenizer":{"kind":"char"},"vocab":{"format":"x"}}`, "text: vocab: format"},
	}
	for _, tt := range tests {
		if _, err := ReadEncoder(strings.NewReader(tt.in), "e.json"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestEncoderParallelMatchesSequential(t *testing.T) {
	data, err := ReadTextFile("testdata/shakespeare_head.txt")
	if err != nil {
		t.Fatal(err)
	}
	var corpus []string
	for i := range 4 {
		for line := range strings.SplitSeq(data, "\n") {
			corpus = append(corpus, strings.Repeat(line+" ", i+1))
		}
	}
	clean, tok, cfg := Cleaner{Lower: true}, WordTokenizer{}, VocabConfig{MinFreq: 2}
	e, err := NewEncoder(corpus, clean, tok, cfg)
	if err != nil {
		t.Fatal(err)
	}
	counts := Counts{}
	for _, s := range corpus {
		counts.Add(tok.Tokenize(clean.Clean(s)))
	}
	want, _ := BuildVocab(counts, cfg)
	if !slices.Equal(e.Vocab.Tokens(), want.Tokens()) {
		t.Errorf("parallel vocab differs from the sequential one")
	}
	all := e.EncodeAll(corpus)
	for i, s := range corpus {
		if !slices.Equal(all[i], e.Encode(s)) {
			t.Fatalf("EncodeAll[%d] = %v, want %v", i, all[i], e.Encode(s))
		}
	}
}
