package model

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/recur-ml/recur/data/batch"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// TextPrep is the preprocessing state of a text model: the encoder
// (cleaner, tokenizer, vocabulary), the class names (classify) and the
// longest sequence kept.
type TextPrep struct {
	Encoder *text.Encoder `json:"encoder"`
	Classes []string      `json:"classes,omitempty"`
	MaxLen  int           `json:"max_len,omitempty"`
}

// TextPrep decodes the model's text preprocessing state.
func (m *Model) TextPrep() (*TextPrep, error) {
	if m.Spec.Task != Classify && m.Spec.Task != LM {
		return nil, fmt.Errorf("model: a %s model has no text preprocessing", m.Spec.Task)
	}
	var p TextPrep
	if err := json.Unmarshal(m.Prep, &p); err != nil {
		return nil, fmt.Errorf("model: text preprocessing state: %w", err)
	}
	if p.Encoder == nil || p.Encoder.Vocab == nil || p.Encoder.Vocab.Len() != m.Spec.Vocab {
		return nil, fmt.Errorf("model: text preprocessing state does not match the spec's vocabulary of %d", m.Spec.Vocab)
	}
	if m.Spec.Task == Classify && len(p.Classes) != m.Spec.Classes {
		return nil, fmt.Errorf("model: %d class names for %d classes", len(p.Classes), m.Spec.Classes)
	}
	return &p, nil
}

// SetTextPrep stores p as the model's preprocessing state.
func (m *Model) SetTextPrep(p *TextPrep) error { return m.setPrep(p) }

// TextBatch is a padded batch of token sequences, time-major.
type TextBatch struct {
	IDs     []int // (T, B)
	Lengths []int // (B)
	T, B    int
	Labels  []int // (B), classify
}

// TextData is a list of batches; it implements train.Data.
type TextData struct{ Batches []*TextBatch }

// Len returns the number of batches.
func (d *TextData) Len() int { return len(d.Batches) }

// Batch returns batch i.
func (d *TextData) Batch(i int) train.Batch { return d.Batches[i] }

// NewTextData groups seqs (with labels, may be nil) into batches of size
// bs. Sequences are cut to maxLen (zero: no limit); empty ones become the
// single token unk. With sortLen, examples are ordered by length first so
// that batches hold sequences of similar lengths (less padding).
func NewTextData(seqs [][]int, labels []int, bs, pad, unk, maxLen int, sortLen bool) *TextData {
	idx := make([]int, len(seqs))
	for i := range idx {
		idx[i] = i
	}
	if sortLen {
		sort.SliceStable(idx, func(a, b int) bool { return len(seqs[idx[a]]) < len(seqs[idx[b]]) })
	}
	d := &TextData{}
	for from := 0; from < len(idx); from += bs {
		part := idx[from:min(from+bs, len(idx))]
		ss := make([][]int, len(part))
		tb := &TextBatch{B: len(part)}
		for j, i := range part {
			ss[j] = seqs[i]
			if len(ss[j]) == 0 {
				ss[j] = []int{unk}
			}
			if labels != nil {
				tb.Labels = append(tb.Labels, labels[i])
			}
		}
		ids, lengths, T := batch.Pad(ss, pad, maxLen)
		tb.T, tb.Lengths = T, lengths
		tb.IDs = make([]int, T*tb.B)
		for b := range tb.B {
			for t := range T {
				tb.IDs[t*tb.B+b] = ids[b*T+t]
			}
		}
		d.Batches = append(d.Batches, tb)
	}
	return d
}

// classifyForward maps a batch to logits (B, Classes).
func (m *Model) classifyForward(tp *nn.Tape, b *TextBatch) *nn.Var {
	x := m.dropout(tp, m.embed(tp, b.IDs, b.T, b.B))
	out, st := m.rnn.Forward(tp, x, b.Lengths, nil)
	var feat *nn.Var
	switch m.Spec.Pool {
	case "mean":
		feat = nn.MeanPool(tp, out, b.Lengths)
	case "max":
		feat = nn.MaxPool(tp, out, b.Lengths)
	case "attention":
		feat, _ = m.pool.Forward(tp, out, b.Lengths)
	default: // the final states of the top layer, [forward | reverse]
		top := m.Spec.Layers - 1
		if m.Spec.Bidirectional {
			feat = nn.Concat(tp, 1, nn.Select(tp, st.H, 2*top), nn.Select(tp, st.H, 2*top+1))
		} else {
			feat = nn.Select(tp, st.H, top)
		}
	}
	return m.head.Forward(tp, m.dropout(tp, feat))
}

// ClassifyTask trains a sequence classifier: it implements train.Task.
type ClassifyTask struct{ M *Model }

// Params returns the model's parameters.
func (t *ClassifyTask) Params() []*nn.Param { return t.M.Params() }

// Loss is the mean cross-entropy of the batch.
func (t *ClassifyTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	tb := b.(*TextBatch)
	logits := t.M.classifyForward(tp, tb)
	L, _ := loss.Record(tp, logits, func(g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, tb.Labels, t.M.Spec.Classes, loss.ClassOptions{})
	})
	return L, tb.B
}

// Evaluate returns "loss" (mean cross-entropy) and "accuracy".
func (t *ClassifyTask) Evaluate(d train.Data) (map[string]float64, error) {
	var sum float64
	var n, right int
	for i := 0; i < d.Len(); i++ {
		tb := d.Batch(i).(*TextBatch)
		logits := t.M.classifyForward(nil, tb)
		C := t.M.Spec.Classes
		sum += loss.CrossEntropy(nil, logits.Value.Data, tb.Labels, C, loss.ClassOptions{Reduction: loss.Sum})
		for b := range tb.B {
			if argmax(logits.Value.Data[b*C:(b+1)*C]) == tb.Labels[b] {
				right++
			}
		}
		n += tb.B
	}
	if n == 0 {
		return nil, fmt.Errorf("model: no examples to evaluate")
	}
	return map[string]float64{"loss": sum / float64(n), "accuracy": float64(right) / float64(n)}, nil
}

// Probabilities returns the class probabilities (B, Classes) of a batch.
func (t *ClassifyTask) Probabilities(b *TextBatch) *tensor.Tensor {
	logits := t.M.classifyForward(nil, b)
	C := t.M.Spec.Classes
	p := tensor.New(b.B, C)
	for r := range b.B {
		softmax(p.Data[r*C:(r+1)*C], logits.Value.Data[r*C:(r+1)*C])
	}
	return p
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func softmax(dst, x []float32) {
	mx := x[argmax(x)]
	var s float64
	for i, v := range x {
		e := math.Exp(float64(v - mx))
		dst[i] = float32(e)
		s += e
	}
	for i := range dst {
		dst[i] = float32(float64(dst[i]) / s)
	}
}

// LMData is a language-model corpus cut into B streams and chunks of T
// steps, in order; it implements train.Data.
type LMData struct{ Chunks []*text.Chunk }

// NewLMData cuts ids into B streams and chunks of T steps.
func NewLMData(ids []int, B, T int) (*LMData, error) {
	s, err := text.NewStreams(ids, B)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	it, err := s.Chunks(text.BPTT{T: T}, text.StreamCursor{})
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	d := &LMData{}
	for it.Next() {
		c := *it.Chunk()
		c.X = append([]int(nil), c.X...)
		c.Y = append([]int(nil), c.Y...)
		d.Chunks = append(d.Chunks, &c)
	}
	if len(d.Chunks) == 0 {
		return nil, fmt.Errorf("model: the text is too short for %d streams", B)
	}
	return d, nil
}

// Len returns the number of chunks.
func (d *LMData) Len() int { return len(d.Chunks) }

// Batch returns chunk i.
func (d *LMData) Batch(i int) train.Batch { return d.Chunks[i] }

// lmForward maps ids (T, B) and an initial state to logits (T·B, V) and
// the final state.
func (m *Model) lmForward(tp *nn.Tape, ids []int, T, B int, h0 *nn.State) (*nn.Var, *nn.State) {
	x := m.dropout(tp, m.embed(tp, ids, T, B))
	out, st := m.rnn.Forward(tp, x, nil, h0)
	out = m.dropout(tp, out)
	logits := m.head.Forward(tp, out)
	return nn.Reshape(tp, logits, T*B, m.Spec.Vocab), st
}

// LMTask trains a language model with truncated backpropagation through
// time: the state at the end of a chunk (detached) starts the next one. It
// implements train.Task and train.Resetter; train it without shuffling.
type LMTask struct {
	M     *Model
	state *nn.State
	spare *nn.State // the state before last, reused by DetachInto
}

// Params returns the model's parameters.
func (t *LMTask) Params() []*nn.Param { return t.M.Params() }

// Reset forgets the carried state (start of an epoch).
func (t *LMTask) Reset() { t.state = nil }

// Carried returns the carried state ("h", and "c" for an LSTM) for
// checkpoints; none after Reset.
func (t *LMTask) Carried() map[string]*tensor.Tensor {
	if t.state == nil {
		return nil
	}
	m := map[string]*tensor.Tensor{"h": t.state.H.Value}
	if t.state.C != nil {
		m["c"] = t.state.C.Value
	}
	return m
}

// SetCarried restores a state returned by Carried.
func (t *LMTask) SetCarried(m map[string]*tensor.Tensor) error {
	h, ok := m["h"]
	if !ok {
		return fmt.Errorf("model: carried state has no h")
	}
	st := &nn.State{H: nn.NewVar(h.Clone())}
	if c, ok := m["c"]; ok {
		st.C = nn.NewVar(c.Clone())
	} else if t.M.Spec.Cell == "lstm" {
		return fmt.Errorf("model: carried LSTM state has no c")
	}
	t.state = st
	return nil
}

// Loss is the mean next-token cross-entropy of a chunk.
func (t *LMTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	c := b.(*text.Chunk)
	logits, st := t.M.lmForward(tp, c.X, c.T, c.B, t.state)
	// Two carried states in turn: the one this step started from stays
	// untouched until the next step.
	t.spare, t.state = t.state, st.DetachInto(t.spare)
	L, _ := loss.Record(tp, logits, func(g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, c.Y, t.M.Spec.Vocab, loss.ClassOptions{})
	})
	return L, c.T * c.B
}

// Evaluate returns "loss" (mean cross-entropy per token, nats), "ppl"
// (perplexity) and "bits" (bits per token: bits per character for a
// character model) over d (an *LMData), carrying the state across chunks.
func (t *LMTask) Evaluate(d train.Data) (map[string]float64, error) {
	var st *nn.State
	var sum float64
	var n int
	for i := 0; i < d.Len(); i++ {
		c := d.Batch(i).(*text.Chunk)
		logits, next := t.M.lmForward(nil, c.X, c.T, c.B, st)
		st = next
		sum += loss.CrossEntropy(nil, logits.Value.Data, c.Y, t.M.Spec.Vocab, loss.ClassOptions{Reduction: loss.Sum})
		n += c.T * c.B
	}
	if n == 0 {
		return nil, fmt.Errorf("model: no tokens to evaluate")
	}
	l := sum / float64(n)
	return map[string]float64{"loss": l, "ppl": exp(l), "bits": l / math.Ln2}, nil
}

// Generate continues prompt (token ids, at least one) by n tokens drawn
// as sc says.
func (m *Model) Generate(prompt []int, n int, sc nn.SampleConfig, rng *tensor.RNG) ([]int, error) {
	if m.Spec.Task != LM {
		return nil, fmt.Errorf("model: generate needs a language model, this is a %s model", m.Spec.Task)
	}
	if len(prompt) == 0 {
		return nil, fmt.Errorf("model: empty prompt")
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	V := m.Spec.Vocab
	for _, id := range prompt {
		if id < 0 || id >= V {
			return nil, fmt.Errorf("model: token id %d outside the vocabulary of %d", id, V)
		}
	}
	logits, st := m.lmForward(nil, prompt, len(prompt), 1, nil)
	last := logits.Value.Data[(len(prompt)-1)*V:]
	out := make([]int, 0, n)
	for range n {
		id := nn.Sample(last, sc, rng)
		out = append(out, id)
		logits, st = m.lmForward(nil, []int{id}, 1, 1, st)
		last = logits.Value.Data
	}
	return out, nil
}

func exp(x float64) float64 { return math.Exp(x) }
