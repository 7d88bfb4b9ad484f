package nn_test

import (
	"fmt"
	"testing"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// BenchmarkQuantInference times batch-one inference (a nil tape) of an
// LSTM, GRU and a two-layer LSTM in float32 and in int8 (nn.Quantize)
// side by side; with -count the pairs interleave. T50 B1 I32 H128 is the
// latency case of DESIGN.md.
func BenchmarkQuantInference(b *testing.B) {
	for _, c := range []struct {
		cell    string
		T, I, H int
		L       int
	}{{"lstm", 50, 32, 128, 1}, {"lstm", 50, 32, 256, 1}, {"gru", 50, 32, 128, 1}, {"lstm", 50, 32, 128, 2}} {
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
		x := tensor.New(c.T, 1, c.I)
		rng.FillUniform(x, -1, 1)
		xv := nn.Constant(x)
		name := fmt.Sprintf("%s/T%dB1I%dH%d", c.cell, c.T, c.I, c.H)
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
