package optim

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/internal/torchref"
	"github.com/recur-ml/recur/nn"
)

// TestClipTorchReference runs every clip.json case.
func TestClipTorchReference(t *testing.T) {
	f, err := torchref.Load("clip")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var params []*nn.Param
			for i := 0; ; i++ {
				b, ok := c.Tensors[fmt.Sprintf("before.%d", i)]
				if !ok {
					break
				}
				p := nn.NewParam(fmt.Sprint(i), b.Shape...)
				copy(p.Grad.Data, b.F32())
				params = append(params, p)
			}
			if n, err := c.Int("num_tensors"); err != nil || n != len(params) {
				t.Fatalf("case %s: %d tensors before.*, config num_tensors %d (%v)", c.Name, len(params), n, err)
			}
			switch fn := c.String("fn"); fn {
			case "clip_grad_norm_":
				maxNorm, err := c.Float("max_norm")
				if err != nil {
					t.Fatal(err)
				}
				p, err := ParseNormType(c.String("norm_type"))
				if err != nil {
					t.Fatal(err)
				}
				want, err := c.T("total_norm")
				if err != nil {
					t.Fatal(err)
				}
				got := ClipGradNorm(params, maxNorm, p)
				if w := want.Data[0]; math.Abs(got-w) > 1e-6*math.Abs(w) {
					t.Errorf("total norm: got %.9g, want %.9g", got, w)
				}
				if c.Bool("clipping_happens") != (maxNorm < got) {
					t.Errorf("clipping_happens = %v, but max_norm %v and total %v", c.Bool("clipping_happens"), maxNorm, got)
				}
			case "clip_grad_value_":
				v, err := c.Float("clip_value")
				if err != nil {
					t.Fatal(err)
				}
				ClipGradValue(params, v)
			default:
				t.Fatalf("case %s: unknown fn %q", c.Name, fn)
			}
			for i, p := range params {
				want, err := c.T(fmt.Sprintf("after.%d", i))
				if err != nil {
					t.Fatal(err)
				}
				if err := torchref.Compare("after."+p.Name, p.Grad.Data, want.Data, 1e-6, 1e-7); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
