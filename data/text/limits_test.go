package text

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

const utf16Msg = "UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"

// TestReadersLimits runs every line reader of the package over inputs
// that break a limit or are UTF-16: each must return a *ParseError naming
// the file, the line and the limit.
func TestReadersLimits(t *testing.T) {
	readers := []struct {
		name string
		read func(r io.Reader, lim input.Limits) error
	}{
		{"tsv", func(r io.Reader, lim input.Limits) error {
			_, err := ReadLabelled(r, "d.tsv", LabelledConfig{Limits: lim})
			return err
		}},
		{"csv", func(r io.Reader, lim input.Limits) error {
			_, err := ReadLabelled(r, "d.csv", LabelledConfig{Limits: lim})
			return err
		}},
		{"jsonl", func(r io.Reader, lim input.Limits) error {
			_, err := ReadLabelled(r, "d.jsonl", LabelledConfig{Limits: lim})
			return err
		}},
		{"pairs", func(r io.Reader, lim input.Limits) error {
			_, err := ReadPairs(r, "d.tsv", PairsConfig{Header: true, Limits: lim})
			return err
		}},
	}
	line := strings.Repeat("a", 100<<20)
	header := map[string]string{"tsv": "text\tlabel\n", "csv": "text,label\n", "jsonl": `{"text": "a", "label": "b"}` + "\n", "pairs": "en\tfr\n"}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			// A line of 100 MB: refused after about the default limit.
			src := strings.NewReader(line)
			start := time.Now()
			err := rd.read(io.MultiReader(strings.NewReader(header[rd.name]), src), input.Limits{})
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, input.ErrLineTooLong) || pe.Line != 2 || !strings.HasSuffix(err.Error(), ":2: line too long: longer than the limit of 1 MiB (max-line-bytes)") {
				t.Errorf("100 MB line: got %v, want a *ParseError at line 2 for the line limit", err)
			}
			if read := src.Size() - int64(src.Len()); read > 2<<20 || time.Since(start) > 3*time.Second {
				t.Errorf("100 MB line: read %d bytes in %v", read, time.Since(start))
			}
			err = rd.read(strings.NewReader(header[rd.name]+header[rd.name]+header[rd.name]), input.Limits{MaxFileBytes: int64(len(header[rd.name]) + 3)})
			if !errors.As(err, &pe) || !errors.Is(err, input.ErrFileTooLarge) || pe.Line != 2 {
				t.Errorf("file limit: got %v, want a *ParseError at line 2", err)
			}
			err = rd.read(strings.NewReader("\xff\xfet\x00e\x00x\x00t\x00"), input.Limits{})
			if !errors.As(err, &pe) || !strings.HasSuffix(err.Error(), ":1: "+utf16Msg) {
				t.Errorf("UTF-16: got %v, want a *ParseError ending %q", err, utf16Msg)
			}
		})
	}
}

func TestReadTextLimited(t *testing.T) {
	// Runs of é (two bytes) across the 1 MiB chunks: whole characters
	// split between chunks are not invalid.
	big := strings.Repeat("é", 1<<20+1) + "\nend"
	s, err := ReadText(strings.NewReader(big), "big.txt")
	if err != nil || s != big {
		t.Fatalf("got %d bytes, %v; want the %d bytes back", len(s), err, len(big))
	}
	// An invalid byte after several chunks is located exactly.
	bad := strings.Repeat("ab\n", 1<<20) + "xy\xff"
	_, err = ReadText(strings.NewReader(bad), "bad.txt")
	if want := fmt.Sprintf("bad.txt:%d:3: invalid UTF-8 byte 0xff", 1<<20+1); err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	tests := []struct {
		name, in string
		lim      input.Limits
		want     string
	}{
		{"UTF-16", "\xff\xfea\x00b\x00", input.Limits{}, "c.txt:1: " + utf16Msg},
		{"file limit", "abc\ndef\nghi\n", input.Limits{MaxFileBytes: 6}, "c.txt:2: file too large: more than the limit of 6 bytes (max-file-bytes)"},
		{"line limit when asked", "abc\ndefgh\n", input.Limits{MaxLineBytes: 4}, "c.txt:2: line too long: longer than the limit of 4 bytes (max-line-bytes)"},
		{"only a BOM", "\xef\xbb\xbf", input.Limits{}, "c.txt: text: empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTextLimited(strings.NewReader(tt.in), "c.txt", tt.lim)
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// A single line of 3 MiB (text8 is one line of 100 MB) is a corpus.
	if s, err := ReadText(strings.NewReader(strings.Repeat("w ", 3<<19)), "one.txt"); err != nil || len(s) != 3<<20 {
		t.Errorf("one long line: got %d bytes, %v", len(s), err)
	}
	if s, err := ReadText(strings.NewReader("\xef\xbb\xbfhello"), "bom.txt"); err != nil || s != "hello" {
		t.Errorf("UTF-8 BOM: got %q, %v; want hello", s, err)
	}
}

func TestReadTextFileLimited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.txt")
	if err := os.WriteFile(path, []byte("some text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadTextFileLimited(path, input.Limits{MaxFileBytes: 5})
	if want := path + ": file too large: 10 bytes, more than the limit of 5 bytes (max-file-bytes)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here:", err)
	}
	start := time.Now()
	_, err = ReadTextFile("/dev/zero")
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, input.ErrBinary) || time.Since(start) > time.Second {
		t.Errorf("/dev/zero: got %v after %v, want a *ParseError for binary data at once", err, time.Since(start))
	}
	_, err = ReadLabelledFile("/dev/zero", LabelledConfig{})
	if !errors.As(err, &pe) || !errors.Is(err, input.ErrBinary) {
		t.Errorf("/dev/zero as labelled text: got %v", err)
	}
}

// TestErrorLength: errors quote at most about 100 bytes of a label, a
// column name, a header or a JSON value.
func TestErrorLength(t *testing.T) {
	huge := strings.Repeat("z", 512<<10)
	var wide strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&wide, "col%d\t", i)
	}
	tests := []struct {
		name, file, in string
		cfg            LabelledConfig
		prefix         string
	}{
		{"unknown label", "l.tsv", "text\tlabel\nhi\t" + huge + "\n", LabelledConfig{Classes: []string{"a", "b"}}, `l.tsv:2:4: unknown label "zzz`},
		{"many classes", "l.tsv", "text\tlabel\nhi\tnosuch\n", LabelledConfig{Classes: strings.Fields(strings.Repeat("class ", 50000))}, `l.tsv:2:4: unknown label "nosuch" (classes ["class" "class"`},
		{"wide header", "l.tsv", wide.String() + "\nx\n", LabelledConfig{}, `l.tsv:1: missing column "text" (header has ["col0" "col1"`},
		{"huge column asked for", "l.tsv", "text\tlabel\n", LabelledConfig{Text: huge}, `l.tsv:1: missing column "zzz`},
		{"huge JSON value", "l.jsonl", `{"text": [` + strings.Repeat("1,", 200<<10) + `1], "label": "a"}` + "\n", LabelledConfig{}, `l.jsonl:1:1: key "text": want a string, got "[1,1,1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadLabelled(strings.NewReader(tt.in), tt.file, tt.cfg)
			if err == nil {
				t.Fatal("got no error")
			}
			if msg := err.Error(); len(msg) > 600 || !strings.HasPrefix(msg, tt.prefix) {
				t.Errorf("got %d bytes %.300q, want at most 600 starting %q", len(msg), msg, tt.prefix)
			}
		})
	}
}
