package model

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/recur-ml/recur/checkpoint"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// LMConfig configures a LanguageModel. Zero fields mean the documented
// defaults.
type LMConfig struct {
	// Spec is the architecture: cell, hidden, layers, proj, embed, tie,
	// dropout kinds, init (not bidirectional). Vocab comes from the text.
	Spec Spec
	// Text says how text becomes tokens (characters by default).
	Text TextConfig
	// SeqLen is the truncated-BPTT length, the steps of one chunk (zero:
	// 35). FitConfig.BatchSize is the number of parallel streams.
	SeqLen int
	// Embeddings loads pretrained vectors into the embedding (with Tie,
	// the output layer starts from them too).
	Embeddings Pretrained
	// Fit says how to train.
	Fit FitConfig
}

// LanguageModel predicts the next token: token ids → embedding →
// recurrent stack → Linear to the vocabulary (optionally tied to the
// embedding), trained with truncated backpropagation through time.
type LanguageModel struct {
	core
	cfg  LMConfig
	prep *TextPrep
	net  *body
}

// NewLanguageModel validates cfg and returns an untrained language model.
func NewLanguageModel(cfg LMConfig) (*LanguageModel, error) {
	if cfg.SeqLen < 0 {
		return nil, &FitError{"SeqLen", cfg.SeqLen, ">= 1"}
	}
	if cfg.SeqLen == 0 {
		cfg.SeqLen = 35
	}
	s := cfg.Spec
	s.Task = LM
	fc, err := checkText(cfg.Fit, cfg.Text, s)
	if err != nil {
		return nil, err
	}
	cfg.Fit = fc
	return &LanguageModel{cfg: cfg}, nil
}

// Encoder returns the text encoder (nil before Fit or Load).
func (m *LanguageModel) Encoder() *text.Encoder {
	if m.prep == nil {
		return nil
	}
	return m.prep.Encoder
}

// Fit builds the vocabulary of trainText (or takes
// LMConfig.Text.Encoder), builds the network and trains it, validating on
// validText (empty: none).
func (m *LanguageModel) Fit(ctx context.Context, trainText, validText string) (*FitReport, error) {
	s, n, err := m.prepare(trainText, validText)
	if err != nil {
		return nil, err
	}
	res, err := m.fit(ctx, s, m.cfg.Fit)
	if err != nil {
		return nil, err
	}
	rep := &FitReport{Result: res, Valid: res.Valid, Examples: n, Vocab: m.prep.Encoder.Vocab.Len(), Transfer: m.transfer, Embeddings: m.pretrained}
	if rep.Valid != nil {
		return rep, m.setMetrics(map[string]any{"valid": rep.Valid})
	}
	return rep, nil
}

// FindLR prepares the text as Fit does and runs the learning-rate range
// test; the model is left untrained.
func (m *LanguageModel) FindLR(ctx context.Context, trainText string, lc lrfind.Config) (*lrfind.Result, error) {
	s, _, err := m.prepare(trainText, "")
	if err != nil {
		return nil, err
	}
	return m.findLR(ctx, s, m.cfg.Fit, lc)
}

func (m *LanguageModel) prepare(trainText, validText string) (*session, int, error) {
	if trainText == "" {
		return nil, 0, fmt.Errorf("model: language model: no training text")
	}
	enc, err := m.cfg.Text.encoder([]string{trainText}, "char")
	if err != nil {
		return nil, 0, err
	}
	m.prep = &TextPrep{Encoder: enc}
	s := m.cfg.Spec
	s.Task, s.Vocab = LM, enc.Vocab.Len()
	vecs, err := m.cfg.Embeddings.read(enc.Vocab, &s)
	if err != nil {
		return nil, 0, err
	}
	if err := m.build(s, m.cfg.Fit.Seed); err != nil {
		return nil, 0, err
	}
	var freeze []string
	m.pretrained, freeze = vecs.load(m.net.emb.Weight.Value, m.cfg.Embeddings, "embedding.weight")
	if err := checkRanks(m.cfg.Fit, m.cfg.Fit.BatchSize); err != nil {
		return nil, 0, err
	}
	ids := enc.Encode(trainText)
	tokens := len(ids)
	td, err := newLMData(ids, m.cfg.Fit.BatchSize, m.cfg.SeqLen)
	if err != nil {
		return nil, 0, fmt.Errorf("model: training text: %w", err)
	}
	sess := &session{task: &lmTask{m: m}, train: td, prep: m.prep, bodies: []*body{m.net}, freeze: freeze}
	if validText != "" {
		if sess.valid, err = newLMData(enc.Encode(validText), 1, m.cfg.SeqLen*4); err != nil {
			return nil, 0, fmt.Errorf("model: validation text: %w", err)
		}
	}
	return sess, tokens, nil
}

func (m *LanguageModel) build(s Spec, seed uint64) error {
	s, err := s.withDefaults()
	if err != nil {
		return err
	}
	b, err := newBody(s, s.Vocab, s.Vocab, seed)
	if err != nil {
		return err
	}
	if s.Tie {
		b.head.Weight = b.emb.Weight
	}
	m.core = core{spec: s, params: b.params(s.Tie), rngs: b.rngs(), built: true}
	m.net = b
	return nil
}

// forward maps ids (T, B) and an initial state to logits (T·B, V) and
// the final state.
func (m *LanguageModel) forward(tp *nn.Tape, ids []int, T, B int, h0 *nn.State) (*nn.Var, *nn.State) {
	n := m.net
	x := n.dropout(tp, n.embed(tp, ids, T, B))
	out, st := n.recur(tp, x, nil, h0)
	logits := n.head.Forward(tp, n.dropout(tp, out))
	return nn.Reshape(tp, logits, T*B, m.spec.Vocab), st
}

// Evaluate returns "loss" (mean cross-entropy per token, nats), "ppl"
// (perplexity per token) and "bits" (bits per token) of the model on s,
// read as one stream, and, so that models with different tokenizers
// compare, "bits_per_char" and "bits_per_word": the same total over the
// characters (Unicode code points) and the white-space separated words
// of s. For a character model bits_per_char is bits.
func (m *LanguageModel) Evaluate(s string) (map[string]float64, error) {
	if err := m.needBuilt("Evaluate"); err != nil {
		return nil, err
	}
	ids := m.prep.Encoder.Encode(s)
	d, err := newLMData(ids, 1, m.cfg.SeqLen*4)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	met, err := (&lmTask{m: m}).Evaluate(d)
	if err != nil {
		return nil, err
	}
	// The first token is never predicted and a stream may drop a last
	// partial chunk: scale the text's characters and words to the share
	// of its tokens scored.
	scored := met["tokens"] / float64(len(ids))
	total := met["bits"] * met["tokens"]
	met["bits_per_char"] = total / (scored * float64(utf8.RuneCountInString(s)))
	met["bits_per_word"] = total / (scored * float64(max(len(strings.Fields(s)), 1)))
	return met, nil
}

// Generation is a language model's continuation of a prompt.
type Generation struct {
	// Completion is the generated text alone; Text the prompt followed by
	// it, as the tokenizer joins them.
	Completion string `json:"completion"`
	Text       string `json:"text"`
	// Tokens counts the generated tokens; PromptUnknown the prompt's
	// tokens not in the vocabulary.
	Tokens        int `json:"tokens"`
	PromptUnknown int `json:"prompt_unknown"`
}

// promptChunk is how many prompt tokens one forward pass reads: the
// logits of a chunk take promptChunk × vocabulary floats, whatever the
// prompt's length.
const promptChunk = 64

// Generate continues prompt by n tokens drawn as sc says, from rng (the
// same seed gives the same text). The prompt is read in chunks of 64
// tokens, so its length costs time but not memory; ctx is checked between
// chunks and at every generated token.
func (m *LanguageModel) Generate(ctx context.Context, prompt string, n int, sc SampleConfig, rng *tensor.RNG) (*Generation, error) {
	if err := m.needBuilt("Generate"); err != nil {
		return nil, err
	}
	return m.GenerateIDs(ctx, m.prep.Encoder.Encode(prompt), n, sc, rng)
}

// GenerateIDs is Generate for a prompt already encoded by Encoder: a
// server that bounds a prompt's tokens before it computes encodes the
// prompt once, checks len(ids) and generates from the same ids. Every id
// must be in [0, vocabulary size).
func (m *LanguageModel) GenerateIDs(ctx context.Context, ids []int, n int, sc SampleConfig, rng *tensor.RNG) (*Generation, error) {
	if err := m.needBuilt("Generate"); err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("model: generate %d tokens", n)
	}
	enc := m.prep.Encoder
	if len(ids) == 0 {
		return nil, fmt.Errorf("model: the prompt has no tokens")
	}
	if err := checkIDs("prompt", ids, m.spec.Vocab); err != nil {
		return nil, err
	}
	var st *nn.State
	var last []float32
	for from := 0; from < len(ids); from += promptChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := ids[from:min(from+promptChunk, len(ids))]
		var logits *nn.Var
		logits, st = m.forward(nil, part, len(part), 1, st)
		last = logits.Value.Data[(len(part)-1)*m.spec.Vocab:]
	}
	// n is a caller's number: the output grows as tokens come, so a
	// cancelled request never paid for a huge buffer up front.
	out := make([]int, 0, min(n, 1024))
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id := nn.Sample(last, sc, rng)
		out = append(out, id)
		var logits *nn.Var
		logits, st = m.forward(nil, []int{id}, 1, 1, st)
		last = logits.Value.Data
	}
	return &Generation{Completion: enc.Decode(out), Text: enc.Decode(append(ids, out...)), Tokens: len(out), PromptUnknown: countID(ids, enc.Vocab.Unk)}, nil
}

// Save writes the model file.
func (m *LanguageModel) Save(path string) error { return m.save(path, m.prep) }

// File returns the model file's contents in memory: weights, spec,
// preprocessing and metrics (what Save writes).
func (m *LanguageModel) File() (*checkpoint.File, error) { return m.file(m.prep) }

// Task returns the language model's train.Task over *text.Chunk batches;
// it carries the state across chunks (train it without shuffling).
func (m *LanguageModel) Task() train.Task { return &lmTask{m: m} }

func languageModelFrom(s Spec, prep json.RawMessage) (*LanguageModel, error) {
	p, err := decodeTextPrep(s, prep)
	if err != nil {
		return nil, err
	}
	m := &LanguageModel{cfg: LMConfig{Spec: s, SeqLen: 35}, prep: p}
	if err := m.build(s, 0); err != nil {
		return nil, err
	}
	m.built = false
	return m, nil
}

// lmData is a corpus cut into B streams and chunks of T steps, in order;
// it implements train.Data.
type lmData struct {
	chunks []*text.Chunk
	// shards are this rank's parts of the chunks (made by Shard) for
	// shardOf's rank and size.
	shards  []*text.Chunk
	shardOf [2]int
}

func newLMData(ids []int, B, T int) (*lmData, error) {
	chunks, err := text.FixedChunks(ids, B, T)
	if err != nil {
		return nil, err
	}
	return &lmData{chunks: chunks}, nil
}

func (d *lmData) Len() int                { return len(d.chunks) }
func (d *lmData) Batch(i int) train.Batch { return d.chunks[i] }

// lmTask trains a language model with truncated backpropagation through
// time: the state at the end of a chunk (detached) starts the next one.
type lmTask struct {
	m     *LanguageModel
	state *nn.State
	spare *nn.State // the state before last, reused by DetachInto
}

func (t *lmTask) Params() []*nn.Param { return t.m.params }

// Reset forgets the carried state (start of an epoch).
func (t *lmTask) Reset() { t.state = nil }

// Carried returns the carried state ("h", and "c" for an LSTM) for
// checkpoints; none after Reset.
func (t *lmTask) Carried() map[string]*tensor.Tensor {
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
func (t *lmTask) SetCarried(m map[string]*tensor.Tensor) error {
	h, ok := m["h"]
	if !ok {
		return fmt.Errorf("model: carried state has no h")
	}
	st := &nn.State{H: nn.NewVar(h.Clone())}
	if c, ok := m["c"]; ok {
		st.C = nn.NewVar(c.Clone())
	} else if t.m.spec.Cell == "lstm" {
		return fmt.Errorf("model: carried LSTM state has no c")
	}
	t.state = st
	return nil
}

// Loss is the mean next-token cross-entropy of a chunk.
func (t *lmTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	c := b.(*text.Chunk)
	logits, st := t.m.forward(tp, c.X, c.T, c.B, t.state)
	// Two carried states in turn: the one this step started from stays
	// untouched until the next step.
	t.spare, t.state = t.state, st.DetachInto(t.spare)
	smooth := t.m.cfg.Fit.Loss.LabelSmoothing
	L, _ := loss.Record(tp, logits, func(g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, c.Y, t.m.spec.Vocab, loss.ClassOptions{LabelSmoothing: smooth})
	})
	return L, c.T * c.B
}

// Evaluate returns "loss", "ppl" and "bits" over d, carrying the state
// across chunks.
func (t *lmTask) Evaluate(d train.Data) (map[string]float64, error) {
	var st *nn.State
	var sum float64
	var n int
	for i := 0; i < d.Len(); i++ {
		c := d.Batch(i).(*text.Chunk)
		logits, next := t.m.forward(nil, c.X, c.T, c.B, st)
		st = next
		sum += loss.CrossEntropy(nil, logits.Value.Data, c.Y, t.m.spec.Vocab, loss.ClassOptions{Reduction: loss.Sum})
		n += c.T * c.B
	}
	if n == 0 {
		return nil, fmt.Errorf("model: no tokens to evaluate")
	}
	l := sum / float64(n)
	return map[string]float64{"loss": l, "ppl": math.Exp(l), "bits": l / math.Ln2, "tokens": float64(n)}, nil
}

var _ train.Carrier = (*lmTask)(nil)
