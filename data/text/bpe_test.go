package text

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestPieces(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"the cat", []string{"the", " cat"}},
		{"Hi,  you 42!\n\nOK", []string{"Hi", ",", " ", " you", " 42", "!", "\n\n", "OK"}},
		{" a", []string{" a"}},
		{"a ", []string{"a", " "}},
		{"x\t y", []string{"x", "\t", " y"}},
		{"été", []string{"été"}},
		{"", nil},
	}
	for _, tt := range tests {
		got := pieces(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("pieces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTrainBPESmall(t *testing.T) {
	// "low" x5, "lower" x2, "newest" x6, "widest" x3 (Sennrich et al.'s example).
	corpus := strings.Repeat("low ", 5) + strings.Repeat("lower ", 2) + strings.Repeat("newest ", 6) + strings.Repeat("widest ", 3)
	b, err := TrainBPE(corpus, BPEConfig{Size: 20})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Merges()
	if len(m) < 3 {
		t.Fatalf("merges %q, want at least 3", m)
	}
	// "es" and "st" both occur 9 times; "e" < "s" breaks the tie.
	if m[0] != [2]string{"e", "s"} || m[1] != [2]string{"es", "t"} {
		t.Errorf("first merges %q, want [e s] then [es t]", m[:2])
	}
	if got := b.Tokenize(" lowest"); !slices.Equal(got, []string{" low", "est"}) {
		t.Errorf("Tokenize(\" lowest\") = %q, want [\" low\" \"est\"]", got)
	}
	if n := len(b.Symbols()); n != 20 {
		t.Errorf("%d symbols, want Size 20", n)
	}
}

func TestBPERoundTripAndDeterminism(t *testing.T) {
	data, err := os.ReadFile("testdata/shakespeare_head.txt")
	if err != nil {
		t.Fatal(err)
	}
	corpus := string(data)
	b1, err := TrainBPE(corpus, BPEConfig{Size: 200})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := TrainBPE(corpus, BPEConfig{Size: 200})
	if !slices.Equal(b1.Merges(), b2.Merges()) {
		t.Error("two trainings on the same corpus gave different merges")
	}
	toks := b1.Tokenize(corpus)
	if got := b1.Detokenize(toks); got != corpus {
		t.Error("Detokenize(Tokenize(corpus)) differs from corpus")
	}
	if len(toks)*2 > len(corpus) {
		t.Errorf("%d tokens for %d characters: BPE with 200 symbols should at least halve", len(toks), len(corpus))
	}
	for _, s := range []string{"", "Zebra ünïcode 你好 \t\n", "a\xffb"} {
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got := b1.Detokenize(b1.Tokenize(s)); got != want {
			t.Errorf("round trip of %q = %q", s, got)
		}
	}
	v, err := NewVocab(b1.Symbols(), DefaultSpecials)
	if err != nil {
		t.Fatal(err)
	}
	e := Encoder{Tok: b1, Vocab: v}
	ids := e.Encode(corpus)
	for i, id := range ids {
		if id == v.Unk {
			t.Fatalf("token %d %q of the training corpus is unknown", i, toks[i])
		}
	}
	if e.Decode(ids) != corpus {
		t.Error("Decode(Encode(corpus)) differs from corpus")
	}

	var buf bytes.Buffer
	if _, err := b1.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := ReadBPE(&buf, "bpe.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded.Tokenize(corpus), toks) {
		t.Error("loaded BPE tokenizes differently")
	}
}

func TestTrainBPEErrors(t *testing.T) {
	if _, err := TrainBPE("abc", BPEConfig{Size: 2}); err == nil {
		t.Error("Size below alphabet: got nil error")
	}
	if _, err := TrainBPE("abc", BPEConfig{Size: 5, MinPairFreq: -1}); err == nil {
		t.Error("negative MinPairFreq: got nil error")
	}
	b, err := TrainBPE("abab", BPEConfig{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Merges(); len(got) != 1 {
		t.Errorf("merges %q: training should stop when no pair occurs twice", got)
	}
}

func TestReadBPEBad(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", " ", "b.json: text: empty input"},
		{"syntax", "{\n]", "b.json:2:1:"},
		{"format", `{"format":"recur-vocab","version":1}`, "format"},
		{"alphabet", `{"format":"recur-bpe","version":1,"alphabet":["ab"],"merges":[]}`, "not a distinct single character"},
		{"unknown symbol", `{"format":"recur-bpe","version":1,"alphabet":["a"],"merges":[["a","b"]]}`, "unknown symbol"},
		{"repeat", `{"format":"recur-bpe","version":1,"alphabet":["a"],"merges":[["a","a"],["a","a"]]}`, "repeats"},
	}
	for _, tt := range tests {
		if _, err := ReadBPE(strings.NewReader(tt.in), "b.json"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// naiveBPE trains like TrainBPE but recounts every pair from scratch at
// each step, over string symbols: the reference for the incremental
// bookkeeping.
func naiveBPE(corpus string, size int) [][2]string {
	counts := map[string]int{}
	for _, p := range pieces(corpus) {
		counts[p]++
	}
	var words [][]string
	var freq []int
	symbols := map[string]bool{}
	for _, p := range slices.Sorted(mapKeys(counts)) {
		var w []string
		for _, r := range p {
			w = append(w, string(r))
			symbols[string(r)] = true
		}
		words, freq = append(words, w), append(freq, counts[p])
	}
	var merges [][2]string
	for len(symbols) < size {
		pc := map[[2]string]int{}
		for i, w := range words {
			for j := 0; j+1 < len(w); j++ {
				pc[[2]string{w[j], w[j+1]}] += freq[i]
			}
		}
		var best [2]string
		bestN := 0
		for p, n := range pc {
			if n > bestN || n == bestN && (p[0] < best[0] || p[0] == best[0] && p[1] < best[1]) {
				best, bestN = p, n
			}
		}
		if bestN < 2 {
			break
		}
		merges = append(merges, best)
		symbols[best[0]+best[1]] = true
		for i, w := range words {
			var out []string
			for j := 0; j < len(w); j++ {
				if j+1 < len(w) && w[j] == best[0] && w[j+1] == best[1] {
					out = append(out, best[0]+best[1])
					j++
				} else {
					out = append(out, w[j])
				}
			}
			words[i] = out
		}
	}
	return merges
}

func TestTrainBPEMatchesNaive(t *testing.T) {
	data, err := os.ReadFile("testdata/shakespeare_head.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, corpus := range []string{string(data), "aaaa aaa aa a abab baba ababab", "ééé ée éé 12 1212 121 !!! !!"} {
		b, err := TrainBPE(corpus, BPEConfig{Size: 300})
		if err != nil {
			t.Fatal(err)
		}
		want := naiveBPE(corpus, 300)
		if len(want) < 3 {
			t.Fatalf("reference learned only %d merges on %q...", len(want), corpus[:10])
		}
		if got := b.Merges(); !slices.Equal(got, want) {
			n := 0
			for n < min(len(got), len(want)) && got[n] == want[n] {
				n++
			}
			t.Errorf("%d merges, want %d; first difference at %d", len(got), len(want), n)
		}
	}
}
