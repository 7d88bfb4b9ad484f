package loss

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
)

// TestTorchReference runs every case of loss.json: the value and the
// gradient must agree with PyTorch to float32 precision.
func TestTorchReference(t *testing.T) {
	f, err := torchref.Load("loss")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, grad, err := runCase(c)
			if err != nil {
				t.Fatal(err)
			}
			want := c.Tensors["loss"].Data[0]
			if d := math.Abs(got - want); d > 1e-5*math.Abs(want)+1e-6 {
				t.Errorf("loss: got %.9g, want %.9g", got, want)
			}
			if err := torchref.Compare("grad.input", grad, c.Tensors["grad.input"].Data, 1e-4, 1e-6); err != nil {
				t.Error(err)
			}
		})
	}
}

// runCase interprets one loss.json case; an unknown configuration is an
// error, never a skip.
func runCase(c *torchref.Case) (float64, []float32, error) {
	for _, name := range []string{"input", "target", "loss", "grad.input"} {
		if _, err := c.T(name); err != nil {
			return 0, nil, err
		}
	}
	in, tg := c.Tensors["input"], c.Tensors["target"]
	red, err := ParseReduction(c.String("reduction"))
	if err != nil {
		return 0, nil, err
	}
	x := in.F32()
	grad := make([]float32, len(x))
	opt := func(name string) []float32 {
		if t, ok := c.Tensors[name]; ok {
			return t.F32()
		}
		return nil
	}
	switch kind := c.String("loss"); kind {
	case "MSELoss":
		return MSE(grad, x, tg.F32(), Options{Reduction: red}), grad, nil
	case "L1Loss":
		return L1(grad, x, tg.F32(), Options{Reduction: red}), grad, nil
	case "HuberLoss", "SmoothL1Loss":
		key := map[string]string{"HuberLoss": "delta", "SmoothL1Loss": "beta"}[kind]
		p, err := c.Float(key)
		if err != nil {
			return 0, nil, err
		}
		if kind == "HuberLoss" {
			return Huber(grad, x, tg.F32(), p, Options{Reduction: red}), grad, nil
		}
		return SmoothL1(grad, x, tg.F32(), p, Options{Reduction: red}), grad, nil
	case "CrossEntropyLoss", "NLLLoss":
		if len(in.Shape) != 2 {
			return 0, nil, errf(c, "input shape %v, want (N, C)", in.Shape)
		}
		C := in.Shape[1]
		o := ClassOptions{Reduction: red, Weight: opt("weight")}
		if _, ok := c.Config["ignore_index"]; ok {
			ii, err := c.Int("ignore_index")
			if err != nil {
				return 0, nil, err
			}
			o.IgnoreIndex, o.UseIgnoreIndex = ii, true
		}
		if _, ok := c.Config["label_smoothing"]; ok {
			if o.LabelSmoothing, err = c.Float("label_smoothing"); err != nil {
				return 0, nil, err
			}
		}
		switch c.String("target_kind") + "/" + c.String("input_kind") + "/" + kind {
		case "class_indices/logits/CrossEntropyLoss":
			return CrossEntropy(grad, x, tg.Ints(), C, o), grad, nil
		case "probabilities/logits/CrossEntropyLoss":
			return CrossEntropyProbs(grad, x, tg.F32(), C, o), grad, nil
		case "class_indices/log_probabilities/NLLLoss":
			return NLL(grad, x, tg.Ints(), C, o), grad, nil
		}
		return 0, nil, errf(c, "unknown target_kind %q / input_kind %q", c.String("target_kind"), c.String("input_kind"))
	case "BCEWithLogitsLoss":
		o := BCEOptions{Reduction: red, Weight: opt("weight"), PosWeight: opt("pos_weight")}
		return BCEWithLogits(grad, x, tg.F32(), o), grad, nil
	default:
		return 0, nil, errf(c, "unknown loss %q", kind)
	}
}
