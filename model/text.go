package model

import (
	"fmt"
	"strings"

	"github.com/recur-ml/recur/data/batch"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// SampleConfig says how generation draws each token (temperature, top-k,
// top-p; the zero value is greedy). It is nn.SampleConfig.
type SampleConfig = nn.SampleConfig

// TextConfig says how texts become token ids. Zero fields mean the
// documented defaults.
type TextConfig struct {
	// Level is the tokenizer: "char", "word" (words and punctuation,
	// lowercased), "space" (the white-space separated fields as they are:
	// pre-tokenized corpora such as PTB, whose "<unk>" is one token) or
	// "bpe" (zero: word for classify and seq2seq, char for lm).
	Level string
	// BPESize is the number of BPE symbols to learn (zero: 1000).
	BPESize int
	// MinFreq drops tokens seen fewer times (zero: 1); MaxVocab keeps at
	// most this many ids, specials included (zero: no limit).
	MinFreq, MaxVocab int
	// Clean cleans every text before tokenizing (strip HTML, lowercase,
	// normalize); it is saved with the model.
	Clean text.Cleaner
	// MaxLen cuts sequences to this many tokens (zero: no limit).
	MaxLen int
	// Encoder, when set, is used as it is instead of building one from
	// the training texts: a pretrained model's vocabulary, say, so that
	// its embedding rows keep their meaning.
	Encoder *text.Encoder
}

// encoder returns the configured encoder, or builds one from corpus.
func (tc TextConfig) encoder(corpus []string, level string) (*text.Encoder, error) {
	if tc.Encoder != nil {
		return tc.Encoder, nil
	}
	if tc.Level != "" {
		level = tc.Level
	}
	var tok text.Tokenizer
	switch level {
	case "char":
		tok = text.CharTokenizer{}
	case "word":
		tok = text.WordTokenizer{}
	case "space":
		tok = text.WordTokenizer{SpaceOnly: true, KeepCase: true}
	case "bpe":
		size := tc.BPESize
		if size == 0 {
			size = 1000
		}
		b, err := text.TrainBPE(strings.Join(corpus, "\n"), text.BPEConfig{Size: size})
		if err != nil {
			return nil, fmt.Errorf("model: bpe: %w", err)
		}
		tok = b
	default:
		return nil, &FitError{"Text.Level", level, "char, word, space or bpe"}
	}
	enc, err := text.NewEncoder(corpus, tc.Clean, tok, text.VocabConfig{MinFreq: tc.MinFreq, MaxSize: tc.MaxVocab})
	if err != nil {
		return nil, fmt.Errorf("model: building the vocabulary: %w", err)
	}
	return enc, nil
}

func (tc TextConfig) validate() error {
	switch {
	case tc.Level != "" && tc.Level != "char" && tc.Level != "word" && tc.Level != "space" && tc.Level != "bpe":
		return &FitError{"Text.Level", tc.Level, "char, word, space or bpe"}
	case tc.BPESize < 0:
		return &FitError{"Text.BPESize", tc.BPESize, ">= 0"}
	case tc.MinFreq < 0:
		return &FitError{"Text.MinFreq", tc.MinFreq, ">= 0"}
	case tc.MaxVocab < 0:
		return &FitError{"Text.MaxVocab", tc.MaxVocab, ">= 0"}
	case tc.MaxLen < 0:
		return &FitError{"Text.MaxLen", tc.MaxLen, ">= 0"}
	}
	return nil
}

// TextPrep is the preprocessing state of a classifier or a language
// model: the encoder (cleaner, tokenizer, vocabulary), the class names
// (classify) and the longest sequence kept.
type TextPrep struct {
	Encoder *text.Encoder `json:"encoder"`
	Classes []string      `json:"classes,omitempty"`
	MaxLen  int           `json:"max_len,omitempty"`
	// MultiLabel: the classifier decides each class on its own (label
	// sets, trained with the binary cross-entropy).
	MultiLabel bool `json:"multi_label,omitempty"`
}

// encodeAll encodes texts; an empty encoding becomes the single unknown
// token, so that every example has a step.
func encodeAll(enc *text.Encoder, texts []string) [][]int {
	seqs := enc.EncodeAll(texts)
	for i, s := range seqs {
		if len(s) == 0 {
			seqs[i] = []int{enc.Vocab.Unk}
		}
	}
	return seqs
}

// TextBatch is a padded batch of token sequences, time-major: IDs (T, B),
// or for a classifier of numeric sequences X (T, B, Inputs).
type TextBatch struct {
	IDs     []int // (T, B)
	X       *tensor.Tensor
	Lengths []int // (B)
	T, B    int
	Labels  []int // (B), classify
	// Multi is the multi-hot targets (B, Classes) of a multi-label
	// classifier (nil otherwise).
	Multi []float32
	xv    *nn.Var
}

// NewTextBatch pads seqs (token ids) into a time-major batch for a
// classifier's Task, for a training loop of one's own.
func NewTextBatch(seqs [][]int, labels []int, pad int) *TextBatch {
	ids, lengths, T := batch.Pad(seqs, pad, 0)
	b := &batch.Batch{B: len(seqs), T: T, IDs: ids, Lengths: lengths, Labels: labels}
	return textBatch(b)
}

func textBatch(b *batch.Batch) *TextBatch {
	return &TextBatch{IDs: b.TimeMajor(nil), Lengths: b.Lengths, T: b.T, B: b.B, Labels: b.Labels}
}

// loaderData serves the batches of a batch.Loader, re-planned each epoch
// (shuffled and bucketed by length when the loader says so); it
// implements train.EpochData.
type loaderData struct {
	l    *batch.Loader
	plan [][]int
	conv func(*batch.Batch) train.Batch
}

func newLoaderData(ds *batch.Dataset, cfg batch.Config, conv func(*batch.Batch) train.Batch) (*loaderData, error) {
	l, err := batch.NewLoader(ds, cfg)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return &loaderData{l: l, plan: l.Plan(0), conv: conv}, nil
}

func (d *loaderData) Len() int                { return len(d.plan) }
func (d *loaderData) SetEpoch(e int)          { d.plan = d.l.Plan(e) }
func (d *loaderData) Batch(i int) train.Batch { return d.conv(d.l.Make(d.plan[i])) }

// loaderConfig is the loader of a training split (shuffled, bucketed by
// length) or of an evaluation split (in order, bucketed: less padding).
func loaderConfig(bs, maxLen int, seed uint64, training bool) batch.Config {
	return batch.Config{BatchSize: bs, Shuffle: training, Seed: seed, Bucket: 100, MaxLen: maxLen, MaxTargetLen: maxLen}
}

// exampleLimit is the largest number of texts Predict takes in one call.
const exampleLimit = 1 << 20

func checkTexts(texts []string) error {
	if len(texts) == 0 {
		return fmt.Errorf("model: no texts")
	}
	if len(texts) > exampleLimit {
		return fmt.Errorf("model: %d texts in one call, at most %d", len(texts), exampleLimit)
	}
	return nil
}
