package model

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Tasks that Build knows.
const (
	Forecast = "forecast"
	Classify = "classify"
	LM       = "lm"
	Seq2Seq  = "seq2seq"
)

// Spec describes a model. Zero fields mean the documented defaults.
type Spec struct {
	Task string `json:"task" yaml:"task"`
	// Cell is the recurrent cell: "lstm" (default) or "gru".
	Cell string `json:"cell,omitempty" yaml:"cell"`
	// Hidden is the hidden size (zero: 64); Layers the stack depth (zero: 1).
	Hidden int `json:"hidden,omitempty" yaml:"hidden"`
	Layers int `json:"layers,omitempty" yaml:"layers"`
	// Bidirectional runs a reverse direction too (classify only).
	Bidirectional bool `json:"bidirectional,omitempty" yaml:"bidirectional"`
	// Dropout between stacked layers and before the head.
	Dropout float64 `json:"dropout,omitempty" yaml:"dropout"`

	// Inputs is the number of features per step (forecast; zero: 1).
	Inputs int `json:"inputs,omitempty" yaml:"inputs"`
	// Targets is the number of predicted series (forecast; zero: 1) and
	// Horizon the number of future steps of each (zero: 1).
	Targets int `json:"targets,omitempty" yaml:"targets"`
	Horizon int `json:"horizon,omitempty" yaml:"horizon"`
	// Residual makes the forecast head predict the change from the last
	// observed value of each target (the first Targets input features).
	Residual bool `json:"residual,omitempty" yaml:"residual"`

	// Vocab is the vocabulary size and Embed the embedding width
	// (classify, lm; zero Embed: Hidden).
	Vocab int `json:"vocab,omitempty" yaml:"vocab"`
	Embed int `json:"embed,omitempty" yaml:"embed"`
	// Classes is the number of classes (classify).
	Classes int `json:"classes,omitempty" yaml:"classes"`
	// Pool reduces the sequence for classify: "last" (default), "mean",
	// "max" or "attention" (learned attention pooling).
	Pool string `json:"pool,omitempty" yaml:"pool"`
	// Tie shares the embedding matrix with the output layer (lm; needs
	// Embed == Hidden).
	Tie bool `json:"tie,omitempty" yaml:"tie"`

	// TgtVocab is the target vocabulary size (seq2seq; Vocab is the
	// source's) and Attention the attention kind: "general" (default),
	// "dot", "concat" or "bahdanau".
	TgtVocab  int    `json:"tgt_vocab,omitempty" yaml:"tgt_vocab"`
	Attention string `json:"attention,omitempty" yaml:"attention"`
}

// SpecError reports an invalid field of a Spec.
type SpecError struct {
	Field string
	Value any
	Want  string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("model: spec field %q = %v: %s", e.Field, e.Value, e.Want)
}

// withDefaults fills zero fields and validates.
func (s Spec) withDefaults() (Spec, error) {
	if s.Cell == "" {
		s.Cell = "lstm"
	}
	s.Cell = strings.ToLower(s.Cell)
	if s.Hidden == 0 {
		s.Hidden = 64
	}
	if s.Layers == 0 {
		s.Layers = 1
	}
	switch {
	case s.Cell != "lstm" && s.Cell != "gru":
		return s, &SpecError{"cell", s.Cell, "want lstm or gru"}
	case s.Hidden < 0:
		return s, &SpecError{"hidden", s.Hidden, "must be positive"}
	case s.Layers < 0:
		return s, &SpecError{"layers", s.Layers, "must be positive"}
	case s.Dropout < 0 || s.Dropout >= 1:
		return s, &SpecError{"dropout", s.Dropout, "must be in [0, 1)"}
	}
	switch s.Task {
	case Forecast:
		for _, f := range []struct {
			name string
			v    *int
		}{{"inputs", &s.Inputs}, {"targets", &s.Targets}, {"horizon", &s.Horizon}} {
			if *f.v == 0 {
				*f.v = 1
			}
			if *f.v < 0 {
				return s, &SpecError{f.name, *f.v, "must be positive"}
			}
		}
		if s.Targets > s.Inputs {
			return s, &SpecError{"targets", s.Targets, fmt.Sprintf("more targets than inputs (%d); targets are the first input features", s.Inputs)}
		}
	case Seq2Seq:
		if s.Vocab <= 0 {
			return s, &SpecError{"vocab", s.Vocab, "must be positive"}
		}
		if s.TgtVocab <= 0 {
			return s, &SpecError{"tgt_vocab", s.TgtVocab, "must be positive"}
		}
		if s.Embed == 0 {
			s.Embed = s.Hidden
		}
		if s.Attention == "" {
			s.Attention = "general"
		}
		if s.Cell != "lstm" {
			return s, &SpecError{"cell", s.Cell, "seq2seq uses lstm"}
		}
	case Classify, LM:
		if s.Vocab <= 0 {
			return s, &SpecError{"vocab", s.Vocab, "must be positive"}
		}
		if s.Embed == 0 {
			s.Embed = s.Hidden
		}
		if s.Embed < 0 {
			return s, &SpecError{"embed", s.Embed, "must be positive"}
		}
		if s.Task == Classify {
			if s.Classes < 2 {
				return s, &SpecError{"classes", s.Classes, "need at least 2"}
			}
			if s.Pool == "" {
				s.Pool = "last"
			}
			if s.Pool != "last" && s.Pool != "mean" && s.Pool != "max" && s.Pool != "attention" {
				return s, &SpecError{"pool", s.Pool, "want last, mean, max or attention"}
			}
		} else {
			if s.Bidirectional {
				return s, &SpecError{"bidirectional", true, "a language model cannot look ahead"}
			}
			if s.Tie && s.Embed != s.Hidden {
				return s, &SpecError{"tie", true, fmt.Sprintf("needs embed (%d) == hidden (%d)", s.Embed, s.Hidden)}
			}
		}
	default:
		return s, &SpecError{"task", s.Task, "want forecast, classify, lm or seq2seq"}
	}
	return s, nil
}

// ParseSpec decodes a spec from JSON or YAML (name decides: .json is
// JSON, anything else YAML, which also accepts JSON). Unknown fields are
// errors that name the file and line.
func ParseSpec(name string, b []byte) (Spec, error) {
	var s Spec
	if strings.HasSuffix(name, ".json") {
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// ReadSpec reads a spec file.
func ReadSpec(path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("model: %w", err)
	}
	return ParseSpec(path, b)
}
