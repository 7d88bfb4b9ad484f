package nn_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// BenchmarkQuantInference times inference (a nil tape) of an LSTM, GRU
// and a two-layer LSTM in float32, int8 (nn.Quantize) and bf16
// (nn.QuantizeBF16) side by side, at batch one and one larger batch;
// with -count the variants interleave. T50 B1 I32 H128 is the latency case of DESIGN.md.
func BenchmarkQuantInference(b *testing.B) {
	for _, c := range []struct {
		cell       string
		T, B, I, H int
		L          int
	}{{"lstm", 50, 1, 32, 128, 1}, {"lstm", 50, 1, 32, 256, 1}, {"gru", 50, 1, 32, 128, 1}, {"lstm", 50, 1, 32, 128, 2}, {"lstm", 50, 32, 64, 256, 1}} {
		rng := tensor.NewRNG(1)
		var l nn.Recurrent
		switch c.cell {
		case "gru":
			l, _ = nn.NewGRU(nn.GRUConfig{InputSize: c.I, HiddenSize: c.H, NumLayers: c.L}, rng)
		default:
			l, _ = nn.NewLSTM(nn.LSTMConfig{InputSize: c.I, HiddenSize: c.H, NumLayers: c.L}, rng)
		}
		q, err := nn.Quantize(l)
		if err != nil {
			b.Fatal(err)
		}
		h, err := nn.QuantizeBF16(l)
		if err != nil {
			b.Fatal(err)
		}
		x := tensor.New(c.T, c.B, c.I)
		rng.FillUniform(x, -1, 1)
		xv := nn.Constant(x)
		name := fmt.Sprintf("%s/T%dB%dI%dH%d", c.cell, c.T, c.B, c.I, c.H)
		if c.L > 1 {
			name += fmt.Sprintf("L%d", c.L)
		}
		for _, v := range []struct {
			kind string
			l    nn.Recurrent
		}{{"float32", l}, {"int8", q}, {"bf16", h}} {
			b.Run(name+"/"+v.kind, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					v.l.Forward(nil, xv, nil, nil)
				}
			})
		}
	}
}

// BenchmarkQuantLatencyPair alternates float32, int8 and bf16 calls of an
// LSTM's inference within one loop (and, where the CPU has AVX512_BF16,
// bf16 on the AVX2 emulation a CPU without it runs, "bf16-avx2") and
// reports each one's fastest and median call: on a shared machine the
// alternation exposes all to the same load, and the minimum is the least
// disturbed call. T50 B1 I32 H128 is the latency case of DESIGN.md; B32 a
// batch as the server forms them.
func BenchmarkQuantLatencyPair(b *testing.B) {
	for _, c := range []struct{ T, B, I, H int }{{50, 1, 32, 128}, {50, 32, 64, 256}} {
		b.Run(fmt.Sprintf("T%dB%dI%dH%d", c.T, c.B, c.I, c.H), func(b *testing.B) {
			rng := tensor.NewRNG(1)
			l, _ := nn.NewLSTM(nn.LSTMConfig{InputSize: c.I, HiddenSize: c.H}, rng)
			q, err := nn.Quantize(l)
			if err != nil {
				b.Fatal(err)
			}
			h, err := nn.QuantizeBF16(l)
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.New(c.T, c.B, c.I)
			rng.FillUniform(x, -1, 1)
			vs := []timed{{name: "float32", l: l}, {name: "int8", l: q}, {name: "bf16", l: h}}
			if kernel.HasBF16() {
				vs = append(vs, timed{name: "bf16-avx2", l: h, emulate: true})
			}
			roundTimes(b, nn.Constant(x), vs)
		})
	}
}

// timed is one variant of roundTimes: a layer, run with the AVX512_BF16
// kernels off when emulate, and its call times in µs.
type timed struct {
	name    string
	l       nn.Recurrent
	emulate bool
	t       []float64
}

// roundTimes times the variants vs in turn on x, a round of each per
// iteration, and reports each one's fastest and median call in µs.
func roundTimes(b *testing.B, x *nn.Var, vs []timed) {
	for b.Loop() {
		for i := range vs {
			v := &vs[i]
			was := kernel.HasBF16()
			if v.emulate {
				kernel.SetBF16(false)
			}
			t0 := time.Now()
			v.l.Forward(nil, x, nil, nil)
			v.t = append(v.t, float64(time.Since(t0).Nanoseconds())/1e3)
			kernel.SetBF16(was)
		}
	}
	for _, v := range vs {
		sort.Float64s(v.t)
		b.ReportMetric(v.t[0], v.name+"-min-µs")
		b.ReportMetric(v.t[len(v.t)/2], v.name+"-median-µs")
	}
}
