package nn_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// BenchmarkQuantInference times inference (a nil tape) of an LSTM, GRU
// and a two-layer LSTM in float32 and in int8 (nn.Quantize) side by
// side, at batch one and one larger batch; with -count the pairs
// interleave. T50 B1 I32 H128 is the latency case of DESIGN.md.
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
		}{{"float32", l}, {"int8", q}} {
			b.Run(name+"/"+v.kind, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					v.l.Forward(nil, xv, nil, nil)
				}
			})
		}
	}
}

// BenchmarkQuantLatencyPair alternates float32 and int8 calls of an
// LSTM's inference within one loop and reports each one's fastest and
// median call: on a shared machine the alternation exposes both to the
// same load, and the minimum is the least disturbed call. T50 B1 I32 H128
// is the latency case of DESIGN.md; B32 a batch as the server forms them.
func BenchmarkQuantLatencyPair(b *testing.B) {
	for _, c := range []struct{ T, B, I, H int }{{50, 1, 32, 128}, {50, 32, 64, 256}} {
		b.Run(fmt.Sprintf("T%dB%dI%dH%d", c.T, c.B, c.I, c.H), func(b *testing.B) {
			rng := tensor.NewRNG(1)
			l, _ := nn.NewLSTM(nn.LSTMConfig{InputSize: c.I, HiddenSize: c.H}, rng)
			q, err := nn.Quantize(l)
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.New(c.T, c.B, c.I)
			rng.FillUniform(x, -1, 1)
			pairTimes(b, nn.Constant(x), l, q)
		})
	}
}

// pairTimes times f and q alternately on x and reports their fastest and
// median calls in µs.
func pairTimes(b *testing.B, x *nn.Var, f, q nn.Recurrent) {
	var tf, tq []float64
	for b.Loop() {
		for _, v := range []struct {
			l nn.Recurrent
			t *[]float64
		}{{f, &tf}, {q, &tq}} {
			t0 := time.Now()
			v.l.Forward(nil, x, nil, nil)
			*v.t = append(*v.t, float64(time.Since(t0).Nanoseconds())/1e3)
		}
	}
	for _, r := range []struct {
		name string
		t    []float64
	}{{"float32", tf}, {"int8", tq}} {
		sort.Float64s(r.t)
		b.ReportMetric(r.t[0], r.name+"-min-µs")
		b.ReportMetric(r.t[len(r.t)/2], r.name+"-median-µs")
	}
}
