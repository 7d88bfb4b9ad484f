package benchrun

import (
	"fmt"
	"sort"
	"strings"
)

// Kinds of configuration: what one measured step builds and runs.
const (
	KindLSTM       = "lstm"       // LSTM stack, MSE on the last layer's output sequence
	KindLM         = "lm"         // Embedding → LSTM stack → Linear to V → cross-entropy per step
	KindClassifier = "classifier" // Embedding → (Bi)LSTM stack → mean pool → Linear to C → cross-entropy
	KindSeq2Seq    = "seq2seq"    // nn.Seq2Seq (Luong general attention), cross-entropy per target step
	KindForecast   = "forecast"   // inference: LSTM stack over (T, 1, I) → Linear on the last step
	KindClassify   = "classify"   // inference: classifier of one text, batch 1
)

// Config is one benchmark configuration. The shape letters follow the
// project's conventions: T steps (Tt the seq2seq target steps), B batch,
// I input width, E embedding width, H hidden width per direction, L stacked
// layers, V vocabulary, C classes. Zero fields that a kind does not use are
// ignored.
type Config struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	T             int    `json:"T"`
	Tt            int    `json:"Tt,omitempty"`
	B             int    `json:"B"`
	I             int    `json:"I,omitempty"`
	E             int    `json:"E,omitempty"`
	H             int    `json:"H"`
	L             int    `json:"L"`
	V             int    `json:"V,omitempty"`
	C             int    `json:"C,omitempty"`
	Bidirectional bool   `json:"bidirectional,omitempty"`
}

// Training reports whether a step of c is a training step (forward, loss,
// backward, Adam) rather than one inference.
func (c Config) Training() bool { return c.Kind != KindForecast && c.Kind != KindClassify }

// D is the number of directions, 1 or 2.
func (c Config) D() int {
	if c.Bidirectional {
		return 2
	}
	return 1
}

// Describe is a one-line summary of the shapes.
func (c Config) Describe() string {
	var b strings.Builder
	switch c.Kind {
	case KindSeq2Seq:
		fmt.Fprintf(&b, "Ts%d Tt%d B%d E%d H%d V%d", c.T, c.Tt, c.B, c.E, c.H, c.V)
	default:
		fmt.Fprintf(&b, "T%d B%d", c.T, c.B)
		if c.I > 0 {
			fmt.Fprintf(&b, " I%d", c.I)
		}
		if c.E > 0 {
			fmt.Fprintf(&b, " E%d", c.E)
		}
		fmt.Fprintf(&b, " H%d L%d", c.H, c.L)
		if c.Bidirectional {
			b.WriteString(" bi")
		}
		if c.V > 0 {
			fmt.Fprintf(&b, " V%d", c.V)
		}
		if c.C > 0 {
			fmt.Fprintf(&b, " C%d", c.C)
		}
	}
	if !c.Training() {
		b.WriteString(" infer")
	}
	return b.String()
}

// Validate reports the first field out of range, naming it.
func (c Config) Validate() error {
	bad := func(field string, v int) error {
		return fmt.Errorf("benchrun: config %q: %s=%d must be positive", c.Name, field, v)
	}
	switch c.Kind {
	case KindLSTM, KindForecast:
		if c.I <= 0 {
			return bad("I", c.I)
		}
	case KindLM, KindClassifier, KindClassify:
		if c.V <= 0 {
			return bad("V", c.V)
		}
		if c.E <= 0 {
			return bad("E", c.E)
		}
		if c.Kind != KindLM && c.C <= 0 {
			return bad("C", c.C)
		}
	case KindSeq2Seq:
		if c.V <= 0 {
			return bad("V", c.V)
		}
		if c.Tt <= 0 {
			return bad("Tt", c.Tt)
		}
	default:
		return fmt.Errorf("benchrun: config %q: unknown kind %q", c.Name, c.Kind)
	}
	for _, f := range []struct {
		n string
		v int
	}{{"T", c.T}, {"B", c.B}, {"H", c.H}, {"L", c.L}} {
		if f.v <= 0 {
			return bad(f.n, f.v)
		}
	}
	return nil
}

// lstmFlops is the forward FLOP count of an LSTM stack:
// 2·T·B·(I_k+H)·4H per layer k and direction, I_k = D·H above the first.
func lstmFlops(T, B, I, H, L, D int) float64 {
	f := 0.0
	for k := 0; k < L; k++ {
		in := I
		if k > 0 {
			in = D * H
		}
		f += float64(D) * 2 * float64(T) * float64(B) * float64(in+H) * 4 * float64(H)
	}
	return f
}

// Flops returns the floating-point operations of one step of c: the
// recurrent layers' 2·T·B·(I+H)·4H per layer and direction plus the
// Linear heads (2·rows·in·out) and attention's products, times 3 for a
// training step (forward, and backward's two products per GEMM).
// Embedding look-ups, activations, losses and the optimizer are not
// counted. lstm is the recurrent layers' part alone.
func (c Config) Flops() (total, lstm float64) {
	rows := float64(c.T * c.B)
	var head float64
	switch c.Kind {
	case KindLSTM:
		lstm = lstmFlops(c.T, c.B, c.I, c.H, c.L, 1)
	case KindForecast:
		lstm = lstmFlops(c.T, c.B, c.I, c.H, c.L, 1)
		head = 2 * float64(c.B) * float64(c.H)
	case KindLM:
		lstm = lstmFlops(c.T, c.B, c.E, c.H, c.L, 1)
		head = 2 * rows * float64(c.H) * float64(c.V)
	case KindClassifier, KindClassify:
		lstm = lstmFlops(c.T, c.B, c.E, c.H, c.L, c.D())
		head = 2 * float64(c.B) * float64(c.D()*c.H) * float64(c.C)
	case KindSeq2Seq:
		lstm = lstmFlops(c.T, c.B, c.E, c.H, c.L, 1)
		hd := float64(c.H)
		tt, ts, b := float64(c.Tt), float64(c.T), float64(c.B)
		dec := 2 * tt * b * (float64(c.E) + 2*hd) * 4 * hd // LSTMCell on [embed; feed] and h
		attn := 2*ts*b*hd*hd + 2*2*tt*b*ts*hd              // W·keys once; scores and context per step
		comb := 2 * tt * b * 2 * hd * hd                   // combine [context; h] → H
		out := 2 * tt * b * hd * float64(c.V)              // output layer
		lstm += dec
		head = attn + comb + out
	}
	total = lstm + head
	if c.Training() {
		total, lstm = 3*total, 3*lstm
	}
	return total, lstm
}

// Params returns the number of float32 parameters of c's model.
func (c Config) Params() int {
	lstm := func(in, H, L, D int) int {
		n := 0
		for k := 0; k < L; k++ {
			i := in
			if k > 0 {
				i = D * H
			}
			n += D * (4*H*(i+H) + 8*H)
		}
		return n
	}
	switch c.Kind {
	case KindLSTM, KindForecast:
		n := lstm(c.I, c.H, c.L, 1)
		if c.Kind == KindForecast {
			n += c.H + 1
		}
		return n
	case KindLM:
		return c.V*c.E + lstm(c.E, c.H, c.L, 1) + c.H*c.V + c.V
	case KindClassifier, KindClassify:
		return c.V*c.E + lstm(c.E, c.H, c.L, c.D()) + c.D()*c.H*c.C + c.C
	case KindSeq2Seq:
		h := c.H
		return 2*c.V*c.E + lstm(c.E, h, c.L, 1) + 4*h*(c.E+2*h) + 8*h + h*h + 2*h*h + h*c.V + c.V
	}
	return 0
}

// MinBytes is a lower bound on the memory one step of c needs: for
// training, parameters, gradients and Adam's two moments (4 floats per
// parameter) plus the activations backward must keep (per LSTM layer and
// direction the gates, cell and hidden states, 6·H·T·B floats; the
// logits' softmax for the classification losses); for inference the
// parameters alone. Four bytes a float.
func (c Config) MinBytes() int64 {
	p := int64(c.Params())
	if !c.Training() {
		return 4 * p
	}
	act := int64(6*c.H*c.T*c.B*c.L*c.D()) + int64(c.T*c.B*c.I)
	switch c.Kind {
	case KindLM:
		act += int64(c.T * c.B * (c.E + c.V))
	case KindClassifier:
		act += int64(c.T * c.B * c.E)
	case KindSeq2Seq:
		// encoder input, and per target step the cell's gates and states,
		// the attention weights, the attentional vector and the logits.
		act += int64(c.T*c.B*c.E) + int64(c.Tt*c.B*(6*c.H+c.T+c.H+c.V))
	}
	return 4 * (4*p + act)
}

// standard lists the issue-7 configurations in table order.
var standard = []Config{
	{Name: "lstm-t50", Kind: KindLSTM, T: 50, B: 32, I: 64, H: 256, L: 1},
	{Name: "lstm-t100", Kind: KindLSTM, T: 100, B: 64, I: 128, H: 512, L: 1},
	{Name: "lstm-t35-l2", Kind: KindLSTM, T: 35, B: 20, I: 200, H: 200, L: 2},
	{Name: "lstm-t28", Kind: KindLSTM, T: 28, B: 128, I: 28, H: 128, L: 1},
	{Name: "ptb-lm", Kind: KindLM, T: 35, B: 20, E: 200, H: 200, L: 2, V: 10000},
	{Name: "bi-classifier", Kind: KindClassifier, T: 100, B: 32, E: 128, H: 256, L: 2, V: 10000, C: 4, Bidirectional: true},
	{Name: "seq2seq", Kind: KindSeq2Seq, T: 20, Tt: 20, B: 64, E: 256, H: 256, L: 1, V: 1000},
	{Name: "forecast-b1", Kind: KindForecast, T: 50, B: 1, I: 1, H: 128, L: 2},
	{Name: "classify-b1", Kind: KindClassify, T: 200, B: 1, E: 100, H: 128, L: 1, V: 10000, C: 4},
}

// batched lists the inference configurations at a batch above one,
// reachable by name but not part of "all": what a server batching requests
// (or an offline scorer) runs, for comparing per-call costs with the peers.
var batched = []Config{
	{Name: "forecast-b64", Kind: KindForecast, T: 50, B: 64, I: 1, H: 128, L: 2},
	{Name: "classify-b32", Kind: KindClassify, T: 200, B: 32, E: 100, H: 128, L: 1, V: 10000, C: 4},
}

// tiny lists small configurations for tests, one per kind; they are
// reachable by name but not part of "all".
var tiny = []Config{
	{Name: "tiny", Kind: KindLSTM, T: 4, B: 2, I: 3, H: 8, L: 1},
	{Name: "tiny-lm", Kind: KindLM, T: 4, B: 2, E: 5, H: 8, L: 2, V: 11},
	{Name: "tiny-classifier", Kind: KindClassifier, T: 4, B: 2, E: 5, H: 8, L: 2, V: 11, C: 3, Bidirectional: true},
	{Name: "tiny-seq2seq", Kind: KindSeq2Seq, T: 4, Tt: 3, B: 2, E: 6, H: 8, L: 1, V: 13},
	{Name: "tiny-forecast", Kind: KindForecast, T: 4, B: 1, I: 1, H: 8, L: 2},
	{Name: "tiny-classify", Kind: KindClassify, T: 5, B: 1, E: 4, H: 8, L: 1, V: 11, C: 3},
}

// Standard returns the issue-7 configurations in table order.
func Standard() []Config { return append([]Config(nil), standard...) }

// Names returns every configuration name: the standard ones, the batched
// inference ones, then the tiny ones.
func Names() []string {
	var ns []string
	for _, c := range standard {
		ns = append(ns, c.Name)
	}
	for _, c := range batched {
		ns = append(ns, c.Name)
	}
	var ts []string
	for _, c := range tiny {
		ts = append(ts, c.Name)
	}
	sort.Strings(ts)
	return append(ns, ts...)
}

// Select resolves a comma-separated list of names, where "all" means the
// standard configurations. An unknown name is an error that names it.
func Select(spec string) ([]Config, error) {
	var out []Config
	for _, n := range strings.Split(spec, ",") {
		n = strings.TrimSpace(n)
		if n == "all" {
			out = append(out, standard...)
			continue
		}
		c, ok := lookup(n)
		if !ok {
			return nil, fmt.Errorf("benchrun: unknown configuration %q (want all or one of %s)", n, strings.Join(Names(), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

func lookup(name string) (Config, bool) {
	for _, cs := range [][]Config{standard, batched, tiny} {
		for _, c := range cs {
			if c.Name == name {
				return c, true
			}
		}
	}
	return Config{}, false
}
