package train_test

import (
	"context"
	"fmt"
	"log"

	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/train"
)

// meanTask learns a single number: the mean of its data.
type meanTask struct{ p *nn.Param }

type data []float32

func (d data) Len() int                { return len(d) }
func (d data) Batch(i int) train.Batch { return d[i] }

func (t meanTask) Params() []*nn.Param { return []*nn.Param{t.p} }

func (t meanTask) Loss(tp *nn.Tape, b train.Batch) (*nn.Var, int) {
	y := b.(float32)
	L, _ := loss.Record(tp, &t.p.Var, func(g []float32) float64 {
		return loss.MSE(g, t.p.Value.Data, []float32{y}, loss.Options{})
	})
	return L, 1
}

func (t meanTask) Evaluate(d train.Data) (map[string]float64, error) {
	var s float64
	for _, y := range d.(data) {
		e := float64(t.p.Value.Data[0] - y)
		s += e * e
	}
	return map[string]float64{"loss": s / float64(d.Len())}, nil
}

func Example() {
	task := meanTask{nn.NewParam("mean", 1)}
	opt, err := optim.New("sgd", task.Params(), optim.Config{LR: 0.02})
	if err != nil {
		log.Fatal(err)
	}
	logEpoch := train.CallbackFunc(func(ev *train.Event) error {
		if ev.Kind == train.EpochEnd && ev.Epoch%10 == 0 {
			fmt.Printf("epoch %d: valid loss %.4f\n", ev.Epoch, ev.Metrics["loss"])
		}
		return nil
	})
	tr, err := train.New(task, opt, train.Config{Epochs: 100, Seed: 1,
		EarlyStop: train.EarlyStop{Patience: 2, MinDelta: 1e-3}, Callbacks: []train.Callback{logEpoch}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := tr.Fit(context.Background(), data{1, 2, 3, 6}, data{1, 2, 3, 6})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("mean %.2f after %d epochs\n%s\n", task.p.Value.Data[0], res.Epochs, res.StopReason)
	// Output:
	// epoch 10: valid loss 3.7705
	// epoch 20: valid loss 3.5013
	// mean 3.02 after 24 epochs
	// early stopping: validation loss did not improve on 3.50001 for 2 evaluations
}
