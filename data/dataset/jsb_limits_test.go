package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recur-ml/recur/data/input"
)

func TestReadJSBLimits(t *testing.T) {
	ok := `{"train": [[[60, 64], []]], "valid": [[[60]]], "test": [[[21, 108]]]}`
	tests := []struct {
		name, in string
		lim      input.Limits
		want     string
	}{
		{"file limit", ok, input.Limits{MaxFileBytes: 20}, "c.json:1: file too large: more than the limit of 20 bytes (max-file-bytes)"},
		{"line limit when asked", "{\n" + ok[1:], input.Limits{MaxLineBytes: 30}, "c.json:2: line too long: longer than the limit of 30 bytes (max-line-bytes)"},
		{"UTF-16", "\xff\xfe{\x00}\x00", input.Limits{}, "c.json:1: UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"},
		{"huge unknown key", `{"` + strings.Repeat("k", 1<<20) + `": 1}`, input.Limits{}, `c.json: json: unknown field "kkkk`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadJSBLimited(strings.NewReader(tt.in), "c.json", tt.lim)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || len(err.Error()) > 400 {
				t.Errorf("got %.300v (%d bytes), want %s", err, len(err.Error()), tt.want)
			}
		})
	}
	// A one-line file longer than the default line limit is fine: JSON
	// written by json.dump is one line.
	long := `{"train": [` + strings.Repeat(`[[60, 64], []], `, 100000) + `[[60]]], "valid": [[[60]]], "test": [[[60]]]}`
	if c, err := ReadJSB(strings.NewReader(long), "long.json"); err != nil || len(c.Train) != 100001 {
		t.Errorf("a 1.6 MB line: got %v", err)
	}
}

func TestLoadJSBLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(path, []byte(`{"train": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJSBLimited(path, input.Limits{MaxFileBytes: 4}); !errors.Is(err, input.ErrFileTooLarge) || !strings.HasPrefix(err.Error(), "c.json: ") {
		t.Errorf("got %v, want c.json: file too large", err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here:", err)
	}
	start := time.Now()
	if _, err := LoadJSB("/dev/zero"); !errors.Is(err, input.ErrBinary) || time.Since(start) > time.Second {
		t.Errorf("/dev/zero: got %v after %v, want input.ErrBinary at once", err, time.Since(start))
	}
}
