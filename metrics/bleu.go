package metrics

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// BLEU is a corpus BLEU score with its parts.
type BLEU struct {
	// Score is 100 · BP · exp(mean log precision_n), n = 1..4.
	Score float64
	// Precisions are the clipped n-gram precisions in percent.
	Precisions [4]float64
	// BP is the brevity penalty exp(1 − ref/hyp) when the hypotheses are
	// shorter than the references, else 1.
	BP             float64
	HypLen, RefLen int
}

func (b BLEU) String() string {
	return fmt.Sprintf("BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		b.Score, b.Precisions[0], b.Precisions[1], b.Precisions[2], b.Precisions[3], b.BP, ratio(float64(b.HypLen), float64(b.RefLen)), b.HypLen, b.RefLen)
}

// CorpusBLEU scores hypotheses against one reference each, tokenized
// (Tokenize13a does as sacreBLEU's default). It computes what
// sacrebleu.corpus_bleu computes with its defaults: n-gram counts up to 4
// clipped by the reference's and summed over the corpus, the brevity
// penalty on the corpus lengths, and the "exp" smoothing of a zero
// n-gram count (the k-th zero precision becomes 100 / (2^k · total)). A
// corpus with no n-gram of some order (sentences of three words or fewer)
// scores 0, as sacreBLEU's does.
func CorpusBLEU(hyps, refs [][]string) (BLEU, error) {
	if len(hyps) != len(refs) {
		return BLEU{}, fmt.Errorf("metrics: %d hypotheses for %d references", len(hyps), len(refs))
	}
	var correct, total [4]float64
	var b BLEU
	for i, h := range hyps {
		r := refs[i]
		b.HypLen += len(h)
		b.RefLen += len(r)
		for n := 1; n <= 4; n++ {
			rc := ngrams(r, n)
			for g, c := range ngrams(h, n) {
				correct[n-1] += float64(min(c, rc[g]))
			}
			total[n-1] += float64(max(len(h)-n+1, 0))
		}
	}
	b.BP = 1
	if b.HypLen == 0 {
		b.BP = 0
	} else if b.HypLen < b.RefLen {
		b.BP = math.Exp(1 - float64(b.RefLen)/float64(b.HypLen))
	}
	smooth := 1.0
	var logSum float64
	for n := range 4 {
		if total[n] == 0 {
			return b, nil // a hypothesis corpus too short for n-grams scores 0
		}
		p := 100 * correct[n] / total[n]
		if correct[n] == 0 {
			smooth *= 2
			p = 100 / (smooth * total[n])
		}
		b.Precisions[n] = p
		logSum += math.Log(p / 100)
	}
	b.Score = 100 * b.BP * math.Exp(logSum/4)
	return b, nil
}

// ngrams counts the n-grams of toks.
func ngrams(toks []string, n int) map[string]int {
	m := map[string]int{}
	for i := 0; i+n <= len(toks); i++ {
		m[strings.Join(toks[i:i+n], "\x00")]++
	}
	return m
}

var (
	reSym     = regexp.MustCompile(`([\{-\~\[-\` + "`" + ` -\&\(-\+\:-\@\/])`)
	reDotNon  = regexp.MustCompile(`([^0-9])([\.,])`)
	reNonDot  = regexp.MustCompile(`([\.,])([^0-9])`)
	reDigDash = regexp.MustCompile(`([0-9])(-)`)
	htmlUnesc = strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// Tokenize13a splits s as mteval-v13a (sacreBLEU's default tokenizer)
// does: punctuation and symbols become tokens, a period or comma is split
// off unless it sits between digits, a dash after a digit is split off.
func Tokenize13a(s string) []string {
	s = strings.ReplaceAll(s, "<skipped>", "")
	s = strings.ReplaceAll(s, "-\n", "")
	s = strings.ReplaceAll(s, "\n", " ")
	if strings.Contains(s, "&") {
		s = htmlUnesc.Replace(s)
	}
	s = " " + s + " "
	s = reSym.ReplaceAllString(s, " $1 ")
	s = reDotNon.ReplaceAllString(s, "$1 $2 ")
	s = reNonDot.ReplaceAllString(s, " $1 $2")
	s = reDigDash.ReplaceAllString(s, "$1 $2 ")
	return strings.Fields(s)
}

// ExactMatch is the share of hypotheses equal to their reference, token by
// token.
func ExactMatch(hyps, refs [][]string) float64 {
	right := 0
	for i, h := range hyps {
		if i < len(refs) && strings.Join(h, "\x00") == strings.Join(refs[i], "\x00") {
			right++
		}
	}
	return ratio(float64(right), float64(len(hyps)))
}
