package pytorch

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzUnpickle feeds the restricted unpickler arbitrary bytes: an object
// or an error, never a panic, a hang or an allocation beyond the input's
// size. Seeds: the fixtures' data.pkl and the refused pickles.
func FuzzUnpickle(f *testing.F) {
	for _, name := range append(fixtures, "module") {
		if b, err := pickleOfFile(filepath.Join("testdata", name+".pt")); err == nil {
			f.Add(b)
		}
	}
	f.Add(pickleOf("cbuiltins\neval\n", "X\x04\x00\x00\x001+1", "\x85", "R"))
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x01a\x94]\x94(K\x01h\x00e."))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = unpickle(b)
	})
}

// FuzzRead feeds Read arbitrary archives; seeds are the fixtures.
func FuzzRead(f *testing.F) {
	for _, name := range append(fixtures, "module") {
		if b, err := os.ReadFile(filepath.Join("testdata", name+".pt")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, k := range sd.Keys {
			if sd.Tensors[k] == nil {
				t.Fatalf("key %q without a tensor", k)
			}
		}
	})
}

// pickleOfFile returns the data.pkl of a torch.save file.
func pickleOfFile(path string) ([]byte, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	for _, f := range z.File {
		if filepath.Base(f.Name) == "data.pkl" {
			return readEntry(f, MaxPickle, true)
		}
	}
	return nil, os.ErrNotExist
}
