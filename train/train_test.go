package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/tensor"
)

// linTask fits y = 2x0 - x1 + 0.5 with a Linear layer and dropout, on
// batches of 4 rows.
type linTask struct {
	lin  *nn.Linear
	drop *nn.Dropout
	rng  *tensor.RNG
}

type linBatch struct{ x, y []float32 }

type linData []linBatch

func (d linData) Len() int          { return len(d) }
func (d linData) Batch(i int) Batch { return d[i] }

func newLinTask(seed uint64) *linTask {
	rng := tensor.NewRNG(seed)
	drop := tensor.NewRNG(seed + 100)
	return &linTask{lin: nn.NewLinear(2, 1, true, rng), drop: nn.NewDropout(0.1, drop), rng: drop}
}

func (l *linTask) Params() []*nn.Param { return l.lin.Params() }

func (l *linTask) Loss(tp *nn.Tape, b Batch) (*nn.Var, int) {
	lb := b.(linBatch)
	n := len(lb.y)
	x := l.drop.Forward(tp, nn.NewVar(tensor.FromSlice(append([]float32(nil), lb.x...), n, 2)))
	pred := l.lin.Forward(tp, x)
	L, _ := loss.Record(tp, pred, func(g []float32) float64 { return loss.MSE(g, pred.Value.Data, lb.y, loss.Options{}) })
	return L, n
}

func (l *linTask) Evaluate(d Data) (map[string]float64, error) {
	var s float64
	var n int
	for i := 0; i < d.Len(); i++ {
		lb := d.Batch(i).(linBatch)
		pred := l.lin.Forward(nil, nn.NewVar(tensor.FromSlice(lb.x, len(lb.y), 2)))
		s += loss.MSE(nil, pred.Value.Data, lb.y, loss.Options{}) * float64(len(lb.y))
		n += len(lb.y)
	}
	return map[string]float64{"loss": s / float64(n)}, nil
}

func makeData(seed uint64, batches int) linData {
	rng := tensor.NewRNG(seed)
	var d linData
	for range batches {
		var b linBatch
		for range 4 {
			x0, x1 := rng.Float32()*2-1, rng.Float32()*2-1
			b.x = append(b.x, x0, x1)
			b.y = append(b.y, 2*x0-x1+0.5)
		}
		d = append(d, b)
	}
	return d
}

func newTrainer(t *testing.T, task *linTask, cfg Config) *Trainer {
	t.Helper()
	opt, err := optim.New("adam", task.Params(), optim.Config{LR: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	cfg.RNGs = []*tensor.RNG{task.rng}
	tr, err := New(task, opt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestFitLearns(t *testing.T) {
	task := newLinTask(1)
	dir := t.TempDir()
	tr := newTrainer(t, task, Config{Epochs: 30, Shuffle: true, Seed: 3, Dir: dir})
	res, err := tr.Fit(context.Background(), makeData(1, 8), makeData(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid["loss"] > 0.05 || res.Epochs != 30 || res.Steps != 240 || len(res.History) != 30 {
		t.Errorf("after 30 epochs: valid loss %v (want < 0.05), epochs %d, steps %d, %d history rows", res.Valid["loss"], res.Epochs, res.Steps, len(res.History))
	}
	log, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "\n"); n != 30 {
		t.Errorf("JSON log has %d lines, want 30", n)
	}
	if !strings.Contains(string(log), `"val_loss"`) || !strings.Contains(string(log), `"grad_norm"`) {
		t.Errorf("JSON log lacks val_loss or grad_norm: %s", log[:100])
	}
}

func weights(ps []*nn.Param) []float32 {
	var w []float32
	for _, p := range ps {
		w = append(w, p.Value.Data...)
	}
	return w
}

func TestDeterminism(t *testing.T) {
	run := func() []float32 {
		task := newLinTask(5)
		tr := newTrainer(t, task, Config{Epochs: 3, Shuffle: true, Seed: 9, Accum: 2, ClipNorm: 0.5})
		if _, err := tr.Fit(context.Background(), makeData(1, 7), nil); err != nil {
			t.Fatal(err)
		}
		return weights(task.Params())
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("two identical runs differ at weight %d: %v vs %v", i, a[i], b[i])
		}
	}
}

// TestResume interrupts a run mid-epoch through ctx and resumes it from the
// checkpoint it saved: the final weights must equal an uninterrupted run's.
func TestResume(t *testing.T) {
	data := makeData(1, 6)
	cfg := Config{Epochs: 4, Shuffle: true, Seed: 4, Schedule: sched.Func(func(base float64, s int) float64 { return base / (1 + 0.1*float64(s)) })}

	full := newLinTask(7)
	if _, err := newTrainer(t, full, cfg).Fit(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	part := newLinTask(7)
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Dir = dir
	c.Callbacks = []Callback{CallbackFunc(func(ev *Event) error {
		if ev.Kind == StepEnd && ev.Step == 10 {
			cancel()
		}
		return nil
	})}
	_, err := newTrainer(t, part, c).Fit(ctx, data, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "last.safetensors") {
		t.Fatalf("cancelled Fit returned %v, want context.Canceled naming the checkpoint", err)
	}
	f, err := checkpoint.Read(filepath.Join(dir, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	resumed := newLinTask(99) // different init: everything must come from the file
	tr := newTrainer(t, resumed, cfg)
	if err := tr.Resume(f); err != nil {
		t.Fatal(err)
	}
	if st := tr.State(); st.Step != 10 || st.Epoch != 1 || st.Batch != 4 {
		t.Errorf("resumed at %+v, want step 10, epoch 1, batch 4", st)
	}
	if _, err := tr.Fit(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	a, b := weights(full.Params()), weights(resumed.Params())
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("resumed weight %d = %v, uninterrupted %v", i, b[i], a[i])
		}
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	task := newLinTask(2)
	// A validation metric that improves twice and then gets worse.
	var bestW []float32
	tr := newTrainer(t, task, Config{Epochs: 50, Seed: 1, EarlyStop: EarlyStop{Patience: 2}, RestoreBest: true})
	fake := &fakeEval{linTask: task, vals: []float64{3, 2, 1, 1.5, 2, 3, 4}, onBest: func() { bestW = weights(task.Params()) }}
	tr.task = fake
	res, err := tr.Fit(context.Background(), makeData(1, 2), linData{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || fake.i != 5 || res.Best != 1 || res.BestEpoch != 3 || res.Restored != 3 {
		t.Errorf("stopped=%v after %d evaluations, best %v at epoch %d, restored %d; want stopped after 5, best 1 at epoch 3, restored 3",
			res.Stopped, fake.i, res.Best, res.BestEpoch, res.Restored)
	}
	if !strings.Contains(res.StopReason, "early stopping") || !strings.Contains(res.StopReason, "2 evaluations") {
		t.Errorf("stop reason %q", res.StopReason)
	}
	got := weights(task.Params())
	for i := range got {
		if got[i] != bestW[i] {
			t.Fatalf("weights not restored to the best epoch's: %v vs %v", got, bestW)
		}
	}
}

type fakeEval struct {
	*linTask
	vals   []float64
	i      int
	onBest func()
}

func (f *fakeEval) Evaluate(Data) (map[string]float64, error) {
	v := f.vals[f.i]
	f.i++
	if v == 1 {
		f.onBest()
	}
	return map[string]float64{"loss": v}, nil
}

func TestReduceLROnPlateau(t *testing.T) {
	task := newLinTask(2)
	var lrs []float64
	rec := CallbackFunc(func(ev *Event) error {
		if ev.Kind == EpochEnd {
			lrs = append(lrs, ev.LR)
		}
		return nil
	})
	tr := newTrainer(t, task, Config{Epochs: 6, Plateau: &sched.PlateauConfig{Factor: 0.5, Patience: 1}, Callbacks: []Callback{rec}})
	tr.task = &fakeEval{linTask: task, vals: []float64{5, 5, 5, 5, 5, 5}, onBest: func() {}}
	if _, err := tr.Fit(context.Background(), makeData(1, 1), linData{}); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125}
	for i := range want {
		if math.Abs(lrs[i]-want[i]) > 1e-12 {
			t.Fatalf("learning rates %v, want %v", lrs, want)
		}
	}
}

// nanTask produces an infinite gradient in its bias.
type nanTask struct{ *linTask }

func (n nanTask) Loss(tp *nn.Tape, b Batch) (*nn.Var, int) {
	L, k := n.linTask.Loss(tp, b)
	tp.Add(func() { n.lin.Bias.Grad.Data[0] = float32(math.Inf(1)) })
	return L, k
}

func TestNonFiniteGuard(t *testing.T) {
	task := newLinTask(2)
	tr := newTrainer(t, task, Config{Epochs: 1})
	tr.task = nanTask{task}
	_, err := tr.Fit(context.Background(), makeData(1, 2), nil)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Param != "bias" || nf.Step != 0 || !strings.Contains(err.Error(), "step 0") {
		t.Errorf("error %v, want a NonFiniteError naming step 0 and bias", err)
	}
}

func TestCSVLogAndGradMonitor(t *testing.T) {
	task := newLinTask(2)
	var reports int
	gm := GradMonitor{Every: 2, Report: func(step int, norms map[string]float64, _, _ []string) error {
		reports++
		if _, ok := norms["weight"]; !ok || step%2 != 0 {
			t.Errorf("report at step %d with norms %v", step, norms)
		}
		return nil
	}}
	stopAt := CallbackFunc(func(ev *Event) error {
		if ev.Kind == StepEnd && ev.Step == 5 {
			return Stop("enough")
		}
		return nil
	})
	tr := newTrainer(t, task, Config{Epochs: 3, Callbacks: []Callback{gm, stopAt}})
	res, err := tr.Fit(context.Background(), makeData(1, 2), makeData(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Steps != 5 || reports != 2 || res.StopReason != "enough" {
		t.Errorf("stopped=%v steps=%d reports=%d reason %q, want true 5 2 enough", res.Stopped, res.Steps, reports, res.StopReason)
	}
	var csvBuf bytes.Buffer
	if err := WriteCSV(&csvBuf, res.History); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csvBuf.String()), "\n")
	if len(lines) != 3 || lines[0] != "epoch,grad_norm,lr,step,train_loss,val_loss" {
		t.Errorf("CSV log:\n%s", csvBuf.String())
	}
}

func TestL1(t *testing.T) {
	// With a strong L1 penalty and a target the weights can ignore, the
	// weights shrink towards zero.
	run := func(l1 float64) float64 {
		task := newLinTask(3)
		tr := newTrainer(t, task, Config{Epochs: 20, L1: l1})
		if _, err := tr.Fit(context.Background(), makeData(1, 4), nil); err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range task.lin.Weight.Value.Data {
			s += math.Abs(float64(v))
		}
		return s
	}
	if a, b := run(0), run(0.5); b >= a {
		t.Errorf("L1 0.5 left weights of total size %v, without L1 %v", b, a)
	}
	if _, err := New(newLinTask(1), nil, Config{L1: -1}); err == nil {
		t.Error("negative L1 accepted")
	}
}

func TestGradNoise(t *testing.T) {
	// Noise of a given seed changes the run, the same seed repeats it,
	// and its standard deviation anneals as Eta/(1+t)^Gamma says.
	run := func(c Config) []float32 {
		task := newLinTask(3)
		tr := newTrainer(t, task, c)
		if _, err := tr.Fit(context.Background(), makeData(1, 4), nil); err != nil {
			t.Fatal(err)
		}
		return weights(task.Params())
	}
	c := Config{Epochs: 3, Seed: 5, GradNoise: GradNoise{Eta: 0.3, Gamma: 0.55}}
	plain, a, b := run(Config{Epochs: 3, Seed: 5}), run(c), run(c)
	if slices.Equal(plain, a) {
		t.Error("gradient noise left the weights as without it")
	}
	if !slices.Equal(a, b) {
		t.Errorf("two runs with the same seed differ: %v, %v", a, b)
	}
	tr := newTrainer(t, newLinTask(1), c)
	if got, want := tr.noise.Std(9), math.Sqrt(0.3/math.Pow(10, 0.55)); math.Abs(got-want) > 1e-12 {
		t.Errorf("noise std at step 9: got %v, want %v", got, want)
	}
	if _, err := New(newLinTask(1), nil, Config{GradNoise: GradNoise{Eta: -1}}); err == nil || !strings.Contains(err.Error(), "GradNoise.Eta") {
		t.Errorf("negative eta: got %v, want an error naming GradNoise.Eta", err)
	}
}
