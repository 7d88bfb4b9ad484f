package nn

import (
	"fmt"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// cellCore is one step of an LSTM, GRU or RNN on a batch: the engine
// behind LSTMCell, GRUCell and RNNCell. Parameters are weight_ih (G, I),
// weight_hh (G, H), bias_ih (G), bias_hh (G), as PyTorch's cells.
type cellCore struct {
	kind       cellKind
	in, hidden int
	wih, whh   *Param
	bih, bhh   *Param
	arenas     *arenaList
}

// newCellCore validates the sizes and returns the cell initialized from
// rng.
func newCellCore(kind cellKind, in, hidden int, bias bool, rng *tensor.RNG) (cellCore, error) {
	typ := kind.String() + "Cell"
	if err := checkMin(typ, 1, intField{"input_size", in}, intField{"hidden_size", hidden}); err != nil {
		return cellCore{}, err
	}
	G := kind.gates() * hidden
	c := cellCore{kind: kind, in: in, hidden: hidden, arenas: new(arenaList), wih: NewParam("weight_ih", G, in), whh: NewParam("weight_hh", G, hidden)}
	if bias {
		c.bih = NewParam("bias_ih", G)
		c.bhh = NewParam("bias_hh", G)
	}
	if err := (Init{}).apply(typ, c.params(), kind, hidden, 0, rng); err != nil {
		panic(err) // the zero Init cannot fail
	}
	return c, nil
}

// mustCell is newCellCore's cell; an error (a size that is not positive)
// panics.
func mustCell(c cellCore, err error) cellCore {
	if err != nil {
		panic(err.Error())
	}
	return c
}

func (c *cellCore) params() []*Param {
	ps := []*Param{c.wih, c.whh}
	if c.bih != nil {
		ps = append(ps, c.bih, c.bhh)
	}
	return ps
}

// step runs the cell on x (B, I) from h (B, H) and, for LSTM, cx (B, H);
// nil states mean zeros. It returns h1 and (LSTM) c1.
func (c *cellCore) step(tp *Tape, x, h, cx *Var) (*Var, *Var) {
	tp.Touch(c.wih, c.whh, c.bih, c.bhh)
	if x == nil || len(x.Value.Shape) != 2 || x.Value.Shape[1] != c.in {
		panic(fmt.Sprintf("nn: %sCell.Forward: x must be (B, %d)", c.kind, c.in))
	}
	B, H, I := x.Value.Shape[0], c.hidden, c.in
	G := c.kind.gates() * H
	for _, s := range [2]*Var{h, cx} {
		if s != nil && !shapeIs(s.Value, B, H) {
			panic(fmt.Sprintf("nn: %sCell.Forward: state shape %v, want (%d, %d)", c.kind, s.Value.Shape, B, H))
		}
	}
	var ws *floatArena
	ws = c.arenas.get()
	if tp == nil {
		defer c.arenas.put(ws)
	}
	hprev := ws.take(B * H)
	if h != nil {
		copy(hprev, h.Value.Data)
	}
	gru := c.kind == kindGRU
	// xg = x W_ihᵀ (+ biases); for GRU hg = h W_hhᵀ + b_hh separately.
	xg := ws.take(B * G)
	hg := xg
	if gru {
		hg = ws.take(B * G)
	}
	if c.bih != nil {
		for b := 0; b < B; b++ {
			kernel.Axpy(1, c.bih.Value.Data, xg[b*G:(b+1)*G])
			kernel.Axpy(1, c.bhh.Value.Data, hg[b*G:(b+1)*G])
		}
	}
	kernel.Sgemm(false, true, B, G, I, 1, x.Value.Data, I, c.wih.Value.Data, I, 1, xg, G)
	if h != nil {
		kernel.Sgemm(false, true, B, G, H, 1, hprev, H, c.whh.Value.Data, H, 1, hg, G)
	}
	h1 := tp.Buffer(B, H) // the tape's arena when training: no allocation per step
	var c1, cprev, act []float32
	var c1t *tensor.Tensor
	switch c.kind {
	case kindLSTM:
		c1t = tp.Buffer(B, H)
		c1 = c1t.Data
		cprev = ws.take(B * H)
		if cx != nil {
			copy(cprev, cx.Value.Data)
		}
		act = xg
		kernel.LSTMForward(act, c1, h1.Data, xg, cprev, B, H)
	case kindGRU:
		act = ws.take(B * G)
		kernel.GRUForward(act, h1.Data, xg, hg, hprev, B, H)
	default:
		act = xg
		if c.kind == kindRNNTanh {
			kernel.Tanh(act, xg)
		} else {
			for i, v := range xg {
				act[i] = max(v, 0)
			}
		}
		copy(h1.Data, act)
	}
	h1v := tp.Var(h1)
	var c1v *Var
	if c1 != nil {
		c1v = tp.Var(c1t)
	}
	if tp == nil {
		return h1v, c1v
	}
	op := NewRecord[cellOp](tp)
	*op = cellOp{c: c, tp: tp, ws: ws, x: x, h: h, cx: cx, h1: h1v, c1: c1v,
		act: act, c1d: c1, cprev: cprev, hprev: hprev, hg: hg, B: B}
	tp.AddOp(op)
	return h1v, c1v
}

// cellOp is the backward of one cell step; its arena ws goes back to the
// cell when it has run.
type cellOp struct {
	c                *cellCore
	tp               *Tape
	ws               *floatArena
	x, h, cx, h1, c1 *Var
	act, c1d, cprev  []float32
	hprev, hg        []float32
	B                int
}

// drop returns the step's arena to the cell (on Tape.Reset).
func (o *cellOp) drop() { o.c.arenas.put(o.ws) }

func (o *cellOp) Backward() {
	c, tp, B := o.c, o.tp, o.B
	H, I := c.hidden, c.in
	G := c.kind.gates() * H
	act, hprev := o.act, o.hprev
	defer o.drop()
	bw := c.arenas.get()
	defer c.arenas.put(bw)
	dh := bw.take(B * H)
	if o.h1.Grad != nil {
		copy(dh, o.h1.Grad.Data)
	}
	dA := bw.take(B * G) // d(pre) for LSTM/RNN, dxg for GRU
	dR := dA             // gradient of the W_hh product
	dhp := bw.take(B * H)
	switch c.kind {
	case kindLSTM:
		dc := bw.take(B * H)
		if o.c1.Grad != nil {
			copy(dc, o.c1.Grad.Data)
		}
		kernel.LSTMBackward(dA, dc, act, o.c1d, o.cprev, dh, dc, B, H)
		if o.cx != nil {
			kernel.Axpy(1, dc, tp.Grad(o.cx).Data)
		}
	case kindGRU:
		dR = bw.take(B * G)
		kernel.GRUBackward(dA, dR, dhp, act, o.hg, hprev, dh, B, H)
	case kindRNNTanh: // dA comes zeroed
		kernel.TanhBackward(dA, dh, act)
	default:
		kernel.ReLUBackward(dA, dh, act) // h > 0 where the pre-activation is
	}
	x := o.x.Value.Data
	kernel.Sgemm(true, false, G, I, B, 1, dA, G, x, I, 1, c.wih.Grad.Data, I)
	kernel.Sgemm(true, false, G, H, B, 1, dR, G, hprev, H, 1, c.whh.Grad.Data, H)
	if c.bih != nil {
		colSumAdd(c.bih.Grad.Data, dA, B, G)
		colSumAdd(c.bhh.Grad.Data, dR, B, G)
	}
	kernel.Sgemm(false, false, B, I, G, 1, dA, G, c.wih.Value.Data, I, 1, tp.Grad(o.x).Data, I)
	if o.h != nil {
		kernel.Sgemm(false, false, B, H, G, 1, dR, G, c.whh.Value.Data, H, 1, dhp, H)
		kernel.Axpy(1, dhp, tp.Grad(o.h).Data)
	}
}

// LSTMCell is one LSTM step (PyTorch's nn.LSTMCell), for custom loops:
// decoders, attention, teacher forcing. Parameters weight_ih (4H, I),
// weight_hh (4H, H), bias_ih (4H), bias_hh (4H), gates i, f, g, o,
// initialized U(-1/√H, 1/√H).
type LSTMCell struct{ core cellCore }

// NewLSTMCell returns an LSTMCell initialized from rng. It panics if a
// size is not positive (sizes come from validated configs).
func NewLSTMCell(inputSize, hiddenSize int, bias bool, rng *tensor.RNG) *LSTMCell {
	return &LSTMCell{core: mustCell(newCellCore(kindLSTM, inputSize, hiddenSize, bias, rng))}
}

// Params returns weight_ih, weight_hh, bias_ih, bias_hh.
func (c *LSTMCell) Params() []*Param { return c.core.params() }

// Forward runs one step on x (B, I) from h and cx (B, H; nil = zeros) and
// returns h1 and c1 (B, H).
func (c *LSTMCell) Forward(tp *Tape, x, h, cx *Var) (h1, c1 *Var) { return c.core.step(tp, x, h, cx) }

// GRUCell is one GRU step (PyTorch's nn.GRUCell), gates r, z, n.
type GRUCell struct{ core cellCore }

// NewGRUCell returns a GRUCell initialized from rng. It panics if a size
// is not positive (sizes come from validated configs).
func NewGRUCell(inputSize, hiddenSize int, bias bool, rng *tensor.RNG) *GRUCell {
	return &GRUCell{core: mustCell(newCellCore(kindGRU, inputSize, hiddenSize, bias, rng))}
}

// Params returns weight_ih, weight_hh, bias_ih, bias_hh.
func (c *GRUCell) Params() []*Param { return c.core.params() }

// Forward runs one step on x (B, I) from h (B, H; nil = zeros) and returns
// h1 (B, H).
func (c *GRUCell) Forward(tp *Tape, x, h *Var) *Var {
	h1, _ := c.core.step(tp, x, h, nil)
	return h1
}

// RNNCell is one Elman RNN step (PyTorch's nn.RNNCell), tanh or relu.
type RNNCell struct{ core cellCore }

// NewRNNCell returns an RNNCell initialized from rng; nonlinearity is
// "tanh" (or "") or "relu". A nonlinearity (a configuration string) or a
// size that does not fit is an error.
func NewRNNCell(inputSize, hiddenSize int, bias bool, nonlinearity string, rng *tensor.RNG) (*RNNCell, error) {
	kind, err := rnnKind("RNNCell", nonlinearity)
	if err != nil {
		return nil, err
	}
	c, err := newCellCore(kind, inputSize, hiddenSize, bias, rng)
	if err != nil {
		return nil, err
	}
	return &RNNCell{core: c}, nil
}

// Params returns weight_ih, weight_hh, bias_ih, bias_hh.
func (c *RNNCell) Params() []*Param { return c.core.params() }

// Forward runs one step on x (B, I) from h (B, H; nil = zeros) and returns
// h1 (B, H).
func (c *RNNCell) Forward(tp *Tape, x, h *Var) *Var {
	h1, _ := c.core.step(tp, x, h, nil)
	return h1
}
