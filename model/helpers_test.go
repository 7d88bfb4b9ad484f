package model

import (
	"path/filepath"
	"testing"
)

// reload saves m to a temporary file and loads it back as a T.
func reload[T Model](t *testing.T, m Model) T {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := g.(T)
	if !ok {
		t.Fatalf("reloaded a %T", g)
	}
	return out
}
