package model

import (
	"encoding/json"
	"fmt"

	"github.com/recur-ml/recur/checkpoint"
)

// Metadata keys of a model file.
const (
	MetaSpec    = "spec"
	MetaPrep    = "prep"
	MetaMetrics = "metrics"
	MetaSeed    = "seed"
)

// AddTo stores the model's weights, spec and preprocessing state in f.
func (m *Model) AddTo(f *checkpoint.File) error {
	if err := f.AddParams(m.params); err != nil {
		return err
	}
	return m.AddMeta(f)
}

// AddMeta stores the model's spec and preprocessing state (not the
// weights) in f's metadata; a trainer's checkpoint uses it.
func (m *Model) AddMeta(f *checkpoint.File) error {
	if err := f.SetJSON(MetaSpec, m.Spec); err != nil {
		return err
	}
	if len(m.Prep) > 0 {
		f.Metadata[MetaPrep] = string(m.Prep)
	}
	return nil
}

// Save writes the model to path with optional metrics (atomically).
func (m *Model) Save(path string, metrics any) error {
	f := checkpoint.New()
	if err := m.AddTo(f); err != nil {
		return err
	}
	if metrics != nil {
		if err := f.SetJSON(MetaMetrics, metrics); err != nil {
			return err
		}
	}
	return checkpoint.Write(path, f)
}

// FromFile rebuilds the model stored in f: the spec from its metadata, the
// weights strictly by name and shape.
func FromFile(name string, f *checkpoint.File) (*Model, error) {
	var s Spec
	ok, err := f.GetJSON(MetaSpec, &s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("%s: not a recur model: no %q in the metadata", name, MetaSpec)
	}
	m, err := Build(s, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := f.LoadParams(m.params, true); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p, ok := f.Metadata[MetaPrep]; ok {
		if !json.Valid([]byte(p)) {
			return nil, fmt.Errorf("%s: metadata %q is not valid JSON", name, MetaPrep)
		}
		m.Prep = json.RawMessage(p)
	}
	return m, nil
}

// Load reads a model file written by Save (or a training checkpoint).
func Load(path string) (*Model, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	return FromFile(path, f)
}

// ForecastPrep decodes the model's forecast preprocessing state.
func (m *Model) ForecastPrep() (*ForecastPrep, error) {
	if m.Spec.Task != Forecast {
		return nil, fmt.Errorf("model: a %s model has no forecast preprocessing", m.Spec.Task)
	}
	var p ForecastPrep
	if err := json.Unmarshal(m.Prep, &p); err != nil {
		return nil, fmt.Errorf("model: forecast preprocessing state: %w", err)
	}
	if p.Scaler == nil || len(p.Targets) == 0 || p.Lookback < 1 || p.Horizon != m.Spec.Horizon || len(p.Inputs) != m.Spec.Inputs {
		return nil, fmt.Errorf("model: forecast preprocessing state does not match the spec")
	}
	return &p, nil
}

// SetForecastPrep stores p as the model's preprocessing state.
func (m *Model) SetForecastPrep(p *ForecastPrep) error { return m.setPrep(p) }
