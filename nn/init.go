package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/recur-ml/recur/tensor"
)

// InitKind names a weight initialization distribution.
type InitKind int

const (
	// InitDefault is PyTorch's recurrent default U(-1/√H, 1/√H).
	InitDefault InitKind = iota
	// InitUniform draws U(A, B).
	InitUniform
	// InitNormal draws N(mean A, std B).
	InitNormal
	// InitXavierUniform (Glorot) draws U(-a, a), a = gain·√(6/(fan_in+fan_out)); gain A (0 means 1).
	InitXavierUniform
	// InitXavierNormal draws N(0, gain·√(2/(fan_in+fan_out))); gain A (0 means 1).
	InitXavierNormal
	// InitKaimingUniform (He) draws U(-a, a), a = gain·√(3/fan_in); gain A (0 means √2, ReLU).
	InitKaimingUniform
	// InitKaimingNormal draws N(0, gain/√fan_in); gain A (0 means √2).
	InitKaimingNormal
	// InitOrthogonal makes each gate block (H rows) a (semi-)orthogonal
	// matrix times gain A (0 means 1), as Keras does for recurrent kernels.
	InitOrthogonal
	// InitZero sets zeros.
	InitZero
	// InitConstant sets the value A.
	InitConstant
)

var initNames = []string{"default", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "zero", "constant"}

func (k InitKind) String() string {
	if k >= 0 && int(k) < len(initNames) {
		return initNames[k]
	}
	return fmt.Sprintf("InitKind(%d)", int(k))
}

// ParseInitKind returns the kind named s (as String spells it; "glorot_*"
// and "he_*" are accepted as aliases).
func ParseInitKind(s string) (InitKind, error) {
	s = strings.NewReplacer("glorot_", "xavier_", "he_", "kaiming_").Replace(strings.ToLower(s))
	for i, n := range initNames {
		if n == s || s == "" && i == 0 {
			return InitKind(i), nil
		}
	}
	return 0, fieldError("Scheme", "kind", s, "one of "+strings.Join(initNames, ", "))
}

// Scheme is one initialization: a kind and its two numbers (see InitKind).
// The zero value is InitDefault.
type Scheme struct {
	Kind InitKind
	A, B float64
}

// Init selects the initialization of a recurrent layer's parameters. The
// zero value is PyTorch's: every parameter U(-1/√H, 1/√H). An LSTM's
// forget-gate bias is set apart, by LSTMConfig.ForgetBias.
type Init struct {
	// Weight initializes weight_ih (and weight_hr).
	Weight Scheme
	// Recurrent initializes weight_hh.
	Recurrent Scheme
	// Bias initializes bias_ih and bias_hh.
	Bias Scheme
	// Chrono, when >= 2, sets an LSTM's forget and input gate biases by
	// the chrono initialization of Tallec and Ollivier (2018, "Can
	// recurrent neural networks warp time?") for dependencies up to
	// Chrono steps: b_f = log(u) with u ~ U(1, Chrono-1) per unit, b_i =
	// -b_f (in bias_ih; bias_hh's f and i blocks are 0). It makes the
	// gates remember over the range of time scales the task needs.
	Chrono int
}

// validate checks s as field of typ.
func (s Scheme) validate(typ, field string) error {
	switch s.Kind {
	case InitDefault, InitZero, InitConstant:
	case InitUniform:
		if !(s.A < s.B) {
			return fieldError(typ, field, s.describe(), "bounds A < B")
		}
	case InitNormal:
		if !(s.B >= 0) {
			return fieldError(typ, field, s.describe(), "a standard deviation B >= 0")
		}
	case InitXavierUniform, InitXavierNormal, InitKaimingUniform, InitKaimingNormal, InitOrthogonal:
		if !(s.A >= 0) {
			return fieldError(typ, field, s.describe(), "a gain A >= 0")
		}
	default:
		return fieldError(typ, field, s.describe(), "a known kind")
	}
	return nil
}

// describe shows s in messages: its kind and the numbers it uses.
func (s Scheme) describe() literal {
	if s.Kind == InitUniform || s.Kind == InitNormal {
		return literal(fmt.Sprintf("%v(A=%v, B=%v)", s.Kind, s.A, s.B))
	}
	return literal(fmt.Sprintf("%v(A=%v)", s.Kind, s.A))
}

// Fill initializes dst, a (rows, cols) weight made of `blocks` stacked gate
// blocks (1 for a plain matrix), or a vector. bound is the InitDefault
// bound (1/√H for recurrent layers).
func (s Scheme) Fill(dst *tensor.Tensor, blocks int, bound float64, rng *tensor.RNG) error {
	if err := s.validate("Scheme.Fill", "scheme"); err != nil {
		return err
	}
	rows, cols := 1, len(dst.Data)
	if len(dst.Shape) == 2 {
		rows, cols = dst.Shape[0], dst.Shape[1]
	}
	fanIn, fanOut := float64(cols), float64(rows)
	gain := func(def float64) float64 {
		if s.A == 0 {
			return def
		}
		return s.A
	}
	switch s.Kind {
	case InitDefault:
		rng.FillUniform(dst, -bound, bound)
	case InitUniform:
		rng.FillUniform(dst, s.A, s.B)
	case InitNormal:
		rng.FillNormal(dst, s.A, s.B)
	case InitXavierUniform:
		a := gain(1) * math.Sqrt(6/(fanIn+fanOut))
		rng.FillUniform(dst, -a, a)
	case InitXavierNormal:
		rng.FillNormal(dst, 0, gain(1)*math.Sqrt(2/(fanIn+fanOut)))
	case InitKaimingUniform:
		a := gain(math.Sqrt2) * math.Sqrt(3/fanIn)
		rng.FillUniform(dst, -a, a)
	case InitKaimingNormal:
		rng.FillNormal(dst, 0, gain(math.Sqrt2)/math.Sqrt(fanIn))
	case InitOrthogonal:
		if blocks < 1 || rows%blocks != 0 {
			return fmt.Errorf("init: orthogonal: %d rows do not split into %d blocks", rows, blocks)
		}
		br := rows / blocks
		for b := 0; b < blocks; b++ {
			orthogonal(dst.Data[b*br*cols:(b+1)*br*cols], br, cols, gain(1), rng)
		}
	case InitZero:
		dst.Zero()
	case InitConstant:
		dst.Fill(float32(s.A))
	}
	return nil
}

// orthogonal fills dst (rows, cols) with gain times a matrix with
// orthonormal rows (rows <= cols) or columns (rows > cols), by modified
// Gram-Schmidt in float64 on a Gaussian matrix.
func orthogonal(dst []float32, rows, cols int, gain float64, rng *tensor.RNG) {
	// Work on the wide orientation: r vectors of length c, r <= c.
	r, c := rows, cols
	if rows > cols {
		r, c = cols, rows
	}
	v := make([]float64, r*c)
	for i := range v {
		v[i] = rng.Normal(0, 1)
	}
	for i := 0; i < r; i++ {
		vi := v[i*c : (i+1)*c]
		for j := 0; j < i; j++ {
			vj := v[j*c : (j+1)*c]
			var dot float64
			for k := range vi {
				dot += vi[k] * vj[k]
			}
			for k := range vi {
				vi[k] -= dot * vj[k]
			}
		}
		var nrm float64
		for _, x := range vi {
			nrm += x * x
		}
		nrm = math.Sqrt(nrm)
		if nrm == 0 {
			nrm = 1
		}
		for k := range vi {
			vi[k] /= nrm
		}
	}
	for i := 0; i < r; i++ {
		for k := 0; k < c; k++ {
			if rows > cols {
				dst[k*cols+i] = float32(gain * v[i*c+k])
			} else {
				dst[i*cols+k] = float32(gain * v[i*c+k])
			}
		}
	}
}

// chrono sets the input and forget blocks of an LSTM bias p (gates i, f,
// g, o of hidden units each) by the chrono initialization up to T steps.
func chrono(p *Param, hidden, T int, rng *tensor.RNG) {
	in, f := p.Value.Data[:hidden], p.Value.Data[hidden:2*hidden]
	for j := range f {
		if strings.HasPrefix(p.Name, "bias_hh") {
			in[j], f[j] = 0, 0
			continue
		}
		b := math.Log(rng.Uniform(1, float64(T-1)))
		f[j], in[j] = float32(b), float32(-b)
	}
}

// apply initializes a recurrent layer's parameters (names weight_ih*,
// weight_hh*, bias_*, weight_peephole*, weight_hr*) in order; forgetBias, when not 0, then
// sets an LSTM's forget-gate bias (see LSTMConfig.ForgetBias).
func (in Init) apply(layer string, params []*Param, kind cellKind, hidden int, forgetBias float64, rng *tensor.RNG) error {
	for _, c := range []struct {
		f string
		s Scheme
	}{{"init.weight", in.Weight}, {"init.recurrent", in.Recurrent}, {"init.bias", in.Bias}} {
		if err := c.s.validate(layer, c.f); err != nil {
			return err
		}
	}
	if forgetBias != 0 && kind != kindLSTM {
		return fieldError(layer, "forget_bias", forgetBias, "0 (it is for LSTM only)")
	}
	switch {
	case in.Chrono < 0 || in.Chrono == 1:
		return fieldError(layer, "init.chrono", in.Chrono, ">= 2 (0: off)")
	case in.Chrono > 0 && kind != kindLSTM:
		return fieldError(layer, "init.chrono", in.Chrono, "0 (it is for LSTM only)")
	case in.Chrono > 0 && forgetBias != 0:
		return fieldError(layer, "init.chrono", in.Chrono, "0 with forget_bias (both set the forget gate's bias)")
	}
	bound := 1 / math.Sqrt(float64(hidden))
	blocks := kind.gates()
	for _, p := range params {
		s, nb := in.Weight, blocks
		switch {
		case strings.HasPrefix(p.Name, "weight_hh"):
			s = in.Recurrent
		case strings.HasPrefix(p.Name, "bias"):
			s = in.Bias
		case strings.HasPrefix(p.Name, "weight_hr"):
			nb = 1
		case strings.HasPrefix(p.Name, "weight_peephole"):
			s, nb = Scheme{}, 1 // PyTorch has none: U(-1/√H, 1/√H) whatever the scheme
		}
		if err := s.Fill(p.Value, nb, bound, rng); err != nil {
			return fmt.Errorf("nn: %s: %s: %w", layer, p.Name, err)
		}
		if in.Chrono > 0 && strings.HasPrefix(p.Name, "bias") {
			chrono(p, hidden, in.Chrono, rng)
		}
		if forgetBias != 0 && strings.HasPrefix(p.Name, "bias") {
			v := float32(forgetBias)
			if strings.HasPrefix(p.Name, "bias_hh") {
				v = 0
			}
			f := p.Value.Data[hidden : 2*hidden]
			for i := range f {
				f[i] = v
			}
		}
	}
	return nil
}
