package nn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// Keras weights exported as numpy arrays (np.save of layer.get_weights(),
// testdata/keras, made by make.py there), converted with FromKeras*,
// loaded with SetTorchWeights: the layer's outputs must be those Keras'
// equations give.

// readNPY reads a little-endian float32 or float64 .npy array, C order.
func readNPY(path string) (*tensor.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || !bytes.HasPrefix(b, []byte("\x93NUMPY")) {
		return nil, fmt.Errorf("%s: not a .npy file", path)
	}
	hl, at := int(binary.LittleEndian.Uint16(b[8:])), 10
	if b[6] >= 2 {
		hl, at = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	header := string(b[at : at+hl])
	descr := regexp.MustCompile(`'descr': '([<|]f[48])'`).FindStringSubmatch(header)
	shape := regexp.MustCompile(`'shape': \(([0-9, ]*)\)`).FindStringSubmatch(header)
	if descr == nil || shape == nil || strings.Contains(header, "'fortran_order': True") {
		return nil, fmt.Errorf("%s: header %q: want float32 or float64 in C order", path, header)
	}
	var dims []int
	for _, f := range strings.Split(shape[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			n, _ := strconv.Atoi(f)
			dims = append(dims, n)
		}
	}
	t := tensor.New(dims...)
	data := b[at+hl:]
	for i := range t.Data {
		if descr[1][2] == '4' {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		} else {
			t.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		}
	}
	return t, nil
}

func TestKerasNumpyWeights(t *testing.T) {
	dir := filepath.Join("testdata", "keras")
	load := func(name string) *tensor.Tensor {
		v, err := readNPY(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	x := load("x")
	T, I := x.Shape[0], x.Shape[1]
	for _, c := range []struct {
		name    string
		convert func(k, u, b *tensor.Tensor) (TorchWeights, error)
		build   func(H int) (Recurrent, error)
	}{
		{"lstm", FromKerasLSTM, func(H int) (Recurrent, error) {
			return NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H}, tensor.NewRNG(1))
		}},
		{"gru", FromKerasGRU, func(H int) (Recurrent, error) {
			return NewGRU(GRUConfig{InputSize: I, HiddenSize: H}, tensor.NewRNG(1))
		}},
		{"gru_reset_before", FromKerasGRUResetBefore, func(H int) (Recurrent, error) {
			return NewGRU(GRUConfig{InputSize: I, HiddenSize: H, ResetBefore: true}, tensor.NewRNG(1))
		}},
		{"simple_rnn", FromKerasSimpleRNN, func(H int) (Recurrent, error) {
			return NewRNN(RNNConfig{InputSize: I, HiddenSize: H}, tensor.NewRNG(1))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := c.convert(load(c.name+"_kernel"), load(c.name+"_recurrent_kernel"), load(c.name+"_bias"))
			if err != nil {
				t.Fatal(err)
			}
			want := load(c.name + "_h")
			l, err := c.build(want.Shape[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := SetTorchWeights(l.Params(), "_l0", w); err != nil {
				t.Fatal(err)
			}
			out, _ := l.Forward(nil, NewVar(x.Reshape(T, 1, I)), nil, nil)
			if err := compare64("h", out.Value.Data, f64(want.Data), 1e-5); err != nil {
				t.Error(err)
			}
		})
	}
}
