package input

import (
	"errors"
	"fmt"
	"strconv"
)

// Default limits. A line of 1 MiB is some 70 times the longest review of
// IMDB (14 KB) and holds a CSV row of 50,000 numeric columns, while a
// reader holding one line (bufio and encoding/csv copy it once or twice)
// stays within a few MiB. A file of 2 GiB is ten times the largest corpus
// the recipes train on (PTB's 5 MB, text8's 100 MB, IMDB's 130 MB) and
// still fits in the memory of an ordinary machine once read (every reader
// keeps about the file's size in memory, a language model's token ids
// several times it).
const (
	DefaultMaxLineBytes = 1 << 20
	DefaultMaxFileBytes = 2 << 30
)

// Limits bounds one input. A zero field means the reader's default (for
// most readers DefaultMaxLineBytes and DefaultMaxFileBytes; each reader's
// documentation says where it differs); a negative field means no limit.
type Limits struct {
	// MaxLineBytes is the longest line accepted, its "\n" excluded (a
	// "\r" before it counts). The lines of a CSV field that spans lines
	// count one by one.
	MaxLineBytes int
	// MaxFileBytes is the most bytes read from one input, counted after
	// decompression; a regular file larger than it is refused before
	// reading.
	MaxFileBytes int64
}

// Or returns l with each zero field replaced by def's.
func (l Limits) Or(def Limits) Limits {
	if l.MaxLineBytes == 0 {
		l.MaxLineBytes = def.MaxLineBytes
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = def.MaxFileBytes
	}
	return l
}

// Defaults are the limits of a reader that does not say otherwise.
var Defaults = Limits{MaxLineBytes: DefaultMaxLineBytes, MaxFileBytes: DefaultMaxFileBytes}

// Sentinel errors wrapped by the [*Error] values of this package.
var (
	ErrLineTooLong  = errors.New("line too long")
	ErrFileTooLarge = errors.New("file too large")
	ErrUTF16        = errors.New("UTF-16 text")
	ErrBinary       = errors.New("binary data")
)

// Error is an input refused by its limits or its encoding:
//
//	sales.csv:1: line longer than the limit of 1 MiB (max-line-bytes)
type Error struct {
	File string // the input's name, as given to the reader
	Line int    // 1-based line, 0 for the whole file
	Err  error  // what is wrong: wraps a sentinel error below, or is a gzip error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
	}
	return e.File + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func lineTooLong(name string, line, limit int) *Error {
	return &Error{File: name, Line: line, Err: fmt.Errorf("%w: longer than the limit of %s (max-line-bytes)", ErrLineTooLong, Size(int64(limit)))}
}

func fileTooLarge(name string, line int, size, limit int64) *Error {
	what := "more than"
	if size > 0 {
		what = Size(size) + ", more than"
	}
	return &Error{File: name, Line: line, Err: fmt.Errorf("%w: %s the limit of %s (max-file-bytes)", ErrFileTooLarge, what, Size(limit))}
}

// Size writes a byte count for people: a whole number of GiB, MiB or
// KiB with its unit ("1 MiB", "2 GiB"), anything else in bytes
// ("1000000 bytes").
func Size(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
