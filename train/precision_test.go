package train

import (
	"context"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
)

// precisionTask is linTask noting the precision of the tapes it is given.
type precisionTask struct {
	*linTask
	seen []nn.Precision
}

func (p *precisionTask) Loss(tp *nn.Tape, b Batch) (*nn.Var, int) {
	p.seen = append(p.seen, tp.Precision)
	return p.linTask.Loss(tp, b)
}

// TestTrainerPrecision: Config.Precision reaches the tapes of the training
// steps, and Trainer.Precision says what they run in: BF16 only where the
// CPU has AVX512_BF16 (here forced off to check the fallback).
func TestTrainerPrecision(t *testing.T) {
	for _, off := range []bool{false, true} {
		was := kernel.SetBF16(!off)
		task := &precisionTask{linTask: newLinTask(1)}
		opt, err := optim.New("adam", task.Params(), optim.Config{LR: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := New(task, opt, Config{Epochs: 1, Precision: nn.BF16})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Fit(context.Background(), makeData(1, 3), nil); err != nil {
			t.Fatal(err)
		}
		want := nn.BF16
		if off || !kernel.HasBF16() {
			want = nn.FP32
		}
		if got := tr.Precision(); got != want {
			t.Errorf("AVX512_BF16 forced off %v: Trainer.Precision() = %v, want %v", off, got, want)
		}
		if len(task.seen) != 3 {
			t.Fatalf("%d training steps seen, want 3", len(task.seen))
		}
		for _, p := range task.seen {
			if p != nn.BF16 {
				t.Errorf("a training step's tape has precision %v, want the configured bf16", p)
			}
		}
		kernel.SetBF16(was)
	}
}
