package train

import (
	"fmt"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/optim"
	"github.com/recur-ml/recur/tensor"
)

const metaOptim = "optim"

// AddOptimState stores s in f: each buffer as the tensor
// "optim.<param>.<buffer>" and the optimizer name and step counts as JSON
// metadata under "optim".
func AddOptimState(f *checkpoint.File, s *optim.State) error {
	for p, bufs := range s.Buffers {
		for name, v := range bufs {
			key := checkpoint.OptimPrefix + p + "." + name
			if _, dup := f.Tensors[key]; dup {
				return fmt.Errorf("train: duplicate optimizer tensor %q", key)
			}
			f.Tensors[key] = tensor.FromSlice(v, len(v))
		}
	}
	return f.SetJSON(metaOptim, struct {
		Optimizer string         `json:"optimizer"`
		Steps     map[string]int `json:"steps"`
	}{s.Optimizer, s.Steps})
}

// OptimState reads the optimizer state stored by AddOptimState. want is
// the name of the optimizer that will load it, for a clear error.
func OptimState(f *checkpoint.File, want string) (*optim.State, error) {
	var meta struct {
		Optimizer string         `json:"optimizer"`
		Steps     map[string]int `json:"steps"`
	}
	ok, err := f.GetJSON(metaOptim, &meta)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("train: checkpoint has no optimizer state")
	}
	if meta.Optimizer != want {
		return nil, fmt.Errorf("train: checkpoint was trained with optimizer %q, resuming with %q", meta.Optimizer, want)
	}
	s := &optim.State{Optimizer: meta.Optimizer, Steps: meta.Steps, Buffers: map[string]map[string][]float32{}}
	for name, t := range f.Tensors {
		rest, ok := strings.CutPrefix(name, checkpoint.OptimPrefix)
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '.')
		if i < 0 {
			return nil, fmt.Errorf("train: optimizer tensor %q has no buffer name", name)
		}
		p, b := rest[:i], rest[i+1:]
		if s.Buffers[p] == nil {
			s.Buffers[p] = map[string][]float32{}
		}
		s.Buffers[p][b] = t.Data
	}
	return s, nil
}
