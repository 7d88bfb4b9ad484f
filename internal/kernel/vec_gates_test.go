package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gateShapes are the (B, H) the fused gate kernels are checked at: H below,
// at and around the 8-lane width, and odd batch sizes.
var gateShapes = [][2]int{{1, 1}, {2, 7}, {3, 8}, {2, 9}, {1, 15}, {4, 16}, {2, 17}, {3, 31}, {2, 33}, {5, 100}, {1, 1023}}

// gateCase holds guarded inputs and outputs of one kernel call and runs it
// with either implementation.
type gateCase struct {
	in, out []*guarded
}

// run calls f on fresh copies of the outputs and returns them, checking
// the guard bands and that the inputs were not written.
func (c gateCase) run(t *testing.T, name string, f func(out, in [][]float32)) [][]float32 {
	t.Helper()
	ins := make([][]float32, len(c.in))
	saved := make([]*guarded, len(c.in))
	for i, g := range c.in {
		ins[i], saved[i] = g.s(), g.clone()
	}
	outs := make([][]float32, len(c.out))
	fresh := make([]*guarded, len(c.out))
	for i, g := range c.out {
		fresh[i] = g.clone()
		outs[i] = fresh[i].s()
	}
	f(outs, ins)
	for i, g := range fresh {
		g.check(t, fmt.Sprintf("%s output %d", name, i))
	}
	for i, g := range c.in {
		compareSlices(t, fmt.Sprintf("%s input %d", name, i), g.buf, saved[i].buf, 0)
	}
	return outs
}

// compareImpls runs f with the assembly (at each vector width this CPU
// has) and with the twin and requires the same bits: the twins compute the
// same approximations of σ and tanh with the same operations, FMAs
// included.
func (c gateCase) compareImpls(t *testing.T, name string, f func(out, in [][]float32)) {
	t.Helper()
	c.compareImplsTol(t, name, exact, f)
}

func TestLSTMForwardMatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range gateShapes {
		B, H := sh[0], sh[1]
		name := fmt.Sprintf("B%dH%d", B, H)
		c := gateCase{
			in:  []*guarded{randGuarded(rng, B*4*H, 1, -6, 6), randGuarded(rng, B*H, 2, -3, 3)},
			out: []*guarded{newGuarded(B*4*H, 3), newGuarded(B*H, 0), newGuarded(B*H, 1)},
		}
		c.compareImpls(t, name, func(o, in [][]float32) { LSTMForward(o[0], o[1], o[2], in[0], in[1], B, H) })
		// act aliasing pre gives the same results.
		var sep, alias [][]float32
		sep = c.run(t, name, func(o, in [][]float32) { LSTMForward(o[0], o[1], o[2], in[0], in[1], B, H) })
		pre := c.in[0].clone()
		c2 := gateCase{in: []*guarded{c.in[1]}, out: []*guarded{pre, c.out[1], c.out[2]}}
		alias = c2.run(t, name+" aliased", func(o, in [][]float32) { LSTMForward(o[0], o[1], o[2], o[0], in[0], B, H) })
		for i := range sep {
			compareSlices(t, name+" aliased", alias[i], sep[i], 0)
		}
	}
}

func TestLSTMBackwardMatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range gateShapes {
		B, H := sh[0], sh[1]
		// act holds activations in their ranges: σ in (0,1), tanh in (-1,1).
		act := randGuarded(rng, B*4*H, 1, 0, 1)
		for b := 0; b < B; b++ {
			g := act.s()[b*4*H+2*H : b*4*H+3*H]
			for j := range g {
				g[j] = 2*g[j] - 1
			}
		}
		c, cPrev := randGuarded(rng, B*H, 2, -3, 3), randGuarded(rng, B*H, 0, -3, 3)
		dh, dc := randGuarded(rng, B*H, 3, -2, 2), randGuarded(rng, B*H, 1, -2, 2)
		for _, withDC := range []bool{true, false} {
			name := fmt.Sprintf("B%dH%d/dc=%v", B, H, withDC)
			cs := gateCase{
				in:  []*guarded{act, c, cPrev, dh, dc},
				out: []*guarded{newGuarded(B*4*H, 2), newGuarded(B*H, 1)},
			}
			cs.compareImpls(t, name, func(o, in [][]float32) {
				dcv := in[4]
				if !withDC {
					dcv = nil
				}
				LSTMBackward(o[0], o[1], in[0], in[1], in[2], in[3], dcv, B, H)
			})
		}
		// dcPrev aliasing dc.
		name := fmt.Sprintf("B%dH%d/aliased", B, H)
		want := gateCase{in: []*guarded{act, c, cPrev, dh, dc}, out: []*guarded{newGuarded(B*4*H, 0), newGuarded(B*H, 0)}}.
			run(t, name, func(o, in [][]float32) { LSTMBackward(o[0], o[1], in[0], in[1], in[2], in[3], in[4], B, H) })
		got := gateCase{in: []*guarded{act, c, cPrev, dh}, out: []*guarded{newGuarded(B*4*H, 0), dc}}.
			run(t, name, func(o, in [][]float32) { LSTMBackward(o[0], o[1], in[0], in[1], in[2], in[3], o[1], B, H) })
		for i := range want {
			compareSlices(t, name, got[i], want[i], 0)
		}
	}
}

func TestGRUForwardMatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range gateShapes {
		B, H := sh[0], sh[1]
		c := gateCase{
			in:  []*guarded{randGuarded(rng, B*3*H, 1, -4, 4), randGuarded(rng, B*3*H, 2, -4, 4), randGuarded(rng, B*H, 3, -1, 1)},
			out: []*guarded{newGuarded(B*3*H, 0), newGuarded(B*H, 1)},
		}
		c.compareImpls(t, fmt.Sprintf("B%dH%d", B, H), func(o, in [][]float32) { GRUForward(o[0], o[1], in[0], in[1], in[2], B, H) })
	}
}

func TestGRUBackwardMatchesTwin(t *testing.T) {
	asmOnly(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range gateShapes {
		B, H := sh[0], sh[1]
		act := randGuarded(rng, B*3*H, 1, 0, 1)
		c := gateCase{
			in:  []*guarded{act, randGuarded(rng, B*3*H, 2, -4, 4), randGuarded(rng, B*H, 3, -1, 1), randGuarded(rng, B*H, 0, -2, 2)},
			out: []*guarded{newGuarded(B*3*H, 0), newGuarded(B*3*H, 1), newGuarded(B*H, 2)},
		}
		c.compareImpls(t, fmt.Sprintf("B%dH%d", B, H), func(o, in [][]float32) {
			GRUBackward(o[0], o[1], o[2], in[0], in[1], in[2], in[3], B, H)
		})
	}
}

func TestGateKernelsPanicOnShortSlices(t *testing.T) {
	B, H := 2, 3
	long, short := make([]float32, B*4*H), make([]float32, B*H-1)
	row := make([]float32, B*H)
	tests := []struct {
		name string
		f    func()
	}{
		{"LSTMForward h", func() { LSTMForward(long, row, short, long, row, B, H) }},
		{"LSTMForward c", func() { LSTMForward(long, short, row, long, row, B, H) }},
		{"LSTMBackward dc", func() { LSTMBackward(long, row, long, row, row, row, short, B, H) }},
		{"GRUForward hPrev", func() { GRUForward(long, row, long, long, short, B, H) }},
		{"GRUBackward dh", func() { GRUBackward(long, long, row, long, long, row, short, B, H) }},
		{"LSTMForward negative", func() { LSTMForward(long, row, row, long, row, -1, H) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Fatalf("%s: got no panic, want a kernel: panic", tt.name)
				}
			}()
			tt.f()
		})
	}
}
