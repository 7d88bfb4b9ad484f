package model

import (
	"encoding/json"
	"fmt"
	"github.com/recur-ml/recur/data/text"
	"slices"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
	"github.com/recur-ml/recur/train"
)

// Model is what every front door (Forecaster, Classifier, LanguageModel,
// Translator, Tagger) offers; Load returns one. Inference does not mutate a
// model, so one Model may serve concurrent predictions once it is trained.
type Model interface {
	// Spec returns the architecture, defaults filled in.
	Spec() Spec
	// Params returns the trainable parameters in state_dict order, with
	// PyTorch names.
	Params() []*nn.Param
	// NumParams returns the number of scalar parameters.
	NumParams() int
	// Metrics returns what the last Fit measured (nil before it), as saved
	// in the model file.
	Metrics() json.RawMessage
	// Save writes the model file: weights, spec, preprocessing state and
	// metrics (safetensors, atomically); File returns the same in memory.
	Save(path string) error
	File() (*checkpoint.File, error)
	// InitFrom copies every parameter of a model or checkpoint file that
	// has the same name and shape (transfer learning).
	InitFrom(src *checkpoint.File) (*Transfer, error)
	// Task returns the model's train.Task, for a training loop of one's own.
	Task() train.Task
}

// core is what every front door keeps: the spec, the parameters, the
// generators of training-time masks, the preprocessing state to save and
// the metrics of the last Fit.
type core struct {
	spec    Spec
	params  []*nn.Param
	rngs    []*tensor.RNG
	metrics json.RawMessage
	built   bool
	// transfer is what FitConfig.InitFrom copied at the last Fit.
	transfer *Transfer
	// pretrained is what the pretrained vectors covered at the last Fit.
	pretrained *text.Coverage
	// quant holds the int8 weights of a quantized model by parameter
	// name (quant.go); nil for a float32 one.
	quant map[string]*nn.QuantWeight
}

// Spec returns the architecture, defaults filled in.
func (c *core) Spec() Spec { return c.spec }

// Params returns the trainable parameters in state_dict order.
func (c *core) Params() []*nn.Param { return c.params }

// NumParams returns the number of scalar parameters.
func (c *core) NumParams() int {
	n := 0
	for _, p := range c.params {
		n += p.Value.Len()
	}
	return n
}

// Transfer returns what FitConfig.InitFrom copied at the last Fit (nil
// without it); it is known from the trainer's TrainBegin event on.
func (c *core) Transfer() *Transfer { return c.transfer }

// Pretrained reports which tokens the pretrained vectors (the config's
// Embeddings) covered at the last Fit; nil without them.
func (c *core) Pretrained() *text.Coverage { return c.pretrained }

// Metrics returns the metrics recorded by the last Fit.
func (c *core) Metrics() json.RawMessage { return c.metrics }

// RNGs returns every generator the model draws training-time masks from
// (dropout before the head, the recurrent stack's regularizers, a
// seq2seq's dropout), in a fixed order for a given spec; the trainer saves
// their states so that a resumed run draws the same masks.
func (c *core) RNGs() []*tensor.RNG { return c.rngs }

// setMetrics records v as the model's metrics.
func (c *core) setMetrics(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("model: metrics: %w", err)
	}
	c.metrics = b
	return nil
}

// needBuilt reports a model used before Fit or Load gave it weights.
func (c *core) needBuilt(what string) error {
	if !c.built {
		return fmt.Errorf("model: %s: the model has no weights yet (call Fit, or Load a model file)", what)
	}
	return nil
}

// Metadata keys of a model file.
const (
	MetaSpec    = "spec"
	MetaPrep    = "prep"
	MetaMetrics = "metrics"
)

// file returns a checkpoint file with the weights, spec, prep and metrics.
func (c *core) file(prep any) (*checkpoint.File, error) {
	if err := c.needBuilt("File"); err != nil {
		return nil, err
	}
	f := checkpoint.New()
	if err := f.AddParams(c.params); err != nil {
		return nil, err
	}
	c.quantFile(f)
	if err := c.addMeta(f, prep); err != nil {
		return nil, err
	}
	return f, nil
}

// addMeta stores the spec, prep and metrics in f's metadata (a trainer's
// checkpoints carry them too, so that a checkpoint loads as a model).
func (c *core) addMeta(f *checkpoint.File, prep any) error {
	if err := f.SetJSON(MetaSpec, c.spec); err != nil {
		return err
	}
	if prep != nil {
		if err := f.SetJSON(MetaPrep, prep); err != nil {
			return err
		}
	}
	if len(c.metrics) > 0 {
		f.Metadata[MetaMetrics] = string(c.metrics)
	}
	return nil
}

// save writes the model file at path.
func (c *core) save(path string, prep any) error {
	f, err := c.file(prep)
	if err != nil {
		return err
	}
	return checkpoint.Write(path, f)
}

// Transfer reports what InitFrom copied.
type Transfer struct {
	Matched []string // parameters loaded from the source
	Fresh   []string // parameters kept at their initial values (absent or another shape)
}

func (t *Transfer) String() string {
	return fmt.Sprintf("%d parameters loaded (%s); %d kept fresh (%s)",
		len(t.Matched), strings.Join(t.Matched, ", "), len(t.Fresh), strings.Join(t.Fresh, ", "))
}

// InitFrom copies into the model every parameter of the model file src
// that has the same name and shape, for transfer learning. A head whose
// output size differs (other classes, another horizon) keeps its fresh
// initialization. Call it after the network is built (a front door's Fit
// does it for FitConfig.InitFrom).
func (c *core) InitFrom(src *checkpoint.File) (*Transfer, error) {
	if err := c.needBuilt("InitFrom"); err != nil {
		return nil, err
	}
	loaded, err := floatView(src).LoadParams(c.params, false) // an int8 file's weights dequantized
	if err != nil {
		return nil, err
	}
	t := &Transfer{Matched: loaded}
	for _, p := range c.params {
		if !slices.Contains(loaded, p.Name) {
			t.Fresh = append(t.Fresh, p.Name)
		}
	}
	if len(loaded) == 0 {
		return t, fmt.Errorf("model: no parameter of the source matches this model by name and shape")
	}
	return t, nil
}

// newOptimizer returns the named optimizer over the parameters. With
// lrBackbone > 0 the head ("head.*") trains with c.LR and everything else
// (embedding, recurrent stack) with lrBackbone, as two parameter groups;
// fine-tuning usually wants a smaller backbone rate.
func (c *core) newOptimizer(name string, oc optim.Config, lrBackbone float64) (optim.Optimizer, error) {
	if lrBackbone <= 0 {
		return optim.New(name, c.params, oc)
	}
	var head, body []*nn.Param
	for _, p := range c.params {
		if strings.HasPrefix(p.Name, "head.") {
			head = append(head, p)
		} else {
			body = append(body, p)
		}
	}
	if len(head) == 0 || len(body) == 0 {
		return nil, fmt.Errorf("model: a backbone learning rate needs a head and a backbone; this model has %d head and %d other parameters", len(head), len(body))
	}
	bc := oc
	bc.LR = lrBackbone
	return optim.NewGroups(name, []optim.Group{{Params: body, Config: bc}, {Params: head, Config: oc}})
}

// loadWeights loads f's parameters into the model strictly by name and
// shape.
func (c *core) loadWeights(name string, f *checkpoint.File) error {
	if _, err := f.LoadParams(c.params, true); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.built = true
	if m, ok := f.Metadata[MetaMetrics]; ok && json.Valid([]byte(m)) {
		c.metrics = json.RawMessage(m)
	}
	return nil
}
