package text

import (
	"errors"
	"fmt"
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

func errAt(file string, line, col int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Col: col, Err: fmt.Errorf(format, args...)}
}
