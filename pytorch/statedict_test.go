package pytorch

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata were written by PyTorch 1.13's torch.save
// (make.py there); TestTorchNow writes them again with the installed
// PyTorch, when there is one.

type fixtureTensor struct {
	Key   string    `json:"key"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

var fixtures = []string{"classifier", "checkpoint", "views"}

func TestFixtures(t *testing.T) { checkFixtures(t, "testdata") }

func TestTorchNow(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("PyTorch is absent: install Debian's python3-torch to read files the installed PyTorch writes")
	}
	dir := t.TempDir()
	if out, err := exec.Command(py, filepath.Join("testdata", "make.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("make.py: %v\n%s", err, out)
	}
	checkFixtures(t, dir)
}

func checkFixtures(t *testing.T, dir string) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			sd, err := Open(filepath.Join(dir, name+".pt"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []fixtureTensor
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, w := range want {
				keys = append(keys, w.Key)
				got := sd.Tensors[w.Key]
				if got == nil {
					t.Errorf("no tensor %q", w.Key)
					continue
				}
				if !slices.Equal(got.Shape, w.Shape) {
					t.Errorf("%s: shape %v, want %v", w.Key, got.Shape, w.Shape)
					continue
				}
				for i, v := range w.Data {
					if got.Data[i] != float32(v) {
						t.Errorf("%s[%d] = %v, want %v", w.Key, i, got.Data[i], float32(v))
						break
					}
				}
			}
			if !slices.Equal(sd.Keys, keys) {
				t.Errorf("keys %q, want %q", sd.Keys, keys)
			}
		})
	}
	t.Run("module", func(t *testing.T) {
		// torch.save(model) pickles the module's class: refused, naming it.
		_, err := Open(filepath.Join(dir, "module.pt"))
		if err == nil || !strings.Contains(err.Error(), "is not allowed") || !strings.Contains(err.Error(), "global ") {
			t.Fatalf("Open(module.pt): %v, want a refused global", err)
		}
		t.Log(err)
	})
}

// pickleOf assembles a pickle: protocol 2, the given opcodes, STOP.
func pickleOf(ops ...string) []byte {
	return []byte("\x80\x02" + strings.Join(ops, "") + ".")
}

func TestUnpickleRefuses(t *testing.T) {
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"eval", "global builtins.eval is not allowed", pickleOf("cbuiltins\neval\n", "X\x04\x00\x00\x001+1", "\x85", "R")},
		{"os.system", "global os.system is not allowed", pickleOf("cos\nsystem\n", "X\x02\x00\x00\x00ls", "\x85", "R")},
		{"stack global", "global posix.system is not allowed", []byte("\x80\x04\x8c\x05posix\x8c\x06system\x93.")},
		{"numpy", "global numpy.core.multiarray._reconstruct is not allowed", pickleOf("cnumpy.core.multiarray\n_reconstruct\n")},
		{"newobj", "opcode 0x81", pickleOf("ccollections\nOrderedDict\n", ")", "\x81")},
		{"build on a tensor", "BUILD on a", pickleOf("}", "}", "b", "0", "N", "}", "b")},
		{"call a storage", "cannot be called", pickleOf("ctorch\nFloatStorage\n", ")", "R")},
		{"missing memo", "memo 7 is not set", pickleOf("h\x07")},
		{"truncated", "a length of 255 with 2 bytes left", []byte("\x80\x02X\xff\x00\x00\x00ab")},
		{"no stop", "no STOP", []byte("\x80\x02N")},
		{"protocol 0", "protocol 0", []byte("\x80\x00N.")},
		{"unhashable key", "unhashable", pickleOf("}", "]", "N", "s")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := unpickle(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("unpickle: %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestReadRefusesViews checks views that reach past their storage and
// entries of the wrong size.
func TestReadRefusesViews(t *testing.T) {
	tensor := func(size, stride, offset string, numel byte) []byte {
		return pickleOf("ccollections\nOrderedDict\n", ")", "R",
			"X\x01\x00\x00\x00w",
			"ctorch._utils\n_rebuild_tensor_v2\n", "(",
			"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK"+string(rune(numel))+"tQ",
			offset, size, stride, "\x89", "ccollections\nOrderedDict\n)R", "t", "R", "s")
	}
	for _, c := range []struct {
		name, want string
		pkl        []byte
		data       int
	}{
		{"past the end", "reach past", tensor("K\x03K\x03\x86", "K\x03K\x01\x86", "K\x00", 8), 32},
		{"offset", "reach past", tensor("K\x02\x85", "K\x01\x85", "K\x07", 8), 32},
		{"short storage", "holds 16 bytes, want 32", tensor("K\x02\x85", "K\x01\x85", "K\x00", 8), 16},
		{"ok", "", tensor("K\x02K\x02\x86", "K\x01K\x02\x86", "K\x03", 8), 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			z := zip.NewWriter(&buf)
			for name, b := range map[string][]byte{"a/data.pkl": c.pkl, "a/data/0": make([]byte, c.data)} {
				w, _ := z.Create(name)
				w.Write(b)
			}
			z.Close()
			sd, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want == "" && !slices.Equal(sd.Tensors["w"].Shape, []int{2, 2}):
				t.Fatalf("shape %v", sd.Tensors["w"].Shape)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Read: %v, want an error with %q", err, c.want)
			}
		})
	}
}
