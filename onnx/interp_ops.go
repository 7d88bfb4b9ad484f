package onnx

import (
	"slices"

	pb "github.com/recur-ml/recur/internal/onnxpb"
)

// run interprets the graph's nodes in order.
func (it *interp) run(g *pb.GraphProto) error {
	for i, n := range g.GetNode() {
		it.node, it.index = n, i
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return it.fail("operator domain %q: only the standard operators (ai.onnx) are read", d)
		}
		ins := make([]*val, len(n.GetInput()))
		for j, name := range n.GetInput() {
			if name == "" {
				continue
			}
			v, ok := it.vals[name]
			if !ok {
				return it.fail("input %q is not a graph input, an initializer or an earlier node's output", name)
			}
			ins[j] = v
		}
		outs, err := it.eval(ins)
		if err != nil {
			return err
		}
		for j, name := range n.GetOutput() {
			if name == "" || j >= len(outs) || outs[j] == nil {
				continue
			}
			if _, dup := it.vals[name]; dup {
				return it.fail("output %q is defined twice", name)
			}
			it.vals[name] = outs[j]
		}
	}
	return nil
}

func one(v *val, err error) ([]*val, error) {
	if err != nil {
		return nil, err
	}
	return []*val{v}, nil
}

// eval interprets the current node over its inputs (nil for absent
// ones).
func (it *interp) eval(ins []*val) ([]*val, error) {
	op := it.node.GetOpType()
	if len(ins) == 0 && op != "Constant" {
		return nil, it.fail("no inputs")
	}
	switch op {
	case "LSTM", "GRU", "RNN":
		return it.recurrent(ins)
	case "Gemm":
		return one(it.gemm(ins))
	case "MatMul":
		return one(it.matmul(ins))
	case "Softmax", "LogSoftmax", "Sigmoid":
		return one(it.probs(ins))
	case "Constant":
		return one(it.constant())
	case "Identity", "Dropout":
		if len(ins) == 0 || ins[0] == nil {
			return nil, it.fail("no input")
		}
		if len(ins) > 2 && ins[2] != nil && !(ins[2].kind == vConst && ins[2].k.allZero()) {
			return nil, it.fail("training_mode must be false: recur reads inference graphs")
		}
		return []*val{ins[0]}, nil
	}
	for _, v := range ins {
		if v != nil && v.kind == vFlow {
			return it.flowOp(op, ins)
		}
	}
	return it.shapeOp(op, ins)
}

// constant is a Constant node's value.
func (it *interp) constant() (*val, error) {
	n := it.node
	for _, a := range n.GetAttribute() {
		var k *konst
		switch a.GetName() {
		case "value":
			var err error
			if k, err = decodeTensor(a.GetT()); err != nil {
				return nil, it.fail("%v", err)
			}
		case "value_float":
			k = &konst{shape: []int{}, f: []float32{a.GetF()}}
		case "value_floats":
			k = &konst{shape: []int{len(a.GetFloats())}, f: append([]float32{}, a.GetFloats()...)}
		case "value_int":
			k = &konst{shape: []int{}, i: []int64{a.GetI()}}
		case "value_ints":
			k = &konst{shape: []int{len(a.GetInts())}, i: append([]int64{}, a.GetInts()...)}
		default:
			return nil, it.fail("a constant of kind %s is not supported", a.GetName())
		}
		return &val{kind: vConst, k: k}, nil
	}
	return nil, it.fail("no value")
}

// zeroOps keep zeros zeros; shapeOps turn integers computed from shapes
// into more of them.
var (
	zeroOps  = []string{"Slice", "Expand", "Unsqueeze", "Squeeze", "Reshape", "Transpose", "Concat", "Cast", "Tile", "Mul", "Gather", "Split"}
	shapeOps = []string{"Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Add", "Sub", "Mul", "Div", "Reshape", "Range", "Equal", "Where", "Max", "Min", "ReduceProd"}
)

// shapeOp interprets a node none of whose inputs is the data flow.
func (it *interp) shapeOp(op string, ins []*val) ([]*val, error) {
	switch op {
	case "Shape", "Size":
		return []*val{{kind: vShape}}, nil
	case "ConstantOfShape":
		if a := attr(it.node, "value"); a != nil {
			k, err := decodeTensor(a.GetT())
			if err != nil || !k.allZero() {
				return nil, it.fail("only zeros are supported (the initial states exporters build)")
			}
		}
		return []*val{{kind: vZeros}}, nil
	}
	if len(ins) == 0 {
		return nil, it.fail("no inputs")
	}
	var zeros, shapes, consts int
	for _, v := range ins {
		switch {
		case v == nil:
		case v.kind == vZeros || v.kind == vConst && v.k.allZero() && v.k.len() <= 1:
			zeros++
		case v.kind == vShape:
			shapes++
		}
		if v != nil && v.kind == vConst {
			consts++
		}
	}
	first := ins[0]
	zeroData := first != nil && (first.kind == vZeros || op == "Expand" && first.kind == vConst && first.k.allZero())
	if op == "Concat" {
		zeroData = zeros == len(nonNil(ins)) && zeros > 0 && consts < zeros
	}
	switch {
	case zeroData && slices.Contains(zeroOps, op):
		outs := make([]*val, max(1, len(it.node.GetOutput())))
		for i := range outs {
			outs[i] = &val{kind: vZeros}
		}
		return outs, nil
	case shapes > 0 && slices.Contains(shapeOps, op):
		return []*val{{kind: vShape}}, nil
	case shapes == 0 && zeros == 0 || consts == len(nonNil(ins)):
		return one(it.constEval(op, ins))
	}
	return nil, it.fail("operator %s on these inputs is not part of a recurrent stack recur reads", op)
}

func nonNil(vs []*val) []*val {
	var out []*val
	for _, v := range vs {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

// flowOp interprets a node that reads the data flow.
func (it *interp) flowOp(op string, ins []*val) ([]*val, error) {
	if (ins[0] == nil || ins[0].kind != vFlow) && op != "Gather" && op != "Add" && op != "Concat" {
		return nil, it.fail("operator %s reads the data flow as its first input only", op)
	}
	switch op {
	case "Transpose":
		return one(it.transpose(ins[0].f))
	case "Squeeze":
		return one(it.squeeze(ins))
	case "Reshape":
		return one(it.reshape(ins))
	case "Concat":
		return one(it.concat(ins))
	case "Gather":
		return one(it.gather(ins))
	case "Slice":
		return one(it.slice(ins))
	case "Split":
		return it.split(ins)
	case "Cast":
		return []*val{ins[0]}, nil
	case "Shape", "Size":
		return []*val{{kind: vShape}}, nil
	case "Add":
		return one(it.addBias(ins))
	}
	return nil, it.fail("operator %s is not part of a recurrent stack recur reads (the graph must be an embedding or input, LSTM, GRU or RNN layers and a linear output layer)", op)
}
