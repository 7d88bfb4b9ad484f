package nn

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// maskedSoftmaxRows writes into p the softmax of each row of s (rows×cols)
// over the entries where mask is true (mask nil: all). Masked entries get
// probability 0; a row with no unmasked entry is all zeros (PyTorch would
// give NaN).
func maskedSoftmaxRows(p, s []float32, mask []bool, rows, cols int) {
	for r := 0; r < rows; r++ {
		sr, pr := s[r*cols:(r+1)*cols], p[r*cols:(r+1)*cols]
		var mr []bool
		if mask != nil {
			mr = mask[r*cols : (r+1)*cols]
		}
		m := float32(math.Inf(-1))
		for j, v := range sr {
			if (mr == nil || mr[j]) && v > m {
				m = v
			}
		}
		if math.IsInf(float64(m), -1) {
			clear(pr)
			continue
		}
		var sum float64
		for j, v := range sr {
			if mr != nil && !mr[j] {
				pr[j] = 0
				continue
			}
			e := float32(math.Exp(float64(v - m)))
			pr[j] = e
			sum += float64(e)
		}
		kernel.Scal(float32(1/sum), pr)
	}
}

func checkMask(op string, mask []bool, n int) {
	if mask != nil && len(mask) != n {
		panic(fmt.Sprintf("nn: %s: mask of %d entries, want %d", op, len(mask), n))
	}
}

// MaskedSoftmax returns the softmax over the last axis of x restricted to
// the entries where mask (same size as x; nil: no mask) is true. Masked
// entries, and rows with nothing unmasked, get probability 0.
func MaskedSoftmax(tp *Tape, x *Var, mask []bool) *Var {
	w := x.Value.Dim(-1)
	rows := x.Value.Len() / max(w, 1)
	checkMask("MaskedSoftmax", mask, x.Value.Len())
	y := tp.Zeros(x.Value.Shape...)
	maskedSoftmaxRows(y.Data, x.Value.Data, mask, rows, w)
	out, op := newOp[elementwiseOp](tp, y)
	if op != nil {
		op.tp, op.x, op.y, op.rows, op.w = tp, x, out, rows, w
	}
	return out
}

// CausalMask returns the (B, Tq, Tk) mask that lets query i attend to keys
// j ≤ i + (Tk − Tq) (the usual lower triangle when Tq = Tk).
func CausalMask(B, Tq, Tk int) []bool {
	m := make([]bool, B*Tq*Tk)
	for b := 0; b < B; b++ {
		for i := 0; i < Tq; i++ {
			for j := 0; j < Tk && j <= i+Tk-Tq; j++ {
				m[(b*Tq+i)*Tk+j] = true
			}
		}
	}
	return m
}

// PaddingMask returns the (B, Tq, Tk) mask that lets every query of
// sequence b attend to its first lengths[b] keys. With Tq = 1 it is the
// (B, Tk) mask the Luong and Bahdanau layers take.
func PaddingMask(lengths []int, Tq, Tk int) []bool {
	return paddingMaskInto(make([]bool, len(lengths)*Tq*Tk), lengths, Tq, Tk)
}

// paddingMaskInto is PaddingMask into m, which it overwrites.
func paddingMaskInto(m []bool, lengths []int, Tq, Tk int) []bool {
	clear(m)
	for b, l := range lengths {
		for i := 0; i < Tq; i++ {
			for j := 0; j < Tk && j < l; j++ {
				m[(b*Tq+i)*Tk+j] = true
			}
		}
	}
	return m
}

// AndMask returns the element-wise conjunction of equally long masks
// (padding and causal, say).
func AndMask(a, b []bool) []bool {
	if len(a) != len(b) {
		panic(fmt.Sprintf("nn: AndMask of %d and %d entries", len(a), len(b)))
	}
	m := make([]bool, len(a))
	for i := range a {
		m[i] = a[i] && b[i]
	}
	return m
}

// SDPA is scaled dot-product attention with scale 1/√d; see [SDPAScaled].
func SDPA(tp *Tape, q, k, v *Var, mask []bool) (out, weights *Var) {
	return SDPAScaled(tp, q, k, v, mask, 1/math.Sqrt(float64(q.Value.Dim(-1))))
}

// SDPAScaled computes attention weights = softmax(Q·Kᵀ·scale) over the keys
// where mask is true, and out = weights·V, for Q (B, Tq, d), K (B, Tk, d),
// V (B, Tk, dv) and mask (B, Tq, Tk) (nil: attend everywhere; build one
// with [CausalMask], [PaddingMask], [AndMask]). out is (B, Tq, dv) and
// weights (B, Tq, Tk); both may receive gradient. A query row with no key
// to attend gets zero weights and a zero output.
func SDPAScaled(tp *Tape, q, k, v *Var, mask []bool, scale float64) (out, weights *Var) {
	qs, ks, vs := q.Value.Shape, k.Value.Shape, v.Value.Shape
	if len(qs) != 3 || len(ks) != 3 || len(vs) != 3 || ks[0] != qs[0] || vs[0] != qs[0] || ks[2] != qs[2] || vs[1] != ks[1] {
		panic(fmt.Sprintf("nn: SDPA of Q %v, K %v, V %v: want (B,Tq,d), (B,Tk,d), (B,Tk,dv)", qs, ks, vs))
	}
	B, Tq, d, Tk, dv := qs[0], qs[1], qs[2], ks[1], vs[2]
	checkMask("SDPA", mask, B*Tq*Tk)
	sc := float32(scale)
	P := tp.Zeros(B, Tq, Tk)
	O := tp.Zeros(B, Tq, dv)
	S := make([]float32, Tq*Tk)
	for b := 0; b < B; b++ {
		qb, kb, vb := q.Value.Data[b*Tq*d:(b+1)*Tq*d], k.Value.Data[b*Tk*d:(b+1)*Tk*d], v.Value.Data[b*Tk*dv:(b+1)*Tk*dv]
		pb := P.Data[b*Tq*Tk : (b+1)*Tq*Tk]
		kernel.Sgemm(false, true, Tq, Tk, d, sc, qb, d, kb, d, 0, S, Tk)
		var mb []bool
		if mask != nil {
			mb = mask[b*Tq*Tk : (b+1)*Tq*Tk]
		}
		maskedSoftmaxRows(pb, S, mb, Tq, Tk)
		kernel.Sgemm(false, false, Tq, dv, Tk, 1, pb, Tk, vb, dv, 0, O.Data[b*Tq*dv:(b+1)*Tq*dv], dv)
	}
	out, weights = NewVar(O), NewVar(P)
	if tp == nil {
		return out, weights
	}
	tp.Add(func() {
		if out.Grad == nil && weights.Grad == nil {
			return
		}
		dq, dk, dvv := tp.Grad(q).Data, tp.Grad(k).Data, tp.Grad(v).Data
		dP := make([]float32, Tq*Tk)
		dS := make([]float32, Tq*Tk)
		for b := 0; b < B; b++ {
			qb, kb, vb := q.Value.Data[b*Tq*d:(b+1)*Tq*d], k.Value.Data[b*Tk*d:(b+1)*Tk*d], v.Value.Data[b*Tk*dv:(b+1)*Tk*dv]
			pb := P.Data[b*Tq*Tk : (b+1)*Tq*Tk]
			clear(dP)
			if weights.Grad != nil {
				copy(dP, weights.Grad.Data[b*Tq*Tk:(b+1)*Tq*Tk])
			}
			if out.Grad != nil {
				ob := out.Grad.Data[b*Tq*dv : (b+1)*Tq*dv]
				kernel.Sgemm(false, true, Tq, Tk, dv, 1, ob, dv, vb, dv, 1, dP, Tk)                       // dP += dO·Vᵀ
				kernel.Sgemm(true, false, Tk, dv, Tq, 1, pb, Tk, ob, dv, 1, dvv[b*Tk*dv:(b+1)*Tk*dv], dv) // dV += Pᵀ·dO
			}
			clear(dS)
			kernel.SoftmaxRowsBackward(dS, dP, pb, Tq, Tk)
			kernel.Sgemm(false, false, Tq, d, Tk, sc, dS, Tk, kb, d, 1, dq[b*Tq*d:(b+1)*Tq*d], d) // dQ += s·dS·K
			kernel.Sgemm(true, false, Tk, d, Tq, sc, dS, Tk, qb, d, 1, dk[b*Tk*d:(b+1)*Tk*d], d)  // dK += s·dSᵀ·Q
		}
	})
	return out, weights
}

// checkQK panics unless query is (B, dq) and keys (B, T, dk).
func checkQK(op string, query, keys *Var) (B, T, dq, dk int) {
	qs, ks := query.Value.Shape, keys.Value.Shape
	if len(qs) != 2 || len(ks) != 3 || qs[0] != ks[0] {
		panic(fmt.Sprintf("nn: %s of query %v and keys %v: want (B, dq) and (B, T, dk)", op, qs, ks))
	}
	return qs[0], ks[1], qs[1], ks[2]
}

// dotScores returns s[b,j] = query[b]·keys[b,j], shape (B, T), for query
// (B, d) and keys (B, T, d).
func dotScores(tp *Tape, query, keys *Var) *Var {
	B, T, d, dk := checkQK("dot attention", query, keys)
	if d != dk {
		panic(fmt.Sprintf("nn: dot attention of query width %d and key width %d", d, dk))
	}
	s := tp.Zeros(B, T)
	for b := 0; b < B; b++ {
		kernel.Sgemv(false, T, d, 1, keys.Value.Data[b*T*d:(b+1)*T*d], d, query.Value.Data[b*d:(b+1)*d], 0, s.Data[b*T:(b+1)*T])
	}
	out, op := newOp[dotOp](tp, s)
	if op != nil {
		op.tp, op.q, op.k, op.y, op.B, op.T, op.d = tp, query, keys, out, B, T, d
	}
	return out
}

type dotOp struct {
	tp      *Tape
	q, k, y *Var
	B, T, d int
	sum     bool
}

func (o *dotOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	if o.sum {
		tp, alpha, values, dc, B, T, dv := o.tp, o.q, o.k, o.y.Grad, o.B, o.T, o.d
		da, dval := tp.Grad(alpha).Data, tp.Grad(values).Data
		for b := 0; b < B; b++ {
			vb := values.Value.Data[b*T*dv : (b+1)*T*dv]
			g := dc.Data[b*dv : (b+1)*dv]
			kernel.Sgemv(false, T, dv, 1, vb, dv, g, 1, da[b*T:(b+1)*T])
			for j := 0; j < T; j++ {
				kernel.Axpy(alpha.Value.Data[b*T+j], g, dval[(b*T+j)*dv:(b*T+j+1)*dv])
			}
		}
		return
	}
	tp, query, keys, ds, B, T, d := o.tp, o.q, o.k, o.y.Grad, o.B, o.T, o.d
	dq, dk := tp.Grad(query).Data, tp.Grad(keys).Data
	for b := 0; b < B; b++ {
		kb := keys.Value.Data[b*T*d : (b+1)*T*d]
		kernel.Sgemv(true, T, d, 1, kb, d, ds.Data[b*T:(b+1)*T], 1, dq[b*d:(b+1)*d])
		for j := 0; j < T; j++ {
			kernel.Axpy(ds.Data[b*T+j], query.Value.Data[b*d:(b+1)*d], dk[(b*T+j)*d:(b*T+j+1)*d])
		}
	}
}

// additiveScores returns s[b,j] = v·tanh(qp[b] + kp[b,j]), shape (B, T),
// for projected queries qp (B, da) and projected keys kp (B, T, da).
func additiveScores(tp *Tape, qp, kp *Var, v *Param) *Var {
	B, T, da, dk := checkQK("additive attention", qp, kp)
	if da != dk || v.Value.Len() != da {
		panic(fmt.Sprintf("nn: additive attention of widths %d, %d and v %v", da, dk, v.Value.Shape))
	}
	th := tp.Buffer(B, T, da).Data
	s := tp.Zeros(B, T)
	for b := 0; b < B; b++ {
		for j := 0; j < T; j++ {
			r := th[(b*T+j)*da : (b*T+j+1)*da]
			copy(r, kp.Value.Data[(b*T+j)*da:(b*T+j+1)*da])
			addInto(r, qp.Value.Data[b*da:(b+1)*da])
			kernel.Tanh(r, r)
			s.Data[b*T+j] = kernel.Dot(r, v.Value.Data)
		}
	}
	out, op := newOp[additiveOp](tp, s)
	if op != nil {
		op.tp, op.qp, op.kp, op.v, op.y, op.th, op.B, op.T, op.da = tp, qp, kp, v, out, th, B, T, da
	}
	return out
}

// additiveOp is the backward of additiveScores; th holds the tanh values.
type additiveOp struct {
	tp        *Tape
	qp, kp, y *Var
	v         *Param
	th        []float32
	B, T, da  int
}

func (o *additiveOp) Backward() {
	if o.y.Grad == nil {
		return
	}
	tp, B, T, da, v := o.tp, o.B, o.T, o.da, o.v
	ds := o.y.Grad.Data
	dqp, dkp := tp.Grad(o.qp).Data, tp.Grad(o.kp).Data
	dt := tp.Buffer(da).Data
	for b := 0; b < B; b++ {
		for j := 0; j < T; j++ {
			g := ds[b*T+j]
			r := o.th[(b*T+j)*da : (b*T+j+1)*da]
			if !v.Frozen {
				kernel.Axpy(g, r, v.Grad.Data)
			}
			for i, tv := range r {
				dt[i] = g * v.Value.Data[i] * (1 - tv*tv)
			}
			addInto(dqp[b*da:(b+1)*da], dt)
			addInto(dkp[(b*T+j)*da:(b*T+j+1)*da], dt)
		}
	}
}

// weightedSum returns context[b] = Σ_j alpha[b,j]·values[b,j], shape
// (B, dv), for alpha (B, T) and values (B, T, dv).
func weightedSum(tp *Tape, alpha, values *Var) *Var {
	B, T, _, dv := checkQK("attention context", alpha, values)
	if alpha.Value.Shape[1] != T {
		panic(fmt.Sprintf("nn: attention weights %v for values %v", alpha.Value.Shape, values.Value.Shape))
	}
	c := tp.Zeros(B, dv)
	for b := 0; b < B; b++ {
		kernel.Sgemv(true, T, dv, 1, values.Value.Data[b*T*dv:(b+1)*T*dv], dv, alpha.Value.Data[b*T:(b+1)*T], 0, c.Data[b*dv:(b+1)*dv])
	}
	out, op := newOp[dotOp](tp, c)
	if op != nil {
		op.tp, op.q, op.k, op.y, op.B, op.T, op.d = tp, alpha, values, out, B, T, dv
		op.sum = true
	}
	return out
}

// Attention is attention of one query per sequence over a sequence of
// encoder states (the keys, which are also the values): what an
// encoder-decoder calls once per decoder step. ProjectKeys does the work
// that depends on the keys only, once per source batch; Attend uses it.
type Attention interface {
	Module
	// ProjectKeys prepares keys (B, T, dk) for Attend.
	ProjectKeys(tp *Tape, keys *Var) *Var
	// Attend returns the context (B, dk) and the weights (B, T) of query
	// (B, dq) over keys, given proj = ProjectKeys(keys) and a (B, T) mask
	// (true = attend; nil: all; see [PaddingMask] with Tq = 1).
	Attend(tp *Tape, query, keys, proj *Var, mask []bool) (context, weights *Var)
}

// Bahdanau is additive attention:
//
//	score[b,j] = v·tanh(W_q·query[b] + W_k·keys[b,j] + b)
//	weights = softmax over unmasked j;  context[b] = Σ_j weights[b,j]·keys[b,j]
//
// Parameters: "query.weight" W_q (da, dq), "query.bias" b (da),
// "key.weight" W_k (da, dk), "v" (da); all from U(−1/√fan_in, 1/√fan_in)
// (fan_in da for v).
type Bahdanau struct {
	Query, Key *Linear
	V          *Param
}

// NewBahdanau returns additive attention for queries of width dq, keys of
// width dk and an attention width da.
func NewBahdanau(dq, dk, da int, rng *tensor.RNG) *Bahdanau {
	a := &Bahdanau{Query: NewLinear(dq, da, true, rng), Key: NewLinear(dk, da, false, rng), V: NewParam("v", da)}
	k := 1 / math.Sqrt(float64(da))
	rng.FillUniform(a.V.Value, -k, k)
	Prefix("query", a.Query.Params())
	Prefix("key", a.Key.Params())
	return a
}

// Params returns query.weight, query.bias, key.weight, v.
func (a *Bahdanau) Params() []*Param { return append(a.Query.Params(), append(a.Key.Params(), a.V)...) }

// ProjectKeys returns W_k·keys, (B, T, da).
func (a *Bahdanau) ProjectKeys(tp *Tape, keys *Var) *Var { return a.Key.Forward(tp, keys) }

// Attend implements [Attention].
func (a *Bahdanau) Attend(tp *Tape, query, keys, proj *Var, mask []bool) (context, weights *Var) {
	tp.Touch(a.V)
	s := additiveScores(tp, a.Query.Forward(tp, query), proj, a.V)
	weights = MaskedSoftmax(tp, s, mask)
	return weightedSum(tp, weights, keys), weights
}

// Forward is Attend(tp, query, keys, ProjectKeys(tp, keys), mask).
func (a *Bahdanau) Forward(tp *Tape, query, keys *Var, mask []bool) (context, weights *Var) {
	return a.Attend(tp, query, keys, a.ProjectKeys(tp, keys), mask)
}

// Luong attention kinds.
const (
	LuongDot     = "dot"     // score = query·key (dq = dk)
	LuongGeneral = "general" // score = query·(W·key), W (dq, dk)
	LuongConcat  = "concat"  // score = v·tanh(W_q·query + W_k·key)
)

// Luong is multiplicative (dot, general) or concat attention (Luong et
// al., 2015) over keys that are also the values. Parameters: none for
// "dot"; "weight" (dq, dk) for "general"; "query.weight" (da, dq),
// "key.weight" (da, dk) and "v" (da) for "concat" (the paper's W_a split
// into its query and key halves).
type Luong struct {
	Kind       string
	W          *Linear // general
	Query, Key *Linear // concat
	V          *Param  // concat
}

// NewLuong returns Luong attention of the given kind ("dot", "general" or
// "concat") for queries of width dq and keys of width dk; da is the
// attention width of "concat" (ignored otherwise). It returns an error for
// an unknown kind or a size that does not fit it.
func NewLuong(kind string, dq, dk, da int, rng *tensor.RNG) (*Luong, error) {
	if err := checkMin("Luong", 1, intField{"dq", dq}, intField{"dk", dk}); err != nil {
		return nil, err
	}
	a := &Luong{Kind: kind}
	switch kind {
	case LuongDot:
		if dq != dk {
			return nil, fieldError("Luong", "dk", dk, fmt.Sprintf("dq = %d (dot attention)", dq))
		}
	case LuongGeneral:
		a.W = NewLinear(dk, dq, false, rng)
	case LuongConcat:
		if da <= 0 {
			return nil, fieldError("Luong", "da", da, "> 0 (concat attention)")
		}
		a.Query, a.Key = NewLinear(dq, da, false, rng), NewLinear(dk, da, false, rng)
		a.V = NewParam("v", da)
		k := 1 / math.Sqrt(float64(da))
		rng.FillUniform(a.V.Value, -k, k)
		Prefix("query", a.Query.Params())
		Prefix("key", a.Key.Params())
	default:
		return nil, fieldError("Luong", "kind", kind, "dot, general or concat")
	}
	return a, nil
}

// Params returns the kind's parameters (see [Luong]).
func (a *Luong) Params() []*Param {
	switch a.Kind {
	case LuongGeneral:
		return a.W.Params()
	case LuongConcat:
		return append(a.Query.Params(), append(a.Key.Params(), a.V)...)
	}
	return nil
}

// ProjectKeys returns keys (dot), W·keys (general, (B, T, dq)) or
// W_k·keys (concat, (B, T, da)).
func (a *Luong) ProjectKeys(tp *Tape, keys *Var) *Var {
	switch a.Kind {
	case LuongGeneral:
		return a.W.Forward(tp, keys)
	case LuongConcat:
		return a.Key.Forward(tp, keys)
	}
	return keys
}

// Attend implements [Attention].
func (a *Luong) Attend(tp *Tape, query, keys, proj *Var, mask []bool) (context, weights *Var) {
	tp.Touch(a.V)
	var s *Var
	if a.Kind == LuongConcat {
		s = additiveScores(tp, a.Query.Forward(tp, query), proj, a.V)
	} else {
		s = dotScores(tp, query, proj)
	}
	weights = MaskedSoftmax(tp, s, mask)
	return weightedSum(tp, weights, keys), weights
}

// Forward is Attend(tp, query, keys, ProjectKeys(tp, keys), mask).
func (a *Luong) Forward(tp *Tape, query, keys *Var, mask []bool) (context, weights *Var) {
	return a.Attend(tp, query, keys, a.ProjectKeys(tp, keys), mask)
}

// NewAttention returns the attention named kind: "bahdanau" (additive,
// width da), or Luong's "dot", "general" or "concat" (see [NewLuong]), for
// queries of width dq over keys of width dk. An unknown kind or sizes that
// do not fit it are an error.
func NewAttention(kind string, dq, dk, da int, rng *tensor.RNG) (Attention, error) {
	switch kind {
	case "bahdanau":
		if err := checkMin("Bahdanau", 1, intField{"dq", dq}, intField{"dk", dk}, intField{"da", da}); err != nil {
			return nil, err
		}
		return NewBahdanau(dq, dk, da, rng), nil
	case LuongDot, LuongGeneral, LuongConcat:
		return NewLuong(kind, dq, dk, da, rng)
	}
	return nil, fieldError("Attention", "kind", kind, attentionKinds)
}

// attentionKinds is what NewAttention's kind must be.
const attentionKinds = "bahdanau, dot, general or concat"

var (
	_ Attention = (*Bahdanau)(nil)
	_ Attention = (*Luong)(nil)
)
