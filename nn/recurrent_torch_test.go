package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/tensor"
)

// refTol returns the tolerances for a reference case: the longest
// sequences get 1e-3 relative on their gradients.
func refTol(c *torchref.Case) (rtol, atol float64) {
	if strings.Contains(c.Name, "long") {
		return 1e-3, 1e-5
	}
	return 1e-4, 1e-5
}

func refTensor(c *torchref.Case, name string) (*tensor.Tensor, error) {
	rt, err := c.T(name)
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(rt.F32(), rt.Shape...), nil
}

// loadRefParams copies the case's tensors into ps by name and checks that
// the case's param_names list is exactly ps's names in order.
func loadRefParams(c *torchref.Case, ps []*Param) error {
	names, _ := c.Config["param_names"].([]any)
	if len(names) != len(ps) {
		return fmt.Errorf("case %s: %d param_names, layer has %d params", c.Name, len(names), len(ps))
	}
	for i, p := range ps {
		if names[i] != p.Name {
			return fmt.Errorf("case %s: param %d is %q, reference has %v", c.Name, i, p.Name, names[i])
		}
		t, err := c.T(p.Name)
		if err != nil {
			return err
		}
		if !shapeIs(p.Value, t.Shape...) {
			return fmt.Errorf("case %s: %s shape %v, reference %v", c.Name, p.Name, p.Value.Shape, t.Shape)
		}
		copy(p.Value.Data, t.F32())
	}
	return nil
}

// seqCaseLayer builds the layer a lstm.json / gru.json case describes and
// fails on any config it does not understand.
func seqCaseLayer(c *torchref.Case, family string) (Recurrent, bool, error) {
	known := map[string]bool{"module": true, "T": true, "B": true, "input_size": true, "hidden_size": true, "num_layers": true,
		"bidirectional": true, "num_directions": true, "batch_first": true, "bias": true, "dropout": true,
		"zero_initial_state": true, "packed": true, "param_names": true, "loss": true, "proj_size": true}
	for k := range c.Config {
		if !known[k] {
			return nil, false, fmt.Errorf("case %s: unknown config key %q", c.Name, k)
		}
	}
	I, err1 := c.Int("input_size")
	H, err2 := c.Int("hidden_size")
	L, err3 := c.Int("num_layers")
	drop, err4 := c.Float("dropout")
	for _, e := range []error{err1, err2, err3, err4} {
		if e != nil {
			return nil, false, e
		}
	}
	if drop != 0 {
		return nil, false, fmt.Errorf("case %s: dropout %v cannot be reproduced", c.Name, drop)
	}
	proj := 0
	if _, ok := c.Config["proj_size"]; ok {
		proj, _ = c.Int("proj_size")
	}
	bias := true
	if b, ok := c.Config["bias"].(bool); ok {
		bias = b
	}
	cfg := LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: L, Bidirectional: c.Bool("bidirectional"), ProjSize: proj,
		NoBias: !bias, BatchFirst: c.Bool("batch_first")}
	rng := tensor.NewRNG(1)
	var l Recurrent
	var err error
	switch m := c.String("module"); {
	case family == "lstm" && m == "nn.LSTM":
		l, err = NewLSTM(cfg, rng)
	case family == "gru" && m == "nn.GRU" && proj == 0:
		l, err = NewGRU(GRUConfig{InputSize: I, HiddenSize: H, NumLayers: L, Bidirectional: cfg.Bidirectional, NoBias: !bias, BatchFirst: cfg.BatchFirst}, rng)
	default:
		return nil, false, fmt.Errorf("case %s: module %q (proj %d) not handled in family %s", c.Name, m, proj, family)
	}
	if err != nil {
		return nil, false, err
	}
	return l, family == "lstm", loadRefParams(c, l.Params())
}

// runSeqCase runs one case and compares values and gradients.
func runSeqCase(t *testing.T, c *torchref.Case, family string) {
	l, lstm, err := seqCaseLayer(c, family)
	if err != nil {
		t.Fatal(err)
	}
	rtol, atol := refTol(c)
	x, err := refTensor(c, "input")
	if err != nil {
		t.Fatal(err)
	}
	var lengths []int
	if c.Bool("packed") {
		lt, err := c.T("lengths")
		if err != nil {
			t.Fatal(err)
		}
		lengths = lt.Ints()
	}
	h0t, err := refTensor(c, "h0")
	if err != nil {
		t.Fatal(err)
	}
	h0 := &State{H: NewVar(h0t)}
	if lstm {
		c0, err := refTensor(c, "c0")
		if err != nil {
			t.Fatal(err)
		}
		h0.C = NewVar(c0)
	}
	xv := NewVar(x)
	tp := &Tape{}
	out, st := l.Forward(tp, xv, lengths, h0)
	want := []struct {
		name string
		got  *Var
	}{{"output", out}, {"h_n", st.H}}
	if lstm {
		want = append(want, struct {
			name string
			got  *Var
		}{"c_n", st.C})
	}
	for _, w := range want {
		ref, err := c.T(w.name)
		if err != nil {
			t.Fatal(err)
		}
		if !shapeIs(w.got.Value, ref.Shape...) {
			t.Fatalf("%s: shape %v, want %v", w.name, w.got.Value.Shape, ref.Shape)
		}
		if err := torchref.Compare(c.Name+" "+w.name, w.got.Value.Data, ref.Data, 1e-4, 1e-5); err != nil {
			t.Error(err)
		}
	}
	// Inference gives the same values, and nil h0 equals zero h0.
	var inf0 *State
	if !c.Bool("zero_initial_state") {
		inf0 = h0
	}
	iout, ist := l.Forward(nil, xv, lengths, inf0)
	if err := torchref.Compare(c.Name+" inference output", iout.Value.Data, f64(out.Value.Data), 1e-6, 1e-7); err != nil {
		t.Error(err)
	}
	if err := torchref.Compare(c.Name+" inference h_n", ist.H.Value.Data, f64(st.H.Value.Data), 1e-6, 1e-7); err != nil {
		t.Error(err)
	}
	// Loss weights and backward.
	R, _ := refTensor(c, "R")
	Rh, _ := refTensor(c, "Rh")
	st.H.G().Add(Rh)
	if lstm {
		Rc, _ := refTensor(c, "Rc")
		st.C.G().Add(Rc)
	}
	tp.Backward(out, R)
	grads := []struct {
		name string
		v    *Var
	}{{"input", xv}, {"h0", h0.H}}
	if lstm {
		grads = append(grads, struct {
			name string
			v    *Var
		}{"c0", h0.C})
	}
	for _, p := range l.Params() {
		grads = append(grads, struct {
			name string
			v    *Var
		}{p.Name, &p.Var})
	}
	for _, g := range grads {
		ref, err := c.T("grad." + g.name)
		if err != nil {
			t.Fatal(err)
		}
		if g.v.Grad == nil {
			t.Errorf("%s: grad.%s: no gradient", c.Name, g.name)
			continue
		}
		if err := torchref.Compare(c.Name+" grad."+g.name, g.v.Grad.Data, ref.Data, rtol, atol); err != nil {
			t.Error(err)
		}
	}
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func runFamily(t *testing.T, family string, run func(*testing.T, *torchref.Case, string)) {
	f, err := torchref.Load(family)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) { run(t, c, family) })
	}
}

func TestLSTMTorchReference(t *testing.T) { runFamily(t, "lstm", runSeqCase) }

func TestGRUTorchReference(t *testing.T) { runFamily(t, "gru", runSeqCase) }

// runCellCase runs one cells.json case.
func runCellCase(t *testing.T, c *torchref.Case, _ string) {
	known := map[string]bool{"module": true, "B": true, "input_size": true, "hidden_size": true, "bias": true,
		"zero_initial_state": true, "param_names": true, "loss": true}
	for k := range c.Config {
		if !known[k] {
			t.Fatalf("case %s: unknown config key %q", c.Name, k)
		}
	}
	I, err1 := c.Int("input_size")
	H, err2 := c.Int("hidden_size")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	bias, ok := c.Config["bias"].(bool)
	if !ok {
		t.Fatalf("case %s: config bias missing", c.Name)
	}
	rng := tensor.NewRNG(1)
	var m Module
	lstm := false
	switch mod := c.String("module"); mod {
	case "nn.LSTMCell":
		m, lstm = NewLSTMCell(I, H, bias, rng), true
	case "nn.GRUCell":
		m = NewGRUCell(I, H, bias, rng)
	default:
		t.Fatalf("case %s: module %q not handled", c.Name, mod)
	}
	if err := loadRefParams(c, m.Params()); err != nil {
		t.Fatal(err)
	}
	xt, err := refTensor(c, "input")
	if err != nil {
		t.Fatal(err)
	}
	ht, err := refTensor(c, "hx")
	if err != nil {
		t.Fatal(err)
	}
	x, h := NewVar(xt), NewVar(ht)
	var cx, c1 *Var
	tp := &Tape{}
	var h1 *Var
	if lstm {
		ct, err := refTensor(c, "cx")
		if err != nil {
			t.Fatal(err)
		}
		cx = NewVar(ct)
		h1, c1 = m.(*LSTMCell).Forward(tp, x, h, cx)
	} else {
		h1 = m.(*GRUCell).Forward(tp, x, h)
	}
	type pair struct {
		name string
		v    *Var
	}
	outs := []pair{{"h1", h1}}
	if lstm {
		outs = append(outs, pair{"c1", c1})
	}
	for _, o := range outs {
		ref, err := c.T(o.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := torchref.Compare(c.Name+" "+o.name, o.v.Value.Data, ref.Data, 1e-4, 1e-5); err != nil {
			t.Error(err)
		}
	}
	if c.Bool("zero_initial_state") {
		// nil states mean zeros.
		var ih *Var
		if lstm {
			ih, _ = m.(*LSTMCell).Forward(nil, x, nil, nil)
		} else {
			ih = m.(*GRUCell).Forward(nil, x, nil)
		}
		if err := torchref.Compare(c.Name+" h1 from nil state", ih.Value.Data, f64(h1.Value.Data), 1e-6, 1e-7); err != nil {
			t.Error(err)
		}
	}
	if lstm {
		Rc, _ := refTensor(c, "Rc")
		c1.G().Add(Rc)
	}
	Rh, _ := refTensor(c, "Rh")
	tp.Backward(h1, Rh)
	grads := []pair{{"input", x}, {"hx", h}}
	if lstm {
		grads = append(grads, pair{"cx", cx})
	}
	for _, p := range m.Params() {
		grads = append(grads, pair{p.Name, &p.Var})
	}
	for _, g := range grads {
		ref, err := c.T("grad." + g.name)
		if err != nil {
			t.Fatal(err)
		}
		if g.v.Grad == nil {
			t.Errorf("%s: grad.%s: no gradient", c.Name, g.name)
			continue
		}
		if err := torchref.Compare(c.Name+" grad."+g.name, g.v.Grad.Data, ref.Data, 1e-4, 1e-5); err != nil {
			t.Error(err)
		}
	}
}

func TestCellsTorchReference(t *testing.T) { runFamily(t, "cells", runCellCase) }
