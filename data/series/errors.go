package series

import (
	"errors"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/input"
)

// ErrEmpty is wrapped by the error for a file with no rows at all, or with a
// header and no data rows.
var ErrEmpty = errors.New("no data rows")

// Error is a problem in user data, located in a file.
//
//	sales.csv:17:9: column "value": "abc" is not a number
type Error struct {
	File   string // file name as given to the reader; may be ""
	Line   int    // 1-based line, 0 when unknown
	Col    int    // 1-based byte column within the line, 0 when unknown
	Column string // column name, "" when the problem is not in one column
	Value  string // the offending text, "" when none
	Msg    string // what is wrong
	Err    error  // wrapped cause, may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Column != "" {
		b.WriteString("column " + input.Quote(e.Column) + ": ")
	}
	if e.Value != "" || e.Msg == msgNotNumber {
		b.WriteString(input.Quote(e.Value) + " ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil && e.Msg == "" {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// inputError returns err, an *input.Error (a limit or the encoding), as
// an *Error; any other error as it is (a file that cannot be opened).
func inputError(err error) error {
	var ie *input.Error
	if !errors.As(err, &ie) {
		return err
	}
	return &Error{File: ie.File, Line: ie.Line, Msg: ie.Err.Error(), Err: ie}
}

const msgNotNumber = "is not a number"
