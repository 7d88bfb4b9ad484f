package text

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/recur-ml/recur/data/input"
)

// Open opens the file at path for reading, decompressing it when it is
// gzip (recognised by its magic bytes, whatever the name). It reads
// through an input.Reader without size limits; the readers of this package
// take their limits from their configs.
func Open(path string) (io.ReadCloser, error) {
	f, err := input.Open(path, path, input.Limits{MaxLineBytes: -1, MaxFileBytes: -1})
	if err != nil {
		return nil, parseError(err)
	}
	return f, nil
}

// readFile opens path with input.Open and the limits lim and calls read
// on its contents.
func readFile[T any](path string, lim input.Limits, read func(io.Reader, string) (T, error)) (T, error) {
	f, err := input.Open(path, path, lim)
	if err != nil {
		var zero T
		return zero, parseError(err)
	}
	defer f.Close()
	return read(f, path)
}

// CorpusLimits are the default limits of [ReadTextLimited]: no line limit
// (text8 is a single line of 100 MB, and a corpus is held whole in memory
// anyway) and files of up to input.DefaultMaxFileBytes (2 GiB).
var CorpusLimits = input.Limits{MaxLineBytes: -1, MaxFileBytes: input.DefaultMaxFileBytes}

// ReadText reads all of r as UTF-8 text; name is used in errors. It fails
// on invalid UTF-8 (naming line and column) and on empty input. Use it
// for a language-model corpus; see [ReadTextFile]. It is
// [ReadTextLimited] with the default limits.
func ReadText(r io.Reader, name string) (string, error) {
	return ReadTextLimited(r, name, input.Limits{})
}

// ReadTextLimited is [ReadText] with limits; zero fields of lim are those
// of [CorpusLimits]. It reads r in chunks of 1 MiB, checking each as it
// comes, so that a corpus over a limit, in UTF-16 or not text at all is
// refused as soon as that is seen.
func ReadTextLimited(r io.Reader, name string, lim input.Limits) (string, error) {
	in := input.NewReader(r, name, lim.Or(CorpusLimits))
	var sb strings.Builder
	if f, ok := r.(*input.File); ok && f.Size() > 0 {
		sb.Grow(int(min(f.Size(), 1<<40)))
	}
	buf := make([]byte, 1<<20)
	line, col, carry := 1, 1, 0
	for {
		n, err := io.ReadFull(in, buf[carry:])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return "", parseError(&input.Error{File: name, Line: line, Err: err})
		}
		n += carry
		end := n
		if err == nil {
			end = completeRunes(buf[:n])
		}
		if uerr := checkUTF8(buf[:end], name, line, col); uerr != nil {
			return "", uerr
		}
		line, col = advance(buf[:end], line, col)
		sb.Write(buf[:end])
		carry = copy(buf, buf[end:n])
		if err != nil {
			break
		}
	}
	if sb.Len() == 0 {
		return "", &ParseError{File: name, Err: ErrEmpty}
	}
	return sb.String(), nil
}

// ReadTextFile is [ReadText] on the file at path (gzip allowed).
func ReadTextFile(path string) (string, error) { return ReadTextFileLimited(path, input.Limits{}) }

// ReadTextFileLimited is [ReadTextLimited] on the file at path (gzip
// allowed); a file larger than the file limit is refused before it is
// read.
func ReadTextFileLimited(path string, lim input.Limits) (string, error) {
	return readFile(path, lim.Or(CorpusLimits), func(r io.Reader, name string) (string, error) { return ReadTextLimited(r, name, lim) })
}

// completeRunes returns the length of the longest prefix of b that does
// not end inside a UTF-8 sequence that later bytes may complete.
func completeRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// advance returns the line and column after b, whose first byte is at
// line, col.
func advance(b []byte, line, col int) (int, int) {
	if k := bytes.Count(b, []byte("\n")); k > 0 {
		return line + k, len(b) - bytes.LastIndexByte(b, '\n')
	}
	return line, col + len(b)
}

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
// line numbers from 1, within the limits of an input.Reader.
type lineReader struct {
	in   *input.Reader
	name string
	line int
	err  error
}

func newLineReader(r io.Reader, name string, lim input.Limits) *lineReader {
	return &lineReader{in: input.NewReader(r, name, lim), name: name}
}

// next returns the next line; ok is false at the end or on error (see
// err).
func (lr *lineReader) next() (line []byte, ok bool) {
	if lr.err != nil {
		return nil, false
	}
	b, err := lr.in.ReadLine()
	if err == io.EOF {
		return nil, false
	}
	if err != nil {
		lr.err = parseError(&input.Error{File: lr.name, Line: lr.line + 1, Err: err})
		return nil, false
	}
	lr.line++
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
