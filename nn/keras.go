package nn

import (
	"fmt"
	"strings"

	"github.com/recur-ml/recur/tensor"
)

// TorchWeights are one layer-direction's recurrent weights in PyTorch
// layout: WeightIH (G, I), WeightHH (G, H), BiasIH and BiasHH (G) or nil.
type TorchWeights struct {
	WeightIH, WeightHH, BiasIH, BiasHH *tensor.Tensor
}

// Keras stores an LSTM as kernel (I, 4H), recurrent_kernel (H, 4H) and one
// bias (4H), gates i, f, c, o — PyTorch's i, f, g, o in the same order,
// transposed. A Keras GRU with reset_after=True (the Keras 2+ default)
// stores kernel (I, 3H), recurrent_kernel (H, 3H) in gate order z, r, h
// and bias (2, 3H) = [input bias; recurrent bias]; PyTorch's order is
// r, z, n. reset_after=False GRUs (Keras 1's, and Cho et al.'s) apply r
// before the recurrent product: PyTorch has no such GRU, recur's GRU with
// ResetBefore is one (FromKerasGRUResetBefore).

// kerasGRUOrder maps a PyTorch gate block (r, z, n) to its Keras block
// (z, r, h).
var kerasGRUOrder = [3]int{1, 0, 2}

func check2(what string, t *tensor.Tensor, rows, cols int) error {
	if t == nil || len(t.Shape) != 2 || (rows >= 0 && t.Shape[0] != rows) || (cols >= 0 && t.Shape[1] != cols) {
		var s []int
		if t != nil {
			s = t.Shape
		}
		return fmt.Errorf("nn: keras: %s shape %v, want (%s, %s)", what, s, dimStr(rows), dimStr(cols))
	}
	return nil
}

func dimStr(d int) string {
	if d < 0 {
		return "any"
	}
	return fmt.Sprint(d)
}

// transposeBlocks returns the (G, R) transpose of src (R, G), where the G
// columns are `blocks` gate blocks reordered so that destination block b
// comes from source block order[b].
func transposeBlocks(src *tensor.Tensor, blocks int, order []int) *tensor.Tensor {
	R, G := src.Shape[0], src.Shape[1]
	H := G / blocks
	dst := tensor.New(G, R)
	for b := 0; b < blocks; b++ {
		sb := order[b]
		for j := 0; j < H; j++ {
			for r := 0; r < R; r++ {
				dst.Data[(b*H+j)*R+r] = src.Data[r*G+sb*H+j]
			}
		}
	}
	return dst
}

// untransposeBlocks is the inverse of transposeBlocks.
func untransposeBlocks(src *tensor.Tensor, blocks int, order []int) *tensor.Tensor {
	G, R := src.Shape[0], src.Shape[1]
	H := G / blocks
	dst := tensor.New(R, G)
	for b := 0; b < blocks; b++ {
		sb := order[b]
		for j := 0; j < H; j++ {
			for r := 0; r < R; r++ {
				dst.Data[r*G+sb*H+j] = src.Data[(b*H+j)*R+r]
			}
		}
	}
	return dst
}

func reorderVec(src []float32, blocks int, order []int) *tensor.Tensor {
	H := len(src) / blocks
	dst := tensor.New(len(src))
	for b := 0; b < blocks; b++ {
		copy(dst.Data[b*H:(b+1)*H], src[order[b]*H:(order[b]+1)*H])
	}
	return dst
}

func unreorderVec(dst, src []float32, blocks int, order []int) {
	H := len(src) / blocks
	for b := 0; b < blocks; b++ {
		copy(dst[order[b]*H:(order[b]+1)*H], src[b*H:(b+1)*H])
	}
}

var identity4 = []int{0, 1, 2, 3}

// FromKerasLSTM converts Keras LSTM weights (kernel (I, 4H),
// recurrent_kernel (H, 4H), bias (4H) or nil) to PyTorch layout. The Keras
// bias goes to BiasIH and BiasHH is zero.
func FromKerasLSTM(kernel, recurrent, bias *tensor.Tensor) (TorchWeights, error) {
	if err := check2("LSTM kernel", kernel, -1, -1); err != nil {
		return TorchWeights{}, err
	}
	G := kernel.Shape[1]
	if G%4 != 0 {
		return TorchWeights{}, fmt.Errorf("nn: keras: LSTM kernel width %d is not 4·units", G)
	}
	H := G / 4
	if err := check2("LSTM recurrent_kernel", recurrent, H, G); err != nil {
		return TorchWeights{}, err
	}
	w := TorchWeights{WeightIH: transposeBlocks(kernel, 4, identity4), WeightHH: transposeBlocks(recurrent, 4, identity4)}
	if bias != nil {
		if len(bias.Data) != G {
			return TorchWeights{}, fmt.Errorf("nn: keras: LSTM bias shape %v, want (%d)", bias.Shape, G)
		}
		w.BiasIH = tensor.FromSlice(append([]float32(nil), bias.Data...), G)
		w.BiasHH = tensor.New(G)
	}
	return w, nil
}

// ToKerasLSTM converts PyTorch LSTM weights to Keras layout; the Keras bias
// is BiasIH + BiasHH (nil when w has no biases).
func ToKerasLSTM(w TorchWeights) (kernel, recurrent, bias *tensor.Tensor, err error) {
	if err := check2("LSTM weight_ih", w.WeightIH, -1, -1); err != nil {
		return nil, nil, nil, err
	}
	G := w.WeightIH.Shape[0]
	if G%4 != 0 {
		return nil, nil, nil, fmt.Errorf("nn: keras: LSTM weight_ih has %d rows, not 4·H", G)
	}
	if err := check2("LSTM weight_hh", w.WeightHH, G, G/4); err != nil {
		return nil, nil, nil, err
	}
	kernel = untransposeBlocks(w.WeightIH, 4, identity4)
	recurrent = untransposeBlocks(w.WeightHH, 4, identity4)
	if w.BiasIH != nil {
		if len(w.BiasIH.Data) != G || w.BiasHH == nil || len(w.BiasHH.Data) != G {
			return nil, nil, nil, fmt.Errorf("nn: keras: LSTM biases must both be (%d)", G)
		}
		bias = tensor.New(G)
		for i := range bias.Data {
			bias.Data[i] = w.BiasIH.Data[i] + w.BiasHH.Data[i]
		}
	}
	return kernel, recurrent, bias, nil
}

// FromKerasGRU converts Keras GRU weights (kernel (I, 3H),
// recurrent_kernel (H, 3H), bias (2, 3H) from reset_after=True, or nil) to
// PyTorch layout, reordering gates z, r, h to r, z, n. A (3H) bias means
// reset_after=False, which PyTorch cannot express: an error.
func FromKerasGRU(kernel, recurrent, bias *tensor.Tensor) (TorchWeights, error) {
	if err := check2("GRU kernel", kernel, -1, -1); err != nil {
		return TorchWeights{}, err
	}
	G := kernel.Shape[1]
	if G%3 != 0 {
		return TorchWeights{}, fmt.Errorf("nn: keras: GRU kernel width %d is not 3·units", G)
	}
	if err := check2("GRU recurrent_kernel", recurrent, G/3, G); err != nil {
		return TorchWeights{}, err
	}
	order := kerasGRUOrder[:]
	w := TorchWeights{WeightIH: transposeBlocks(kernel, 3, order), WeightHH: transposeBlocks(recurrent, 3, order)}
	if bias != nil {
		if len(bias.Shape) == 1 {
			return TorchWeights{}, fmt.Errorf("nn: keras: GRU bias shape %v is reset_after=False, which PyTorch's GRU cannot express: convert it with FromKerasGRUResetBefore for a GRU with ResetBefore", bias.Shape)
		}
		if err := check2("GRU bias", bias, 2, G); err != nil {
			return TorchWeights{}, err
		}
		w.BiasIH = reorderVec(bias.Data[:G], 3, order)
		w.BiasHH = reorderVec(bias.Data[G:], 3, order)
	}
	return w, nil
}

// FromKerasGRUResetBefore converts the weights of a Keras GRU with
// reset_after=False (kernel (I, 3H), recurrent_kernel (H, 3H), bias (3H)
// or nil) to recur's layout for a GRU with GRUConfig.ResetBefore: gates
// reordered from z, r, h to r, z, n, the bias in BiasIH and BiasHH zero
// (Keras adds its one bias on the input side, outside r⊙h).
func FromKerasGRUResetBefore(kernel, recurrent, bias *tensor.Tensor) (TorchWeights, error) {
	var b2 *tensor.Tensor
	if bias != nil {
		if len(bias.Shape) != 1 || kernel == nil || len(kernel.Shape) != 2 || len(bias.Data) != kernel.Shape[1] {
			return TorchWeights{}, fmt.Errorf("nn: keras: GRU (reset_after=False) bias shape %v, want (3·units)", bias.Shape)
		}
		b2 = tensor.New(2, len(bias.Data))
		copy(b2.Data, bias.Data)
	}
	return FromKerasGRU(kernel, recurrent, b2)
}

// ToKerasGRU converts PyTorch GRU weights to Keras reset_after=True
// layout: kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H) (nil when
// w has no biases).
func ToKerasGRU(w TorchWeights) (kernel, recurrent, bias *tensor.Tensor, err error) {
	if err := check2("GRU weight_ih", w.WeightIH, -1, -1); err != nil {
		return nil, nil, nil, err
	}
	G := w.WeightIH.Shape[0]
	if G%3 != 0 {
		return nil, nil, nil, fmt.Errorf("nn: keras: GRU weight_ih has %d rows, not 3·H", G)
	}
	if err := check2("GRU weight_hh", w.WeightHH, G, G/3); err != nil {
		return nil, nil, nil, err
	}
	order := kerasGRUOrder[:]
	kernel = untransposeBlocks(w.WeightIH, 3, order)
	recurrent = untransposeBlocks(w.WeightHH, 3, order)
	if w.BiasIH != nil {
		if len(w.BiasIH.Data) != G || w.BiasHH == nil || len(w.BiasHH.Data) != G {
			return nil, nil, nil, fmt.Errorf("nn: keras: GRU biases must both be (%d)", G)
		}
		bias = tensor.New(2, G)
		unreorderVec(bias.Data[:G], w.BiasIH.Data, 3, order)
		unreorderVec(bias.Data[G:], w.BiasHH.Data, 3, order)
	}
	return kernel, recurrent, bias, nil
}

// FromKerasSimpleRNN converts Keras SimpleRNN weights (kernel (I, H),
// recurrent_kernel (H, H), bias (H) or nil) to PyTorch's nn.RNN layout; the
// bias goes to BiasIH and BiasHH is zero.
func FromKerasSimpleRNN(kernel, recurrent, bias *tensor.Tensor) (TorchWeights, error) {
	if err := check2("SimpleRNN kernel", kernel, -1, -1); err != nil {
		return TorchWeights{}, err
	}
	H := kernel.Shape[1]
	if err := check2("SimpleRNN recurrent_kernel", recurrent, H, H); err != nil {
		return TorchWeights{}, err
	}
	one := []int{0}
	w := TorchWeights{WeightIH: transposeBlocks(kernel, 1, one), WeightHH: transposeBlocks(recurrent, 1, one)}
	if bias != nil {
		if len(bias.Data) != H {
			return TorchWeights{}, fmt.Errorf("nn: keras: SimpleRNN bias shape %v, want (%d)", bias.Shape, H)
		}
		w.BiasIH = tensor.FromSlice(append([]float32(nil), bias.Data...), H)
		w.BiasHH = tensor.New(H)
	}
	return w, nil
}

// ToKerasSimpleRNN converts PyTorch RNN weights to Keras SimpleRNN layout;
// the bias is BiasIH + BiasHH (nil when w has no biases).
func ToKerasSimpleRNN(w TorchWeights) (kernel, recurrent, bias *tensor.Tensor, err error) {
	if err := check2("RNN weight_ih", w.WeightIH, -1, -1); err != nil {
		return nil, nil, nil, err
	}
	H := w.WeightIH.Shape[0]
	if err := check2("RNN weight_hh", w.WeightHH, H, H); err != nil {
		return nil, nil, nil, err
	}
	one := []int{0}
	kernel, recurrent = untransposeBlocks(w.WeightIH, 1, one), untransposeBlocks(w.WeightHH, 1, one)
	if w.BiasIH != nil {
		if len(w.BiasIH.Data) != H || w.BiasHH == nil || len(w.BiasHH.Data) != H {
			return nil, nil, nil, fmt.Errorf("nn: keras: RNN biases must both be (%d)", H)
		}
		bias = tensor.New(H)
		for i := range bias.Data {
			bias.Data[i] = w.BiasIH.Data[i] + w.BiasHH.Data[i]
		}
	}
	return kernel, recurrent, bias, nil
}

// SetTorchWeights copies w into the parameters of layer-direction
// `suffix` (for example "_l0", "_l1_reverse", or "" for a cell) of ps,
// checking shapes. Names match on their last dotted component, so ps may
// carry a container's prefix. Missing biases in w leave a bias-free layer valid and
// are an error for a layer with biases.
func SetTorchWeights(ps []*Param, suffix string, w TorchWeights) error {
	byName := map[string]*Param{}
	for _, p := range ps {
		// Match the layer's own name, whatever prefix a container added.
		byName[p.Name[strings.LastIndexByte(p.Name, '.')+1:]] = p
	}
	for _, c := range []struct {
		name string
		t    *tensor.Tensor
	}{{"weight_ih", w.WeightIH}, {"weight_hh", w.WeightHH}, {"bias_ih", w.BiasIH}, {"bias_hh", w.BiasHH}} {
		p, ok := byName[c.name+suffix]
		switch {
		case !ok && c.t == nil:
			continue
		case !ok:
			return fmt.Errorf("nn: SetTorchWeights: no parameter %q", c.name+suffix)
		case c.t == nil:
			return fmt.Errorf("nn: SetTorchWeights: %s: no value given", p.Name)
		case !tensor.SameShape(p.Value, c.t):
			return fmt.Errorf("nn: SetTorchWeights: %s: shape %v, want %v", p.Name, c.t.Shape, p.Value.Shape)
		}
		copy(p.Value.Data, c.t.Data)
	}
	return nil
}
