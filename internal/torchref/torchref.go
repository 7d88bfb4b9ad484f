// Package torchref loads the PyTorch reference values (format recur-torch-ref/1)
// that recur's tests compare against.
//
// The files live in the repository's testdata/torch directory; the environment
// variable RECUR_TORCH_REF names another directory with the same layout.
// Every case in every family must be run by the tests that use it: a case a
// test cannot interpret is a failure, not a skip.
package torchref

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
)

// Env is the environment variable that overrides the reference directory.
const Env = "RECUR_TORCH_REF"

// Tensor is one stored tensor: a row-major shape and its values as float64
// (int64 and bool tensors are stored as whole numbers).
type Tensor struct {
	Shape []int     `json:"shape"`
	DType string    `json:"dtype"`
	Data  []float64 `json:"data"`
}

// F32 returns the values converted to float32.
func (t *Tensor) F32() []float32 {
	out := make([]float32, len(t.Data))
	for i, v := range t.Data {
		out[i] = float32(v)
	}
	return out
}

// Ints returns the values converted to int.
func (t *Tensor) Ints() []int {
	out := make([]int, len(t.Data))
	for i, v := range t.Data {
		out[i] = int(v)
	}
	return out
}

// Case is one reference case: a name, a free-form config and named tensors.
type Case struct {
	Name    string             `json:"name"`
	Config  map[string]any     `json:"config"`
	Tensors map[string]*Tensor `json:"tensors"`
}

// File is one family file such as lstm.json.
type File struct {
	Format string  `json:"format"`
	Family string  `json:"family"`
	Seed   int     `json:"seed"`
	DType  string  `json:"dtype"`
	Cases  []*Case `json:"cases"`
}

// Dir returns the reference directory: $RECUR_TORCH_REF when set, else the
// repository's testdata/torch.
func Dir() string {
	if d := os.Getenv(Env); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "torch")
}

// Load reads family (for example "lstm") from Dir.
func Load(family string) (*File, error) {
	path := filepath.Join(Dir(), family+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Format != "recur-torch-ref/1" {
		return nil, fmt.Errorf("%s: format %q, want recur-torch-ref/1", path, f.Format)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", path)
	}
	return &f, nil
}

// T returns the named tensor or an error naming the case and tensor.
func (c *Case) T(name string) (*Tensor, error) {
	t, ok := c.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("case %s: no tensor %q", c.Name, name)
	}
	return t, nil
}

// Has reports whether the case stores the named tensor.
func (c *Case) Has(name string) bool { _, ok := c.Tensors[name]; return ok }

// Int returns an integer config value.
func (c *Case) Int(key string) (int, error) {
	v, ok := c.Config[key]
	if !ok {
		return 0, fmt.Errorf("case %s: no config %q", c.Name, key)
	}
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("case %s: config %q = %v is not a number", c.Name, key, v)
	}
	return int(f), nil
}

// Float returns a numeric config value.
func (c *Case) Float(key string) (float64, error) {
	v, ok := c.Config[key]
	if !ok {
		return 0, fmt.Errorf("case %s: no config %q", c.Name, key)
	}
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("case %s: config %q = %v is not a number", c.Name, key, v)
	}
	return f, nil
}

// Bool returns a boolean config value (false when absent).
func (c *Case) Bool(key string) bool {
	b, _ := c.Config[key].(bool)
	return b
}

// String returns a string config value ("" when absent).
func (c *Case) String(key string) string {
	s, _ := c.Config[key].(string)
	return s
}

// Names returns the sorted tensor names with the given prefix.
func (c *Case) Names(prefix string) []string {
	var out []string
	for k := range c.Tensors {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Compare checks got against want element-wise with |got-want| <= atol +
// rtol*|want| and returns an error describing the worst element, or nil.
func Compare(what string, got []float32, want []float64, rtol, atol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: got %d values, want %d", what, len(got), len(want))
	}
	worst, wi := 0.0, -1
	for i := range want {
		g := float64(got[i])
		d := math.Abs(g - want[i])
		lim := atol + rtol*math.Abs(want[i])
		if math.IsNaN(g) || d > lim {
			if r := d / lim; math.IsNaN(g) || r > worst {
				worst, wi = r, i
				if math.IsNaN(g) {
					worst = math.Inf(1)
				}
			}
		}
	}
	if wi >= 0 {
		return fmt.Errorf("%s[%d]: got %.9g, want %.9g (%.3gx over tolerance)", what, wi, got[wi], want[wi], worst)
	}
	return nil
}
