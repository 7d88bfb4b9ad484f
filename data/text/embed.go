package text

import (
	"fmt"
	"io"
	"strconv"

	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/tensor"
)

// Coverage reports how much of a vocabulary an embedding file covered.
type Coverage struct {
	Found, Total int      // vocabulary ids that got a vector / all ids (specials included)
	Dim          int      // E, the vector length
	Vectors      int      // vector lines read from the file
	Specials     []string // special tokens that got a vector from the file
	Missing      []string // non-special tokens without a vector, in id order
	Rows         []int    // the ids that got a vector, increasing
}

// String summarises the coverage, e.g. "9123/10004 tokens (91.2%), E=100".
func (c Coverage) String() string {
	pct := 0.0
	if c.Total > 0 {
		pct = 100 * float64(c.Found) / float64(c.Total)
	}
	return fmt.Sprintf("%d/%d tokens (%.1f%%), E=%d", c.Found, c.Total, pct, c.Dim)
}

// embeddingLimits are the limits of ReadEmbeddings: lines of the default
// 1 MiB (a 300-dimensional vector takes about 3 KB) and no file limit,
// since the file is streamed and only the vocabulary's vectors kept
// (GloVe's 840B file is 5.6 GB).
var embeddingLimits = input.Limits{MaxFileBytes: -1}

// ReadEmbeddings reads pretrained vectors in the word2vec/GloVe text
// format — one "word v1 v2 ... vE" line per word, fields separated by
// spaces or tabs, with an optional first line "N E" (word2vec) — and
// copies the vector of every vocabulary token into row id of a (V, E)
// matrix. Lookup is exact (apply the tokenizer's lowercasing before
// building the vocabulary); the first vector of a repeated word wins.
//
// If dst is nil a zero (V, E) matrix is allocated; otherwise dst must be
// (V, E) and rows without a vector keep their values, so the caller can
// initialise dst (say, with small random values) first. The returned
// Coverage lists what was found. name is used in errors: a ragged line,
// a bad number, invalid UTF-8, a bad header or an empty file is a
// *ParseError with file, line and column.
func ReadEmbeddings(dst *tensor.Tensor, r io.Reader, name string, v *Vocab) (*tensor.Tensor, Coverage, error) {
	cov := Coverage{Total: v.Len()}
	lr := newLineReader(r, name, embeddingLimits)
	seen := make([]bool, v.Len())
	var vec []float32
	for {
		b, ok := lr.next()
		if !ok {
			break
		}
		fields, cols := splitFields(string(b))
		if len(fields) == 0 {
			continue
		}
		if cov.Dim == 0 {
			if lr.line == 1 && len(fields) == 2 && isUint(fields[0]) && isUint(fields[1]) {
				d, _ := strconv.Atoi(fields[1])
				if d <= 0 {
					return nil, cov, errAt(name, 1, cols[1], "header dimension %q must be > 0", fields[1])
				}
				cov.Dim = d
				continue
			}
			cov.Dim = len(fields) - 1
			if cov.Dim == 0 {
				return nil, cov, errAt(name, lr.line, len(b)+1, "word %q has no vector", fields[0])
			}
		}
		if len(fields)-1 != cov.Dim {
			return nil, cov, errAt(name, lr.line, len(b)+1, "%d values, want %d", len(fields)-1, cov.Dim)
		}
		if dst == nil {
			dst = tensor.New(v.Len(), cov.Dim)
		} else if cov.Vectors == 0 && (len(dst.Shape) != 2 || dst.Shape[0] != v.Len() || dst.Shape[1] != cov.Dim) {
			return nil, cov, errAt(name, lr.line, 0, "vectors have E=%d but dst has shape %v, want [%d %d]", cov.Dim, dst.Shape, v.Len(), cov.Dim)
		}
		vec = vec[:0]
		for i, f := range fields[1:] {
			x, err := strconv.ParseFloat(f, 32)
			if err != nil {
				return nil, cov, errAt(name, lr.line, cols[i+1], "bad number %q", f)
			}
			vec = append(vec, float32(x))
		}
		cov.Vectors++
		id, ok := v.ID(fields[0])
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		copy(dst.Data[id*cov.Dim:(id+1)*cov.Dim], vec)
	}
	if lr.err != nil {
		return nil, cov, lr.err
	}
	if cov.Vectors == 0 {
		return nil, cov, &ParseError{File: name, Err: fmt.Errorf("no vectors: %w", ErrEmpty)}
	}
	nSpecial := len(v.specials.list())
	for id, ok := range seen {
		switch {
		case ok && id < nSpecial:
			cov.Specials = append(cov.Specials, v.tokens[id])
		case !ok && id >= nSpecial:
			cov.Missing = append(cov.Missing, v.tokens[id])
		}
		if ok {
			cov.Found++
			cov.Rows = append(cov.Rows, id)
		}
	}
	return dst, cov, nil
}

// ReadEmbeddingsFile is [ReadEmbeddings] on the file at path (gzip
// allowed).
func ReadEmbeddingsFile(dst *tensor.Tensor, path string, v *Vocab) (*tensor.Tensor, Coverage, error) {
	f, err := Open(path)
	if err != nil {
		return nil, Coverage{}, err
	}
	defer f.Close()
	return ReadEmbeddings(dst, f, path, v)
}

// splitFields splits a line at spaces and tabs and returns the fields and
// their 1-based byte columns.
func splitFields(line string) (fields []string, cols []int) {
	start := -1
	for i := 0; i <= len(line); i++ {
		sep := i == len(line) || line[i] == ' ' || line[i] == '\t'
		switch {
		case sep && start >= 0:
			fields = append(fields, line[start:i])
			cols = append(cols, start+1)
			start = -1
		case !sep && start < 0:
			start = i
		}
	}
	return fields, cols
}

func isUint(s string) bool {
	_, err := strconv.ParseUint(s, 10, 31)
	return err == nil
}
