package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/tensor"
)

func sig64(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// refForward is a plain float64 loop over the equations in the layer docs,
// one sequence at a time: the independent reference for values (RNN has no
// PyTorch file). x is (T, B, I) time-major; h0 (L·D, B, Ho), c0 (L·D, B, H).
func refForward(r *rnnCore, x []float32, T, B int, lengths []int, h0, c0 []float32) (out, hn, cn []float64) {
	H, Ho, D, L := r.hidden, r.ho(), r.dirs, r.layers
	G := r.kind.gates() * H
	f := func(p *Param) []float64 {
		if p == nil {
			return nil
		}
		return f64(p.Value.Data)
	}
	in := f64(x)
	inW := r.in
	hn = make([]float64, L*D*B*Ho)
	cn = make([]float64, L*D*B*H)
	for k := 0; k < L; k++ {
		out = make([]float64, T*B*D*Ho)
		for d := 0; d < D; d++ {
			w := &r.w[k][d]
			wih, whh, bih, bhh, whr := f(w.wih), f(w.whh), f(w.bih), f(w.bhh), f(w.whr)
			s := k*D + d
			for b := 0; b < B; b++ {
				lb := T
				if lengths != nil {
					lb = lengths[b]
				}
				h := make([]float64, Ho)
				c := make([]float64, H)
				for j := range h {
					h[j] = float64(h0[(s*B+b)*Ho+j])
				}
				if c0 != nil {
					for j := range c {
						c[j] = float64(c0[(s*B+b)*H+j])
					}
				}
				for st := 0; st < lb; st++ {
					t := st
					if d == 1 {
						t = lb - 1 - st
					}
					xt := in[(t*B+b)*inW : (t*B+b+1)*inW]
					xg := make([]float64, G)
					hg := make([]float64, G)
					for g := 0; g < G; g++ {
						for i, v := range xt {
							xg[g] += wih[g*inW+i] * v
						}
						for i, v := range h {
							hg[g] += whh[g*Ho+i] * v
						}
						if bih != nil {
							xg[g] += bih[g]
							hg[g] += bhh[g]
						}
					}
					nh := refStep(r, whh, bhh, f(w.ph), xg, hg, h, c)
					if whr != nil {
						for j := 0; j < Ho; j++ {
							h[j] = 0
							for i := 0; i < H; i++ {
								h[j] += whr[j*H+i] * nh[i]
							}
						}
					} else {
						copy(h, nh)
					}
					copy(out[(t*B+b)*D*Ho+d*Ho:], h)
				}
				copy(hn[(s*B+b)*Ho:], h)
				copy(cn[(s*B+b)*H:], c)
			}
		}
		in, inW = out, D*Ho
	}
	return out, hn, cn
}

// refStep returns the new h before any projection, from xg = W_ih x +
// b_ih and hg = W_hh h + b_hh, and updates c: the equations of the layer
// docs, peepholes ph (nil: none) and ResetBefore included.
func refStep(r *rnnCore, whh, bhh, ph, xg, hg, h, c []float64) []float64 {
	H, Ho := r.hidden, r.ho()
	if r.resetBefore { // the n block is W_hn (r⊙h) + b_hn
		q := make([]float64, Ho)
		for j := range q {
			q[j] = sig64(xg[j]+hg[j]) * h[j]
		}
		for j := 0; j < H; j++ {
			hg[2*H+j] = 0
			if bhh != nil {
				hg[2*H+j] = bhh[2*H+j]
			}
			for i, v := range q {
				hg[2*H+j] += whh[(2*H+j)*Ho+i] * v
			}
		}
	}
	nh := make([]float64, H)
	for j := 0; j < H; j++ {
		switch r.kind {
		case kindLSTM:
			var pi, pf, po float64
			if ph != nil {
				pi, pf, po = ph[j], ph[H+j], ph[2*H+j]
			}
			i := sig64(xg[j] + hg[j] + pi*c[j])
			fg := sig64(xg[H+j] + hg[H+j] + pf*c[j])
			g := math.Tanh(xg[2*H+j] + hg[2*H+j])
			c[j] = fg*c[j] + i*g
			o := sig64(xg[3*H+j] + hg[3*H+j] + po*c[j])
			nh[j] = o * math.Tanh(c[j])
		case kindGRU:
			rg := sig64(xg[j] + hg[j])
			z := sig64(xg[H+j] + hg[H+j])
			n := math.Tanh(xg[2*H+j] + rg*hg[2*H+j])
			if r.resetBefore {
				n = math.Tanh(xg[2*H+j] + hg[2*H+j])
			}
			nh[j] = (1-z)*n + z*h[j]
		case kindRNNTanh:
			nh[j] = math.Tanh(xg[j] + hg[j])
		default:
			nh[j] = math.Max(0, xg[j]+hg[j])
		}
	}
	return nh
}

func TestRecurrentMatchesFloat64Loop(t *testing.T) {
	cases := []struct {
		name    string
		kind    cellKind
		cfg     LSTMConfig
		T, B    int
		lengths []int
	}{
		{"rnn_tanh", kindRNNTanh, LSTMConfig{InputSize: 3, HiddenSize: 5}, 4, 3, nil},
		{"rnn_relu_bi_l2_lengths", kindRNNReLU, LSTMConfig{InputSize: 3, HiddenSize: 4, NumLayers: 2, Bidirectional: true}, 5, 3, []int{2, 5, 3}},
		{"rnn_nobias", kindRNNTanh, LSTMConfig{InputSize: 2, HiddenSize: 3, NoBias: true}, 3, 2, nil},
		{"gru_bi_lengths", kindGRU, LSTMConfig{InputSize: 3, HiddenSize: 4, Bidirectional: true}, 6, 4, []int{6, 1, 3, 3}},
		{"lstm_proj_bi_l2_lengths", kindLSTM, LSTMConfig{InputSize: 3, HiddenSize: 5, ProjSize: 2, NumLayers: 2, Bidirectional: true}, 5, 3, []int{1, 5, 4}},
		{"lstm_b1", kindLSTM, LSTMConfig{InputSize: 3, HiddenSize: 6}, 7, 1, nil},
		{"lstm_peephole_bi_l2_lengths", kindLSTM, LSTMConfig{InputSize: 3, HiddenSize: 5, NumLayers: 2, Bidirectional: true, Peephole: true}, 5, 3, []int{1, 5, 4}},
		{"lstm_peephole_proj_b1", kindLSTM, LSTMConfig{InputSize: 3, HiddenSize: 5, ProjSize: 3, Peephole: true}, 6, 1, nil},
		{"lstm_peephole_rows", kindLSTM, LSTMConfig{InputSize: 4, HiddenSize: 20, Peephole: true}, 6, 9, []int{6, 2, 5, 6, 1, 3, 6, 4, 2}},
		{"lstm_peephole_b1_h256", kindLSTM, LSTMConfig{InputSize: 4, HiddenSize: 256, Peephole: true}, 3, 1, nil},
		{"gru_reset_before_bi_l2_lengths", kindGRU, LSTMConfig{InputSize: 3, HiddenSize: 4, NumLayers: 2, Bidirectional: true}, 6, 4, []int{6, 1, 3, 3}},
		{"gru_reset_before_rows", kindGRU, LSTMConfig{InputSize: 3, HiddenSize: 7}, 5, 9, nil},
		// Large enough that batch one projects its input in row blocks
		// (soloGemmFlops): 32+8 rows in layer 0, 16+16+8 in layer 1.
		{"lstm_b1_blocked_projection", kindLSTM, LSTMConfig{InputSize: 64, HiddenSize: 128, NumLayers: 2}, 40, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := tensor.NewRNG(7)
			o := c.cfg.opts(c.kind)
			o.resetBefore = strings.HasPrefix(c.name, "gru_reset_before")
			r, err := newRNNCore(o, rng)
			if err != nil {
				t.Fatal(err)
			}
			L, D, H, Ho := r.layers, r.dirs, r.hidden, r.ho()
			x := tensor.New(c.T, c.B, c.cfg.InputSize)
			rng.FillUniform(x, -1, 1)
			h0 := &State{H: NewVar(tensor.New(L*D, c.B, Ho))}
			rng.FillUniform(h0.H.Value, -1, 1)
			var c0 []float32
			if c.kind == kindLSTM {
				h0.C = NewVar(tensor.New(L*D, c.B, H))
				rng.FillUniform(h0.C.Value, -1, 1)
				c0 = h0.C.Value.Data
			}
			wo, wh, wc := refForward(r, x.Data, c.T, c.B, c.lengths, h0.H.Value.Data, c0)
			for _, tp := range []*Tape{nil, {}} {
				out, st := r.forward(tp, NewVar(x), c.lengths, h0)
				if err := compare64("output", out.Value.Data, wo, 1e-5); err != nil {
					t.Error(err)
				}
				if err := compare64("h_n", st.H.Value.Data, wh, 1e-5); err != nil {
					t.Error(err)
				}
				if st.C != nil {
					if err := compare64("c_n", st.C.Value.Data, wc, 1e-5); err != nil {
						t.Error(err)
					}
				}
			}
			// Batch-first gives the transposed output.
			cfg := c.cfg
			cfg.BatchFirst = true
			obf := cfg.opts(c.kind)
			obf.resetBefore = o.resetBefore
			rb, _ := newRNNCore(obf, tensor.NewRNG(1))
			for i, p := range rb.params {
				p.Value.CopyFrom(r.params[i].Value)
			}
			xb := tensor.New(c.B, c.T, c.cfg.InputSize)
			for tt := 0; tt < c.T; tt++ {
				for b := 0; b < c.B; b++ {
					copy(xb.Data[(b*c.T+tt)*c.cfg.InputSize:], x.Data[(tt*c.B+b)*c.cfg.InputSize:(tt*c.B+b+1)*c.cfg.InputSize])
				}
			}
			ob, _ := rb.forward(nil, NewVar(xb), c.lengths, h0)
			w := D * Ho
			for tt := 0; tt < c.T; tt++ {
				for b := 0; b < c.B; b++ {
					got := ob.Value.Data[(b*c.T+tt)*w : (b*c.T+tt+1)*w]
					if err := compare64("batch-first output", got, wo[(tt*c.B+b)*w:(tt*c.B+b+1)*w], 1e-5); err != nil {
						t.Errorf("t=%d b=%d: %v", tt, b, err)
					}
				}
			}
		})
	}
}

func compare64(what string, got []float32, want []float64, tol float64) error {
	return torchref.Compare(what, got, want, tol, tol)
}
