package nn

import (
	"fmt"
	"strings"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// Int8 inference (dynamic quantization)
//
// Quantize makes an int8 copy of an LSTM, GRU, RNN or Linear for
// inference, as PyTorch's torch.quantization.quantize_dynamic(model,
// {nn.LSTM, nn.Linear}, dtype=torch.qint8) does: the weight matrices
// (weight_ih_lk and weight_hh_lk of every layer and direction, a
// Linear's weight) are quantized once, symmetrically per output row, to
// int8 with one float32 scale a row; at run time each row of the
// activations (each row of a layer's input, and h at every step) is
// quantized to unsigned bytes with its own scale and zero point, the
// products accumulate exactly in int32 (kernel.QMatrix), and the result
// is dequantized to float32. Biases, gates, activations and cell state
// stay float32, as do an LSTMP's weight_hr and peephole weights (and the
// W_hn product of a ResetBefore GRU, which multiplies r⊙h: it runs in
// float32 on the dequantized W_hn).
//
// The copy's float parameters hold the dequantized weights (scale·q), so
// its state_dict describes the int8 model and a Forward with a tape (for
// example a fine-tuning step) computes in float32 on those weights; only
// inference (a nil tape) runs the int8 kernels. The int8 path reuses the
// float path's plan and step loop (recurrent_fwd.go): only the products
// with W_ih and W_hh change, and the rule that splits one sequence's units
// or layers over two cores (recurrent_strategy.go, rules 1 and 2) is not
// taken, the int8 W_hh being small enough for one core's caches.
//
// Bfloat16 weights (QuantBF16, QuantizeBF16) follow the same structure:
// the same weights are rounded once to bfloat16 (no scales), and at run
// time the activations are rounded to bfloat16 and the products summed in
// float32 by VDPBF16PS where the CPU has AVX512_BF16 (kernel.BF16Matrix),
// by an exact AVX2 emulation of it elsewhere (slower than float32 there).
// Their error is that of the two roundings, at most 2⁻⁷ of each product,
// against int8's steps of 2⁻⁸ of each row's largest weight and activation.

// QuantKind is the number format of a quantized layer's weights.
type QuantKind uint8

const (
	// QuantInt8 stores weights in int8 with a float32 scale per row and
	// quantizes activations per row at run time (the zero value).
	QuantInt8 QuantKind = iota
	// QuantBF16 stores weights in bfloat16 and rounds activations to
	// bfloat16 at run time, summing in float32.
	QuantBF16
)

// ParseQuantKind reads "int8" (or empty) and "bf16" (or "bfloat16").
func ParseQuantKind(s string) (QuantKind, error) {
	switch s {
	case "", "int8":
		return QuantInt8, nil
	case "bf16", "bfloat16":
		return QuantBF16, nil
	}
	return QuantInt8, fmt.Errorf("nn: quantization %q: want int8 or bf16", s)
}

func (k QuantKind) String() string {
	if k == QuantBF16 {
		return "bf16"
	}
	return "int8"
}

// QuantWeight is a weight matrix in a quantized layer's format: with
// BF16 nil, quantized to int8 per row, W[n][k] ≈ Scale[n]·Q[n·Cols+k],
// Q in [−127, 127], Scale (Rows); with BF16 set (Rows·Cols bfloat16 bits,
// row-major, Q and Scale nil), W[n][k] ≈ BF16[n·Cols+k].
type QuantWeight struct {
	Rows, Cols int
	Q          []int8
	Scale      []float32
	BF16       []uint16
}

// Kind returns the weight's format.
func (q *QuantWeight) Kind() QuantKind {
	if q.BF16 != nil {
		return QuantBF16
	}
	return QuantInt8
}

// QuantizeWeightBF16 rounds w (rows × cols) to bfloat16
// (kernel.RoundBF16): |w − BF16| ≤ 2⁻⁸|w|. Non-finite weights are an
// error.
func QuantizeWeightBF16(w []float32, rows, cols int) (*QuantWeight, error) {
	q := &QuantWeight{Rows: rows, Cols: cols, BF16: make([]uint16, rows*cols)}
	if err := kernel.RoundBF16(q.BF16, w[:rows*cols]); err != nil {
		return nil, fmt.Errorf("nn: quantize: %w", err)
	}
	return q, nil
}

// quantizeWeight quantizes w (rows × cols) in format kind.
func quantizeWeight(w []float32, rows, cols int, kind QuantKind) (*QuantWeight, error) {
	if kind == QuantBF16 {
		return QuantizeWeightBF16(w, rows, cols)
	}
	return QuantizeWeight(w, rows, cols)
}

// QuantizeWeight quantizes w (rows × cols) per row (kernel.QuantizeRows):
// |w − Scale·Q| ≤ Scale/2 elementwise. Non-finite weights are an error.
func QuantizeWeight(w []float32, rows, cols int) (*QuantWeight, error) {
	for i, v := range w[:rows*cols] {
		if v != v || v > 3.4e38 || v < -3.4e38 {
			return nil, fmt.Errorf("nn: quantize: weight %d is %v, not finite", i, v)
		}
	}
	q := &QuantWeight{Rows: rows, Cols: cols, Q: make([]int8, rows*cols), Scale: make([]float32, rows)}
	kernel.QuantizeRows(q.Q, q.Scale, w, rows, cols)
	return q, nil
}

// Dequantize sets dst (Rows × Cols) to Scale[n]·Q[n·Cols+k], or to the
// float32 values of BF16 (exact).
func (q *QuantWeight) Dequantize(dst []float32) {
	if q.BF16 != nil {
		for i, h := range q.BF16 {
			dst[i] = kernel.FromBF16(h)
		}
		return
	}
	for n := 0; n < q.Rows; n++ {
		s := q.Scale[n]
		for k := 0; k < q.Cols; k++ {
			dst[n*q.Cols+k] = s * float32(q.Q[n*q.Cols+k])
		}
	}
}

// check reports a weight that does not fit a (rows × cols) parameter
// named name, or whose scales are not positive and finite, or whose
// bfloat16 values are not finite.
func (q *QuantWeight) check(name string, rows, cols int) error {
	if q.Rows != rows || q.Cols != cols {
		return fmt.Errorf("nn: quantized %s is (%d, %d), the layer wants (%d, %d)", name, q.Rows, q.Cols, rows, cols)
	}
	if q.BF16 != nil {
		return q.checkBF16(name)
	}
	switch {
	case len(q.Q) != rows*cols || len(q.Scale) != rows:
		return fmt.Errorf("nn: quantized %s: %d values and %d scales for (%d, %d)", name, len(q.Q), len(q.Scale), rows, cols)
	case cols > kernel.QMaxK:
		return fmt.Errorf("nn: quantized %s: %d columns, more than the int8 kernels take (%d)", name, cols, kernel.QMaxK)
	}
	for n, s := range q.Scale {
		if !(s > 0) || s > 3.4e38 {
			return fmt.Errorf("nn: quantized %s: scale[%d] = %v, want positive and finite", name, n, s)
		}
	}
	for _, v := range q.Q {
		if v == -128 {
			return fmt.Errorf("nn: quantized %s: value -128 outside [-127, 127]", name)
		}
	}
	return nil
}

// checkBF16 reports a bfloat16 weight of the wrong length or with a
// value that is not finite.
func (q *QuantWeight) checkBF16(name string) error {
	if len(q.BF16) != q.Rows*q.Cols || q.Q != nil || q.Scale != nil {
		return fmt.Errorf("nn: bf16 %s: %d values (and %d int8 ones) for (%d, %d)", name, len(q.BF16), len(q.Q), q.Rows, q.Cols)
	}
	for i, h := range q.BF16 {
		if h&0x7f80 == 0x7f80 {
			return fmt.Errorf("nn: bf16 %s: value %d is %v, not finite", name, i, kernel.FromBF16(h))
		}
	}
	return nil
}

// rowProduct is the packed matrix a quantized weight's kernels read:
// kernel.QMatrix (int8) or kernel.BF16Matrix.
type rowProduct interface {
	MulRows(y, x []float32, ldy, ldx, M int)
	MulAddRows(y, x []float32, ldy, ldx, M int)
}

// qlayer is the quantized weight of one parameter: its QuantWeight and
// the packed matrix the kernels read.
type qlayer struct {
	w *QuantWeight
	m rowProduct
}

// setQuant quantizes p (rows × cols) in format kind into its qlayer, from
// given when it is there (checked, and of that format), else from p's
// values; p's values become the dequantized weights.
func setQuant(p *Param, given map[string]*QuantWeight, kind QuantKind) (*qlayer, error) {
	rows, cols := p.Value.Shape[0], p.Value.Shape[1]
	q, ok := given[p.Name]
	if ok {
		if err := q.check(p.Name, rows, cols); err != nil {
			return nil, err
		}
		if q.Kind() != kind {
			return nil, fmt.Errorf("nn: quantized %s is %s, the layer is being made %s", p.Name, q.Kind(), kind)
		}
	} else {
		var err error
		if q, err = quantizeWeight(p.Value.Data, rows, cols, kind); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		if kind == QuantInt8 && cols > kernel.QMaxK {
			return nil, fmt.Errorf("nn: %s: %d columns, more than the int8 kernels take (%d)", p.Name, cols, kernel.QMaxK)
		}
	}
	q.Dequantize(p.Value.Data)
	if kind == QuantBF16 {
		return &qlayer{w: q, m: kernel.NewBF16Matrix(q.BF16, rows, cols)}, nil
	}
	return &qlayer{w: q, m: kernel.NewQMatrix(q.Q, q.Scale, rows, cols)}, nil
}

// quantDir is the quantized W_ih and W_hh of one layer and direction.
type quantDir struct{ wih, whh *qlayer }

// Quantize returns an int8 copy of m, an *LSTM, *GRU, *RNN or *Linear
// (see the top of this file); m is left as it is.
func Quantize[M Module](m M) (M, error) { return QuantizeAs(m, QuantInt8) }

// QuantizeBF16 returns a copy of m (as Quantize takes) whose inference
// runs on bfloat16 weights; m is left as it is.
func QuantizeBF16[M Module](m M) (M, error) { return QuantizeAs(m, QuantBF16) }

// QuantizeAs returns a copy of m (as Quantize takes) whose inference runs
// on weights in format kind; m is left as it is.
func QuantizeAs[M Module](m M, kind QuantKind) (M, error) {
	var zero M
	c, err := cloneLayer(m)
	if err != nil {
		return zero, err
	}
	if err := SetQuantizedAs(c, nil, kind); err != nil {
		return zero, err
	}
	return c.(M), nil
}

// SetQuantized makes m (an *LSTM, *GRU, *RNN or *Linear) run its
// inference in int8, in place: the weights named in given (keyed by m's
// parameter names, as QuantWeights returns them; for example read from a
// file) are taken as they are, the others quantized from m's values, and
// m's float weights become the dequantized ones. It is for a layer that
// nothing uses yet (just built or loaded): not safe while m serves calls.
func SetQuantized(m Module, given map[string]*QuantWeight) error {
	return SetQuantizedAs(m, given, QuantInt8)
}

// SetQuantizedAs is SetQuantized with weights in format kind; a weight in
// given of another format is an error.
func SetQuantizedAs(m Module, given map[string]*QuantWeight, kind QuantKind) error {
	switch v := any(m).(type) {
	case *LSTM:
		return v.core.setQuant(given, kind)
	case *GRU:
		return v.core.setQuant(given, kind)
	case *RNN:
		return v.core.setQuant(given, kind)
	case *Linear:
		q, err := setQuant(v.Weight, given, kind)
		if err != nil {
			return err
		}
		v.q = q
		return nil
	}
	return fmt.Errorf("nn: quantize: a %T has no int8 form (LSTM, GRU, RNN and Linear do)", m)
}

// QuantWeights returns the int8 weights of a quantized layer (see
// SetQuantized) by parameter name; nil for a float layer.
func QuantWeights(m Module) map[string]*QuantWeight {
	ws := map[string]*QuantWeight{}
	switch v := any(m).(type) {
	case *LSTM:
		v.core.quantWeights(ws)
	case *GRU:
		v.core.quantWeights(ws)
	case *RNN:
		v.core.quantWeights(ws)
	case *Linear:
		if v.q != nil {
			ws[v.Weight.Name] = v.q.w
		}
	}
	if len(ws) == 0 {
		return nil
	}
	return ws
}

// IsQuantWeight reports whether a parameter named name (its last dotted
// component) is one that Quantize stores in int8: a recurrent layer's
// weight_ih_lk or weight_hh_lk (either direction), or a Linear's weight.
func IsQuantWeight(name string) bool {
	base := name[strings.LastIndexByte(name, '.')+1:]
	return base == "weight" || strings.HasPrefix(base, "weight_ih_l") || strings.HasPrefix(base, "weight_hh_l")
}

// cloneLayer returns a copy of m (an *LSTM, *GRU, *RNN or *Linear) with
// its own parameters, of the same names and values.
func cloneLayer(m Module) (Module, error) {
	rng := tensor.NewRNG(0) // overwritten: the values are copied
	var (
		c   Module
		err error
	)
	switch v := any(m).(type) {
	case *LSTM:
		c, err = NewLSTM(v.cfg, rng)
	case *GRU:
		c, err = NewGRU(v.cfg, rng)
	case *RNN:
		c, err = NewRNN(v.cfg, rng)
	case *Linear:
		c = NewLinear(v.In, v.Out, v.Bias != nil, rng)
	default:
		return nil, fmt.Errorf("nn: quantize: a %T has no int8 form (LSTM, GRU, RNN and Linear do)", m)
	}
	if err != nil {
		return nil, err
	}
	src, dst := m.Params(), c.Params()
	for i, p := range dst {
		p.Name = src[i].Name
		copy(p.Value.Data, src[i].Value.Data)
	}
	return c, nil
}

// setQuant quantizes every layer's and direction's W_ih and W_hh (see
// SetQuantized).
func (r *rnnCore) setQuant(given map[string]*QuantWeight, kind QuantKind) error {
	for k := range r.w {
		for d := range r.w[k] {
			w := &r.w[k][d]
			wih, err := setQuant(w.wih, given, kind)
			if err != nil {
				return err
			}
			whh, err := setQuant(w.whh, given, kind)
			if err != nil {
				return err
			}
			w.q = &quantDir{wih: wih, whh: whh}
		}
	}
	return nil
}

func (r *rnnCore) quantWeights(ws map[string]*QuantWeight) {
	for k := range r.w {
		for d := range r.w[k] {
			if w := &r.w[k][d]; w.q != nil {
				ws[w.wih.Name], ws[w.whh.Name] = w.q.wih.w, w.q.whh.w
			}
		}
	}
}

// quantPlan adapts the execution plan of an inference call of a
// quantized layer: no split of units or layers over two cores (rules 1
// and 2 of recurrent_strategy.go), which the int8 products do not
// implement.
func (r *rnnCore) quantPlan(ex *execPlan, tp *Tape) {
	if tp == nil && r.w[0][0].q != nil {
		ex.units, ex.pipeline = false, false
	}
}

// quant returns the direction's quantized weights when this forward runs
// them (inference of a quantized layer), nil otherwise.
func (lp *fwdLoop) quant() *quantDir {
	if lp.j.dr != nil {
		return nil
	}
	return lp.j.w.q
}

// projectQuant computes the input projection XW = X·W_ihᵀ (+ XW's
// contents, the folded biases, when beta is 1) with the quantized W_ih.
func (ip *inputProj) projectQuant(q *quantDir) {
	if ip.beta == 1 {
		q.wih.m.MulAddRows(ip.XW, ip.X, ip.G, ip.in, ip.N)
	} else {
		q.wih.m.MulRows(ip.XW, ip.X, ip.G, ip.in, ip.N)
	}
}

// forwardQuant is Linear.Forward's inference with the quantized weight:
// y = x·Wᵀ + b, the bias added to the products (by the dequantizing FMA
// in int8).
func (l *Linear) forwardQuant(x *Var) *Var {
	xs := x.Value.Shape
	y := tensor.New(append(append([]int(nil), xs[:len(xs)-1]...), l.Out)...)
	n := x.Value.Len() / l.In
	if l.Bias == nil {
		l.q.m.MulRows(y.Data, x.Value.Data, l.Out, l.In, n)
		return NewVar(y)
	}
	for r := 0; r < n; r++ {
		copy(y.Data[r*l.Out:(r+1)*l.Out], l.Bias.Value.Data)
	}
	l.q.m.MulAddRows(y.Data, x.Value.Data, l.Out, l.In, n)
	return NewVar(y)
}
