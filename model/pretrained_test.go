package model

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vectorsFile writes 3-wide vectors for a few of sentiment's words: good
// and great close together, bad and awful close together, far apart.
func vectorsFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vec.txt")
	body := "good 1 1 0\ngreat 0.9 1 0\nbad -1 -1 0\nawful -0.9 -1 0\nzebra 5 5 5\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPretrainedEmbeddings(t *testing.T) {
	path := vectorsFile(t)
	for _, freeze := range []bool{true, false} {
		c, err := NewClassifier(ClassifyConfig{Spec: Spec{Hidden: 8}, Embeddings: Pretrained{File: path, Freeze: freeze}, Fit: fit(3)})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Fit(context.Background(), sentiment(100, 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		cov := rep.Embeddings
		if cov == nil || cov.Found != 4 || cov.Dim != 3 || c.Spec().Embed != 3 {
			t.Fatalf("freeze %v: coverage %v, embed %d; want 4 tokens of width 3", freeze, cov, c.Spec().Embed)
		}
		id, ok := c.Encoder().Vocab.ID("good")
		if !ok {
			t.Fatal("good is not in the vocabulary")
		}
		good := c.net.emb.Weight.Value.Data[id*3 : id*3+3]
		if frozen := slices.Equal(good, []float32{1, 1, 0}); frozen != freeze {
			t.Errorf("freeze %v: the row of good after training is %v (loaded 1 1 0)", freeze, good)
		}
	}
	for _, c := range []struct {
		cfg  ClassifyConfig
		want string
	}{
		{ClassifyConfig{Spec: Spec{Embed: 4}, Embeddings: Pretrained{File: path}}, "embed = 4: want 0 or 3, the width of the vectors"},
		{ClassifyConfig{Embeddings: Pretrained{Freeze: true}}, "Embeddings.Freeze"},
		{ClassifyConfig{Embeddings: Pretrained{File: filepath.Join(t.TempDir(), "none.txt")}}, "none.txt"},
	} {
		m, err := NewClassifier(c.cfg)
		if err == nil {
			_, err = m.Fit(context.Background(), sentiment(20, 1), nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error with %q", c.cfg.Embeddings, err, c.want)
		}
	}
}
