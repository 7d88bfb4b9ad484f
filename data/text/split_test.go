package text

import (
	"slices"
	"strings"
	"testing"
)

func TestSplits(t *testing.T) {
	l := &Labelled{Classes: []string{"a", "b"}}
	for i := range 10 {
		l.Texts = append(l.Texts, strings.Repeat("x", i+1))
		l.Labels = append(l.Labels, i%2)
	}
	tr, va, te, err := l.Split(0.2, 0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Texts) != 5 || len(va.Texts) != 2 || len(te.Texts) != 3 {
		t.Fatalf("split 10 into %d/%d/%d, want 5/2/3", len(tr.Texts), len(va.Texts), len(te.Texts))
	}
	all := append(append(slices.Clone(tr.Texts), va.Texts...), te.Texts...)
	slices.Sort(all)
	if len(slices.Compact(all)) != 10 {
		t.Errorf("the parts overlap or lose examples: %q", all)
	}
	for i, s := range tr.Texts {
		if tr.Labels[i] != (len(s)-1)%2 {
			t.Errorf("text %q lost its label", s)
		}
	}
	if _, va, _, _ := l.Split(0, 0.2, 1); va != nil {
		t.Errorf("no validation share gave %v", va)
	}
	if _, _, _, err := l.Split(0.5, 0.5, 1); err == nil {
		t.Error("nothing left to train accepted")
	}
	a, b, c, err := SplitText("abcdefghij", 0.2, 0.1)
	if err != nil || a != "abcdefg" || b != "hi" || c != "j" {
		t.Errorf("SplitText = %q %q %q %v", a, b, c, err)
	}
}
