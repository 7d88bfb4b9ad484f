package model

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/recur-ml/recur/checkpoint"
	"math"

	"github.com/recur-ml/recur/data/batch"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/metrics"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// TranslateConfig configures a Translator. Zero fields mean the
// documented defaults.
type TranslateConfig struct {
	// Spec is the architecture: hidden, layers, embed, bidirectional
	// encoder, attention kind, dropout (lstm only). The vocabularies come
	// from the data.
	Spec Spec
	// Text says how each side becomes tokens (words by default); its
	// Encoder is not used (each side builds its own vocabulary).
	Text TextConfig
	// Embeddings loads pretrained vectors of the source language into
	// the source embedding (src_embed; the target embedding has the same
	// width).
	Embeddings Pretrained
	// Fit says how to train.
	Fit FitConfig
}

// Seq2SeqPrep is the preprocessing state of a translator: one encoder per
// side (their vocabularies have pad 0, bos and eos).
type Seq2SeqPrep struct {
	Src    *text.Encoder `json:"src"`
	Tgt    *text.Encoder `json:"tgt"`
	MaxLen int           `json:"max_len,omitempty"`
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

// Translator maps a source sentence to a target sentence: an attention
// encoder-decoder (nn.Seq2Seq: Luong attention with input feeding).
type Translator struct {
	core
	cfg  TranslateConfig
	prep *Seq2SeqPrep
	net  *nn.Seq2Seq
}

// NewTranslator validates cfg and returns an untrained translator.
func NewTranslator(cfg TranslateConfig) (*Translator, error) {
	s := cfg.Spec
	s.Task = Seq2Seq
	fc, err := checkText(cfg.Fit, cfg.Text, s)
	if err != nil {
		return nil, err
	}
	cfg.Fit = fc
	return &Translator{cfg: cfg}, nil
}

// Prep returns the preprocessing state (nil before Fit or Load).
func (m *Translator) Prep() *Seq2SeqPrep { return m.prep }

// Fit builds both vocabularies from the training pairs, builds the
// network and trains it with teacher forcing, validating on valid (nil:
// none).
func (m *Translator) Fit(ctx context.Context, trainSet, valid []text.Pair) (*FitReport, error) {
	s, err := m.prepare(trainSet, valid)
	if err != nil {
		return nil, err
	}
	res, err := m.fit(ctx, s, m.cfg.Fit)
	if err != nil {
		return nil, err
	}
	rep := &FitReport{Result: res, Valid: res.Valid, Examples: len(trainSet), Vocab: m.prep.Tgt.Vocab.Len(), Transfer: m.transfer, Embeddings: m.pretrained}
	if rep.Valid != nil {
		return rep, m.setMetrics(map[string]any{"valid": rep.Valid})
	}
	return rep, nil
}

// FindLR prepares the pairs as Fit does and runs the learning-rate range
// test; the model is left untrained.
func (m *Translator) FindLR(ctx context.Context, trainSet []text.Pair, lc lrfind.Config) (*lrfind.Result, error) {
	s, err := m.prepare(trainSet, nil)
	if err != nil {
		return nil, err
	}
	return m.findLR(ctx, s, m.cfg.Fit, lc)
}

func (m *Translator) prepare(trainSet, valid []text.Pair) (*session, error) {
	if len(trainSet) == 0 {
		return nil, fmt.Errorf("model: translator: no training pairs")
	}
	srcs, tgts := make([]string, len(trainSet)), make([]string, len(trainSet))
	for i, p := range trainSet {
		srcs[i], tgts[i] = p.Src, p.Tgt
	}
	tc := m.cfg.Text
	tc.Encoder = nil
	se, err := tc.encoder(srcs, "word")
	if err != nil {
		return nil, err
	}
	te, err := tc.encoder(tgts, "word")
	if err != nil {
		return nil, err
	}
	m.prep = &Seq2SeqPrep{Src: se, Tgt: te, MaxLen: tc.MaxLen}
	s := m.cfg.Spec
	s.Task, s.Vocab, s.TgtVocab = Seq2Seq, se.Vocab.Len(), te.Vocab.Len()
	vecs, err := m.cfg.Embeddings.read(se.Vocab, &s)
	if err != nil {
		return nil, err
	}
	if err := m.build(s, m.cfg.Fit.Seed); err != nil {
		return nil, err
	}
	sess := &session{task: &seq2seqTask{m: m}, shuffle: true, prep: m.prep}
	m.pretrained, sess.freeze = vecs.load(m.net.SrcEmbed.Weight.Value, m.cfg.Embeddings, "src_embed.weight")
	if sess.train, err = shardable(m.data(trainSet, m.cfg.Fit.BatchSize, true)); err != nil {
		return nil, err
	}
	if len(valid) > 0 {
		if sess.valid, err = m.data(valid, 64, false); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

func (m *Translator) build(s Spec, seed uint64) error {
	s, err := s.withDefaults()
	if err != nil {
		return err
	}
	rng := tensor.NewRNG(seed)
	rng.Split() // the draw other tasks give their dropout generator
	net, err := nn.NewSeq2Seq(nn.Seq2SeqConfig{SrcVocab: s.Vocab, TgtVocab: s.TgtVocab, HiddenSize: s.Hidden, EmbedSize: s.Embed, Cell: s.Cell,
		NumLayers: s.Layers, Bidirectional: s.Bidirectional, Attention: s.Attention, Dropout: s.Dropout, PadToken: 0}, rng)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if m.prep != nil {
		if err := m.prep.check(s); err != nil {
			return err
		}
	}
	m.core = core{spec: s, params: net.Params(), rngs: net.RNGs(), built: true}
	m.net = net
	return nil
}

// PairBatch is a batch of sentence pairs, time-major: source ids Src
// (Ts, B) with SrcLengths (B; nil: all Ts), decoder inputs TgtIn (Tt, B:
// the start token, then the target shifted right) and the targets Target
// (Tt, B), -1 on padding.
type PairBatch struct {
	Src, SrcLengths, TgtIn, Target []int
	Ts, Tt, B                      int
}

func (b *PairBatch) input() nn.Seq2SeqBatch {
	return nn.Seq2SeqBatch{Src: b.Src, SrcLengths: b.SrcLengths, TgtIn: b.TgtIn, Ts: b.Ts, Tt: b.Tt, B: b.B}
}

// data encodes pairs into batches.
func (m *Translator) data(pairs []text.Pair, bs int, training bool) (*loaderData, error) {
	ds := &batch.Dataset{Seqs: make([][]int, len(pairs)), Targets: make([][]int, len(pairs))}
	for i, p := range pairs {
		ds.Seqs[i] = m.prep.Src.Encode(p.Src)
		if len(ds.Seqs[i]) == 0 {
			ds.Seqs[i] = []int{m.prep.Src.Vocab.Unk}
		}
		ds.Targets[i] = m.prep.Tgt.Encode(p.Tgt)
	}
	tv := m.prep.Tgt.Vocab
	return newLoaderData(ds, loaderConfig(bs, m.prep.MaxLen, m.cfg.Fit.Seed, training), func(b *batch.Batch) train.Batch {
		return pairBatch(b, tv.BOS, tv.EOS)
	})
}

// pairBatch lays out a loader batch for the decoder: inputs bos + target,
// targets target + eos, -1 on padding.
func pairBatch(b *batch.Batch, bos, eos int) *PairBatch {
	B, Tt := b.B, b.TT+1
	pb := &PairBatch{Src: b.TimeMajor(nil), SrcLengths: b.Lengths, TgtIn: make([]int, Tt*B), Ts: b.T, Tt: Tt, B: B, Target: make([]int, Tt*B)}
	for r := range B {
		n := b.TargetLengths[r]
		for t := range Tt {
			in, out := 0, -1
			switch {
			case t == 0:
				in = bos
			case t <= n:
				in = b.Targets[r*b.TT+t-1]
			}
			switch {
			case t < n:
				out = b.Targets[r*b.TT+t]
			case t == n:
				out = eos
			}
			pb.TgtIn[t*B+r], pb.Target[t*B+r] = in, out
		}
	}
	return pb
}

// Evaluate returns "loss" (cross-entropy per target token), "ppl" and
// "token_accuracy" under teacher forcing, and the "bleu" and
// "exact_match" of greedy decoding (see Score).
func (m *Translator) Evaluate(pairs []text.Pair) (map[string]float64, error) {
	if err := m.needBuilt("Evaluate"); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("model: no pairs to evaluate")
	}
	d, err := m.data(pairs, 64, false)
	if err != nil {
		return nil, err
	}
	met, err := (&seq2seqTask{m: m}).Evaluate(d)
	if err != nil {
		return nil, err
	}
	b, exact, err := m.Score(context.Background(), pairs, TranslateOptions{})
	if err != nil {
		return nil, err
	}
	met["bleu"], met["exact_match"] = b.Score, exact
	return met, nil
}

// Score translates every source of pairs as o says and scores the outputs
// against the targets: corpus BLEU as sacreBLEU computes it on 13a tokens
// (metrics.CorpusBLEU), and the share of exact matches. The references
// are put in the model's normal form first (the target side's cleaning
// and tokenizer, then detokenized: lower case with the default word
// tokenizer), since that is what the model can write.
func (m *Translator) Score(ctx context.Context, pairs []text.Pair, o TranslateOptions) (metrics.BLEU, float64, error) {
	hyps, refs := make([][]string, len(pairs)), make([][]string, len(pairs))
	tgt := m.prep.Tgt
	for i, p := range pairs {
		tr, err := m.Translate(ctx, p.Src, o)
		if err != nil {
			return metrics.BLEU{}, 0, fmt.Errorf("model: pair %d: %w", i, err)
		}
		hyps[i] = metrics.Tokenize13a(tr.Output)
		refs[i] = metrics.Tokenize13a(tgt.Tok.Detokenize(tgt.Tok.Tokenize(tgt.Clean.Clean(p.Tgt))))
	}
	b, err := metrics.CorpusBLEU(hyps, refs)
	return b, metrics.ExactMatch(hyps, refs), err
}

// TranslateOptions says how Translate decodes. The zero value is greedy
// decoding up to twice the source length plus 10 tokens.
type TranslateOptions struct {
	// MaxLen bounds the output tokens (zero: 2·source tokens + 10).
	MaxLen int
	// Sample draws each token as it says (zero: greedy) from RNG.
	Sample SampleConfig
	RNG    *tensor.RNG
	// Beam, when > 1, decodes with beam search of that width instead,
	// ranking finished outputs by log P / length^LengthPenalty.
	Beam          int
	LengthPenalty float64
}

// Translation is a translator's output for one source text.
type Translation struct {
	Output string `json:"output"`
	// Tokens are the output tokens as the target tokenizer spells them.
	Tokens []string `json:"tokens"`
	// SourceTokens are the source's tokens and Unknown the number not in
	// the vocabulary.
	SourceTokens []string `json:"source_tokens"`
	Unknown      int      `json:"unknown"`
	// Attention holds, per output token, the weights over the source
	// tokens (greedy or sampled decoding only).
	Attention [][]float32 `json:"attention,omitempty"`
}

// Translate decodes src.
func (m *Translator) Translate(ctx context.Context, src string, o TranslateOptions) (*Translation, error) {
	if err := m.needBuilt("Translate"); err != nil {
		return nil, err
	}
	return m.TranslateIDs(ctx, m.prep.Src.Encode(src), o)
}

// TranslateIDs is Translate for a source already encoded by Prep().Src:
// a server that bounds a source's tokens before it decodes encodes the
// source once, checks len(ids) and translates the same ids. Every id must
// be in [0, source vocabulary size).
func (m *Translator) TranslateIDs(ctx context.Context, ids []int, o TranslateOptions) (*Translation, error) {
	if err := m.needBuilt("Translate"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("model: the source text has no tokens")
	}
	if err := checkIDs("source", ids, m.prep.Src.Vocab.Len()); err != nil {
		return nil, err
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 2*len(ids) + 10
	}
	tv := m.prep.Tgt.Vocab
	tr := &Translation{SourceTokens: tokens(m.prep.Src, ids), Unknown: countID(ids, m.prep.Src.Vocab.Unk)}
	var out []int
	if o.Beam > 1 {
		hs, err := m.net.Beam(ids, tv.BOS, nn.BeamConfig{Width: o.Beam, MaxLen: o.MaxLen + 1, EndToken: tv.EOS, LengthPenalty: o.LengthPenalty})
		if err != nil {
			return nil, err
		}
		out = hs[0].Tokens
		if hs[0].Finished {
			out = out[:len(out)-1]
		}
	} else {
		toks, w, err := m.net.Generate(ids, len(ids), 1, nil, tv.BOS, tv.EOS, o.MaxLen, o.Sample, o.RNG)
		if err != nil {
			return nil, err
		}
		out, tr.Attention = toks[0], w[0]
	}
	tr.Output, tr.Tokens = m.prep.Tgt.Decode(out), tokens(m.prep.Tgt, out)
	return tr, nil
}

// checkIDs refuses an id outside [0, vocab) in ids, which would index
// past the embedding.
func checkIDs(what string, ids []int, vocab int) error {
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return fmt.Errorf("model: %s token %d is id %d, outside the vocabulary [0, %d)", what, i, id, vocab)
		}
	}
	return nil
}

// tokens spells ids one by one as e's tokenizer does.
func tokens(e *text.Encoder, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.Decode([]int{id})
	}
	return out
}

// Save writes the model file.
func (m *Translator) Save(path string) error { return m.save(path, m.prep) }

// File returns the model file's contents in memory: weights, spec,
// preprocessing and metrics (what Save writes).
func (m *Translator) File() (*checkpoint.File, error) { return m.file(m.prep) }

// Task returns the translator's train.Task over *PairBatch batches.
func (m *Translator) Task() train.Task { return &seq2seqTask{m: m} }

func translatorFrom(s Spec, prep json.RawMessage) (*Translator, error) {
	var p Seq2SeqPrep
	if err := json.Unmarshal(prep, &p); err != nil {
		return nil, fmt.Errorf("model: seq2seq preprocessing state: %w", err)
	}
	if err := p.check(s); err != nil {
		return nil, err
	}
	m := &Translator{cfg: TranslateConfig{Spec: s}, prep: &p}
	if err := m.build(s, 0); err != nil {
		return nil, err
	}
	m.built = false
	return m, nil
}

// seq2seqTask trains a translator with teacher forcing.
type seq2seqTask struct{ m *Translator }

func (t *seq2seqTask) Params() []*nn.Param { return t.m.params }

// Loss is the mean cross-entropy over the non-padded target tokens.
func (t *seq2seqTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	pb := b.(*PairBatch)
	logits, _ := t.m.net.Forward(tp, pb.input(), 1, nil)
	V := t.m.spec.TgtVocab
	flat := nn.Reshape(tp, logits, pb.Tt*pb.B, V)
	smooth := t.m.cfg.Fit.Loss.LabelSmoothing
	L, _ := loss.Record(tp, flat, func(g []float32) float64 {
		return loss.CrossEntropy(g, flat.Value.Data, pb.Target, V, loss.ClassOptions{LabelSmoothing: smooth})
	})
	return L, pb.B
}

// Evaluate returns "loss", "ppl" and "token_accuracy" under teacher
// forcing.
func (t *seq2seqTask) Evaluate(d train.Data) (map[string]float64, error) {
	V := t.m.spec.TgtVocab
	var sum float64
	var n, right int
	for i := 0; i < d.Len(); i++ {
		pb := d.Batch(i).(*PairBatch)
		logits, _ := t.m.net.Forward(nil, pb.input(), 1, nil)
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
	return map[string]float64{"loss": l, "ppl": math.Exp(l), "token_accuracy": float64(right) / float64(n)}, nil
}
