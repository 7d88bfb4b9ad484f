package model

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/tensor"
)

// tagged makes texts whose label set is the topics whose keyword they
// contain: rain → weather, goal → sports, vote → politics; some have
// none, some two.
func tagged(n int, seed uint64) *text.Labelled {
	keys := []string{"rain", "goal", "vote"}
	filler := []string{"the", "a", "today", "news", "was", "big"}
	rng := tensor.NewRNG(seed)
	l := &text.Labelled{Classes: []string{"weather", "sports", "politics"}}
	for range n {
		var w []string
		for range 3 + rng.IntN(4) {
			w = append(w, filler[rng.IntN(len(filler))])
		}
		set := []int{}
		for k := range keys {
			if rng.Float64() < 0.4 {
				w[rng.IntN(len(w))] = keys[k]
			}
		}
		for k, key := range keys {
			if slices.Contains(w, key) {
				set = append(set, k)
			}
		}
		l.Texts = append(l.Texts, strings.Join(w, " "))
		l.Sets = append(l.Sets, set)
	}
	return l
}

func TestMultiLabelClassifier(t *testing.T) {
	fc := fit(20)
	fc.Loss.Name = "bce"
	c, err := NewClassifier(ClassifyConfig{Spec: Spec{Embed: 8, Hidden: 16, Pool: "max"}, Fit: fc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fit(context.Background(), tagged(400, 1), tagged(50, 3)); err != nil {
		t.Fatal(err)
	}
	test := tagged(100, 2)
	e, err := c.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	m := e.Metrics()
	t.Logf("subset accuracy %.3f micro F1 %.3f hamming %.3f", m["subset_accuracy"], m["micro_f1"], m["hamming_loss"])
	if e.MultiLabel == nil || m["micro_f1"] < 0.9 || m["subset_accuracy"] < 0.8 || e.Confusion != nil {
		t.Errorf("multi-label scores %v", m)
	}
	p, err := c.Predict(context.Background(), []string{"rain and a vote today", "the big news"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p[0].Labels, ","); got != "weather,politics" {
		t.Errorf("labels of a text with rain and vote: %q, want weather,politics (probabilities %v)", got, p[0].Probabilities)
	}
	if p[1].Labels == nil || len(p[1].Labels) != 0 {
		t.Errorf("labels of a text with no keyword: %q, want none", p[1].Labels)
	}
	g := reload[*Classifier](t, c)
	e2, err := g.Evaluate(test)
	if err != nil || e2.Loss != e.Loss {
		t.Errorf("reloaded: %v, %v; want loss %v", e2, err, e.Loss)
	}
	single := sentiment(20, 1)
	if _, err := g.Evaluate(single); err == nil || !strings.Contains(err.Error(), "label sets") {
		t.Errorf("single labels on a multi-label model: %v", err)
	}
	plain, _ := NewClassifier(ClassifyConfig{Fit: fit(1)})
	if _, err := plain.Fit(context.Background(), tagged(20, 1), nil); err == nil || !strings.Contains(err.Error(), "bce") {
		t.Errorf("label sets without bce: %v", err)
	}
	multi, _ := NewClassifier(ClassifyConfig{Fit: fc})
	if _, err := multi.Fit(context.Background(), sentiment(20, 1), nil); err == nil || !strings.Contains(err.Error(), "LabelSep") {
		t.Errorf("bce without label sets: %v", err)
	}
}
