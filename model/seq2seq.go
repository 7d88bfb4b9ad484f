package model

import (
	"encoding/json"
	"fmt"

	"github.com/recur-ml/recur/data/batch"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// Seq2SeqPrep is the preprocessing state of a sequence-to-sequence model:
// one encoder per side (their vocabularies must have pad 0, bos and eos).
type Seq2SeqPrep struct {
	Src    *text.Encoder `json:"src"`
	Tgt    *text.Encoder `json:"tgt"`
	MaxLen int           `json:"max_len,omitempty"`
}

// SetSeq2SeqPrep stores p as the model's preprocessing state.
func (m *Model) SetSeq2SeqPrep(p *Seq2SeqPrep) error {
	if err := p.check(m.Spec); err != nil {
		return err
	}
	return m.setPrep(p)
}

// Seq2SeqPrep decodes the model's preprocessing state.
func (m *Model) Seq2SeqPrep() (*Seq2SeqPrep, error) {
	if m.Spec.Task != Seq2Seq {
		return nil, fmt.Errorf("model: a %s model has no seq2seq preprocessing", m.Spec.Task)
	}
	var p Seq2SeqPrep
	if err := json.Unmarshal(m.Prep, &p); err != nil {
		return nil, fmt.Errorf("model: seq2seq preprocessing state: %w", err)
	}
	return &p, p.check(m.Spec)
}

func (p *Seq2SeqPrep) check(s Spec) error {
	if p.Src == nil || p.Tgt == nil || p.Src.Vocab == nil || p.Tgt.Vocab == nil {
		return fmt.Errorf("model: seq2seq preprocessing state lacks an encoder")
	}
	if p.Src.Vocab.Len() != s.Vocab || p.Tgt.Vocab.Len() != s.TgtVocab {
		return fmt.Errorf("model: vocabularies of %d and %d tokens for a spec of %d and %d", p.Src.Vocab.Len(), p.Tgt.Vocab.Len(), s.Vocab, s.TgtVocab)
	}
	if p.Src.Vocab.Pad != 0 || p.Tgt.Vocab.Pad != 0 || p.Tgt.Vocab.BOS < 0 || p.Tgt.Vocab.EOS < 0 {
		return fmt.Errorf("model: seq2seq vocabularies need pad 0 and a target bos and eos")
	}
	return nil
}

// PairBatch is a batch of sentence pairs: the model's input and the
// targets (Tt, B), -1 on padding.
type PairBatch struct {
	In     nn.Seq2SeqBatch
	Target []int
}

// PairData is a list of pair batches; it implements train.Data.
type PairData struct{ Batches []*PairBatch }

// Len returns the number of batches.
func (d *PairData) Len() int { return len(d.Batches) }

// Batch returns batch i.
func (d *PairData) Batch(i int) train.Batch { return d.Batches[i] }

// NewPairData encodes pairs and groups them into batches of size bs.
func (p *Seq2SeqPrep) NewPairData(pairs []text.Pair, bs int) *PairData {
	d := &PairData{}
	sv, tv := p.Src.Vocab, p.Tgt.Vocab
	for from := 0; from < len(pairs); from += bs {
		part := pairs[from:min(from+bs, len(pairs))]
		B := len(part)
		srcs := make([][]int, B)
		tins := make([][]int, B)
		touts := make([][]int, B)
		for j, pr := range part {
			s := p.Src.Encode(pr.Src)
			if len(s) == 0 {
				s = []int{sv.Unk}
			}
			if p.MaxLen > 0 && len(s) > p.MaxLen {
				s = s[:p.MaxLen]
			}
			t := p.Tgt.Encode(pr.Tgt)
			if p.MaxLen > 0 && len(t) > p.MaxLen {
				t = t[:p.MaxLen]
			}
			srcs[j] = s
			tins[j] = append([]int{tv.BOS}, t...)
			touts[j] = append(append([]int(nil), t...), tv.EOS)
		}
		sIDs, sLen, Ts := batch.Pad(srcs, 0, 0)
		iIDs, _, Tt := batch.Pad(tins, 0, 0)
		oIDs, _, _ := batch.Pad(touts, -1, 0)
		pb := &PairBatch{In: nn.Seq2SeqBatch{Src: make([]int, Ts*B), SrcLengths: sLen, TgtIn: make([]int, Tt*B), Ts: Ts, Tt: Tt, B: B}, Target: make([]int, Tt*B)}
		for b := range B {
			for t := range Ts {
				pb.In.Src[t*B+b] = sIDs[b*Ts+t]
			}
			for t := range Tt {
				pb.In.TgtIn[t*B+b] = iIDs[b*Tt+t]
				pb.Target[t*B+b] = oIDs[b*Tt+t]
			}
		}
		d.Batches = append(d.Batches, pb)
	}
	return d
}

// Seq2SeqTask trains an encoder-decoder with teacher forcing; it
// implements train.Task.
type Seq2SeqTask struct{ M *Model }

// Params returns the model's parameters.
func (t *Seq2SeqTask) Params() []*nn.Param { return t.M.Params() }

// Loss is the mean cross-entropy over the non-padded target tokens.
func (t *Seq2SeqTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	pb := b.(*PairBatch)
	logits, _ := t.M.s2s.Forward(tp, pb.In, 1, nil)
	V := t.M.Spec.TgtVocab
	flat := nn.Reshape(tp, logits, pb.In.Tt*pb.In.B, V)
	L, _ := loss.Record(tp, flat, func(g []float32) float64 {
		return loss.CrossEntropy(g, flat.Value.Data, pb.Target, V, loss.ClassOptions{})
	})
	return L, pb.In.B
}

// Evaluate returns "loss" (cross-entropy per target token), "ppl" and
// "token_accuracy" under teacher forcing.
func (t *Seq2SeqTask) Evaluate(d train.Data) (map[string]float64, error) {
	V := t.M.Spec.TgtVocab
	var sum float64
	var n, right int
	for i := 0; i < d.Len(); i++ {
		pb := d.Batch(i).(*PairBatch)
		logits, _ := t.M.s2s.Forward(nil, pb.In, 1, nil)
		sum += loss.CrossEntropy(nil, logits.Value.Data, pb.Target, V, loss.ClassOptions{Reduction: loss.Sum})
		for r, y := range pb.Target {
			if y < 0 {
				continue
			}
			n++
			if argmax(logits.Value.Data[r*V:(r+1)*V]) == y {
				right++
			}
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("model: no target tokens to evaluate")
	}
	l := sum / float64(n)
	return map[string]float64{"loss": l, "ppl": exp(l), "token_accuracy": float64(right) / float64(n)}, nil
}

// Translate decodes src with the model (greedy for the zero SampleConfig)
// and returns the output text and, per output token, the attention weights
// over the source tokens.
func (m *Model) Translate(src string, maxLen int, sc nn.SampleConfig, rng *tensor.RNG) (string, [][]float32, error) {
	p, err := m.Seq2SeqPrep()
	if err != nil {
		return "", nil, err
	}
	ids := p.Src.Encode(src)
	if len(ids) == 0 {
		return "", nil, fmt.Errorf("model: the source text has no tokens")
	}
	if maxLen <= 0 {
		maxLen = 2*len(ids) + 10
	}
	tv := p.Tgt.Vocab
	toks, w, err := m.s2s.Generate(ids, len(ids), 1, nil, tv.BOS, tv.EOS, maxLen, sc, rng)
	if err != nil {
		return "", nil, err
	}
	return p.Tgt.Decode(toks[0]), w[0], nil
}
