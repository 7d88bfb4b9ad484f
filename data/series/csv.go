package series

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/recur-ml/recur/data/input"
)

// HeaderMode says whether the first record is a header.
type HeaderMode int

const (
	// HeaderAuto: the first record is a header when one of its fields is
	// neither a number, a missing-value marker nor a date.
	HeaderAuto HeaderMode = iota
	HeaderYes
	HeaderNo
)

// NoTimeColumn as CSVOptions.TimeColumn says the file has no time column.
const NoTimeColumn = "-"

// CSVOptions configures NewReader and ReadCSV. The zero value detects
// everything.
type CSVOptions struct {
	// Delimiter separates fields; 0 detects it from the first line among
	// ',', '\t', ';' and '|' (the one that occurs most outside quotes;
	// ',' when none does).
	Delimiter rune
	// Header: HeaderAuto (zero) detects it. Without a header the columns
	// are named col0, col1, ... (and so is a column with an empty header).
	Header HeaderMode
	// TimeColumn names the time column (a name or 0-based index).
	// "" detects it: the first column whose header is time, date,
	// datetime, timestamp, ds, month, year, day or week
	// (case-insensitive), or else the first column whose first value is a
	// date. NoTimeColumn ("-") means there is none.
	TimeColumn string
	// TimeFormat is "" (detect from the first value: a date in one of
	// the common layouts such as 2006-01-02, 2006-01, 2006-01-02 15:04:05
	// or RFC 3339; a number in [1000, 3000) under a time-like header is a
	// decimal year; any other number is a plain number), FormatNumber,
	// FormatDecimalYear, FormatUnix (seconds) or a Go time layout.
	TimeFormat string
	// Columns lists the value columns to keep (names or indices), in
	// order; nil keeps every column except the time column (and, in
	// files written by R from a ts object, whose columns are "time" as a
	// decimal year, "year", "period", then the values, also skips "year"
	// and "period").
	Columns []string
	// ID names the series-id column of a long-format file, one row per
	// series and step (ReadCollection): it is read into Row.ID and is
	// never a value column. "" means the file holds one series.
	ID string
	// Comment, when not 0, starts comment lines that are skipped.
	Comment rune
	// Limits bound the line length and the bytes read; zero fields mean
	// input.DefaultMaxLineBytes (1 MiB) and input.DefaultMaxFileBytes
	// (2 GiB). A UTF-16 file is refused, naming its encoding.
	Limits input.Limits
}

// Row is one data row from a Reader.
type Row struct {
	Line   int       // 1-based line of the row in the file
	Time   float64   // time value (see Reader.TimeKind); 0 with no time column
	ID     string    // the series id (CSVOptions.ID), trimmed; "" without one
	Values []float64 // the selected columns, NaN where missing
}

// Reader reads a delimited time-series file row by row, in the style of
// bufio.Scanner, so files larger than memory can be processed:
//
//	r := series.NewReader(file, "sales.csv", series.CSVOptions{})
//	for r.Next() {
//		row := r.Row()
//		...
//	}
//	if err := r.Err(); err != nil { ... }
//
// The first error is sticky: Next returns false from then on and Err
// returns it. Errors are *Error values naming file, line and column.
type Reader struct {
	name string
	opt  CSVOptions
	in   *input.Reader
	cr   *csv.Reader

	started bool
	err     error
	row     Row
	rec     []string
	line    int

	header   []string // all column names
	width    int
	timeIdx  int // -1 when none
	idIdx    int // -1 when none
	timeName string
	tp       timeParser
	tpSet    bool
	cols     []int // selected value columns
	pending  []string
	pendLine int
}

// NewReader returns a Reader of r; name is used in error messages. It
// reads through an input.Reader with opt.Limits (r itself when it is one).
func NewReader(r io.Reader, name string, opt CSVOptions) *Reader {
	return &Reader{name: name, opt: opt, in: input.NewReader(r, name, opt.Limits), timeIdx: -1, idIdx: -1}
}

// Columns returns the names of the value columns, in Row.Values order.
// It is valid once Next has been called.
func (r *Reader) Columns() []string {
	names := make([]string, len(r.cols))
	for i, c := range r.cols {
		names[i] = r.header[c]
	}
	return names
}

// TimeName returns the time column's name, "" when there is none.
func (r *Reader) TimeName() string { return r.timeName }

// TimeKind returns how Row.Time is to be read; valid once Next returned
// true.
func (r *Reader) TimeKind() TimeKind {
	if r.timeIdx < 0 {
		return NoTime
	}
	return r.tp.kind
}

// Err returns the first error met, nil at a clean end of input.
func (r *Reader) Err() error { return r.err }

// Row returns the current row. Row.Values is overwritten by the next call
// to Next: copy it to keep it.
func (r *Reader) Row() Row { return r.row }

// fail records e, with the reader's file name, as the reader's error
// unless one is already recorded; it returns false for Next to return.
func (r *Reader) fail(e *Error) bool {
	if r.err == nil {
		e.File = r.name
		r.err = e
	}
	return false
}

// Next advances to the next data row and reports whether there is one.
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	if !r.started {
		r.started = true
		if !r.start() {
			return false
		}
	}
	var rec []string
	if r.pending != nil {
		rec, r.line = r.pending, r.pendLine
		r.pending = nil
	} else {
		var ok bool
		if rec, ok = r.read(); !ok {
			return false
		}
	}
	return r.parse(rec)
}

// read returns the next record; ok is false at EOF or on error.
func (r *Reader) read() ([]string, bool) {
	rec, err := r.cr.Read()
	if ierr := r.in.Err(); ierr != nil {
		return nil, r.failInput(ierr)
	}
	if err == io.EOF {
		return nil, false
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, r.fail(&Error{Line: pe.Line, Col: pe.Column, Err: pe.Err})
		}
		return nil, r.fail(&Error{Line: r.line + 1, Err: err})
	}
	r.line, _ = r.cr.FieldPos(0)
	for i, f := range rec {
		if !utf8.ValidString(f) {
			_, col := r.cr.FieldPos(i)
			return nil, r.fail(&Error{Line: r.line, Col: col, Column: r.colName(i), Msg: "invalid UTF-8"})
		}
	}
	return rec, true
}

// failInput records a limit or encoding error of the input.
func (r *Reader) failInput(err error) bool {
	if r.err == nil {
		r.err = inputError(err)
	}
	return false
}

func (r *Reader) colName(i int) string {
	if i < len(r.header) {
		return r.header[i]
	}
	return ""
}

// start detects the delimiter, header and time column.
func (r *Reader) start() bool {
	delim := r.opt.Delimiter
	if delim == 0 {
		delim = detectDelimiter(r.in.Reader, r.opt.Comment)
	}
	r.cr = csv.NewReader(r.in.Reader)
	r.cr.Comma = delim
	r.cr.Comment = r.opt.Comment
	r.cr.FieldsPerRecord = -1
	r.cr.ReuseRecord = true
	r.cr.TrimLeadingSpace = delim != '\t'
	first, ok := r.read()
	if !ok {
		if r.err == nil {
			r.err = &Error{File: r.name, Msg: "empty file", Err: ErrEmpty}
		}
		return false
	}
	firstLine := r.line
	r.width = len(first)
	hasHeader := r.opt.Header == HeaderYes || r.opt.Header == HeaderAuto && isHeader(first)
	if hasHeader {
		r.header = make([]string, len(first))
		seen := map[string]bool{}
		for i, h := range first {
			if h = strings.TrimSpace(h); h == "" {
				h = "col" + strconv.Itoa(i)
			}
			if seen[h] {
				_, col := r.cr.FieldPos(i)
				return r.fail(&Error{Line: firstLine, Col: col, Value: h, Msg: "is a duplicate column name"})
			}
			seen[h] = true
			r.header[i] = h
		}
	} else {
		r.header = make([]string, len(first))
		for i := range first {
			r.header[i] = "col" + strconv.Itoa(i)
		}
		r.pending, r.pendLine = append([]string(nil), first...), firstLine
	}
	var sample []string
	if r.pending != nil {
		sample = r.pending
	} else {
		rec, ok := r.read()
		if !ok {
			if r.err == nil {
				r.err = &Error{File: r.name, Line: firstLine, Msg: "header and no data rows", Err: ErrEmpty}
			}
			return false
		}
		r.pending, r.pendLine = append([]string(nil), rec...), r.line
		sample = rec
	}
	if err := r.chooseColumns(sample); err != nil {
		r.err = &Error{File: r.name, Line: firstLine, Msg: err.Error()}
		return false
	}
	return true
}

func (r *Reader) index(ref string) (int, error) {
	if i := lookup(r.header, ref); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("no column %s (columns: %s)", input.Quote(ref), input.QuoteList(r.header))
}

func (r *Reader) chooseColumns(sample []string) error {
	if r.opt.ID != "" {
		i, err := r.index(r.opt.ID)
		if err != nil {
			return fmt.Errorf("series id column: %v", err)
		}
		r.idIdx = i
	}
	switch ref := r.opt.TimeColumn; ref {
	case NoTimeColumn:
	case "":
		for i, h := range r.header {
			if timeHeaders[strings.ToLower(h)] && i != r.idIdx {
				r.timeIdx = i
				break
			}
		}
		if r.timeIdx < 0 {
			for i, v := range sample {
				if i < len(r.header) && i != r.idIdx && looksLikeDate(v) {
					r.timeIdx = i
					break
				}
			}
		}
	default:
		i, err := r.index(ref)
		if err != nil {
			return fmt.Errorf("time column: %v", err)
		}
		r.timeIdx = i
	}
	if r.timeIdx >= 0 && r.timeIdx == r.idIdx {
		return fmt.Errorf("the series id column %s cannot also be the time column", input.Quote(r.header[r.idIdx]))
	}
	if r.timeIdx >= 0 {
		r.timeName = r.header[r.timeIdx]
	}
	if r.timeIdx >= 0 && r.timeIdx < len(sample) {
		r.tp, r.tpSet = detectTime(r.opt.TimeFormat, r.timeName, sample[r.timeIdx])
	}
	// R's write.csv of a ts object: time, year, period, values...
	rLayout := r.tpSet && r.tp.kind == TimeDecimalYear && r.timeName == "time"
	if r.opt.Columns == nil {
		for i, h := range r.header {
			if i != r.timeIdx && i != r.idIdx && !(rLayout && (h == "year" || h == "period")) {
				r.cols = append(r.cols, i)
			}
		}
	} else {
		for _, ref := range r.opt.Columns {
			i, err := r.index(ref)
			if err != nil {
				return err
			}
			if i == r.idIdx {
				return fmt.Errorf("the series id column %s cannot be a value column", input.Quote(ref))
			}
			r.cols = append(r.cols, i)
		}
	}
	if len(r.cols) == 0 {
		return errors.New("no value columns")
	}
	r.row.Values = make([]float64, len(r.cols))
	return nil
}

// parse fills r.row from one record.
func (r *Reader) parse(rec []string) bool {
	if len(rec) != r.width {
		return r.fail(&Error{Line: r.line, Msg: fmt.Sprintf("has %d fields, want %d like the first line (ragged row)", len(rec), r.width)})
	}
	r.row.Line = r.line
	if r.idIdx >= 0 {
		if r.row.ID = strings.TrimSpace(rec[r.idIdx]); r.row.ID == "" {
			return r.fail(&Error{Line: r.line, Col: r.col(r.idIdx), Column: r.header[r.idIdx], Value: rec[r.idIdx], Msg: "is an empty series id"})
		}
	}
	if r.timeIdx >= 0 {
		s := rec[r.timeIdx]
		if !r.tpSet {
			tp, ok := detectTime(r.opt.TimeFormat, r.timeName, s)
			if !ok {
				return r.fail(&Error{Line: r.line, Col: r.col(r.timeIdx), Column: r.timeName, Value: s, Msg: "is neither a date nor a number"})
			}
			r.tp, r.tpSet = tp, true
		}
		t, msg, ok := r.tp.parse(s)
		if !ok {
			return r.fail(&Error{Line: r.line, Col: r.col(r.timeIdx), Column: r.timeName, Value: s, Msg: msg})
		}
		r.row.Time = t
	}
	for j, c := range r.cols {
		v, ok := parseValue(rec[c])
		if !ok {
			return r.fail(&Error{Line: r.line, Col: r.col(c), Column: r.header[c], Value: rec[c], Msg: msgNotNumber})
		}
		r.row.Values[j] = v
	}
	return true
}

func (r *Reader) col(i int) int {
	if r.pending == nil && r.cr != nil {
		if _, c := r.cr.FieldPos(i); c > 0 {
			return c
		}
	}
	return 0
}

// missingMarkers are the (case-insensitive, trimmed) spellings of a missing
// value.
var missingMarkers = map[string]bool{"": true, "na": true, "n/a": true, "nan": true, "null": true, "none": true, "?": true}

// parseValue parses a finite number or a missing marker (NaN).
func parseValue(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if missingMarkers[strings.ToLower(s)] {
		return math.NaN(), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

func isHeader(rec []string) bool {
	for _, f := range rec {
		if _, ok := parseValue(f); !ok && !looksLikeDate(f) {
			return true
		}
	}
	return false
}

// detectDelimiter counts candidate delimiters outside quotes on the first
// non-comment, non-empty line.
func detectDelimiter(br *bufio.Reader, comment rune) rune {
	buf, _ := br.Peek(64 << 10)
	for len(buf) > 0 {
		line := buf
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 || comment != 0 && bytes.HasPrefix(t, []byte(string(comment))) {
			continue
		}
		best, bestN := ',', 0
		for _, d := range []rune{',', '\t', ';', '|'} {
			n, quoted := 0, false
			for _, c := range string(line) {
				switch {
				case c == '"':
					quoted = !quoted
				case c == d && !quoted:
					n++
				}
			}
			if n > bestN {
				best, bestN = d, n
			}
		}
		return best
	}
	return ','
}

// ReadCSV reads a whole delimited file into a Frame. Rows are kept in file
// order (see Clean for sorting and duplicates).
func ReadCSV(r io.Reader, name string, opt CSVOptions) (*Frame, error) {
	rd := NewReader(r, name, opt)
	var f *Frame
	for rd.Next() {
		if f == nil {
			f = rd.newFrame(name)
		}
		f.appendRow(rd.Row())
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// newFrame returns an empty frame with the reader's columns.
func (r *Reader) newFrame(name string) *Frame {
	f := &Frame{Name: name, TimeName: r.TimeName(), TimeKind: r.TimeKind(), Columns: r.Columns()}
	f.Values = make([][]float64, len(f.Columns))
	return f
}

// appendRow appends a row read by a Reader with f's columns.
func (f *Frame) appendRow(row Row) {
	if f.TimeKind != NoTime {
		f.Time = append(f.Time, row.Time)
	}
	f.Lines = append(f.Lines, row.Line)
	for c, v := range row.Values {
		f.Values[c] = append(f.Values[c], v)
	}
}

// ReadFile opens path and reads it with ReadCSV; errors name the file by
// its base name. A gzip file is decompressed; a regular file larger than
// the file limit is refused before it is read.
func ReadFile(path string, opt CSVOptions) (*Frame, error) {
	return readPath(path, opt, ReadCSV)
}

// readPath opens path (gzip decompressed, the file limit checked first)
// and reads it with read, naming it by its base name.
func readPath[T any](path string, opt CSVOptions, read func(io.Reader, string, CSVOptions) (T, error)) (T, error) {
	name := filepath.Base(path)
	fh, err := input.Open(path, name, opt.Limits)
	if err != nil {
		var zero T
		return zero, inputError(err)
	}
	defer fh.Close()
	return read(fh, name, opt)
}
