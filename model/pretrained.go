package model

import (
	"fmt"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/tensor"
)

// Pretrained loads pretrained word vectors (GloVe, word2vec, fastText's
// .vec: the text format, gzip allowed) into a text model's input
// embedding before training: the rows of the vocabulary's tokens that
// the file holds (lookup is exact: lowercase the texts for GloVe's
// lowercase vocabulary); the other rows keep their random
// initialization. The embedding width becomes the vectors' (Spec.Embed
// must be zero or equal to it).
type Pretrained struct {
	// File is the vectors' path; empty: none.
	File string
	// Freeze keeps the loaded embedding fixed during training (PyTorch's
	// nn.Embedding.from_pretrained(freeze=True)).
	Freeze bool
}

// vectors are the vectors read for one vocabulary.
type vectors struct {
	m   *tensor.Tensor // (V, E)
	cov text.Coverage
}

// read reads the vectors of v's tokens and sets s.Embed to their width;
// nil without a file.
func (p Pretrained) read(v *text.Vocab, s *Spec) (*vectors, error) {
	if p.File == "" {
		if p.Freeze {
			return nil, &FitError{"Embeddings.Freeze", true, "false without Embeddings.File (it freezes the loaded vectors)"}
		}
		return nil, nil
	}
	m, cov, err := text.ReadEmbeddingsFile(nil, p.File, v)
	if err != nil {
		return nil, fmt.Errorf("model: embeddings: %w", err)
	}
	if s.Embed != 0 && s.Embed != cov.Dim {
		return nil, &SpecError{"embed", s.Embed, fmt.Sprintf("0 or %d, the width of the vectors in %s", cov.Dim, p.File)}
	}
	s.Embed = cov.Dim
	return &vectors{m: m, cov: cov}, nil
}

// load copies the rows that got a vector into the embedding weight emb
// (V, E) and returns the coverage and the parameter patterns to freeze.
func (vs *vectors) load(emb *tensor.Tensor, p Pretrained, param string) (*text.Coverage, []string) {
	if vs == nil {
		return nil, nil
	}
	E := vs.cov.Dim
	for _, id := range vs.cov.Rows {
		copy(emb.Data[id*E:(id+1)*E], vs.m.Data[id*E:(id+1)*E])
	}
	cov := vs.cov
	if p.Freeze {
		return &cov, []string{param}
	}
	return &cov, nil
}
