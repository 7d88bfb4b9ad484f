package metrics

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

func TestConfusion(t *testing.T) {
	c, err := NewConfusion([]string{"a", "b", "c"}, []int{0, 0, 1, 1, 2}, []int{0, 1, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	pc := c.PerClass()
	want := []ClassScore{{"a", 0.5, 0.5, 0.5, 2}, {"b", 2.0 / 3, 1, 0.8, 2}, {"c", 0, 0, 0, 1}}
	for i, w := range want {
		g := pc[i]
		if g.Class != w.Class || !near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) || g.Support != w.Support {
			t.Errorf("class %d: got %+v want %+v", i, g, w)
		}
	}
	a := c.Averages()
	if !near(a.MacroF1, 1.3/3) || !near(a.WeightedF1, 0.52) || !near(c.Accuracy(), 0.6) {
		t.Errorf("macro F1 %v (want 0.4333), weighted %v (0.52), accuracy %v (0.6)", a.MacroF1, a.WeightedF1, c.Accuracy())
	}
	if _, err := NewConfusion([]string{"a"}, []int{0}, []int{1}); err == nil {
		t.Error("a prediction out of range accepted")
	}
}

// scikit-learn's documented example: roc_auc_score 0.75 and
// average_precision_score 0.8333 for these scores.
func TestROCAndPR(t *testing.T) {
	scores := []float64{0.1, 0.4, 0.35, 0.8}
	pos := []bool{false, false, true, true}
	if got := ROCAUC(scores, pos); !near(got, 0.75) {
		t.Errorf("ROC-AUC %v, want 0.75", got)
	}
	if got := PRAUC(scores, pos); !near(got, 0.8333333) {
		t.Errorf("PR-AUC %v, want 0.8333", got)
	}
	if got := ROCAUC([]float64{0.5, 0.5}, []bool{true, false}); !near(got, 0.5) {
		t.Errorf("tied scores: ROC-AUC %v, want 0.5", got)
	}
	if !math.IsNaN(ROCAUC([]float64{1}, []bool{true})) {
		t.Error("ROC-AUC without negatives is not NaN")
	}
}

func TestECE(t *testing.T) {
	// Two bins used: confidence 0.9 right 1 of 2 (gap 0.4), 0.3 right 1 of 2 (gap 0.2).
	got := ECE([]float64{0.9, 0.9, 0.3, 0.3}, []bool{true, false, true, false}, 10)
	if !near(got, 0.3) {
		t.Errorf("ECE %v, want 0.3", got)
	}
	if got := ECE([]float64{1, 1}, []bool{true, true}, 0); got != 0 {
		t.Errorf("perfectly calibrated ECE %v", got)
	}
}

// TestCorpusBLEU checks hand-computed scores: n-gram precisions 5/6, 4/5,
// 3/4, 2/3 give 100·(1/3)^(1/4); a short hypothesis pays exp(1−6/4); a
// zero 4-gram count is smoothed to 100/(2·1) percent.
func TestCorpusBLEU(t *testing.T) {
	split := strings.Fields
	for _, c := range []struct {
		hyp, ref string
		want     float64
	}{
		{"the cat sat on the mat", "the cat sat on the mat", 100},
		{"a b c d e f", "a b c d e g", 100 * math.Pow(1.0/3, 0.25)},
		{"a b c d", "a b c d e f", 100 * math.Exp(-0.5)},
		{"a b c x", "a b c d", 100 * math.Pow(0.75*2.0/3*0.5*0.5, 0.25)},
	} {
		b, err := CorpusBLEU([][]string{split(c.hyp)}, [][]string{split(c.ref)})
		if err != nil || !near(b.Score, c.want) {
			t.Errorf("BLEU(%q | %q) = %v (%v), want %.4f", c.hyp, c.ref, b.Score, err, c.want)
		}
	}
	// Counts add up over the corpus before the precisions are taken.
	b, _ := CorpusBLEU([][]string{split("a b c d e f"), split("a b c d")}, [][]string{split("a b c d e g"), split("a b c d")})
	want := 100 * math.Pow(9.0/10*7/8*5/6*3/4, 0.25)
	if !near(b.Score, want) || b.BP != 1 || b.HypLen != 10 {
		t.Errorf("corpus BLEU %v (BP %v, %d tokens), want %.4f", b.Score, b.BP, b.HypLen, want)
	}
	if em := ExactMatch([][]string{split("a b"), split("c")}, [][]string{split("a b"), split("d")}); em != 0.5 {
		t.Errorf("exact match %v, want 0.5", em)
	}
}

func TestTokenize13a(t *testing.T) {
	got := strings.Join(Tokenize13a("Hello, world. It's 3.5-4 &amp; (x)"), "|")
	want := "Hello|,|world|.|It's|3.5|-|4|&|(|x|)"
	if got != want {
		t.Errorf("Tokenize13a = %q, want %q", got, want)
	}
}

func TestMultiLabel(t *testing.T) {
	// Three examples over classes a, b, c (sklearn's definitions):
	//   actual {a,b}  predicted {a}     -> a TP, b FN
	//   actual {c}    predicted {c}     -> c TP (exact)
	//   actual {}     predicted {b}     -> b FP
	m, err := NewMultiLabel([]string{"a", "b", "c"}, [][]int{{0, 1}, {2}, {}}, [][]int{{0}, {2}, {1}})
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	near("subset accuracy", m.SubsetAccuracy, 1.0/3)
	near("hamming loss", m.HammingLoss, 2.0/9)
	near("micro precision", m.MicroPrecision, 2.0/3)
	near("micro recall", m.MicroRecall, 2.0/3)
	near("micro F1", m.MicroF1, 2.0/3)
	// Per class F1: a 1, b 0, c 1; supports 1, 1, 1.
	near("macro F1", m.MacroF1, 2.0/3)
	near("weighted F1", m.WeightedF1, 2.0/3)
	if m.PerClass[1].Precision != 0 || m.PerClass[1].Recall != 0 || m.PerClass[0].Support != 1 {
		t.Errorf("per class %+v", m.PerClass)
	}
	if _, err := NewMultiLabel([]string{"a"}, [][]int{{1}}, [][]int{{0}}); err == nil {
		t.Error("a class outside the list was accepted")
	}
}
