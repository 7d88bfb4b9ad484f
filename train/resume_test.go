package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/optim/lrfind"
	"github.com/recur-ml/recur/optim/sched"
)

// noisyEval returns a validation loss that plateaus, so that the plateau
// rule and early stopping both act during the run.
type noisyEval struct{ *linTask }

func (n noisyEval) Evaluate(d Data) (map[string]float64, error) {
	m, err := n.linTask.Evaluate(d)
	if err != nil {
		return nil, err
	}
	m["loss"] = math.Max(m["loss"], 2)
	return m, nil
}

// TestResumeExactWithPlateau interrupts a run that uses every stateful
// option — plateau reductions, early stopping, restore-best, a schedule,
// dropout — at each of several steps and resumes it from its checkpoint:
// the weights, the learning rate and the whole history must equal those of
// the uninterrupted run, bit for bit.
func TestResumeExactWithPlateau(t *testing.T) {
	data, valid := makeData(1, 5), makeData(2, 2)
	cfg := Config{Epochs: 12, Shuffle: true, Seed: 4, Plateau: &sched.PlateauConfig{Factor: 0.5, Patience: 1}, GradNoise: GradNoise{Eta: 0.01, Gamma: 0.55},
		EarlyStop: EarlyStop{Patience: 4}, RestoreBest: true, Schedule: sched.Func(func(b float64, s int) float64 { return b / (1 + 0.01*float64(s)) })}
	run := func(task *linTask, c Config, ctx context.Context) (*Trainer, *Result, error) {
		tr := newTrainer(t, task, c)
		tr.task = noisyEval{task}
		res, err := tr.Fit(ctx, data, valid)
		return tr, res, err
	}
	full := newLinTask(7)
	ftr, fres, err := run(full, cfg, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fres.Restored == 0 || ftr.state.LRScale[0] == 1 {
		t.Fatalf("the reference run should reduce the LR and restore the best weights: %+v scale %v", fres, ftr.state.LRScale)
	}
	for _, at := range []int{3, 17, 31} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		c := cfg
		c.Dir = dir
		c.Callbacks = []Callback{CallbackFunc(func(ev *Event) error {
			if ev.Kind == StepEnd && ev.Step == at {
				cancel()
			}
			return nil
		})}
		if _, _, err := run(newLinTask(7), c, ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("step %d: interrupted run returned %v", at, err)
		}
		f, err := checkpoint.Read(filepath.Join(dir, "last.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		task := newLinTask(99)
		tr := newTrainer(t, task, cfg)
		tr.task = noisyEval{task}
		if err := tr.Resume(f); err != nil {
			t.Fatal(err)
		}
		res, err := tr.Fit(context.Background(), data, valid)
		if err != nil {
			t.Fatal(err)
		}
		a, b := weights(full.Params()), weights(task.Params())
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("interrupted at step %d: resumed weight %d = %v, uninterrupted %v", at, i, b[i], a[i])
			}
		}
		if tr.LR() != ftr.LR() || res.Restored != fres.Restored || res.Epochs != fres.Epochs || res.StopReason != fres.StopReason {
			t.Errorf("interrupted at step %d: lr %v restored %d epochs %d %q; uninterrupted lr %v restored %d epochs %d %q",
				at, tr.LR(), res.Restored, res.Epochs, res.StopReason, ftr.LR(), fres.Restored, fres.Epochs, fres.StopReason)
		}
		if len(res.History) != len(fres.History) {
			t.Fatalf("interrupted at step %d: %d history rows, want %d", at, len(res.History), len(fres.History))
		}
		for i, r := range fres.History {
			for k, v := range r {
				if res.History[i][k] != v {
					t.Errorf("interrupted at step %d: history row %d %s = %v, want %v", at, i, k, res.History[i][k], v)
				}
			}
		}
	}
}

func TestFreezeThenUnfreeze(t *testing.T) {
	task := newLinTask(3)
	var frozenAt []bool
	rec := CallbackFunc(func(ev *Event) error {
		if ev.Kind == StepEnd {
			frozenAt = append(frozenAt, task.lin.Weight.Frozen)
		}
		return nil
	})
	w0 := task.lin.Weight.Value.Clone()
	tr := newTrainer(t, task, Config{Epochs: 3, Freeze: []string{"weight"}, UnfreezeAfter: 2, Callbacks: []Callback{rec}})
	if _, err := tr.Fit(context.Background(), makeData(1, 2), nil); err != nil {
		t.Fatal(err)
	}
	want := []bool{true, true, true, true, false, false}
	for i := range want {
		if frozenAt[i] != want[i] {
			t.Fatalf("frozen by step: %v, want %v", frozenAt, want)
		}
	}
	if task.lin.Weight.Value.Data[0] == w0.Data[0] {
		t.Error("the weight never trained after unfreezing")
	}
	if _, err := New(task, tr.opt, Config{Freeze: []string{"nothing"}}); err == nil || !strings.Contains(err.Error(), "Freeze = nothing") {
		t.Errorf("a pattern matching nothing: got %v", err)
	}
	if _, err := New(task, tr.opt, Config{UnfreezeAfter: 2}); err == nil {
		t.Error("UnfreezeAfter without patterns accepted")
	}
}

func TestFindLRRestoresState(t *testing.T) {
	task := newLinTask(3)
	tr := newTrainer(t, task, Config{Epochs: 1, ClipNorm: 1})
	w0 := weights(task.Params())
	res, err := tr.FindLR(context.Background(), makeData(1, 4), lrfind.Config{Steps: 80})
	if err != nil {
		t.Fatal(err)
	}
	if !(res.Suggested >= 1e-7 && res.Suggested <= 10) {
		t.Errorf("suggested %v outside the sweep", res.Suggested)
	}
	if w := weights(task.Params()); w[0] != w0[0] || tr.LR() != 0.05 {
		t.Errorf("after FindLR: weights %v (were %v), lr %v (was 0.05)", w, w0, tr.LR())
	}
	if st := tr.opt.State(); st.Steps["weight"] != 0 {
		t.Errorf("optimizer state not restored: %d steps", st.Steps["weight"])
	}
}

func TestStepAndValidation(t *testing.T) {
	task := newLinTask(3)
	tr := newTrainer(t, task, Config{})
	d := makeData(1, 2)
	l0, err := tr.Step(d[0], d[1])
	if err != nil || tr.State().Step != 1 {
		t.Fatalf("Step: %v, step %d", err, tr.State().Step)
	}
	for range 50 {
		tr.Step(d[0])
	}
	if l, _ := tr.Step(d[0], d[1]); l >= l0 {
		t.Errorf("loss %v after 50 steps, %v before", l, l0)
	}
	// A typed nil pointer as validation data means none.
	var none *linData
	if _, err := tr.Fit(context.Background(), d, none); err != nil {
		t.Errorf("typed nil validation data: %v", err)
	}
	tr2 := newTrainer(t, newLinTask(3), Config{EarlyStop: EarlyStop{Patience: 2}})
	if _, err := tr2.Fit(context.Background(), d, nil); err == nil || !strings.Contains(err.Error(), "needs validation data") {
		t.Errorf("early stopping without validation: got %v", err)
	}
	for _, c := range []Config{{Epochs: -1}, {ClipNorm: math.NaN()}, {ClipValue: -1}, {EarlyStop: EarlyStop{Patience: -2}}} {
		if _, err := New(task, tr.opt, c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// TestAccumulationMatchesFullBatch: a step over two half batches
// (accumulated, each loss weighted 1/2) takes the same step as one over
// the whole batch.
func TestAccumulationMatchesFullBatch(t *testing.T) {
	d := makeData(1, 2)
	whole := linBatch{x: append(append([]float32(nil), d[0].x...), d[1].x...), y: append(append([]float32(nil), d[0].y...), d[1].y...)}
	a, b := newLinTask(3), newLinTask(3)
	a.drop.P, b.drop.P = 0, 0
	ta, tb := newTrainer(t, a, Config{}), newTrainer(t, b, Config{})
	la, err := ta.Step(d[0], d[1])
	if err != nil {
		t.Fatal(err)
	}
	lb, err := tb.Step(whole)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(la-lb) > 1e-6 {
		t.Errorf("loss %v accumulated, %v whole", la, lb)
	}
	wa, wb := weights(a.Params()), weights(b.Params())
	for i := range wa {
		if math.Abs(float64(wa[i]-wb[i])) > 1e-6 {
			t.Errorf("weight %d: %v accumulated, %v whole", i, wa[i], wb[i])
		}
	}
}
