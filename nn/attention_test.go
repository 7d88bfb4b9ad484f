package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/tensor"
)

// refVar loads a reference tensor as a float32 Var.
func refVar(t *testing.T, c *torchref.Case, name string) *Var {
	t.Helper()
	r, err := c.T(name)
	if err != nil {
		t.Fatal(err)
	}
	return NewVar(tensor.FromSlice(r.F32(), r.Shape...))
}

// refMask loads a 0/1 reference tensor as a mask.
func refMask(t *testing.T, c *torchref.Case, name string) []bool {
	t.Helper()
	r, err := c.T(name)
	if err != nil {
		t.Fatal(err)
	}
	m := make([]bool, len(r.Data))
	for i, v := range r.Data {
		m[i] = v != 0
	}
	return m
}

// refCompare compares got with the named reference tensor at float32
// tolerances.
func refCompare(t *testing.T, c *torchref.Case, name string, got *tensor.Tensor) {
	t.Helper()
	r, err := c.T(name)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Shape) != fmt.Sprint(r.Shape) && !(len(r.Shape) == 0 && got.Len() == 1) {
		t.Errorf("%s %s: shape %v, want %v", c.Name, name, got.Shape, r.Shape)
		return
	}
	if err := torchref.Compare(c.Name+" "+name, got.Data, r.Data, 1e-4, 1e-5); err != nil {
		t.Error(err)
	}
}

// weightedLoss returns Σ y·R as a one-element tensor and seeds y's
// gradient with R.
func weightedLoss(y, R *Var) float64 {
	var s float64
	for i, v := range y.Value.Data {
		s += float64(v) * float64(R.Value.Data[i])
	}
	y.G().Add(R.Value)
	return s
}

// TestAttentionReference runs every case of attention.json.
func TestAttentionReference(t *testing.T) {
	f, err := torchref.Load("attention")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		switch {
		case strings.HasPrefix(c.Name, "sdpa_"):
			q, k, v := refVar(t, c, "Q"), refVar(t, c, "K"), refVar(t, c, "V")
			scale, err := c.Float("scale")
			if err != nil {
				t.Fatal(err)
			}
			if d := q.Value.Dim(-1); math.Abs(scale-1/math.Sqrt(float64(d))) > 1e-12 {
				t.Errorf("%s: scale %v is not 1/√%d; SDPA's default would differ", c.Name, scale, d)
			}
			tp := &Tape{}
			out, attn := SDPAScaled(tp, q, k, v, refMask(t, c, "mask"), scale)
			refCompare(t, c, "output", out.Value)
			refCompare(t, c, "attn", attn.Value)
			loss := weightedLoss(out, refVar(t, c, "R"))
			refCompare(t, c, "loss", tensor.FromSlice([]float32{float32(loss)}))
			tp.Backward(out, tensor.New(out.Value.Shape...))
			refCompare(t, c, "grad.Q", q.Grad)
			refCompare(t, c, "grad.K", k.Grad)
			refCompare(t, c, "grad.V", v.Grad)
		case strings.HasPrefix(c.Name, "bahdanau_"):
			query, keys := refVar(t, c, "query"), refVar(t, c, "keys")
			a := &Bahdanau{
				Query: &Linear{In: query.Value.Dim(1), Weight: &Param{Var: *refVar(t, c, "W_q")}, Bias: &Param{Var: *refVar(t, c, "b")}},
				Key:   &Linear{In: keys.Value.Dim(2), Weight: &Param{Var: *refVar(t, c, "W_k")}},
				V:     &Param{Var: *refVar(t, c, "v")},
			}
			a.Query.Out, a.Key.Out = a.Query.Weight.Value.Dim(0), a.Key.Weight.Value.Dim(0)
			for _, p := range a.Params() {
				p.G()
			}
			var mask []bool
			if c.Bool("masked") {
				mask = refMask(t, c, "mask")
			}
			tp := &Tape{}
			scores := additiveScores(nil, a.Query.Forward(nil, query), a.ProjectKeys(nil, keys), a.V)
			refCompare(t, c, "scores", scores.Value)
			ctx, alpha := a.Forward(tp, query, keys, mask)
			refCompare(t, c, "context", ctx.Value)
			refCompare(t, c, "alpha", alpha.Value)
			loss := weightedLoss(ctx, refVar(t, c, "R")) + weightedLoss(alpha, refVar(t, c, "Ra"))
			refCompare(t, c, "loss", tensor.FromSlice([]float32{float32(loss)}))
			tp.Backward(ctx, tensor.New(ctx.Value.Shape...))
			refCompare(t, c, "grad.query", query.Grad)
			refCompare(t, c, "grad.keys", keys.Grad)
			refCompare(t, c, "grad.W_q", a.Query.Weight.Grad)
			refCompare(t, c, "grad.W_k", a.Key.Weight.Grad)
			refCompare(t, c, "grad.b", a.Query.Bias.Grad)
			refCompare(t, c, "grad.v", a.V.Grad)
		default:
			t.Errorf("attention.json case %q: no test knows this kind", c.Name)
		}
	}
}

func TestMasks(t *testing.T) {
	if got := fmt.Sprint(CausalMask(1, 3, 3)); got != "[true false false true true false true true true]" {
		t.Errorf("CausalMask(1,3,3) = %v", got)
	}
	if got := fmt.Sprint(CausalMask(1, 1, 3)); got != "[true true true]" {
		t.Errorf("CausalMask(1,1,3) = %v (the last query sees every key)", got)
	}
	if got := fmt.Sprint(PaddingMask([]int{2, 1}, 1, 3)); got != "[true true false true false false]" {
		t.Errorf("PaddingMask = %v", got)
	}
	if got := fmt.Sprint(AndMask([]bool{true, true, false}, []bool{true, false, false})); got != "[true false false]" {
		t.Errorf("AndMask = %v", got)
	}
}

func TestMaskedSoftmax(t *testing.T) {
	x := NewVar(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	y := MaskedSoftmax(nil, x, []bool{true, true, false, false, false, false}).Value.Data
	e := 1 / (1 + math.E)
	want := []float64{e, 1 - e, 0, 0, 0, 0}
	for i := range want {
		if math.Abs(float64(y[i])-want[i]) > 1e-6 {
			t.Fatalf("MaskedSoftmax: got %v want %v (a fully masked row is zeros)", y, want)
		}
	}
	rng := tensor.NewRNG(3)
	z := randVar(rng, 2, 3, 4)
	mask := PaddingMask([]int{3, 1}, 3, 4)
	fdCheck(t, "maskedsoftmax", []*Var{z}, func(tp *Tape) *Var { return MaskedSoftmax(tp, z, mask) })
}

func TestSDPAGradientsAndMasking(t *testing.T) {
	rng := tensor.NewRNG(11)
	q, k, v := randVar(rng, 2, 3, 4), randVar(rng, 2, 5, 4), randVar(rng, 2, 5, 2)
	pad := PaddingMask([]int{5, 2}, 3, 5)
	for name, mask := range map[string][]bool{"none": nil, "padding": pad, "causal+padding": AndMask(pad, CausalMask(2, 3, 5))} {
		fdCheck(t, "sdpa out "+name, []*Var{q, k, v}, func(tp *Tape) *Var { o, _ := SDPA(tp, q, k, v, mask); return o })
		fdCheck(t, "sdpa weights "+name, []*Var{q, k}, func(tp *Tape) *Var { _, w := SDPA(tp, q, k, v, mask); return w })
	}
	// Masked keys get zero weight, and their values zero gradient.
	tp := &Tape{}
	v.Grad = nil
	out, w := SDPA(tp, q, k, v, pad)
	for i := 0; i < 3; i++ {
		for j := 2; j < 5; j++ {
			if g := w.Value.Data[(3+i)*5+j]; g != 0 {
				t.Errorf("weight of padded key %d for query %d of sequence 1: %v", j, i, g)
			}
		}
	}
	tp.Backward(out, nil)
	for j := 2; j < 5; j++ {
		for f := 0; f < 2; f++ {
			if g := v.Grad.Data[(5+j)*2+f]; g != 0 {
				t.Errorf("gradient %v reached padded value %d", g, j)
			}
		}
	}
}

// attnParams lists every Var an Attention's output depends on.
func attnParams(a Attention, vs ...*Var) []*Var {
	for _, p := range a.Params() {
		vs = append(vs, &p.Var)
	}
	return vs
}

func TestLuongBahdanauGradients(t *testing.T) {
	rng := tensor.NewRNG(12)
	query, keys := randVar(rng, 3, 4), randVar(rng, 3, 5, 4)
	mask := PaddingMask([]int{5, 1, 3}, 1, 5)
	var atts []Attention
	names := []string{"bahdanau"}
	atts = append(atts, NewBahdanau(4, 4, 3, rng))
	for _, kind := range []string{LuongDot, LuongGeneral, LuongConcat} {
		a, err := NewLuong(kind, 4, 4, 3, rng)
		if err != nil {
			t.Fatal(err)
		}
		atts, names = append(atts, a), append(names, "luong-"+kind)
	}
	for i, a := range atts {
		for _, m := range [][]bool{nil, mask} {
			wrt := attnParams(a, query, keys)
			fdCheck(t, names[i]+" context", wrt, func(tp *Tape) *Var { c, _ := a.Attend(tp, query, keys, a.ProjectKeys(tp, keys), m); return c })
			fdCheck(t, names[i]+" weights", wrt, func(tp *Tape) *Var { _, w := a.Attend(tp, query, keys, a.ProjectKeys(tp, keys), m); return w })
		}
		_, w := a.Attend(nil, query, keys, a.ProjectKeys(nil, keys), mask)
		if w.Value.Data[5+1] != 0 || w.Value.Data[10+4] != 0 {
			t.Errorf("%s: padded keys got weights %v", names[i], w.Value.Data)
		}
		for b := 0; b < 3; b++ {
			var s float64
			for j := 0; j < 5; j++ {
				s += float64(w.Value.Data[b*5+j])
			}
			if math.Abs(s-1) > 1e-5 {
				t.Errorf("%s: weights of sequence %d sum to %v", names[i], b, s)
			}
		}
	}
}

func TestAttentionParamNames(t *testing.T) {
	rng := tensor.NewRNG(1)
	b := NewBahdanau(2, 3, 4, rng)
	l, _ := NewLuong(LuongConcat, 2, 3, 4, rng)
	g, _ := NewLuong(LuongGeneral, 2, 3, 4, rng)
	d, _ := NewLuong(LuongDot, 3, 3, 4, rng)
	for _, tc := range []struct {
		a    Attention
		want string
	}{
		{b, "[query.weight query.bias key.weight v]"},
		{l, "[query.weight key.weight v]"},
		{g, "[weight]"},
		{d, "[]"},
	} {
		for i := 0; i < 2; i++ { // naming is stable across calls
			var names []string
			for _, p := range tc.a.Params() {
				names = append(names, p.Name)
			}
			if got := fmt.Sprint(names); got != tc.want {
				t.Errorf("Params() names %s, want %s", got, tc.want)
			}
		}
	}
}

func TestNewAttention(t *testing.T) {
	rng := tensor.NewRNG(1)
	for kind, want := range map[string]string{"bahdanau": "*nn.Bahdanau", "dot": "*nn.Luong", "general": "*nn.Luong", "concat": "*nn.Luong"} {
		a, err := NewAttention(kind, 3, 3, 2, rng)
		if err != nil || fmt.Sprintf("%T", a) != want {
			t.Errorf("NewAttention(%s) = %T, %v; want %s", kind, a, err, want)
		}
	}
	for _, tc := range []struct {
		kind string
		da   int
		want string
	}{{"additive", 2, `nn: Attention: kind = "additive": want bahdanau, dot, general or concat`}, {"bahdanau", 0, "nn: Bahdanau: da = 0: want > 0"}, {"concat", -1, "nn: Luong: da = -1: want > 0"}} {
		if _, err := NewAttention(tc.kind, 3, 3, tc.da, rng); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewAttention(%s, da=%d): got %v, want an error containing %q", tc.kind, tc.da, err, tc.want)
		}
	}
}

func TestLuongErrors(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, tc := range []struct {
		kind       string
		dq, dk, da int
		want       string
	}{
		{"dot", 3, 4, 0, "nn: Luong: dk = 4: want dq = 3"},
		{"bilinear", 3, 3, 0, `nn: Luong: kind = "bilinear": want dot, general or concat`},
		{"concat", 3, 3, 0, "nn: Luong: da = 0: want > 0"},
		{"general", 0, 3, 0, "nn: Luong: dq = 0: want > 0"},
	} {
		if _, err := NewLuong(tc.kind, tc.dq, tc.dk, tc.da, rng); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewLuong(%s, %d, %d, %d): got %v, want an error containing %q", tc.kind, tc.dq, tc.dk, tc.da, err, tc.want)
		}
	}
}
