package torchref

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type manifest struct {
	Format   string `json:"format"`
	Families map[string]struct {
		File     string   `json:"file"`
		NumCases int      `json:"num_cases"`
		Cases    []string `json:"cases"`
	} `json:"families"`
}

// TestEveryFamilyLoads checks that each family the manifest lists loads,
// holds the listed cases in order, and that every tensor's data matches
// its shape.
func TestEveryFamilyLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(Dir(), "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Families) == 0 {
		t.Fatal("MANIFEST.json lists no families")
	}
	for fam, want := range m.Families {
		f, err := Load(strings.TrimSuffix(want.File, ".json"))
		if err != nil {
			t.Errorf("%s: %v", fam, err)
			continue
		}
		if len(f.Cases) != want.NumCases {
			t.Errorf("%s: %d cases, manifest says %d", fam, len(f.Cases), want.NumCases)
		}
		for i, c := range f.Cases {
			if i < len(want.Cases) && c.Name != want.Cases[i] {
				t.Errorf("%s: case %d is %q, manifest says %q", fam, i, c.Name, want.Cases[i])
			}
			for name, tn := range c.Tensors {
				n := 1
				for _, d := range tn.Shape {
					n *= d
				}
				if n != len(tn.Data) {
					t.Errorf("%s/%s/%s: shape %v holds %d values, data has %d", fam, c.Name, name, tn.Shape, n, len(tn.Data))
				}
			}
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		got     []float32
		want    []float64
		wantErr bool
	}{
		{[]float32{1, 2}, []float64{1, 2}, false},
		{[]float32{1, 2.0001}, []float64{1, 2}, false},
		{[]float32{1, 2.01}, []float64{1, 2}, true},
		{[]float32{1}, []float64{1, 2}, true},
		{[]float32{float32(nan())}, []float64{0}, true},
	}
	for _, tc := range tests {
		err := Compare("x", tc.got, tc.want, 1e-4, 1e-5)
		if (err != nil) != tc.wantErr {
			t.Errorf("Compare(%v, %v) = %v, want error %v", tc.got, tc.want, err, tc.wantErr)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestEnvOverride(t *testing.T) {
	t.Setenv(Env, t.TempDir())
	if _, err := Load("lstm"); err == nil {
		t.Errorf("Load with %s pointing to an empty dir succeeded; want an error", Env)
	}
}
