package optim

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// L1Penalty adds λ·Σ|p| over the trainable params to the loss: it returns
// that value and adds its subgradient λ·sign(p) (0 at p = 0) into the
// gradients. λ must be >= 0.
func L1Penalty(params []*nn.Param, lambda float64) float64 {
	if !(lambda >= 0) {
		panic(fmt.Sprintf("optim: L1Penalty: lambda %v must be >= 0", lambda))
	}
	var sum float64
	l := float32(lambda)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		for i, v := range p.Value.Data {
			switch {
			case v > 0:
				sum += float64(v)
				p.Grad.Data[i] += l
			case v < 0:
				sum -= float64(v)
				p.Grad.Data[i] -= l
			}
		}
	}
	return lambda * sum
}

// ActivationReg adds activation regularization (AR) and temporal
// activation regularization (TAR, Merity et al. 2017) on a recurrent
// layer's time-major output h (T, B, F):
//
//	AR  = α·mean(h²)                      over the valid steps
//	TAR = β·mean((h[t] − h[t−1])²)        over valid t >= 1
//
// It returns AR + TAR and adds the gradients into h.G(), so call it after
// the forward pass and before tp.Backward: the layer's backward closure
// then sees them. lengths (B), when not nil, marks step t of sequence b
// valid when t < lengths[b]. (AWD-LSTM applies AR to the dropped-out
// output and TAR to the raw one: call it twice with α or β zero.)
func ActivationReg(h *nn.Var, lengths []int, alpha, beta float64) float64 {
	if len(h.Value.Shape) != 3 {
		panic(fmt.Sprintf("optim: ActivationReg: output shape %v, want (T, B, F)", h.Value.Shape))
	}
	T, B, F := h.Value.Shape[0], h.Value.Shape[1], h.Value.Shape[2]
	if lengths != nil && len(lengths) != B {
		panic(fmt.Sprintf("optim: ActivationReg: %d lengths for batch %d", len(lengths), B))
	}
	valid := func(t, b int) bool { return lengths == nil || t < lengths[b] }
	x := h.Value.Data
	var nAR, nTAR int
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			if valid(t, b) {
				nAR += F
				if t > 0 {
					nTAR += F
				}
			}
		}
	}
	var ar, tar float64
	g := h.G().Data
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			if !valid(t, b) {
				continue
			}
			o := (t*B + b) * F
			for f := 0; f < F; f++ {
				v := float64(x[o+f])
				if alpha != 0 {
					ar += v * v
					g[o+f] += float32(2 * alpha * v / float64(nAR))
				}
				if beta != 0 && t > 0 {
					d := v - float64(x[o-B*F+f])
					tar += d * d
					gd := float32(2 * beta * d / float64(nTAR))
					g[o+f] += gd
					g[o-B*F+f] -= gd
				}
			}
		}
	}
	var out float64
	if nAR > 0 {
		out += alpha * ar / float64(nAR)
	}
	if nTAR > 0 {
		out += beta * tar / float64(nTAR)
	}
	return out
}

// GradNoise adds annealed Gaussian noise to gradients (Neelakantan et al.
// 2015): at step t the noise has variance σ² = Eta/(1+t)^Gamma (the paper
// uses Eta in {0.01, 0.3, 1} and Gamma = 0.55). The noise comes from RNG,
// so a seed fixes it.
type GradNoise struct {
	Eta, Gamma float64
	RNG        *tensor.RNG
}

// NewGradNoise validates the settings and seeds the generator.
func NewGradNoise(eta, gamma float64, seed uint64) (*GradNoise, error) {
	if !(eta >= 0) || math.IsInf(eta, 0) {
		return nil, &ConfigError{Optimizer: "grad_noise", Field: "eta", Value: eta, Want: ">= 0"}
	}
	if !(gamma >= 0) || math.IsInf(gamma, 0) {
		return nil, &ConfigError{Optimizer: "grad_noise", Field: "gamma", Value: gamma, Want: ">= 0"}
	}
	return &GradNoise{Eta: eta, Gamma: gamma, RNG: tensor.NewRNG(seed)}, nil
}

// Std returns the noise's standard deviation at step t.
func (n *GradNoise) Std(t int) float64 {
	return math.Sqrt(n.Eta / math.Pow(1+float64(t), n.Gamma))
}

// Add adds noise of step t to the gradients of the trainable params.
func (n *GradNoise) Add(params []*nn.Param, t int) {
	s := n.Std(t)
	if s == 0 {
		return
	}
	for _, p := range params {
		if p.Frozen {
			continue
		}
		for i := range p.Grad.Data {
			p.Grad.Data[i] += float32(n.RNG.Normal(0, s))
		}
	}
}
