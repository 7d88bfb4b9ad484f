package text

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestBuildVocabOrder(t *testing.T) {
	c := Counts{}
	c.Add(strings.Fields("b a c a b a d <unk> e e"))
	tests := []struct {
		name string
		cfg  VocabConfig
		want []string
	}{
		{"all", VocabConfig{}, []string{"<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "e", "c", "d"}},
		{"min freq", VocabConfig{MinFreq: 2}, []string{"<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "e"}},
		{"max size", VocabConfig{MaxSize: 6}, []string{"<pad>", "<unk>", "<bos>", "<eos>", "a", "b"}},
		{"custom specials", VocabConfig{Specials: &Specials{Unk: "[UNK]", Extra: []string{"[SEP]"}}}, []string{"[UNK]", "[SEP]", "a", "b", "e", "<unk>", "c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := BuildVocab(c, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Tokens(); !slices.Equal(got, tt.want) {
				t.Errorf("tokens = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVocabSpecialsAndUnknown(t *testing.T) {
	v, err := BuildVocab(Counts{"x": 3, "y": 1}, VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Pad != 0 || v.Unk != 1 || v.BOS != 2 || v.EOS != 3 {
		t.Errorf("specials pad,unk,bos,eos = %d,%d,%d,%d, want 0,1,2,3", v.Pad, v.Unk, v.BOS, v.EOS)
	}
	got := v.Encode(nil, []string{"x", "zzz", "y"})
	if want := []int{4, 1, 5}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := v.Decode(nil, []int{5, 4}); !slices.Equal(got, []string{"y", "x"}) {
		t.Errorf("Decode = %q", got)
	}
	if got, want := v.Wrap([]int{4, 5}), []int{2, 4, 5, 3}; !slices.Equal(got, want) {
		t.Errorf("Wrap = %v, want %v", got, want)
	}
	v2, err := BuildVocab(Counts{"x": 1}, VocabConfig{Specials: &Specials{Unk: "?"}})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Pad != -1 || v2.Unk != 0 || v2.BOS != -1 || v2.EOS != -1 {
		t.Errorf("absent specials = %d,%d,%d,%d, want -1,0,-1,-1", v2.Pad, v2.Unk, v2.BOS, v2.EOS)
	}
	if got := v2.Wrap([]int{1}); !slices.Equal(got, []int{1}) {
		t.Errorf("Wrap without bos/eos = %v, want [1]", got)
	}
}

func TestVocabErrors(t *testing.T) {
	if _, err := BuildVocab(Counts{}, VocabConfig{Specials: &Specials{Pad: "p"}}); err == nil {
		t.Error("no unk: got nil error")
	}
	if _, err := BuildVocab(Counts{}, VocabConfig{MaxSize: 2}); err == nil {
		t.Error("MaxSize below specials: got nil error")
	}
	if _, err := NewVocab([]string{"a", "a"}, DefaultSpecials); err == nil {
		t.Error("duplicate token: got nil error")
	}
}

func TestVocabSaveLoad(t *testing.T) {
	v, err := BuildVocab(Counts{"é": 2, "b": 2, "\"q\"": 1}, VocabConfig{Specials: &Specials{Pad: "<p>", Unk: "<u>", Extra: []string{"<sep>"}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := v.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadVocab(&buf, "v.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tokens(), v.Tokens()) || got.Pad != v.Pad || got.Unk != v.Unk || got.BOS != -1 || got.Specials().Extra[0] != "<sep>" {
		t.Errorf("loaded %q pad %d unk %d bos %d, want %q pad %d unk %d bos -1", got.Tokens(), got.Pad, got.Unk, got.BOS, v.Tokens(), v.Pad, v.Unk)
	}
}

func TestReadVocabBad(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "v.json: text: empty input"},
		{"syntax", "{\"format\":\n\"recur-vocab\",,}", "v.json:2:15:"},
		{"format", `{"format":"x","version":1,"specials":{"unk":"u"},"tokens":["u"]}`, "format \"x\""},
		{"specials order", `{"format":"recur-vocab","version":1,"specials":{"pad":"p","unk":"u"},"tokens":["u","p"]}`, "token 0 is \"u\", want special \"p\""},
		{"duplicate", `{"format":"recur-vocab","version":1,"specials":{"unk":"u"},"tokens":["u","a","a"]}`, "occurs twice"},
		{"no unk", `{"format":"recur-vocab","version":1,"specials":{"unk":""},"tokens":["a"]}`, "needs an unknown token"},
		{"too few", `{"format":"recur-vocab","version":1,"specials":{"unk":"u","pad":"p"},"tokens":["p"]}`, "fewer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadVocab(strings.NewReader(tt.in), "v.json")
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadVocab(%q) error = %v, want a *ParseError containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestEncoderRoundTrip(t *testing.T) {
	s := "First Citizen:\nBefore we proceed"
	var tok CharTokenizer
	c := Counts{}
	c.Add(tok.Tokenize(s))
	v, err := BuildVocab(c, VocabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e := Encoder{Tok: tok, Vocab: v}
	ids := e.Encode(s)
	if got := e.Decode(ids); got != s {
		t.Errorf("Decode(Encode(%q)) = %q", s, got)
	}
	if got := e.Decode(append([]int{v.Pad}, e.Encode("Fq")...)); got != "F<unk>" {
		t.Errorf("Decode with pad and unknown = %q, want %q", got, "F<unk>")
	}
}
