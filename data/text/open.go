package text

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Open opens the file at path for reading, decompressing it when it is
// gzip (recognised by its magic bytes, whatever the name).
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, &ParseError{File: path, Err: err}
		}
		return &gzFile{Reader: zr, f: f}, nil
	}
	return &plainFile{Reader: br, f: f}, nil
}

type gzFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzFile) Close() error {
	err := g.Reader.Close()
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}

type plainFile struct {
	*bufio.Reader
	f *os.File
}

func (p *plainFile) Close() error { return p.f.Close() }

// readFile opens path with Open and calls read on its contents.
func readFile[T any](path string, read func(io.Reader, string) (T, error)) (T, error) {
	f, err := Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return read(f, path)
}

// ReadText reads all of r as UTF-8 text; name is used in errors. It fails
// on invalid UTF-8 (naming line and column) and on empty input. Use it
// for a language-model corpus; see [ReadTextFile].
func ReadText(r io.Reader, name string) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", &ParseError{File: name, Err: err}
	}
	if len(b) == 0 {
		return "", &ParseError{File: name, Err: ErrEmpty}
	}
	if err := checkUTF8(b, name, 1, 1); err != nil {
		return "", err
	}
	return string(b), nil
}

// ReadTextFile is [ReadText] on the file at path (gzip allowed).
func ReadTextFile(path string) (string, error) { return readFile(path, ReadText) }

// checkUTF8 returns a *ParseError at the first invalid byte of b, whose
// first byte is at line, col.
func checkUTF8(b []byte, name string, line, col int) error {
	if utf8.Valid(b) {
		return nil
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			l, c := position(b, i)
			if l == 1 {
				c += col - 1
			}
			return errAt(name, line+l-1, c, "invalid UTF-8 byte 0x%02x", b[i])
		}
		i += n
	}
	return nil
}

// lineReader yields the lines of r without their line ending, counting
// line numbers from 1.
type lineReader struct {
	br   *bufio.Reader
	name string
	line int
	err  error
}

func newLineReader(r io.Reader, name string) *lineReader {
	return &lineReader{br: skipBOM(r), name: name}
}

// skipBOM returns a buffered reader over r without a leading UTF-8 byte
// order mark (as spreadsheet programs write).
func skipBOM(r io.Reader) *bufio.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	return br
}

// next returns the next line; ok is false at the end or on error (see
// err).
func (lr *lineReader) next() (line []byte, ok bool) {
	if lr.err != nil {
		return nil, false
	}
	b, err := lr.br.ReadBytes('\n')
	if len(b) == 0 && err != nil {
		if err != io.EOF {
			lr.err = &ParseError{File: lr.name, Line: lr.line + 1, Err: err}
		}
		return nil, false
	}
	if err != nil && err != io.EOF {
		lr.err = &ParseError{File: lr.name, Line: lr.line + 1, Err: err}
		return nil, false
	}
	lr.line++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if err := checkUTF8(b, lr.name, lr.line, 1); err != nil {
		lr.err = err
		return nil, false
	}
	return b, true
}

// fieldCols splits a tab-separated line into fields and their 1-based
// byte columns.
func splitTabs(line string) (fields []string, cols []int) {
	fields = strings.Split(line, "\t")
	cols = make([]int, len(fields))
	c := 1
	for i, f := range fields {
		cols[i] = c
		c += len(f) + 1
	}
	return fields, cols
}

// errNoRows is returned for inputs with no data lines.
func errNoRows(name string) error {
	return &ParseError{File: name, Err: fmt.Errorf("no data rows: %w", ErrEmpty)}
}
