package model

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
)

// Summary describes a model or checkpoint file for display (recur
// inspect).
type Summary struct {
	// Metadata is the file's metadata with the preprocessing state
	// shortened: a list longer than 12 items (a vocabulary) becomes its
	// length and first items.
	Metadata map[string]string `json:"metadata"`
	// Tensors are the parameters (not optimizer or training state), in
	// name order; Layers counts their values per layer, in the order the
	// layers first appear.
	Tensors []TensorInfo `json:"tensors"`
	Layers  []LayerCount `json:"layers"`
	// Parameters is the number of parameter values; StateTensors the
	// number of optimizer and training-state tensors.
	Parameters   int `json:"parameters"`
	StateTensors int `json:"state_tensors"`
}

// TensorInfo is one tensor's name and shape, and its dtype when it is
// not float32 ("I8" or "BF16": a quantized weight).
type TensorInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Len   int    `json:"len"`
	DType string `json:"dtype,omitempty"`
}

// LayerCount is the number of parameter values of one layer.
type LayerCount struct {
	Layer  string `json:"layer"`
	Values int    `json:"values"`
}

// Describe summarizes f.
func Describe(f *checkpoint.File) *Summary {
	s := &Summary{Metadata: map[string]string{}}
	for k, v := range f.Metadata {
		if k == MetaPrep {
			v = shortenJSON(v)
		}
		s.Metadata[k] = v
	}
	index := map[string]int{}
	for _, n := range describeNames(f) {
		if strings.HasPrefix(n, checkpoint.OptimPrefix) || strings.HasPrefix(n, checkpoint.TrainPrefix) {
			s.StateTensors++
			continue
		}
		t := describeTensor(f, n)
		s.Tensors = append(s.Tensors, t)
		if f.Int8[strings.TrimSuffix(n, ScaleSuffix)] != nil && strings.HasSuffix(n, ScaleSuffix) {
			continue // a quantized weight's row scales: not parameters
		}
		l := LayerOf(n)
		i, ok := index[l]
		if !ok {
			i = len(s.Layers)
			index[l] = i
			s.Layers = append(s.Layers, LayerCount{Layer: l})
		}
		s.Layers[i].Values += t.Len
		s.Parameters += t.Len
	}
	return s
}

// LayerOf names the layer a parameter belongs to: its module (the name up
// to the first dot) and, for stacked recurrent weights, the layer index,
// both directions together ("rnn.weight_hh_l1_reverse" → "rnn_l1"); an
// ensemble member's keeps its prefix ("ensemble.2.rnn.weight_ih_l0" →
// "ensemble.2.rnn_l0").
func LayerOf(name string) string {
	if rest, ok := strings.CutPrefix(name, "ensemble."); ok {
		if k, inner, ok := strings.Cut(rest, "."); ok {
			return "ensemble." + k + "." + LayerOf(inner)
		}
	}
	mod, rest, _ := strings.Cut(name, ".")
	if i := strings.LastIndex(rest, "_l"); i >= 0 {
		j := i + 2
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j > i+2 && (j == len(rest) || rest[j] == '_') {
			return mod + "_l" + rest[i+2:j]
		}
	}
	return mod
}

// shortenJSON shortens the lists of a JSON text for display.
func shortenJSON(text string) string {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return fmt.Sprintf("%d bytes (not JSON: %v)", len(text), err)
	}
	b, err := json.Marshal(shorten(v))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func shorten(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = shorten(e)
		}
		return x
	case []any:
		if len(x) > 12 {
			return fmt.Sprintf("%d items: %s ...", len(x), strings.Trim(fmt.Sprint(x[:8]), "[]"))
		}
		for i, e := range x {
			x[i] = shorten(e)
		}
	}
	return v
}
