package tune

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Kind is a parameter's distribution.
type Kind string

// The distributions of a search space. Each maps a coordinate u in [0, 1)
// of the sampler's point to a value.
const (
	Uniform    Kind = "uniform"     // low + u·(high − low)
	LogUniform Kind = "log-uniform" // exp of uniform over [log low, log high]; 0 < low
	Int        Kind = "int"         // an integer in [low, high], each equally likely
	LogInt     Kind = "log-int"     // an integer in [low, high], uniform in log; 1 ≤ low
	Choice     Kind = "choice"      // one of the listed values, each equally likely
)

// Limits of a space: a space is a page of hand-written lines.
const (
	MaxParams  = 64   // parameters in a space
	MaxChoices = 1000 // values of one choice
	maxInt     = 1 << 53
)

// A Param is one dimension of a search space: the train key it sets and
// the distribution of its values.
type Param struct {
	Key     string   `json:"key"` // a flag name of "recur train", '_' read as '-'
	Kind    Kind     `json:"kind"`
	Low     float64  `json:"low,omitempty"`
	High    float64  `json:"high,omitempty"`
	Choices []string `json:"choices,omitempty"`
	Line    int      `json:"-"` // line in the space file
}

// A Space is the parameters of a search, in the order of its file.
type Space struct {
	File   string  `json:"-"`
	Params []Param `json:"params"`
}

// SpaceError is an error in a space file: File:Line names the place and
// Key the parameter (empty for errors of the whole file).
type SpaceError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *SpaceError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString("key " + quote(e.Key) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseSpace parses a space file named file (the name is only for
// errors): a YAML mapping from train keys to one-key mappings that name a
// distribution, such as
//
//	lr: {log-uniform: [1e-4, 1e-1]}
//	dropout: {uniform: [0, 0.5]}
//	hidden: {log-int: [8, 128]}
//	lookback: {int: [12, 36]}
//	cell: {choice: [lstm, gru]}
//
// Errors are *SpaceError values naming the line and key at fault.
func ParseSpace(file string, data []byte) (*Space, error) {
	fail := func(line int, key, format string, args ...any) error {
		return &SpaceError{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fail(0, "", "%s", cut(err.Error()))
	}
	if len(doc.Content) == 0 {
		return nil, fail(0, "", "empty: a space names at least one key and its distribution")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "", "a space must be a mapping of keys to distributions, such as \"lr: {log-uniform: [1e-4, 1e-1]}\"")
	}
	s := &Space{File: file}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := strings.ReplaceAll(k.Value, "_", "-")
		if k.Kind != yaml.ScalarNode || key == "" {
			return nil, fail(k.Line, "", "a key must be a flag name")
		}
		if line, dup := seen[key]; dup {
			return nil, fail(k.Line, k.Value, "given twice (first on line %d)", line)
		}
		seen[key] = k.Line
		if len(s.Params) == MaxParams {
			return nil, fail(k.Line, k.Value, "more than %d parameters", MaxParams)
		}
		p, err := parseParam(key, v)
		if err != nil {
			return nil, fail(v.Line, k.Value, "%v", err)
		}
		p.Line = k.Line
		s.Params = append(s.Params, p)
	}
	return s, nil
}

const distributions = "uniform, log-uniform, int, log-int or choice"

// parseParam reads one distribution: {kind: [values]}.
func parseParam(key string, v *yaml.Node) (Param, error) {
	p := Param{Key: key}
	if v.Kind != yaml.MappingNode || len(v.Content) != 2 {
		return p, fmt.Errorf("want one distribution, such as {uniform: [0, 0.5]} (%s); fixed values go in the base --config", distributions)
	}
	name, list := v.Content[0], v.Content[1]
	p.Kind = Kind(strings.ReplaceAll(name.Value, "_", "-"))
	if list.Kind != yaml.SequenceNode {
		return p, fmt.Errorf("%s: want a list, such as [0, 0.5]", quote(name.Value))
	}
	var vals []string
	for _, it := range list.Content {
		if it.Kind != yaml.ScalarNode {
			return p, fmt.Errorf("%s: list items must be plain values", quote(name.Value))
		}
		vals = append(vals, it.Value)
	}
	switch p.Kind {
	case Choice:
		if len(vals) == 0 || len(vals) > MaxChoices {
			return p, fmt.Errorf("choice: want 1 to %d values, got %d", MaxChoices, len(vals))
		}
		p.Choices = vals
		return p, nil
	case Uniform, LogUniform, Int, LogInt:
		return p, p.setRange(vals)
	}
	return p, fmt.Errorf("unknown distribution %s (want %s)", quote(name.Value), distributions)
}

// setRange reads [low, high] and checks it for the kind.
func (p *Param) setRange(vals []string) error {
	if len(vals) != 2 {
		return fmt.Errorf("%s: want [low, high], got %d values", p.Kind, len(vals))
	}
	var b [2]float64
	for i, s := range vals {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: %s is not a finite number", p.Kind, quote(s))
		}
		if (p.Kind == Int || p.Kind == LogInt) && (x != math.Trunc(x) || math.Abs(x) > maxInt) {
			return fmt.Errorf("%s: %s is not an integer (within ±2^53)", p.Kind, quote(s))
		}
		b[i] = x
	}
	p.Low, p.High = b[0], b[1]
	switch {
	case p.Low > p.High, p.Low == p.High && (p.Kind == Uniform || p.Kind == LogUniform):
		return fmt.Errorf("%s: want low < high, got [%s, %s]", p.Kind, vals[0], vals[1])
	case p.Kind == LogUniform && p.Low <= 0:
		return fmt.Errorf("log-uniform: want 0 < low, got %s", vals[0])
	case p.Kind == LogInt && p.Low < 1:
		return fmt.Errorf("log-int: want 1 <= low, got %s", vals[0])
	}
	return nil
}

// Value is the parameter's value at coordinate u in [0, 1), as a flag
// value. Floats keep 4 significant digits (the value a trial runs with is
// the value its records show).
func (p *Param) Value(u float64) string {
	u = min(max(u, 0), math.Nextafter(1, 0))
	switch p.Kind {
	case Choice:
		return p.Choices[min(int(u*float64(len(p.Choices))), len(p.Choices)-1)]
	case Int:
		return strconv.FormatInt(int64(min(p.Low+math.Floor(u*(p.High-p.Low+1)), p.High)), 10)
	case LogInt:
		x := math.Floor(math.Exp(math.Log(p.Low) + u*(math.Log(p.High+1)-math.Log(p.Low))))
		return strconv.FormatInt(int64(min(max(x, p.Low), p.High)), 10)
	case LogUniform:
		return p.round(math.Exp(math.Log(p.Low) + u*(math.Log(p.High)-math.Log(p.Low))))
	default:
		return p.round(p.Low + u*(p.High-p.Low))
	}
}

// round formats x with 4 significant digits, kept within [Low, High].
func (p *Param) round(x float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	if !(r >= p.Low && r <= p.High) {
		r = min(max(x, p.Low), p.High)
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}

// Samples are a few values of the parameter across its range (both ends
// and an inner point), for checking that the key accepts them.
func (p *Param) Samples() []string {
	if p.Kind == Choice {
		return p.Choices
	}
	return []string{p.Value(0), p.Value(0.37), p.Value(1)}
}

// Check calls accept(key, value) for every parameter's sample values and
// returns its first error as a *SpaceError naming the line and key.
func (s *Space) Check(accept func(key, value string) error) error {
	for i := range s.Params {
		p := &s.Params[i]
		for _, v := range p.Samples() {
			if err := accept(p.Key, v); err != nil {
				return &SpaceError{File: s.File, Line: p.Line, Key: p.Key, Msg: err.Error()}
			}
		}
	}
	return nil
}

// Config is the configuration of the point u (one coordinate per
// parameter): each key with its value.
func (s *Space) Config(u []float64) map[string]string {
	c := make(map[string]string, len(s.Params))
	for i := range s.Params {
		c[s.Params[i].Key] = s.Params[i].Value(u[i])
	}
	return c
}

// Keys are the space's keys in file order.
func (s *Space) Keys() []string {
	keys := make([]string, len(s.Params))
	for i, p := range s.Params {
		keys[i] = p.Key
	}
	return keys
}

// quote quotes s for an error message, cut to about 100 bytes.
func quote(s string) string {
	if len(s) <= 100 {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut(s))
}

// cut cuts msg to about 200 bytes, at a character boundary.
func cut(msg string) string {
	if len(msg) <= 200 {
		return msg
	}
	n := 200
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n] + "… (" + strconv.Itoa(len(msg)) + " bytes)"
}
