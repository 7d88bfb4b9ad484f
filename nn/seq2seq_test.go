package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// Copy task vocabulary: 0 pad, 1 start, 2 end, 3.. symbols.
const (
	padTok, startTok, endTok = 0, 1, 2
)

// copyBatch draws B source sequences of 2..maxLen symbols from [3, V) and
// returns the time-major batch whose target is the source followed by the
// end token, and the targets (Tt, B) with padTok at padded steps.
func copyBatch(rng *tensor.RNG, B, V, maxLen int) (Seq2SeqBatch, []int) {
	seqs := make([][]int, B)
	Ts := 0
	for i := range seqs {
		n := 2 + rng.IntN(maxLen-1)
		for j := 0; j < n; j++ {
			seqs[i] = append(seqs[i], 3+rng.IntN(V-3))
		}
		Ts = max(Ts, n)
	}
	b := Seq2SeqBatch{Ts: Ts, Tt: Ts + 1, B: B, SrcLengths: make([]int, B)}
	b.Src = make([]int, Ts*B)
	b.TgtIn = make([]int, b.Tt*B)
	tgt := make([]int, b.Tt*B)
	for i, s := range seqs {
		b.SrcLengths[i] = len(s)
		b.TgtIn[i] = startTok
		for t, v := range s {
			b.Src[t*B+i] = v
			b.TgtIn[(t+1)*B+i] = v
			tgt[t*B+i] = v
		}
		tgt[len(s)*B+i] = endTok
	}
	return b, tgt
}

// crossEntropy returns the mean cross-entropy of logits (T, B, V) against
// targets (T·B; padTok ignored) and writes its gradient into logits.
func crossEntropy(logits *Var, targets []int) float64 {
	V := logits.Value.Dim(-1)
	n := 0
	for _, y := range targets {
		if y != padTok {
			n++
		}
	}
	g := logits.G()
	var loss float64
	p := make([]float32, V)
	for r, y := range targets {
		if y == padTok {
			continue
		}
		row := logits.Value.Data[r*V : (r+1)*V]
		softmaxRowsF32(p, row)
		loss -= math.Log(float64(p[y]))
		for j := range p {
			d := p[j]
			if j == y {
				d--
			}
			g.Data[r*V+j] += d / float32(n)
		}
	}
	return loss / float64(n)
}

func softmaxRowsF32(dst, x []float32) { maskedSoftmaxRows(dst, x, nil, 1, len(x)) }

func TestSeq2SeqLearnsToCopy(t *testing.T) {
	const V, maxLen = 8, 5
	for _, tc := range []struct {
		cfg   Seq2SeqConfig
		steps int
		// lr is plain SGD's rate: the GRU copies well at 1, poorly at
		// the LSTM's 5 (loss 0.68 after 600 steps).
		lr float64
		// aligned: the attention must look at the copied position (a
		// bidirectional encoder can carry the position elsewhere).
		aligned bool
	}{
		{Seq2SeqConfig{SrcVocab: V, TgtVocab: V, HiddenSize: 16, EmbedSize: 12, Bidirectional: true, Attention: "bahdanau"}, 400, 5, false},
		{Seq2SeqConfig{SrcVocab: V, TgtVocab: V, HiddenSize: 24, EmbedSize: 12, Attention: LuongGeneral}, 600, 5, true},
		{Seq2SeqConfig{SrcVocab: V, TgtVocab: V, HiddenSize: 24, EmbedSize: 12, Attention: LuongGeneral, Cell: "gru"}, 600, 1, true},
	} {
		name := fmt.Sprintf("%s/bi=%v/%s", tc.cfg.Cell, tc.cfg.Bidirectional, tc.cfg.Attention)
		rng := tensor.NewRNG(42)
		m, err := NewSeq2Seq(tc.cfg, rng)
		if err != nil {
			t.Fatal(err)
		}
		ps := m.Params()
		var loss float64
		for step := 0; step < tc.steps; step++ {
			b, tgt := copyBatch(rng, 32, V, maxLen)
			ZeroGrad(ps)
			tp := &Tape{}
			logits, _ := m.Forward(tp, b, 1, nil)
			loss = crossEntropy(logits, tgt)
			tp.Backward(logits, tensor.New(logits.Value.Shape...))
			sgdClip(ps, 1.0, tc.lr)
		}
		if loss > 0.1 {
			t.Errorf("%s: training loss %.4f after %d steps, want < 0.1", name, loss, tc.steps)
		}
		// Greedy decoding copies fresh sequences.
		b, _ := copyBatch(tensor.NewRNG(7), 50, V, maxLen)
		out, ws, err := m.Generate(b.Src, b.Ts, b.B, b.SrcLengths, startTok, endTok, maxLen+3, SampleConfig{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The attention of a copying model looks at the token it copies.
		aligned, total := 0, 0
		for i := range out {
			for tt := range ws[i] {
				if tt < b.SrcLengths[i] {
					aligned += btoi(Argmax(ws[i][tt]) == tt)
					total++
				}
				for j := b.SrcLengths[i]; j < b.Ts; j++ {
					if ws[i][tt][j] != 0 {
						t.Fatalf("%s: attention %v on padded source step %d", name, ws[i][tt][j], j)
					}
				}
			}
		}
		t.Logf("%s: attention argmax on the copied position for %d of %d tokens", name, aligned, total)
		if tc.aligned && aligned < total*8/10 {
			t.Errorf("%s: attention argmax on the copied position for %d of %d tokens, want >= 80%%", name, aligned, total)
		}
		right := 0
		for i := 0; i < b.B; i++ {
			var want []int
			for tt := 0; tt < b.SrcLengths[i]; tt++ {
				want = append(want, b.Src[tt*b.B+i])
			}
			if fmt.Sprint(out[i]) == fmt.Sprint(want) {
				right++
			}
		}
		if right < 45 {
			t.Errorf("%s: greedy decoding copied %d of 50 sequences, want >= 45", name, right)
		}
		// Beam search finds the copy, ended, as its best hypothesis.
		src := []int{5, 3, 7, 4}
		hs, err := m.Beam(src, startTok, BeamConfig{Width: 3, MaxLen: 10, EndToken: endTok})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(append(src, endTok)); len(hs) == 0 || fmt.Sprint(hs[0].Tokens) != want || !hs[0].Finished {
			t.Errorf("%s: beam search best %v, want %s", name, hs, want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sgdClip clips the global gradient norm to maxNorm and takes one SGD
// step with learning rate lr.
func sgdClip(ps []*Param, maxNorm, lr float64) {
	var ss float64
	for _, p := range ps {
		for _, g := range p.Grad.Data {
			ss += float64(g) * float64(g)
		}
	}
	scale := lr
	if n := math.Sqrt(ss); n > maxNorm {
		scale *= maxNorm / n
	}
	for _, p := range ps {
		p.Value.AddScaled(-float32(scale), p.Grad)
	}
}

func TestSeq2SeqTeacherForcingRatio(t *testing.T) {
	m, err := NewSeq2Seq(Seq2SeqConfig{SrcVocab: 6, TgtVocab: 6, HiddenSize: 4}, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := copyBatch(tensor.NewRNG(3), 3, 6, 4)
	// Ratio 0: every input after the first is the previous step's argmax,
	// which is what stepping by hand with greedy choices gives.
	free, _ := m.Forward(&Tape{}, b, 0, tensor.NewRNG(1))
	enc := m.Encode(nil, b.Src, b.Ts, b.B, b.SrcLengths)
	s, prev := enc.Start, append([]int(nil), b.TgtIn[:b.B]...)
	for tt := 0; tt < b.Tt; tt++ {
		var l *Var
		l, _, s = m.Step(nil, enc, prev, s)
		if got, want := free.Value.Row(tt).Data, l.Value.Data; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("ratio 0, step %d: logits %v, want %v", tt, got, want)
		}
		for i := range prev {
			prev[i] = Argmax(l.Value.Data[i*6 : (i+1)*6])
		}
	}
	// Ratio 1 feeds the given targets: the logits differ from ratio 0.
	forced, _ := m.Forward(nil, b, 1, nil)
	if fmt.Sprint(forced.Value.Row(0).Data) != fmt.Sprint(free.Value.Row(0).Data) {
		t.Error("step 0 depends on the teacher forcing ratio")
	}
	if fmt.Sprint(forced.Value.Data) == fmt.Sprint(free.Value.Data) {
		t.Error("ratio 1 and ratio 0 give the same logits")
	}
	// Sampling at a temperature is reproducible by seed and stops at maxLen.
	g1, _, err := m.Generate(b.Src, b.Ts, b.B, b.SrcLengths, startTok, endTok, 4, SampleConfig{Temperature: 1.5, TopK: 4}, tensor.NewRNG(4))
	if err != nil {
		t.Fatal(err)
	}
	g2, _, _ := m.Generate(b.Src, b.Ts, b.B, b.SrcLengths, startTok, endTok, 4, SampleConfig{Temperature: 1.5, TopK: 4}, tensor.NewRNG(4))
	if fmt.Sprint(g1) != fmt.Sprint(g2) {
		t.Errorf("sampling: same seed, %v and %v", g1, g2)
	}
	for _, s := range g1 {
		if len(s) > 4 {
			t.Errorf("sampled %v: more than maxLen 4 tokens", s)
		}
	}
	if _, _, err := m.Generate(b.Src, b.Ts, b.B, b.SrcLengths, startTok, endTok, 4, SampleConfig{Temperature: -1}, nil); err == nil {
		t.Error("Generate with temperature -1: nil error")
	}
	// A ratio in between mixes the two, reproducibly by seed.
	a1, _ := m.Forward(nil, b, 0.5, tensor.NewRNG(9))
	a2, _ := m.Forward(nil, b, 0.5, tensor.NewRNG(9))
	if fmt.Sprint(a1.Value.Data) != fmt.Sprint(a2.Value.Data) {
		t.Error("ratio 0.5: same seed, different logits")
	}
}

func TestSeq2SeqGradients(t *testing.T) {
	for _, cfg := range []Seq2SeqConfig{
		{SrcVocab: 5, TgtVocab: 6, HiddenSize: 3, EmbedSize: 2, Attention: LuongDot, PadToken: -1},
		{SrcVocab: 5, TgtVocab: 4, HiddenSize: 2, EmbedSize: 3, NumLayers: 2, Bidirectional: true, Attention: "bahdanau", AttentionSize: 3, PadToken: -1},
		{SrcVocab: 5, TgtVocab: 4, HiddenSize: 2, EmbedSize: 3, Bidirectional: true, Attention: LuongGeneral, PadToken: -1, Cell: "gru"},
		{SrcVocab: 5, TgtVocab: 4, HiddenSize: 3, EmbedSize: 2, NumLayers: 2, Attention: LuongConcat, PadToken: -1, Cell: "rnn"},
	} {
		m, err := NewSeq2Seq(cfg, tensor.NewRNG(3))
		if err != nil {
			t.Fatal(err)
		}
		b := Seq2SeqBatch{Src: []int{1, 2, 3, 4, 0, 0}, SrcLengths: []int{3, 1}, TgtIn: []int{1, 1, 2, 3, 0, 1}, Ts: 3, Tt: 3, B: 2}
		var wrt []*Var
		for _, p := range m.Params() {
			wrt = append(wrt, &p.Var)
		}
		fdCheck(t, "seq2seq "+cfg.Cell+" "+cfg.Attention, wrt, func(tp *Tape) *Var {
			l, w := m.Forward(tp, b, 1, nil)
			return Concat(tp, -1, l, w)
		})
	}
}

func TestSeq2SeqParamsAndErrors(t *testing.T) {
	m, err := NewSeq2Seq(Seq2SeqConfig{SrcVocab: 5, TgtVocab: 6, HiddenSize: 3}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"src_embed.weight", "encoder.weight_ih_l0", "tgt_embed.weight", "decoder.weight_hh", "attention.weight", "combine.weight", "out.bias"} {
		if !strings.Contains(got, want) {
			t.Errorf("parameter names %s lack %s", got, want)
		}
	}
	if _, err := ByName(m.Params()); err != nil {
		t.Error(err)
	}
	if fmt.Sprint(names) != fmt.Sprint(func() []string {
		var n []string
		for _, p := range m.Params() {
			n = append(n, p.Name)
		}
		return n
	}()) {
		t.Error("Params() names change between calls")
	}
	for _, tc := range []struct {
		cfg  Seq2SeqConfig
		want string
	}{
		{Seq2SeqConfig{TgtVocab: 5, HiddenSize: 3}, "nn: Seq2Seq: src_vocab = 0: want > 0"},
		{Seq2SeqConfig{SrcVocab: 5, TgtVocab: 5}, "nn: Seq2Seq: hidden_size = 0: want > 0"},
		{Seq2SeqConfig{SrcVocab: 5, TgtVocab: 5, HiddenSize: 3, Attention: "cosine"}, `nn: Seq2Seq: attention = "cosine": want`},
		{Seq2SeqConfig{SrcVocab: 5, TgtVocab: 5, HiddenSize: 3, Dropout: 1}, "nn: Seq2Seq: dropout = 1: want a probability in [0, 1)"},
		{Seq2SeqConfig{SrcVocab: 5, TgtVocab: 5, HiddenSize: 3, PadToken: 5}, "nn: Seq2Seq: pad_token = 5: want in [-1, 5)"},
		{Seq2SeqConfig{SrcVocab: 5, TgtVocab: 5, HiddenSize: 3, Cell: "lstmp"}, `nn: Seq2Seq: cell = "lstmp": want lstm, gru, rnn or rnn_relu`},
	} {
		if _, err := NewSeq2Seq(tc.cfg, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSeq2Seq(%+v): got %v, want an error containing %s", tc.cfg, err, tc.want)
		}
	}
}

// TestSeq2SeqForcedMatchesSteps checks that teacher forcing, which
// projects all steps' attentional vectors at once, gives the logits of
// stepping by hand on the given inputs.
func TestSeq2SeqForcedMatchesSteps(t *testing.T) {
	m, err := NewSeq2Seq(Seq2SeqConfig{SrcVocab: 7, TgtVocab: 9, HiddenSize: 5, EmbedSize: 3, Attention: "bahdanau"}, tensor.NewRNG(5))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := copyBatch(tensor.NewRNG(6), 3, 7, 4)
	forced, weights := m.Forward(nil, b, 1, nil)
	if got, want := fmt.Sprint(forced.Value.Shape), fmt.Sprint([]int{b.Tt, b.B, 9}); got != want {
		t.Fatalf("logits shape %s, want %s", got, want)
	}
	enc := m.Encode(nil, b.Src, b.Ts, b.B, b.SrcLengths)
	s := enc.Start
	for tt := 0; tt < b.Tt; tt++ {
		var l, w *Var
		l, w, s = m.Step(nil, enc, b.TgtIn[tt*b.B:(tt+1)*b.B], s)
		for i, want := range l.Value.Data {
			if got := forced.Value.Row(tt).Data[i]; math.Abs(float64(got-want)) > 1e-5 {
				t.Fatalf("step %d logit %d: got %v, want %v", tt, i, got, want)
			}
		}
		if got, want := fmt.Sprint(weights.Value.Row(tt).Data), fmt.Sprint(w.Value.Data); got != want {
			t.Fatalf("step %d attention weights %s, want %s", tt, got, want)
		}
	}
}
