package text

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func testVocab(t *testing.T, words ...string) *Vocab {
	t.Helper()
	v, err := NewVocab(words, DefaultSpecials)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReadEmbeddings(t *testing.T) {
	v := testVocab(t, "the", "cat", "dog") // ids: specials 0-3, the 4, cat 5, dog 6
	tests := []struct {
		path     string
		rows     map[int][]float32
		found    int
		specials []string
		missing  []string
		vectors  int
	}{
		{"testdata/vectors_w2v.txt", map[int][]float32{4: {0.1, 0.2, 0.3}, 5: {-1, 0, 0.01}, 1: {9, 9, 9}}, 3, []string{"<unk>"}, []string{"dog"}, 4},
		{"testdata/vectors_glove.txt.gz", map[int][]float32{4: {0.1, 0.2, 0.3}, 6: {1, 2, 3}}, 2, nil, []string{"cat"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dst := tensor.New(v.Len(), 3)
			for i := range dst.Data {
				dst.Data[i] = -7
			}
			got, cov, err := ReadEmbeddingsFile(dst, tt.path, v)
			if err != nil {
				t.Fatal(err)
			}
			if got != dst {
				t.Error("ReadEmbeddings did not return dst")
			}
			for id := range v.Len() {
				want, ok := tt.rows[id]
				if !ok {
					want = []float32{-7, -7, -7}
				}
				if row := got.Data[id*3 : id*3+3]; !slices.Equal(row, want) {
					t.Errorf("row %d (%q) = %v, want %v", id, v.Token(id), row, want)
				}
			}
			var rows []int
			for id := range v.Len() {
				if _, ok := tt.rows[id]; ok {
					rows = append(rows, id)
				}
			}
			if !slices.Equal(cov.Rows, rows) {
				t.Errorf("coverage rows %v, want %v", cov.Rows, rows)
			}
			if cov.Found != tt.found || cov.Total != 7 || cov.Dim != 3 || cov.Vectors != tt.vectors || !slices.Equal(cov.Specials, tt.specials) || !slices.Equal(cov.Missing, tt.missing) {
				t.Errorf("coverage %+v, want found %d of 7, E=3, %d vectors, specials %q, missing %q", cov, tt.found, tt.vectors, tt.specials, tt.missing)
			}
		})
	}
	got, cov, err := ReadEmbeddingsFile(nil, "testdata/vectors_glove.txt", v)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Shape, []int{7, 3}) || got.Data[0] != 0 || cov.String() != "2/7 tokens (28.6%), E=3" {
		t.Errorf("nil dst: shape %v row 0 %v coverage %q", got.Shape, got.Data[:3], cov)
	}
}

func TestReadEmbeddingsBroken(t *testing.T) {
	v := testVocab(t, "the", "cat")
	tests := []struct {
		path string
		dst  *tensor.Tensor
		want string
	}{
		{"testdata/ragged_vectors.txt", nil, "testdata/ragged_vectors.txt:2:8: 2 values, want 3"},
		{"testdata/bad_number_vectors.txt", nil, "testdata/bad_number_vectors.txt:2:7: bad number \"x2\""},
		{"testdata/bad_utf8_vectors.txt", nil, "testdata/bad_utf8_vectors.txt:2:2: invalid UTF-8 byte 0xe9"},
		{"testdata/empty.tsv", nil, "testdata/empty.tsv: no vectors"},
		{"testdata/blank_vectors.txt", nil, "testdata/blank_vectors.txt: no vectors"},
		{"testdata/vectors_glove.txt", tensor.New(6, 4), "testdata/vectors_glove.txt:1: vectors have E=3 but dst has shape [6 4], want [6 3]"},
	}
	for _, tt := range tests {
		_, _, err := ReadEmbeddingsFile(tt.dst, tt.path, v)
		var pe *ParseError
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.As(err, &pe) {
			t.Errorf("%s: error = %v, want a *ParseError starting %q", tt.path, err, tt.want)
		}
	}
	_, _, err := ReadEmbeddings(nil, strings.NewReader("1 0\n"), "h.txt", v)
	if err == nil || !strings.HasPrefix(err.Error(), "h.txt:1:3: header dimension") {
		t.Errorf("zero header dimension: error = %v", err)
	}
}
