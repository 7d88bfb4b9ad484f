package nn

import (
	"slices"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestReady: every parameter a training forward touched is reported
// during Backward once its gradient is final (the gradient then equals
// the one Backward ends with, bit for bit), each once; a weight tied
// between the embedding and the output layer is reported last, and the
// output layer's bias before the recurrent stack's weights, so the
// reports come while the backward pass still runs.
func TestReady(t *testing.T) {
	rng := tensor.NewRNG(3)
	emb := NewEmbedding(7, 5, -1, rng)
	lstm, err := NewLSTM(LSTMConfig{InputSize: 5, HiddenSize: 4, NumLayers: 2, Bidirectional: true}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ln := NewLayerNorm(8, 1e-5)
	pool := NewAttentionPool(8, 6, rng)
	cell := NewLSTMCell(8, 4, true, rng)
	mid := NewLinear(4, 5, true, rng)
	head := NewLinear(5, 7, true, rng)
	head.Weight = emb.Weight // tied
	all := slices.Concat(emb.Params(), lstm.Params(), ln.Params(), pool.Params(), cell.Params(), mid.Params(), head.Params()[1:])

	var tp Tape
	for step := range 2 { // the second step reuses the tape's records
		var order []*Param
		at := map[*Param][]float32{}
		tp.OnReady(func(p *Param) {
			order = append(order, p)
			at[p] = slices.Clone(p.Grad.Data)
		})
		ZeroGrad(all)
		T, B := 3, 2
		ids := []int{1, 2, 3, 4, 5, 6}
		x := emb.Forward(&tp, ids, T, B)
		out, _ := lstm.Forward(&tp, x, []int{3, 2}, nil)
		out = ln.Forward(&tp, out)
		pooled, _ := pool.Forward(&tp, out, []int{3, 2})
		h, _ := cell.Forward(&tp, pooled, nil, nil)
		y := head.Forward(&tp, mid.Forward(&tp, h))
		dy := tensor.New(y.Value.Shape...)
		for i := range dy.Data {
			dy.Data[i] = float32(i%5) - 2
		}
		tp.Backward(y, dy)

		if len(order) != len(all) {
			t.Fatalf("step %d: %d parameters reported, want %d", step, len(order), len(all))
		}
		for _, p := range all {
			got, ok := at[p]
			if !ok {
				t.Errorf("step %d: %s never reported", step, p.Name)
				continue
			}
			if !slices.Equal(got, p.Grad.Data) {
				t.Errorf("step %d: %s reported before its gradient was final", step, p.Name)
			}
		}
		if order[len(order)-1] != emb.Weight {
			t.Errorf("step %d: the tied weight was reported before %s", step, order[len(order)-1].Name)
		}
		pos := func(p *Param) int { return slices.Index(order, p) }
		if pos(head.Bias) > pos(lstm.Params()[0]) {
			t.Errorf("step %d: the head's bias was reported after the stack's first weight", step)
		}
	}
	tp.OnReady(nil)
}

// TestReadyOff: without OnReady, Touch records nothing and costs no
// allocation.
func TestReadyOff(t *testing.T) {
	var tp Tape
	l := NewLinear(3, 2, true, tensor.NewRNG(1))
	if n := testing.AllocsPerRun(100, func() { tp.Touch(l.Weight, l.Bias) }); n != 0 {
		t.Errorf("Touch without OnReady: %v allocations", n)
	}
	if len(tp.ready.order) != 0 {
		t.Errorf("Touch without OnReady recorded %d parameters", len(tp.ready.order))
	}
}
