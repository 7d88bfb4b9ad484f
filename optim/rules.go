package optim

import (
	"math"

	"github.com/recur-ml/recur/internal/kernel"
)

// The update rules follow PyTorch 1.13's single-tensor implementations.
// Buffers are float32; each element's arithmetic is done in float64 and
// rounded once when stored, and scalars such as bias corrections are
// computed in float64.

// decayed returns the coupled-weight-decay gradient g + wd·p.
func decayed(g, p float32, wd float64) float64 { return float64(g) + wd*float64(p) }

// sgd: buf = g (t = 1) or μ·buf + (1−dampening)·g; d = g + μ·buf
// (Nesterov) or buf; p −= lr·d.
type sgd struct{}

func (sgd) slots(c *Config) []string {
	if c.Momentum == 0 {
		return nil
	}
	return sgdSlots
}

// The slot lists are shared (Step asks for them at every update, and a
// fresh slice would be an allocation per group per step); callers only
// read them.
var (
	sgdSlots     = []string{"momentum_buffer"}
	rmspropSlots = [2][2][]string{ // [momentum][centered]
		{{"square_avg"}, {"square_avg", "grad_avg"}},
		{{"square_avg", "momentum_buffer"}, {"square_avg", "momentum_buffer", "grad_avg"}},
	}
	adamSlots        = []string{"exp_avg", "exp_avg_sq"}
	adamAMSGradSlots = []string{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
	adagradSlots     = []string{"sum"}
	adadeltaSlots    = []string{"square_avg", "acc_delta"}
)

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
func (sgd) initial(*Config, string) float32 { return 0 }
func (sgd) update(c *Config, p, g []float32, s [][]float32, t int) {
	mu := c.Momentum
	if mu == 0 && c.WeightDecay == 0 {
		// Plain SGD, the common case, without the branches: PyTorch adds
		// no decay term at zero decay either.
		lr, g := c.LR, g[:len(p)]
		for i := range p {
			p[i] = float32(float64(p[i]) - lr*float64(g[i]))
		}
		return
	}
	for i := range p {
		d := decayed(g[i], p[i], c.WeightDecay)
		if mu != 0 {
			buf := d
			if t > 1 {
				buf = mu*float64(s[0][i]) + (1-c.Dampening)*d
			}
			s[0][i] = float32(buf)
			if c.Nesterov {
				d += mu * buf
			} else {
				d = buf
			}
		}
		p[i] = float32(float64(p[i]) - c.LR*d)
	}
}

// rmsprop: v = α·v + (1−α)g²; avg = sqrt(v − m²) + eps with m = α·m +
// (1−α)g when centered, else sqrt(v) + eps; then buf = μ·buf + g/avg and
// p −= lr·buf, or p −= lr·g/avg without momentum.
type rmsprop struct{}

func (rmsprop) slots(c *Config) []string {
	return rmspropSlots[b2i(c.Momentum > 0)][b2i(c.Centered)]
}
func (rmsprop) initial(*Config, string) float32 { return 0 }
func (rmsprop) update(c *Config, p, g []float32, s [][]float32, _ int) {
	a := c.Alpha
	var buf, gavg []float32
	k := 1
	if c.Momentum > 0 {
		buf = s[k]
		k++
	}
	if c.Centered {
		gavg = s[k]
	}
	for i := range p {
		d := decayed(g[i], p[i], c.WeightDecay)
		v := a*float64(s[0][i]) + (1-a)*d*d
		s[0][i] = float32(v)
		if gavg != nil {
			m := a*float64(gavg[i]) + (1-a)*d
			gavg[i] = float32(m)
			v -= m * m
		}
		avg := math.Sqrt(v) + c.Eps
		if buf != nil {
			b := c.Momentum*float64(buf[i]) + d/avg
			buf[i] = float32(b)
			p[i] = float32(float64(p[i]) - c.LR*b)
		} else {
			p[i] = float32(float64(p[i]) - c.LR*d/avg)
		}
	}
}

// adam: m = β1 m + (1−β1)g; v = β2 v + (1−β2)g² (v ← max(vmax, v) with
// AMSGrad); p −= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps). AdamW
// (decoupled) first scales p by 1 − lr·wd and adds no decay to g.
//
// The update runs in kernel.Adam64: float64 scalars and arithmetic on the
// float32 state, as PyTorch keeps β and the bias corrections as Python
// floats (1 − float32(0.999) is off by 1.3e-5 relative, which moves the
// parameters by more than 1e-6 relative within five steps).
type adam struct{ decoupled bool }

func (adam) slots(c *Config) []string {
	if c.AMSGrad {
		return adamAMSGradSlots
	}
	return adamSlots
}
func (adam) initial(*Config, string) float32 { return 0 }
func (a adam) update(c *Config, p, g []float32, s [][]float32, t int) {
	h := kernel.AdamHyper{
		Beta1:       c.Betas[0],
		Beta2:       c.Betas[1],
		StepSize:    c.LR / (1 - math.Pow(c.Betas[0], float64(t))),
		BC2Sqrt:     math.Sqrt(1 - math.Pow(c.Betas[1], float64(t))),
		Eps:         c.Eps,
		WeightDecay: c.WeightDecay,
		Shrink:      1,
	}
	if a.decoupled {
		h.WeightDecay, h.Shrink = 0, 1-c.LR*c.WeightDecay
	}
	var vmax []float32
	if c.AMSGrad {
		vmax = s[2]
	}
	kernel.Adam64(p, g, s[0], s[1], vmax, h)
}

// adagrad: clr = lr/(1 + (t−1)·lr_decay); s += g²; p −= clr·g/(sqrt(s) + eps).
type adagrad struct{}

func (adagrad) slots(*Config) []string { return adagradSlots }
func (adagrad) initial(c *Config, _ string) float32 {
	return float32(c.InitialAccumulator)
}
func (adagrad) update(c *Config, p, g []float32, s [][]float32, t int) {
	clr := c.LR / (1 + float64(t-1)*c.LRDecay)
	for i := range p {
		d := decayed(g[i], p[i], c.WeightDecay)
		sum := float64(s[0][i]) + d*d
		s[0][i] = float32(sum)
		p[i] = float32(float64(p[i]) - clr*d/(math.Sqrt(sum)+c.Eps))
	}
}

// adadelta: v = ρv + (1−ρ)g²; Δ = sqrt(u + eps)/sqrt(v + eps)·g;
// u = ρu + (1−ρ)Δ²; p −= lr·Δ.
type adadelta struct{}

func (adadelta) slots(*Config) []string          { return adadeltaSlots }
func (adadelta) initial(*Config, string) float32 { return 0 }
func (adadelta) update(c *Config, p, g []float32, s [][]float32, _ int) {
	rho := c.Rho
	for i := range p {
		d := decayed(g[i], p[i], c.WeightDecay)
		v := rho*float64(s[0][i]) + (1-rho)*d*d
		s[0][i] = float32(v)
		delta := math.Sqrt(float64(s[1][i])+c.Eps) / math.Sqrt(v+c.Eps) * d
		s[1][i] = float32(rho*float64(s[1][i]) + (1-rho)*delta*delta)
		p[i] = float32(float64(p[i]) - c.LR*delta)
	}
}
