package benchrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	pb "github.com/recur-ml/recur/internal/onnxpb"
	"github.com/recur-ml/recur/onnx"
	"github.com/recur-ml/recur/tensor"
)

// ORT times ONNX Runtime (onnxruntime-node, CPU) with bench/ort/bench.js
// on the model recur exports (package onnx) for an inference
// configuration, built from the same seed as recur's. Each thread count
// (intra-op threads; inter-op 1, sequential) runs in its own node process.
// The time per call includes Node's per-call overhead, which the script
// measures on a one-node Identity model in the same process (FloorMs).
// ONNX Runtime has no training: training configurations are unsupported.
type ORT struct {
	// Node is the node executable; "" means "node" on PATH.
	Node string
	// Script is the path of bench/ort/bench.js; its directory must hold
	// node_modules/onnxruntime-node (npm ci there).
	Script string
	// Threads lists the intra-op thread counts to try; nil means 1 and 2.
	Threads []int
	// Dir receives the exported models and job files; "" means a
	// temporary directory made at first use (Close removes it).
	Dir string
	// Seed draws the weights and inputs; 0 means 1, as in Options.
	Seed uint64

	tmp bool
}

// Name is "ort".
func (p *ORT) Name() string { return "ort" }

// Check reports a missing node, script or onnxruntime-node.
func (p *ORT) Check() error {
	if _, err := exec.LookPath(p.node()); err != nil {
		return fmt.Errorf("node is not installed (apt-get install nodejs): %w", err)
	}
	if _, err := os.Stat(p.Script); err != nil || p.Script == "" {
		return fmt.Errorf("bench/ort/bench.js not found (give its path)")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p.Script), "node_modules", "onnxruntime-node", "package.json")); err != nil {
		return errors.New("onnxruntime-node is not installed (cd bench/ort && npm ci)")
	}
	return nil
}

func (p *ORT) node() string {
	if p.Node == "" {
		return "node"
	}
	return p.Node
}

// Unsupported is "no training" for training configurations.
func (p *ORT) Unsupported(c Config) string {
	if c.Training() {
		return "no training"
	}
	return ""
}

// Close removes the temporary directory Measure made, if any.
func (p *ORT) Close() error {
	if !p.tmp {
		return nil
	}
	p.tmp = false
	return os.RemoveAll(p.Dir)
}

// ortJob is bench.js's job file.
type ortJob struct {
	Name        string             `json:"name"`
	Model       string             `json:"model"`
	Inputs      map[string]ortFeed `json:"inputs"`
	FloorModel  string             `json:"floor_model"`
	FloorInputs map[string]ortFeed `json:"floor_inputs"`
	Threads     int                `json:"threads"`
	Steps       int                `json:"steps"`
	Repeat      int                `json:"repeat"`
	Warmup      int                `json:"warmup"`
}

// ortFeed is one input tensor as bench.js reads it.
type ortFeed struct {
	Type string    `json:"type"`
	Dims []int     `json:"dims"`
	Data []float64 `json:"data"`
}

// Measure exports c's model, writes the job and runs bench.js at each
// thread count.
func (p *ORT) Measure(ctx context.Context, c Config, t Timing) (*PeerResult, error) {
	if why := p.Unsupported(c); why != "" {
		return nil, fmt.Errorf("benchrun: ort cannot run %s: %s", c.Name, why)
	}
	job, err := p.prepare(c, t)
	if err != nil {
		return nil, err
	}
	return bestOf(p.Threads, func(n int) (*PeerResult, error) {
		job.Threads = n
		path := filepath.Join(p.Dir, c.Name+"-job.json")
		b, err := json.Marshal(job)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return nil, err
		}
		out, err := runPeer(ctx, nil, p.node(), p.Script, path)
		if err != nil {
			return nil, err
		}
		return ParsePeer(out, p.Name(), c.Name)
	})
}

// prepare writes c's exported model and the Identity model under Dir and
// returns the job without its thread count.
func (p *ORT) prepare(c Config, t Timing) (*ortJob, error) {
	if p.Dir == "" {
		d, err := os.MkdirTemp("", "recur-bench-ort-*")
		if err != nil {
			return nil, err
		}
		p.Dir, p.tmp = d, true
	}
	seed := p.Seed
	if seed == 0 {
		seed = 1
	}
	m, err := Build(c, seed)
	if err != nil {
		return nil, err
	}
	b, err := onnx.Marshal(m.m, onnx.Options{})
	if err != nil {
		return nil, fmt.Errorf("benchrun: exporting %s: %w", c.Name, err)
	}
	job := &ortJob{Name: c.Name, Model: filepath.Join(p.Dir, c.Name+".onnx"), Inputs: ortInputs(c, tensor.NewRNG(seed+1)),
		FloorModel: filepath.Join(p.Dir, "identity.onnx"), FloorInputs: map[string]ortFeed{"x": {Type: "float32", Dims: []int{1}, Data: []float64{1}}},
		Steps: max(t.Steps, 1), Repeat: max(t.Repeat, 1), Warmup: max(t.Warmup, 0)}
	if err := os.WriteFile(job.Model, b, 0o644); err != nil {
		return nil, err
	}
	id, err := identityModel()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(job.FloorModel, id, 0o644); err != nil {
		return nil, err
	}
	return job, nil
}

// ortInputs are random inputs of c's shapes under the exported graph's
// input names (see package onnx): a forecaster's windows (B, T, I) or a
// classifier's token ids (B, T) and lengths (B).
func ortInputs(c Config, rng *tensor.RNG) map[string]ortFeed {
	if c.Kind == KindForecast {
		x := uniform(rng, c.B, c.T, c.I)
		d := make([]float64, len(x.Data))
		for i, v := range x.Data {
			d[i] = float64(v)
		}
		return map[string]ortFeed{"input": {Type: "float32", Dims: []int{c.B, c.T, c.I}, Data: d}}
	}
	ids := make([]float64, c.B*c.T)
	for i, id := range randIDs(rng, c.B*c.T, c.V) {
		ids[i] = float64(id)
	}
	lens := make([]float64, c.B)
	for i := range lens {
		lens[i] = float64(c.T)
	}
	return map[string]ortFeed{"input_ids": {Type: "int64", Dims: []int{c.B, c.T}, Data: ids},
		"sequence_lens": {Type: "int32", Dims: []int{c.B}, Data: lens}}
}

// identityModel is an ONNX model of one Identity node on a float (1):
// the cheapest call ONNX Runtime can make.
func identityModel() ([]byte, error) {
	vi := func(name string) *pb.ValueInfoProto {
		shape := &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: 1}}}}
		return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
			TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)), Shape: shape}}}}
	}
	m := &pb.ModelProto{
		IrVersion:   proto.Int64(onnx.IRVersion),
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(onnx.Opset)}},
		Graph: &pb.GraphProto{Name: proto.String("identity"),
			Node:   []*pb.NodeProto{{OpType: proto.String("Identity"), Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*pb.ValueInfoProto{vi("x")},
			Output: []*pb.ValueInfoProto{vi("y")}},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("benchrun: identity model: %w", err)
	}
	return b, nil
}
