package text

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestReadLabelledFiles(t *testing.T) {
	tests := []struct {
		path    string
		cfg     LabelledConfig
		texts   []string
		labels  []int
		classes []string
		lines   []int
	}{
		{"testdata/reviews.tsv", LabelledConfig{}, []string{"Bad film.<br /><br />Really.", "Great &amp; fun!", "Loved it"}, []int{0, 1, 1}, []string{"0", "1"}, []int{2, 3, 4}},
		{"testdata/reviews.tsv.gz", LabelledConfig{Label: "rating"}, []string{"Bad film.<br /><br />Really.", "Great &amp; fun!", "Loved it"}, []int{0, 2, 1}, []string{"3", "8", "9"}, []int{2, 3, 4}},
		{"testdata/reviews.tsv", LabelledConfig{Text: "3", Label: "0"}, []string{"Bad film.<br /><br />Really.", "Great &amp; fun!", "Loved it"}, []int{0, 1, 1}, []string{"0", "1"}, []int{2, 3, 4}},
		{"testdata/reviews.tsv", LabelledConfig{NoHeader: true, Text: "2", Label: "1"}, []string{"id", "0", "1", "2"}, []int{3, 0, 2, 1}, []string{"3", "8", "9", "rating"}, []int{1, 2, 3, 4}},
		{"testdata/small.csv", LabelledConfig{}, []string{"Hello, world", "multi\nline", "plain"}, []int{1, 0, 1}, []string{"neg", "pos"}, []int{2, 3, 5}},
		{"testdata/small.jsonl", LabelledConfig{}, []string{"good", "bad", "num"}, []int{2, 1, 0}, []string{"3", "neg", "pos"}, []int{1, 3, 4}},
		{"testdata/bom.csv", LabelledConfig{}, []string{"a, b"}, []int{0}, []string{"x"}, []int{2}},
		{"testdata/bool.jsonl", LabelledConfig{}, []string{"a", "b"}, []int{1, 0}, []string{"false", "true"}, []int{1, 2}},
		{"testdata/small.jsonl", LabelledConfig{Classes: []string{"pos", "neg", "3"}}, []string{"good", "bad", "num"}, []int{0, 1, 2}, []string{"pos", "neg", "3"}, []int{1, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := ReadLabelledFile(tt.path, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Texts, tt.texts) || !slices.Equal(got.Labels, tt.labels) || !slices.Equal(got.Classes, tt.classes) || !slices.Equal(got.Lines, tt.lines) {
				t.Errorf("got texts %q labels %v classes %q lines %v\nwant texts %q labels %v classes %q lines %v",
					got.Texts, got.Labels, got.Classes, got.Lines, tt.texts, tt.labels, tt.classes, tt.lines)
			}
		})
	}
}

func TestClassListNumericOrder(t *testing.T) {
	if got, want := classList([]string{"10", "2", "-1", "2"}), []string{"-1", "2", "10"}; !slices.Equal(got, want) {
		t.Errorf("classList = %q, want %q", got, want)
	}
	if got, want := classList([]string{"b", "10", "a"}), []string{"10", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("classList = %q, want %q", got, want)
	}
}

func TestReadLabelledBroken(t *testing.T) {
	tests := []struct {
		path string
		cfg  LabelledConfig
		want string // error prefix
	}{
		{"testdata/bad_utf8.tsv", LabelledConfig{}, "testdata/bad_utf8.tsv:3:5: invalid UTF-8 byte 0xff"},
		{"testdata/missing_column.tsv", LabelledConfig{}, "testdata/missing_column.tsv:1: missing column \"text\""},
		{"testdata/short_row.tsv", LabelledConfig{}, "testdata/short_row.tsv:3:15: 1 fields, want at least 2"},
		{"testdata/empty.tsv", LabelledConfig{}, "testdata/empty.tsv: no data rows"},
		{"testdata/header_only.tsv", LabelledConfig{}, "testdata/header_only.tsv: no data rows"},
		{"testdata/bad_syntax.jsonl", LabelledConfig{}, "testdata/bad_syntax.jsonl:2:"},
		{"testdata/bad_quote.csv", LabelledConfig{}, "testdata/bad_quote.csv:3:"},
		{"testdata/reviews.tsv", LabelledConfig{Classes: []string{"1"}}, "testdata/reviews.tsv:2:1: unknown label \"0\""},
		{"testdata/reviews.tsv", LabelledConfig{Label: "rating", Classes: []string{"3", "9"}}, "testdata/reviews.tsv:4:3: unknown label \"8\""},
		{"testdata/bad_label.jsonl", LabelledConfig{}, "testdata/bad_label.jsonl:2:1: key \"label\": want a string, number or boolean, got [1]"},
		{"testdata/small.jsonl", LabelledConfig{Label: "class"}, "testdata/small.jsonl:1:1: missing key \"class\""},
		{"testdata/small.csv", LabelledConfig{Classes: []string{"pos"}}, "testdata/small.csv:4:7: unknown label \"neg\""},
		{"testdata/reviews.tsv", LabelledConfig{NoHeader: true}, "testdata/reviews.tsv: column \"text\": without a header"},
		{"testdata/no_such_file.tsv", LabelledConfig{}, "open testdata/no_such_file.tsv"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := ReadLabelledFile(tt.path, tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want prefix %q", err, tt.want)
			}
			var pe *ParseError
			if !strings.HasPrefix(tt.want, "open") && !errors.As(err, &pe) {
				t.Errorf("error %v is not a *ParseError", err)
			}
		})
	}
}

func TestReadLabelledIMDBExcerpt(t *testing.T) {
	got, err := ReadLabelledFile("testdata/imdb_head.tsv", LabelledConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Labels, []int{0, 0, 1, 1}) || !slices.Equal(got.Classes, []string{"0", "1"}) {
		t.Errorf("labels %v classes %q, want [0 0 1 1] [0 1]", got.Labels, got.Classes)
	}
	c := Cleaner{StripHTML: true, FoldSpace: true, Lower: true}
	for i, s := range got.Texts {
		if strings.Contains(c.Clean(s), "<br") {
			t.Errorf("review %d still has a <br> tag after cleaning", i)
		}
	}
}

func TestReadPairs(t *testing.T) {
	pairs, err := ReadPairsFile("testdata/fra_head.txt", PairsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 40 || pairs[0] != (Pair{"Go.", "Va !"}) || pairs[1] != (Pair{"Run!", "Cours\u202f!"}) {
		t.Errorf("got %d pairs starting %q, want 40 starting {Go. Va !} {Run! Cours\u202f!}", len(pairs), pairs[:2])
	}
	rev, err := ReadPairsFile("testdata/fra_head.txt", PairsConfig{Src: 1, Tgt: 0, Max: 3, Header: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rev) != 3 || rev[0] != (Pair{"Cours\u202f!", "Run!"}) {
		t.Errorf("reversed = %q, want 3 pairs from line 2, reversed", rev)
	}
	short, err := ReadPairs(strings.NewReader("a b\tx y z\na b c\td\nk\tl m n o\n"), "p.tsv", PairsConfig{MaxWords: 3})
	if err != nil || len(short) != 2 || short[1] != (Pair{"a b c", "d"}) {
		t.Errorf("MaxWords 3: got %q, %v; want the first two pairs", short, err)
	}
	for _, tt := range []struct{ path, want string }{
		{"testdata/bad_pairs.txt", "testdata/bad_pairs.txt:2:12: 1 fields, want at least 2"},
		{"testdata/empty.tsv", "testdata/empty.tsv: no data rows"},
		{"testdata/bad_utf8.tsv", "testdata/bad_utf8.tsv:3:5: invalid UTF-8"},
	} {
		if _, err := ReadPairsFile(tt.path, PairsConfig{}); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ReadPairsFile(%s) error = %v, want prefix %q", tt.path, err, tt.want)
		}
	}
}

func TestReadText(t *testing.T) {
	s, err := ReadTextFile("testdata/shakespeare_head.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 4000 || !strings.HasPrefix(s, "First Citizen:\n") {
		t.Errorf("got %d bytes starting %q", len(s), s[:min(len(s), 15)])
	}
	_, err = ReadText(strings.NewReader("ab\ncd\xc3"), "x.txt")
	if err == nil || err.Error() != "x.txt:2:3: invalid UTF-8 byte 0xc3" {
		t.Errorf("error = %v, want x.txt:2:3: invalid UTF-8 byte 0xc3", err)
	}
	if _, err := ReadText(strings.NewReader(""), "e.txt"); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty input error = %v, want ErrEmpty", err)
	}
}

func TestReadLabelledSets(t *testing.T) {
	in := "text\tlabel\nrain in spain\tweather| spain\nfootball\tsports\nnothing\t\nagain\tspain|spain\n"
	l, err := ReadLabelled(strings.NewReader(in), "tags.tsv", LabelledConfig{LabelSep: "|"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(l.Classes), "[spain sports weather]"; got != want {
		t.Errorf("classes %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(l.Sets), "[[0 2] [1] [] [0]]"; got != want || l.Labels != nil {
		t.Errorf("sets %s (labels %v), want %s", got, l.Labels, want)
	}
	sub := l.Subset([]int{3, 0})
	if got := fmt.Sprint(sub.Sets); got != "[[0] [0 2]]" {
		t.Errorf("subset sets %s", got)
	}
	_, err = ReadLabelled(strings.NewReader(in), "tags.tsv", LabelledConfig{LabelSep: "|", Classes: []string{"spain", "weather"}})
	if err == nil || !strings.Contains(err.Error(), `tags.tsv:3:`) || !strings.Contains(err.Error(), `unknown label "sports"`) {
		t.Errorf("a label outside the classes: %v", err)
	}
}
