package optim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/loss"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/tensor"
)

// TestTrainTorchReference replays both train.json traces step by step:
// layers, loss, backward, clipping, optimizer and schedule composed as a
// trainer would, in float32, against PyTorch's float64 run.
func TestTrainTorchReference(t *testing.T) {
	f, err := torchref.Load("train")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			switch c.Name {
			case "lstm_seq2one_adam_clip":
				runLSTMSeq2One(t, c)
			case "bigru_seq_ce_sgd_steplr":
				runBiGRUSeq(t, c)
			default:
				t.Fatalf("unknown train case %q", c.Name)
			}
		})
	}
}

func cfgInt(t *testing.T, c *torchref.Case, key string) int {
	t.Helper()
	v, err := c.Int(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tensorOf(t *testing.T, c *torchref.Case, name string) *tensor.Tensor {
	t.Helper()
	r, err := c.T(name)
	if err != nil {
		t.Fatal(err)
	}
	return tensor.FromSlice(r.F32(), r.Shape...)
}

// loadParams copies the stored initial values into ps by name and checks
// that ps and the case's param_names are the same set.
func loadParams(t *testing.T, c *torchref.Case, ps []*nn.Param) {
	t.Helper()
	byName, err := nn.ByName(ps)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := c.Config["param_names"].([]any)
	if len(names) != len(ps) {
		t.Fatalf("model has %d parameters, case %d", len(ps), len(names))
	}
	for _, n := range names {
		p, ok := byName[fmt.Sprint(n)]
		if !ok {
			t.Fatalf("model has no parameter %q", n)
		}
		want := tensorOf(t, c, p.Name)
		if !tensor.SameShape(p.Value, want) {
			t.Fatalf("%s: shape %v, stored %v", p.Name, p.Value.Shape, want.Shape)
		}
		p.Value.CopyFrom(want)
	}
}

func checkStep(t *testing.T, c *torchref.Case, k int, ps []*nn.Param) {
	t.Helper()
	for _, p := range ps {
		want, err := c.T(fmt.Sprintf("param.%d.%s", k, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if err := torchref.Compare(fmt.Sprintf("step %d %s", k, p.Name), p.Value.Data, want.Data, 1e-4, 1e-5); err != nil {
			t.Error(err)
		}
	}
}

func checkScalar(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-5*math.Abs(want)+1e-6 {
		t.Errorf("%s: got %.9g, want %.9g", what, got, want)
	}
}

// runLSTMSeq2One: 2-layer LSTM → h_n[-1] → Linear → MSE; Adam; clip 1.0.
func runLSTMSeq2One(t *testing.T, c *torchref.Case) {
	I, H := cfgInt(t, c, "input_size"), cfgInt(t, c, "hidden_size")
	L := len(c.Names("lstm.weight_ih_l"))
	lstm, err := nn.NewLSTM(nn.LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: L}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	head := nn.NewLinear(H, cfgInt(t, c, "out"), true, tensor.NewRNG(2))
	ps := append(nn.Prefix("lstm", lstm.Params()), nn.Prefix("head", head.Params())...)
	loadParams(t, c, ps)
	x, y := tensorOf(t, c, "input"), tensorOf(t, c, "target")
	B := x.Shape[1]
	hyper, _ := c.Config["hyper"].(map[string]any)
	lr, _ := hyper["lr"].(float64)
	opt, err := optim.New(c.String("optimizer"), ps, optim.Config{LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	clip, _ := c.Config["clip"].(map[string]any)
	maxNorm, _ := clip["max_norm"].(float64)
	normType, err := optim.ParseNormType(fmt.Sprint(clip["norm_type"]))
	if err != nil || clip["fn"] != "clip_grad_norm_" || maxNorm <= 0 {
		t.Fatalf("clip config %v: %v", clip, err)
	}
	wantLoss, wantNorm := tensorOf(t, c, "loss").Data, tensorOf(t, c, "grad_norm").Data
	for k := 1; k <= cfgInt(t, c, "steps"); k++ {
		nn.ZeroGrad(ps)
		var tp nn.Tape
		_, st := lstm.Forward(&tp, nn.NewVar(x), nil, nil)
		// h_n[-1]: the last layer's final state, (B, H).
		last := nn.NewVar(tensor.FromSlice(append([]float32(nil), st.H.Value.Data[(L-1)*B*H:]...), B, H))
		tp.Add(func() {
			g := st.H.G().Data[(L-1)*B*H:]
			for i, v := range last.G().Data {
				g[i] += v
			}
		})
		pred := head.Forward(&tp, last)
		lv, l := loss.Record(&tp, pred, func(g []float32) float64 {
			return loss.MSE(g, pred.Value.Data, y.Data, loss.Options{})
		})
		tp.Backward(lv, nil)
		checkScalar(t, fmt.Sprintf("loss before step %d", k), l, float64(wantLoss[k-1]))
		norm := optim.ClipGradNorm(ps, maxNorm, normType)
		checkScalar(t, fmt.Sprintf("grad norm before step %d", k), norm, float64(wantNorm[k-1]))
		opt.Step()
		checkStep(t, c, k, ps)
	}
}

// runBiGRUSeq: bidirectional GRU → per-step Linear → CE over T·B; SGD
// with momentum; StepLR.
func runBiGRUSeq(t *testing.T, c *torchref.Case) {
	I, H, C := cfgInt(t, c, "input_size"), cfgInt(t, c, "hidden_size"), cfgInt(t, c, "classes")
	gru, err := nn.NewGRU(nn.GRUConfig{InputSize: I, HiddenSize: H, Bidirectional: true}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	head := nn.NewLinear(2*H, C, true, tensor.NewRNG(2))
	ps := append(nn.Prefix("gru", gru.Params()), nn.Prefix("head", head.Params())...)
	loadParams(t, c, ps)
	x := tensorOf(t, c, "input")
	yr, err := c.T("target")
	if err != nil {
		t.Fatal(err)
	}
	y := yr.Ints()
	hyper, _ := c.Config["hyper"].(map[string]any)
	lr, _ := hyper["lr"].(float64)
	mom, _ := hyper["momentum"].(float64)
	opt, err := optim.New(c.String("optimizer"), ps, optim.Config{LR: lr, Momentum: mom})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := c.Config["scheduler"].(map[string]any)
	stepSize, _ := sc["step_size"].(float64)
	gamma, _ := sc["gamma"].(float64)
	s, err := sched.New(fmt.Sprint(sc["type"]), sched.Config{StepSize: int(stepSize), Gamma: gamma})
	if err != nil {
		t.Fatal(err)
	}
	bases := sched.BaseLRs(opt)
	wantLoss := tensorOf(t, c, "loss").Data
	for k := 1; k <= cfgInt(t, c, "steps"); k++ {
		sched.Apply(opt, s, bases, k-1)
		nn.ZeroGrad(ps)
		var tp nn.Tape
		out, _ := gru.Forward(&tp, nn.NewVar(x), nil, nil)
		logits := head.Forward(&tp, out) // (T, B, C)
		lv, l := loss.Record(&tp, logits, func(g []float32) float64 {
			return loss.CrossEntropy(g, logits.Value.Data, y, C, loss.ClassOptions{})
		})
		tp.Backward(lv, nil)
		checkScalar(t, fmt.Sprintf("loss before step %d", k), l, float64(wantLoss[k-1]))
		opt.Step()
		checkStep(t, c, k, ps)
	}
}
