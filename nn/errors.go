package nn

import (
	"errors"
	"fmt"
	"strconv"
)

// Configuration errors have one style in nn: the type, the field as a
// configuration file names it, its value, and what it must be:
//
//	nn: LSTM: hidden_size = 0: want > 0
//
// Constructors whose configuration can come from a user return them as
// errors; those whose sizes come from code that has validated its own
// configuration panic with the same message.

// fieldError returns the error of field of typ holding value.
func fieldError(typ, field string, value any, want string) error {
	return errors.New(fieldMsg(typ, field, value, want))
}

// literal is a value that a message shows as it is, unquoted.
type literal string

// fieldMsg is fieldError's message; a string value is quoted.
func fieldMsg(typ, field string, value any, want string) string {
	v := fmt.Sprint(value)
	if s, ok := value.(string); ok {
		v = strconv.Quote(s)
	}
	return fmt.Sprintf("nn: %s: %s = %s: want %s", typ, field, v, want)
}

// wantProb is what a probability field must be.
const wantProb = "a probability in [0, 1)"

// isProb reports whether p is in [0, 1) (NaN is not).
func isProb(p float64) bool { return p >= 0 && p < 1 }

// intField is a named integer field, for checkMin.
type intField struct {
	name string
	v    int
}

// checkMin returns the error of the first of typ's fields below lo (0 or
// 1), nil when there is none.
func checkMin(typ string, lo int, fields ...intField) error {
	want := ">= 0"
	if lo == 1 {
		want = "> 0"
	}
	for _, f := range fields {
		if f.v < lo {
			return fieldError(typ, f.name, f.v, want)
		}
	}
	return nil
}
