package onnx_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/onnx"
	"github.com/recur-ml/recur/tensor"
)

// ONNX's own operator tests, as Debian's libonnx-testdata ships them: a
// model of one LSTM, GRU or RNN node whose weights are inputs, and a data
// set of inputs and expected outputs. recur's layer, with the weights
// read from the model and bound inputs, must give the expected outputs.

// operatorTests are the recurrent operator tests recur reads: defaults,
// biases, peepholes, sequence lengths, initial states and batch-first
// layout.
var operatorTests = []string{
	"test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes", "test_lstm_batchwise",
	"test_gru_defaults", "test_gru_seq_length", "test_gru_with_initial_bias", "test_gru_batchwise",
	"test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias", "test_rnn_seq_length", "test_simple_rnn_batchwise",
}

// onnxTestData returns the directory of ONNX's node tests, or skips t.
func onnxTestData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RECUR_ONNX_TESTDATA")
	if dir == "" {
		dir = "/usr/share/libonnx-testdata/data/node"
	}
	if _, err := os.Stat(filepath.Join(dir, operatorTests[0], "model.onnx")); err != nil {
		t.Skipf("ONNX's operator test data is absent: install Debian's libonnx-testdata (apt-get install -y libonnx-testdata), or set RECUR_ONNX_TESTDATA to its data/node directory")
	}
	return dir
}

// readPB reads the TensorProtos of a data set directory by name.
func readPB(t *testing.T, dir, prefix string) map[string]*tensor.Tensor {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, prefix+"_*.pb"))
	out := map[string]*tensor.Tensor{}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		name, v, err := onnx.ReadTensor(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[name] = v
	}
	return out
}

// operatorNode returns the model's single node.
func operatorNode(t *testing.T, path string) *pb.NodeProto {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	if len(mp.GetGraph().GetNode()) != 1 {
		t.Fatalf("%s: %d nodes", path, len(mp.GetGraph().GetNode()))
	}
	return mp.GetGraph().GetNode()[0]
}

func TestONNXOperatorTests(t *testing.T) {
	root := onnxTestData(t)
	for _, name := range operatorTests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, name)
			node := operatorNode(t, filepath.Join(dir, "model.onnx"))
			inputs := readPB(t, filepath.Join(dir, "test_data_set_0"), "input")
			want := readPB(t, filepath.Join(dir, "test_data_set_0"), "output")
			// The weights (W, R, B, P) become constants; the rest is data.
			in := node.GetInput()
			bound := map[string]*tensor.Tensor{}
			for _, i := range []int{1, 2, 3, 7} {
				if i < len(in) && in[i] != "" {
					bound[in[i]] = inputs[in[i]]
				}
			}
			f, err := os.Open(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			g, err := onnx.Read(f, onnx.ReadOptions{Inputs: bound})
			if err != nil {
				t.Fatal(err)
			}
			layer, err := g.Layer()
			if err != nil {
				t.Fatal(err)
			}
			batchFirst := slices.ContainsFunc(node.GetAttribute(), func(a *pb.AttributeProto) bool { return a.GetName() == "layout" && a.GetI() == 1 })
			got := runOperator(t, layer, node, inputs, batchFirst)
			worst := 0.0
			for i, outName := range node.GetOutput() {
				w, ok := want[outName]
				if outName == "" || !ok {
					continue
				}
				d, err := maxDiff(got[i], w.Data)
				if err != nil {
					t.Fatalf("output %s: %v", outName, err)
				}
				worst = max(worst, d)
				if d > 1e-5 {
					t.Errorf("output %s: max |recur - expected| = %.3g, want <= 1e-5", outName, d)
				}
			}
			t.Logf("%s (%s%s): max |recur - ONNX's expected output| = %.2g", name, g.Spec.Cell, map[bool]string{true: ", peephole", false: ""}[g.Spec.Peephole], worst)
		})
	}
}

// runOperator runs layer as the node over the data set's inputs and
// returns its outputs in ONNX's layouts: Y (T, D, B, H) (or (B, T, D, H)
// batch-first), Y_h and Y_c (D, B, H) (or (B, D, H)).
func runOperator(t *testing.T, layer nn.Recurrent, node *pb.NodeProto, inputs map[string]*tensor.Tensor, batchFirst bool) [][]float32 {
	in := node.GetInput()
	get := func(i int) *tensor.Tensor {
		if i < len(in) && in[i] != "" {
			return inputs[in[i]]
		}
		return nil
	}
	x := get(0).Clone()
	if batchFirst {
		x = swap01(x)
	}
	T, B := x.Shape[0], x.Shape[1]
	var lengths []int
	if l := get(4); l != nil {
		for _, v := range l.Data {
			lengths = append(lengths, int(v))
		}
	}
	var h0 *nn.State
	if h := get(5); h != nil {
		h0 = &nn.State{H: nn.NewVar(stateLayout(h, batchFirst))}
		if c := get(6); c != nil {
			h0.C = nn.NewVar(stateLayout(c, batchFirst))
		}
	}
	out, st := layer.Forward(nil, nn.NewVar(x), lengths, h0)
	D := st.H.Value.Shape[0]
	H := st.H.Value.Shape[2]
	y := make([]float32, T*D*B*H) // (T, D, B, H) from (T, B, D·H)
	for tt := range T {
		for b := range B {
			for d := range D {
				for j := range H {
					v := out.Value.Data[((tt*B+b)*D+d)*H+j]
					if batchFirst {
						y[((b*T+tt)*D+d)*H+j] = v
					} else {
						y[((tt*D+d)*B+b)*H+j] = v
					}
				}
			}
		}
	}
	outs := [][]float32{y, stateLayout(st.H.Value, batchFirst).Data}
	if st.C != nil {
		outs = append(outs, stateLayout(st.C.Value, batchFirst).Data)
	}
	return outs
}

// swap01 swaps the first two axes of a rank-3 tensor.
func swap01(x *tensor.Tensor) *tensor.Tensor {
	A, C, W := x.Shape[0], x.Shape[1], x.Shape[2]
	out := tensor.New(C, A, W)
	for a := range A {
		for c := range C {
			copy(out.Data[(c*A+a)*W:(c*A+a+1)*W], x.Data[(a*C+c)*W:(a*C+c+1)*W])
		}
	}
	return out
}

// stateLayout turns a state (B, D, H) into (D, B, H) for batch-first
// layouts, and back: the same swap.
func stateLayout(s *tensor.Tensor, batchFirst bool) *tensor.Tensor {
	if !batchFirst {
		return s
	}
	return swap01(s)
}

func maxDiff(got, want []float32) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	worst := 0.0
	for i, v := range want {
		d := math.Abs(float64(got[i]) - float64(v))
		if math.IsNaN(d) {
			return 0, fmt.Errorf("value %d is NaN", i)
		}
		worst = max(worst, d)
	}
	return worst, nil
}
