package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// TestSeq2SeqForcedOpMatches checks that teacher-forced training through
// forcedDecode gives the logits, attention weights and every parameter's
// gradient of the step-by-step path (forwardSteps) on a twin model, within
// float32 rounding, with dropout drawing the same masks.
func TestSeq2SeqForcedOpMatches(t *testing.T) {
	for _, cfg := range []Seq2SeqConfig{
		{SrcVocab: 7, TgtVocab: 9, HiddenSize: 5, EmbedSize: 3, Attention: LuongGeneral},
		{SrcVocab: 7, TgtVocab: 9, HiddenSize: 4, EmbedSize: 6, Attention: LuongDot, Bidirectional: true, NumLayers: 2, PadToken: -1},
		{SrcVocab: 8, TgtVocab: 6, HiddenSize: 16, EmbedSize: 8, Attention: LuongGeneral, Bidirectional: true, Dropout: 0.3},
		{SrcVocab: 8, TgtVocab: 40, HiddenSize: 33, EmbedSize: 17, Attention: LuongDot, Dropout: 0.2, PadToken: 3},
	} {
		name := fmt.Sprintf("%s H%d E%d bi=%v p=%v", cfg.Attention, cfg.HiddenSize, cfg.EmbedSize, cfg.Bidirectional, cfg.Dropout)
		t.Run(name, func(t *testing.T) { checkForcedMatches(t, cfg) })
	}
}

func checkForcedMatches(t *testing.T, cfg Seq2SeqConfig) {
	fused, err := NewSeq2Seq(cfg, tensor.NewRNG(11))
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := NewSeq2Seq(cfg, tensor.NewRNG(11))
	if !fused.forcedOK() {
		t.Fatal("forcedOK is false for an LSTM decoder with Luong attention")
	}
	b, _ := copyBatch(tensor.NewRNG(12), 5, min(cfg.SrcVocab, cfg.TgtVocab), 6)
	rng := tensor.NewRNG(13)
	// Two training steps, so that the second reuses the tape's buffers and
	// the packs of changed weights.
	for step := 0; step < 2; step++ {
		var tf, ts Tape
		lf, wf := fused.Forward(&tf, b, 1, nil)
		if fused.forced == nil {
			t.Fatal("Forward did not take the forced path")
		}
		enc := steps.Encode(&ts, b.Src, b.Ts, b.B, b.SrcLengths)
		ls, ws := steps.forwardSteps(&ts, enc, b, 1, nil)
		compareF32(t, fmt.Sprintf("step %d logits", step), lf.Value.Data, ls.Value.Data)
		compareF32(t, fmt.Sprintf("step %d weights", step), wf.Value.Data, ws.Value.Data)
		yf, ys := Concat(&tf, -1, lf, wf), Concat(&ts, -1, ls, ws)
		dy := tensor.New(yf.Value.Shape...)
		rng.FillUniform(dy, -1, 1)
		ZeroGrad(fused.Params())
		ZeroGrad(steps.Params())
		tf.Backward(yf, dy)
		ts.Backward(ys, dy)
		pf, ps := fused.Params(), steps.Params()
		for i, p := range pf {
			compareF32(t, fmt.Sprintf("step %d grad %s", step, p.Name), p.Grad.Data, ps[i].Grad.Data)
		}
		for i, p := range pf {
			for j := range p.Value.Data {
				p.Value.Data[j] -= 0.1 * p.Grad.Data[j]
				ps[i].Value.Data[j] -= 0.1 * ps[i].Grad.Data[j]
			}
		}
	}
}

// compareF32 fails unless got and want agree within float32 rounding of
// sums grouped differently: |got − want| ≤ 1e-5 + 1e-4·|want|.
func compareF32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	nonzero := false
	for i := range got {
		d := math.Abs(float64(got[i] - want[i]))
		if d > 1e-5+1e-4*math.Abs(float64(want[i])) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
		nonzero = nonzero || want[i] != 0
	}
	if !nonzero {
		t.Errorf("%s: all zero", what)
	}
}

// TestSeq2SeqForcedThreadsIdentical checks that splitting the batch's
// sequences over the kernel threads (forcedLoop) changes no bit of the
// logits or the gradients.
func TestSeq2SeqForcedThreadsIdentical(t *testing.T) {
	cfg := Seq2SeqConfig{SrcVocab: 9, TgtVocab: 11, HiddenSize: 24, EmbedSize: 10, Attention: LuongGeneral, Dropout: 0.1}
	b, _ := copyBatch(tensor.NewRNG(21), 7, 9, 6)
	run := func(threads int) []float32 {
		defer kernel.SetThreads(kernel.Threads())
		kernel.SetThreads(threads)
		m, err := NewSeq2Seq(cfg, tensor.NewRNG(22))
		if err != nil {
			t.Fatal(err)
		}
		var tp Tape
		l, w := m.Forward(&tp, b, 1, nil)
		y := Concat(&tp, -1, l, w)
		out := append([]float32(nil), y.Value.Data...)
		dy := tensor.New(y.Value.Shape...)
		tensor.NewRNG(23).FillUniform(dy, -1, 1)
		tp.Backward(y, dy)
		for _, p := range m.Params() {
			out = append(out, p.Grad.Data...)
		}
		return out
	}
	one, two := run(1), run(2)
	for i := range one {
		if math.Float32bits(one[i]) != math.Float32bits(two[i]) {
			t.Fatalf("value %d: %v with one thread, %v with two", i, one[i], two[i])
		}
	}
}
