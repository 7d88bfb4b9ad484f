package input

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// endless is an input of n bytes (or without end when n < 0) of c.
type endless struct {
	c    byte
	n    int64
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= 0 && e.read >= e.n {
		return 0, io.EOF
	}
	k := len(p)
	if e.n >= 0 {
		k = int(min(int64(k), e.n-e.read))
	}
	for i := range p[:k] {
		p[i] = e.c
	}
	e.read += int64(k)
	return k, nil
}

func TestReaderLimits(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		lim      Limits
		want     string // what is read before the error
		wantErr  error
		wantLine int
	}{
		{"within limits", "ab\ncd\n", Limits{MaxLineBytes: 2, MaxFileBytes: 6}, "ab\ncd\n", nil, 0},
		{"line over the limit", "ab\ncdef\ngh\n", Limits{MaxLineBytes: 3}, "ab\ncde", ErrLineTooLong, 2},
		{"last line without newline", "ab\ncdef", Limits{MaxLineBytes: 3}, "ab\ncde", ErrLineTooLong, 2},
		{"CRLF counts the CR", "abc\r\n", Limits{MaxLineBytes: 3}, "abc", ErrLineTooLong, 1},
		{"file over the limit", "ab\ncd\nef\n", Limits{MaxFileBytes: 7}, "ab\ncd\ne", ErrFileTooLarge, 3},
		{"no limits", strings.Repeat("x", 3000), Limits{MaxLineBytes: -1, MaxFileBytes: -1}, strings.Repeat("x", 3000), nil, 0},
		{"UTF-8 BOM skipped", "\xef\xbb\xbfa,b\n", Limits{}, "a,b\n", nil, 0},
		{"UTF-16LE BOM", "\xff\xfea\x00", Limits{}, "", ErrUTF16, 1},
		{"UTF-16BE BOM", "\xfe\xff\x00a", Limits{}, "", ErrUTF16, 1},
		{"UTF-16LE without BOM", "t\x00,\x00v\x00\n\x001\x00,\x002\x00\n\x00", Limits{}, "", ErrUTF16, 1},
		{"UTF-16BE without BOM", "\x00t\x00,\x00v\x00\n\x001\x00,\x002", Limits{}, "", ErrUTF16, 1},
		{"NUL bytes", "\x00\x00\x00\x00\x00\x00", Limits{}, "", ErrBinary, 1},
		{"a few NUL bytes are data", "abc\x00defghijk\n", Limits{}, "abc\x00defghijk\n", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in), "f.csv", tt.lim)
			got, err := io.ReadAll(r)
			if string(got) != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if tt.wantErr == nil {
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "f.csv" || e.Line != tt.wantLine || r.Err() != err {
				t.Errorf("got %#v (Err %v), want an *Error at f.csv line %d", err, r.Err(), tt.wantLine)
			}
		})
	}
}

// TestHugeLineRefusedQuickly reads a line of 100 MB that never ends: the
// reader stops after about the limit, fast, with a short message.
func TestHugeLineRefusedQuickly(t *testing.T) {
	src := &endless{c: '1', n: 100 << 20}
	start := time.Now()
	r := NewReader(io.MultiReader(strings.NewReader("t,value\n"), src), "big.csv", Limits{})
	_, err := io.Copy(io.Discard, r)
	took := time.Since(start)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("got %v, want ErrLineTooLong", err)
	}
	if want := "big.csv:2: line too long: longer than the limit of 1 MiB (max-line-bytes)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if src.read > DefaultMaxLineBytes+2*bufSize {
		t.Errorf("read %d bytes of the line, want about the limit (%d)", src.read, DefaultMaxLineBytes)
	}
	if took > 2*time.Second {
		t.Errorf("took %v to refuse the line", took)
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("y", 3*bufSize)
	r := NewReader(strings.NewReader("a\r\n"+long+"\nlast"), "f.txt", Limits{MaxLineBytes: 4 * bufSize})
	var got []string
	for {
		b, err := r.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	if len(got) != 3 || got[0] != "a" || got[1] != long || got[2] != "last" {
		t.Errorf("got %d lines %.10q, want a, the long line, last", len(got), got)
	}
	r = NewReader(strings.NewReader("ok\n"+long), "f.txt", Limits{MaxLineBytes: bufSize})
	if b, err := r.ReadLine(); err != nil || string(b) != "ok" {
		t.Fatalf("got %q, %v; want ok", b, err)
	}
	if _, err := r.ReadLine(); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("got %v, want ErrLineTooLong", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(plain, []byte("x\n1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("1234567\n"), 1000))
	zw.Close()
	packed := filepath.Join(dir, "b.csv.gz")
	if err := os.WriteFile(packed, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		lim        Limits
		want       int // bytes read
		wantErr    error
	}{
		{"plain", plain, Limits{}, 6, nil},
		{"regular file over the limit, refused before reading", plain, Limits{MaxFileBytes: 5}, -1, ErrFileTooLarge},
		{"gzip decompressed", packed, Limits{}, 8000, nil},
		{"gzip counted after decompression", packed, Limits{MaxFileBytes: 4000}, 4000, ErrFileTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path, "data", tt.lim)
			if tt.want < 0 {
				if !errors.Is(err, tt.wantErr) || f != nil {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if want := "data: file too large: 6 bytes, more than the limit of 5 bytes (max-file-bytes)"; err.Error() != want {
					t.Errorf("got %q, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if len(b) != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("read %d bytes, %v; want %d, %v", len(b), err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestDevZero: a device has no size, and /dev/zero has no line ending
// either; it must be refused at once, without reading it all.
func TestDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here:", err)
	}
	for _, lim := range []Limits{{}, {MaxLineBytes: -1, MaxFileBytes: -1}} {
		f, err := Open("/dev/zero", "zero", lim)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		n, err := io.Copy(io.Discard, f)
		f.Close()
		if !errors.Is(err, ErrBinary) || n != 0 || time.Since(start) > time.Second {
			t.Errorf("limits %+v: read %d bytes in %v, %v; want ErrBinary at once", lim, n, time.Since(start), err)
		}
	}
}

func TestReaderReuse(t *testing.T) {
	r := NewReader(strings.NewReader("a"), "x", Limits{})
	if NewReader(r, "y", Limits{MaxLineBytes: 1}) != r {
		t.Error("NewReader of a *Reader did not return it")
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1000: "1000 bytes", 1024: "1 KiB", 1 << 20: "1 MiB", 2 << 30: "2 GiB", 1000000: "1000000 bytes", 3 << 19: "1536 KiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
