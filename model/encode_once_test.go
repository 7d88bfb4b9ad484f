package model

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestGenerateIDs: generating from a prompt's ids (what a server that
// checks the prompt's length first runs) gives Generate's text, sampled
// as well as greedy, and ids outside the vocabulary or none at all are
// refused with an error, not a panic.
func TestGenerateIDs(t *testing.T) {
	fc := fit(3)
	fc.BatchSize = 4
	m, err := NewLanguageModel(LMConfig{Spec: Spec{Hidden: 8}, SeqLen: 10, Fit: fc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), strings.Repeat("hello world. ", 20), ""); err != nil {
		t.Fatal(err)
	}
	prompt := "hello wor" + strings.Repeat("ld. hello ", 8) // more than one chunk of promptChunk tokens
	for _, sc := range []SampleConfig{{}, {Temperature: 0.9, TopK: 3}} {
		want, err := m.Generate(context.Background(), prompt, 10, sc, tensor.NewRNG(5))
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.GenerateIDs(context.Background(), m.Encoder().Encode(prompt), 10, sc, tensor.NewRNG(5))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: GenerateIDs gave %+v, %v; want Generate's %+v", sc, got, err, want)
		}
	}
	V := m.Spec().Vocab
	for _, ids := range [][]int{nil, {0, V}, {-1}} {
		if _, err := m.GenerateIDs(context.Background(), ids, 3, SampleConfig{}, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "prompt") {
			t.Errorf("prompt ids %v (vocabulary %d): %v, want an error naming the prompt", ids, V, err)
		}
	}
}

// TestTranslateIDs: translating a source's ids gives Translate's output,
// attention and unknown count, greedy and with beam search, and bad ids
// are refused with an error.
func TestTranslateIDs(t *testing.T) {
	m, err := NewTranslator(TranslateConfig{Spec: Spec{Hidden: 8}, Fit: fit(3)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), numberPairs(40, 1), nil); err != nil {
		t.Fatal(err)
	}
	src := "three one zebra five"
	for _, o := range []TranslateOptions{{}, {MaxLen: 4}, {Beam: 3, LengthPenalty: 1}} {
		want, err := m.Translate(context.Background(), src, o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.TranslateIDs(context.Background(), m.Prep().Src.Encode(src), o)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: TranslateIDs gave %+v, %v; want Translate's %+v", o, got, err, want)
		}
		if want.Unknown != 1 {
			t.Errorf("%q: %d unknown source tokens, want 1", src, want.Unknown)
		}
	}
	V := m.Prep().Src.Vocab.Len()
	for _, ids := range [][]int{nil, {1, V}, {-2}} {
		if _, err := m.TranslateIDs(context.Background(), ids, TranslateOptions{}); err == nil || !strings.Contains(err.Error(), "source") {
			t.Errorf("source ids %v (vocabulary %d): %v, want an error naming the source", ids, V, err)
		}
	}
}
