package text

import (
	"errors"
	"fmt"

	"github.com/recur-ml/recur/data/input"
)

// ParseError reports a problem in user data at a position in a named
// input. Line and Col are 1-based; zero means unknown. Every reader in this
// package returns its input errors as a *ParseError, so callers can use
// errors.As to get at the position.
type ParseError struct {
	File string // name of the input as given by the caller
	Line int    // 1-based line, 0 if not applicable
	Col  int    // 1-based byte column, 0 if not applicable
	Err  error
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Col, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrEmpty is wrapped by the error a reader returns for an input with no
// data.
var ErrEmpty = errors.New("text: empty input")

// parseError returns err as a *ParseError: an *input.Error (a limit or
// the encoding) with its file and line, any other error as it is (a file
// that cannot be opened). An error that already is one (the limit met by
// a line reader) keeps its position.
func parseError(err error) error {
	var ie *input.Error
	if !errors.As(err, &ie) {
		return err
	}
	if inner := (*input.Error)(nil); errors.As(ie.Err, &inner) {
		ie = inner
	}
	return &ParseError{File: ie.File, Line: ie.Line, Err: ie.Err}
}

func errAt(file string, line, col int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Col: col, Err: fmt.Errorf(format, args...)}
}
