package series

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recur-ml/recur/data/input"
)

// TestCSVHugeLine: a 100 MB line is refused after reading about the line
// limit, quickly, with a message of a line.
func TestCSVHugeLine(t *testing.T) {
	src := strings.NewReader(strings.Repeat("7", 100<<20))
	start := time.Now()
	_, err := ReadCSV(io.MultiReader(strings.NewReader("t,value\n1,"), src), "big.csv", CSVOptions{})
	took := time.Since(start)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, input.ErrLineTooLong) || e.Line != 2 {
		t.Fatalf("got %v, want an *Error at line 2 wrapping input.ErrLineTooLong", err)
	}
	if want := "big.csv:2: line too long: longer than the limit of 1 MiB (max-line-bytes)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if read := src.Size() - int64(src.Len()); read > 2<<20 || took > 3*time.Second {
		t.Errorf("read %d bytes of the line in %v, want about 1 MiB, fast", read, took)
	}
}

func TestCSVLimitsAndEncoding(t *testing.T) {
	tests := []struct {
		name, in string
		lim      input.Limits
		want     string // the error
	}{
		{"UTF-16LE", "\xff\xfet\x00,\x00v\x00\n\x00", input.Limits{}, "u.csv:1: UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"},
		{"UTF-16BE", "\xfe\xff\x00t\x00,\x00v\x00\n", input.Limits{}, "u.csv:1: UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"},
		{"UTF-16 without BOM", "t\x00,\x00v\x00\n\x001\x00,\x002\x00\n\x00", input.Limits{}, "u.csv:1: UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"},
		{"line limit", "t,value\n1,2\n2,333333333\n", input.Limits{MaxLineBytes: 8}, "u.csv:3: line too long: longer than the limit of 8 bytes (max-line-bytes)"},
		{"file limit", "t,value\n1,2\n2,3\n3,4\n", input.Limits{MaxFileBytes: 15}, "u.csv:3: file too large: more than the limit of 15 bytes (max-file-bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tt.in), "u.csv", CSVOptions{Limits: tt.lim})
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	f, err := ReadCSV(strings.NewReader("\xef\xbb\xbftime,value\n1,2\n"), "bom.csv", CSVOptions{})
	if err != nil || f.TimeName != "time" || f.Columns[0] != "value" {
		t.Errorf("UTF-8 BOM: got %+v, %v; want columns t, value", f, err)
	}
}

// TestCSVErrorLength: errors quote at most about 100 bytes of a value, a
// column name or a header, whatever their size.
func TestCSVErrorLength(t *testing.T) {
	bigCell := strings.Repeat("x", 10<<20)
	var header strings.Builder
	for i := range 30000 {
		fmt.Fprintf(&header, "column_with_a_long_name_%d,", i)
	}
	wide := "t," + header.String() + "value\n1," + strings.Repeat("1,", 30000) + "2\n"
	hugeName := strings.Repeat("n", 500<<10)
	tests := []struct {
		name, in string
		opt      CSVOptions
		prefix   string
	}{
		{"10 MB cell", "t,value\n1,2\n2," + bigCell + "\n", CSVOptions{Limits: input.Limits{MaxLineBytes: -1}}, `c.csv:3:3: column "value": "xxxx`},
		{"wide header, unknown column", wide, CSVOptions{Columns: []string{"nosuch"}}, `c.csv:1: no column "nosuch" (columns: ["t" "column_with_a_long_name_0"`},
		{"huge column name", "t," + hugeName + "\n1,abc\n", CSVOptions{}, `c.csv:2:3: column "nnnn`},
		{"huge unknown column asked for", "t,value\n1,2\n", CSVOptions{Columns: []string{hugeName}}, `c.csv:1: no column "nnnn`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tt.in), "c.csv", tt.opt)
			if err == nil {
				t.Fatal("got no error")
			}
			if msg := err.Error(); len(msg) > 600 || !strings.HasPrefix(msg, tt.prefix) {
				t.Errorf("got %d bytes %.300q…, want at most 600 starting %q", len(msg), msg, tt.prefix)
			}
		})
	}
}

func TestReadFileLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.csv")
	if err := os.WriteFile(path, []byte("t,value\n1,2\n2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, CSVOptions{Limits: input.Limits{MaxFileBytes: 10}})
	if want := "s.csv: file too large: 16 bytes, more than the limit of 10 bytes (max-file-bytes)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here:", err)
	}
	start := time.Now()
	_, err = ReadFile("/dev/zero", CSVOptions{})
	if !errors.Is(err, input.ErrBinary) || time.Since(start) > time.Second {
		t.Errorf("/dev/zero: got %v after %v, want input.ErrBinary at once", err, time.Since(start))
	}
	// Without the encoding check's help (a device of newline-free text),
	// the line limit stops it: here /dev/zero with the limit tiny.
	_, err = ReadSequencesFile("/dev/zero", SequenceConfig{Limits: input.Limits{MaxLineBytes: 10}})
	if !errors.Is(err, input.ErrBinary) {
		t.Errorf("/dev/zero as sequences: got %v, want input.ErrBinary", err)
	}
}
