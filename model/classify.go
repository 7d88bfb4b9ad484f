package model

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/recur-ml/recur/checkpoint"
	"math"
	"slices"

	"github.com/recur-ml/recur/data/batch"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// ClassifyConfig configures a Classifier. Zero fields mean the documented
// defaults.
type ClassifyConfig struct {
	// Spec is the architecture: cell, hidden, layers, proj, embed,
	// bidirectional, pool, dropout kinds, init. Vocab and Classes come from
	// the data.
	Spec Spec
	// Text says how texts become tokens (word level by default).
	Text TextConfig
	// Embeddings loads pretrained word vectors into the embedding.
	Embeddings Pretrained
	// Fit says how to train.
	Fit FitConfig
}

// Classifier labels texts: token ids → embedding → recurrent stack →
// last/mean/max/attention pooling → Linear to the classes.
type Classifier struct {
	core
	cfg  ClassifyConfig
	prep *TextPrep
	net  *body
	// lossOpts weight the training cross-entropy (class weights, label
	// smoothing); evaluation uses the plain cross-entropy.
	lossOpts loss.ClassOptions
}

// NewClassifier validates cfg and returns an untrained classifier; Fit
// builds its vocabulary and network from the training texts.
func NewClassifier(cfg ClassifyConfig) (*Classifier, error) {
	s := cfg.Spec
	s.Task = Classify
	fc, err := checkText(cfg.Fit, cfg.Text, s)
	if err != nil {
		return nil, err
	}
	cfg.Fit = fc
	return &Classifier{cfg: cfg}, nil
}

// Prep returns the preprocessing state (nil before Fit or Load).
func (c *Classifier) Prep() *TextPrep { return c.prep }

// Encoder returns the text encoder (nil before Fit or Load).
func (c *Classifier) Encoder() *text.Encoder {
	if c.prep == nil {
		return nil
	}
	return c.prep.Encoder
}

// Classes returns the class names, in the order of the outputs.
func (c *Classifier) Classes() []string {
	if c.prep == nil {
		return nil
	}
	return c.prep.Classes
}

// FitReport is what a text model's Fit measured.
type FitReport struct {
	Result *train.Result
	// Valid is the last validation's metrics (nil without validation).
	Valid map[string]float64
	// Examples is the number of training examples (tokens for a language
	// model); Vocab the vocabulary size.
	Examples, Vocab int
	// Transfer reports what FitConfig.InitFrom copied (nil without it).
	Transfer *Transfer
	// Embeddings reports which tokens the pretrained vectors covered (nil
	// without them).
	Embeddings *text.Coverage
}

// Fit builds the vocabulary from trainSet's texts (or takes
// ClassifyConfig.Text.Encoder), builds the network and trains it,
// validating on valid (nil: none). Their classes are trainSet's.
func (c *Classifier) Fit(ctx context.Context, trainSet, valid *text.Labelled) (*FitReport, error) {
	s, err := c.prepare(trainSet, valid)
	if err != nil {
		return nil, err
	}
	res, err := c.fit(ctx, s, c.cfg.Fit)
	if err != nil {
		return nil, err
	}
	rep := &FitReport{Result: res, Valid: res.Valid, Examples: len(trainSet.Texts), Vocab: c.prep.Encoder.Vocab.Len(), Transfer: c.transfer, Embeddings: c.pretrained}
	if rep.Valid != nil {
		return rep, c.setMetrics(map[string]any{"valid": rep.Valid})
	}
	return rep, nil
}

// FindLR prepares the data as Fit does and runs the learning-rate range
// test; the model is left untrained.
func (c *Classifier) FindLR(ctx context.Context, trainSet *text.Labelled, lc lrfind.Config) (*lrfind.Result, error) {
	s, err := c.prepare(trainSet, nil)
	if err != nil {
		return nil, err
	}
	return c.findLR(ctx, s, c.cfg.Fit, lc)
}

func (c *Classifier) prepare(trainSet, valid *text.Labelled) (*session, error) {
	if trainSet == nil || len(trainSet.Texts) == 0 {
		return nil, fmt.Errorf("model: classifier: no training texts")
	}
	if len(trainSet.Classes) < 2 && trainSet.Sets == nil {
		return nil, fmt.Errorf("model: classifier: the training texts have %d class(es) %q; want at least 2", len(trainSet.Classes), trainSet.Classes)
	}
	enc, err := c.cfg.Text.encoder(trainSet.Texts, "word")
	if err != nil {
		return nil, err
	}
	multi := c.cfg.Fit.Loss.multiLabel()
	switch {
	case multi && trainSet.Sets == nil:
		return nil, fmt.Errorf("model: classifier: the bce loss learns label sets; the training texts have one label each (read them with text.LabelledConfig.LabelSep)")
	case !multi && trainSet.Sets != nil:
		return nil, fmt.Errorf("model: classifier: the training texts have label sets; learn them with the bce loss (Loss.Name \"bce\")")
	case multi && (c.cfg.Fit.Loss.ClassWeights != nil || c.cfg.Fit.Loss.AutoClassWeights || c.cfg.Fit.Loss.LabelSmoothing != 0):
		return nil, &FitError{"Loss", "class weights or label smoothing", "none with bce (multi-label)"}
	}
	c.prep = &TextPrep{Encoder: enc, Classes: slices.Clone(trainSet.Classes), MaxLen: c.cfg.Text.MaxLen, MultiLabel: multi}
	s := c.cfg.Spec
	s.Task, s.Vocab, s.Classes = Classify, enc.Vocab.Len(), len(trainSet.Classes)
	vecs, err := c.cfg.Embeddings.read(enc.Vocab, &s)
	if err != nil {
		return nil, err
	}
	if err := c.build(s, c.cfg.Fit.Seed); err != nil {
		return nil, err
	}
	sess := &session{task: &classifyTask{c: c}, shuffle: true, prep: c.prep, bodies: []*body{c.net}}
	c.pretrained, sess.freeze = vecs.load(c.net.emb.Weight.Value, c.cfg.Embeddings, "embedding.weight")
	if !multi {
		if c.lossOpts, err = c.cfg.Fit.Loss.classOptions(s.Classes, trainSet.Labels); err != nil {
			return nil, err
		}
	}
	if sess.train, err = shardable(c.data(trainSet, c.cfg.Fit.BatchSize, true)); err != nil {
		return nil, err
	}
	if valid != nil && len(valid.Texts) > 0 {
		if sess.valid, err = c.data(valid, 64, false); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

func (c *Classifier) build(s Spec, seed uint64) error {
	s, err := s.withDefaults()
	if err != nil {
		return err
	}
	b, err := newBody(s, s.Vocab, s.Classes, seed)
	if err != nil {
		return err
	}
	c.core = core{spec: s, params: b.params(false), rngs: b.rngs(), built: true}
	c.net = b
	return nil
}

// labels maps d's labels to the model's classes by name.
func (c *Classifier) labels(d *text.Labelled) ([]int, error) {
	if slices.Equal(d.Classes, c.prep.Classes) {
		return d.Labels, nil
	}
	out := make([]int, len(d.Labels))
	for i, l := range d.Labels {
		k, err := c.classOf(d.Classes[l], i)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// classOf is the model's index of the class named name, of example i.
func (c *Classifier) classOf(name string, i int) (int, error) {
	k := slices.Index(c.prep.Classes, name)
	if k < 0 {
		return 0, fmt.Errorf("model: label %q (example %d) is not one of the model's classes %q", name, i, c.prep.Classes)
	}
	return k, nil
}

// sets maps d's label sets to the model's classes by name.
func (c *Classifier) sets(d *text.Labelled) ([][]int, error) {
	if d.Sets == nil {
		return nil, fmt.Errorf("model: a multi-label classifier scores label sets; these texts have one label each")
	}
	if slices.Equal(d.Classes, c.prep.Classes) {
		return d.Sets, nil
	}
	out := make([][]int, len(d.Sets))
	for i, set := range d.Sets {
		for _, l := range set {
			k, err := c.classOf(d.Classes[l], i)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], k)
		}
	}
	return out, nil
}

// data makes the batches of d.
func (c *Classifier) data(d *text.Labelled, bs int, training bool) (*loaderData, error) {
	if !c.prep.MultiLabel {
		labels, err := c.labels(d)
		if err != nil {
			return nil, err
		}
		ds := &batch.Dataset{Seqs: encodeAll(c.prep.Encoder, d.Texts), Labels: labels}
		return newLoaderData(ds, loaderConfig(bs, c.prep.MaxLen, c.cfg.Fit.Seed, training), func(b *batch.Batch) train.Batch { return textBatch(b) })
	}
	sets, err := c.sets(d)
	if err != nil {
		return nil, err
	}
	C := c.spec.Classes
	ds := &batch.Dataset{Seqs: encodeAll(c.prep.Encoder, d.Texts)}
	return newLoaderData(ds, loaderConfig(bs, c.prep.MaxLen, c.cfg.Fit.Seed, training), func(b *batch.Batch) train.Batch {
		tb := textBatch(b)
		tb.Multi = make([]float32, b.B*C)
		for r, i := range b.Index {
			for _, k := range sets[i] {
				tb.Multi[r*C+k] = 1
			}
		}
		return tb
	})
}

// forward maps a batch to logits (B, Classes) and, for attention
// pooling, the attention weights (B, T).
func (c *Classifier) forward(tp *nn.Tape, b *TextBatch) (*nn.Var, *nn.Var) {
	n := c.net
	var x *nn.Var
	if b.X != nil {
		if b.xv == nil || b.xv.Value != b.X {
			b.xv = nn.Constant(b.X)
		}
		x = n.dropout(tp, b.xv)
	} else {
		x = n.dropout(tp, n.embed(tp, b.IDs, b.T, b.B))
	}
	out, st := n.recur(tp, x, b.Lengths, nil)
	var feat, attn *nn.Var
	switch c.spec.Pool {
	case "mean":
		feat = nn.MeanPool(tp, out, b.Lengths)
	case "max":
		feat = nn.MaxPool(tp, out, b.Lengths)
	case "attention":
		feat, attn = n.pool.Forward(tp, out, b.Lengths)
	default: // the final states of the top layer, [forward | reverse]
		feat = n.final(tp, st, c.spec)
	}
	return n.head.Forward(tp, n.dropout(tp, feat)), attn
}

// Evaluate scores the classifier on d, whose labels are matched to the
// model's classes by name: loss, accuracy, the confusion matrix,
// precision, recall and F1 per class and averaged, ROC-AUC and PR-AUC for
// two classes, and the calibration error.
func (c *Classifier) Evaluate(d *text.Labelled) (*ClassifyEval, error) {
	if err := c.needBuilt("Evaluate"); err != nil {
		return nil, err
	}
	if d == nil || len(d.Texts) == 0 {
		return nil, fmt.Errorf("model: no examples to evaluate")
	}
	if c.numeric() {
		return nil, fmt.Errorf("model: this classifier reads numeric sequences: use EvaluateSequences")
	}
	ld, err := c.data(d, 64, false)
	if err != nil {
		return nil, err
	}
	return c.evaluate(ld)
}

// Logits runs the network on a batch of token ids (see NewTextBatch):
// (B, Classes) unnormalized scores. Predict is the whole path from text.
func (c *Classifier) Logits(b *TextBatch) *tensor.Tensor {
	logits, _ := c.forward(nil, b)
	return logits.Value
}

// Prediction is a classifier's answer for one text.
type Prediction struct {
	Label         string    `json:"label"`
	Class         int       `json:"class"`
	Probabilities []float32 `json:"probabilities"` // per class, in Classes() order
	// Labels is a multi-label classifier's answer: the classes whose
	// probability (each on its own, a sigmoid) is at least 0.5; Label and
	// Class are then the most probable one.
	Labels []string `json:"labels,omitempty"`
	// Tokens counts the text's tokens (before the cut to MaxLen) and
	// Unknown those not in the vocabulary.
	Tokens  int `json:"tokens"`
	Unknown int `json:"unknown"`
	// Attention is the attention pooling's weight of each token kept
	// (attention pooling only).
	Attention []float32 `json:"attention,omitempty"`
}

// Predict classifies each text. Each is run as a batch of its own, so a
// text's result never depends on the others. ctx is checked between
// texts.
func (c *Classifier) Predict(ctx context.Context, texts []string) ([]Prediction, error) {
	return c.PredictLimited(ctx, texts, 0)
}

// TokenLimitError is PredictLimited's refusal of texts[Index], of which
// the network would read Tokens tokens, more than Limit.
type TokenLimitError struct{ Index, Tokens, Limit int }

func (e *TokenLimitError) Error() string {
	return fmt.Sprintf("model: text %d has %d tokens, more than the limit of %d", e.Index, e.Tokens, e.Limit)
}

// PredictLimited is Predict with a bound on the work a text may ask for:
// every text is encoded first, and one of which the network would read
// more than maxTokens tokens (a model without max_len, or with a larger
// one) is refused with a *TokenLimitError before anything is computed.
// maxTokens 0 is no limit.
func (c *Classifier) PredictLimited(ctx context.Context, texts []string, maxTokens int) ([]Prediction, error) {
	if err := c.needBuilt("Predict"); err != nil {
		return nil, err
	}
	if c.numeric() {
		return nil, fmt.Errorf("model: this classifier reads numeric sequences: use PredictSequences")
	}
	if err := checkTexts(texts); err != nil {
		return nil, err
	}
	limited := maxTokens > 0 && (c.prep.MaxLen == 0 || c.prep.MaxLen > maxTokens)
	out := make([]Prediction, len(texts))
	ids := make([][]int, len(texts))
	for i, t := range texts {
		ids[i], out[i].Tokens, out[i].Unknown = c.EncodeText(t)
		if limited && out[i].Tokens > maxTokens {
			return nil, &TokenLimitError{Index: i, Tokens: out[i].Tokens, Limit: maxTokens}
		}
	}
	for i := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q := c.predictBatch(NewTextBatch(ids[i:i+1], nil, c.prep.Encoder.Vocab.Pad))
		q.Tokens, q.Unknown = out[i].Tokens, out[i].Unknown
		out[i] = q
	}
	return out, nil
}

// EncodeText returns the ids the network reads for text t (its tokens
// cut to the model's max_len; an empty text reads one unknown token),
// the number of tokens before the cut and how many are unknown.
func (c *Classifier) EncodeText(t string) (ids []int, tokens, unknown int) {
	enc := c.prep.Encoder
	ids = enc.Encode(t)
	tokens, unknown = len(ids), countID(ids, enc.Vocab.Unk)
	if len(ids) == 0 {
		ids = []int{enc.Vocab.Unk}
	}
	if m := c.prep.MaxLen; m > 0 && len(ids) > m {
		ids = ids[:m]
	}
	return ids, tokens, unknown
}

// PredictIDs classifies sequences of ids (EncodeText's) run together as
// one padded batch with their lengths: what a server that gathers
// requests runs. Every row is computed as in a batch of two or more (a
// lone sequence runs beside a companion of one unknown token), so a
// row's result does not depend on the batch it came in; it may differ
// from Predict's, a batch of one whose kernels sum in another order, in
// the last bits (about 1e-7). Tokens and Unknown are left zero and
// Attention is not given.
func (c *Classifier) PredictIDs(seqs [][]int) []Prediction {
	vocab := c.prep.Encoder.Vocab
	n := len(seqs)
	if n == 0 {
		return nil
	}
	if n == 1 {
		seqs = [][]int{seqs[0], {vocab.Unk}}
	}
	logits := c.Logits(NewTextBatch(seqs, nil, vocab.Pad))
	C := logits.Shape[1]
	out := make([]Prediction, n)
	for b := range out {
		out[b] = c.prediction(logits.Data[b*C : (b+1)*C])
	}
	return out
}

// predictBatch classifies a batch of one example.
func (c *Classifier) predictBatch(b *TextBatch) Prediction {
	logits, attn := c.forward(nil, b)
	p := c.prediction(logits.Value.Data)
	if attn != nil {
		p.Attention = slices.Clone(attn.Value.Data)
	}
	return p
}

// prediction is the answer for one row of logits: a softmax, or a
// sigmoid per class and the set of classes of probability 0.5 or more
// for a multi-label classifier, and the most probable class.
func (c *Classifier) prediction(logits []float32) Prediction {
	var p Prediction
	names := c.prep.classes(c.spec.Classes)
	if c.prep.MultiLabel {
		p.Probabilities = sigmoids(logits)
		p.Labels = []string{}
		for k, v := range p.Probabilities {
			if v >= 0.5 {
				p.Labels = append(p.Labels, names[k])
			}
		}
	} else {
		p.Probabilities = softmax(logits)
	}
	p.Class = argmax(p.Probabilities)
	p.Label = names[p.Class]
	return p
}

// Save writes the model file.
func (c *Classifier) Save(path string) error { return c.save(path, c.prep) }

// File returns the model file's contents in memory: weights, spec,
// preprocessing and metrics (what Save writes).
func (c *Classifier) File() (*checkpoint.File, error) { return c.file(c.prep) }

// Task returns the classifier's train.Task over *TextBatch batches.
func (c *Classifier) Task() train.Task { return &classifyTask{c: c} }

func classifierFrom(s Spec, prep json.RawMessage) (*Classifier, error) {
	var p *TextPrep
	var err error
	if s.Vocab == 0 {
		p = &TextPrep{}
		err = json.Unmarshal(prep, p)
	} else {
		p, err = decodeTextPrep(s, prep)
	}
	if err != nil {
		return nil, err
	}
	if len(p.Classes) != s.Classes {
		return nil, fmt.Errorf("model: %d class names for %d classes", len(p.Classes), s.Classes)
	}
	c := &Classifier{cfg: ClassifyConfig{Spec: s}, prep: p}
	if err := c.build(s, 0); err != nil {
		return nil, err
	}
	c.built = false
	return c, nil
}

func decodeTextPrep(s Spec, b json.RawMessage) (*TextPrep, error) {
	var p TextPrep
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("model: text preprocessing state: %w", err)
	}
	if p.Encoder == nil || p.Encoder.Vocab == nil || p.Encoder.Vocab.Len() != s.Vocab {
		return nil, fmt.Errorf("model: text preprocessing state does not match the spec's vocabulary of %d", s.Vocab)
	}
	return &p, nil
}

// classifyTask trains a classifier with the mean cross-entropy.
type classifyTask struct{ c *Classifier }

func (t *classifyTask) Params() []*nn.Param { return t.c.params }

func (t *classifyTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	tb := b.(*TextBatch)
	logits, _ := t.c.forward(tp, tb)
	if tb.Multi != nil {
		L, _ := loss.Record(tp, logits, func(g []float32) float64 {
			return loss.BCEWithLogits(g, logits.Value.Data, tb.Multi, loss.BCEOptions{})
		})
		return L, tb.B
	}
	o := &t.c.lossOpts
	L, _ := loss.Record(tp, logits, func(g []float32) float64 {
		return loss.CrossEntropy(g, logits.Value.Data, tb.Labels, t.c.spec.Classes, *o)
	})
	return L, tb.B
}

// Evaluate returns the classifier's metrics (ClassifyEval.Metrics).
func (t *classifyTask) Evaluate(d train.Data) (map[string]float64, error) {
	e, err := t.c.evaluate(d)
	if err != nil {
		return nil, err
	}
	return e.Metrics(), nil
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

// softmax returns the probabilities of logits x, computed in float64.
func softmax(x []float32) []float32 {
	dst := make([]float32, len(x))
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
	return dst
}

// sigmoids returns the probability of each logit on its own.
func sigmoids(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	return out
}

func countID(ids []int, id int) int {
	n := 0
	for _, v := range ids {
		if v == id {
			n++
		}
	}
	return n
}
