package text

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/data/input"
)

// Format is the layout of a labelled-text file.
type Format int

const (
	// Auto picks the format from the file name: .csv is CSV, .jsonl,
	// .ndjson and .json are JSON Lines, anything else (.tsv, .txt) is TSV;
	// a trailing .gz is ignored.
	Auto Format = iota
	// TSV is one example per line, fields separated by tabs, no quoting.
	TSV
	// CSV is RFC 4180 comma-separated values (quoted fields may span lines).
	CSV
	// JSONL is one JSON object per line.
	JSONL
)

// FormatOf returns the format [Auto] picks for a file name.
func FormatOf(name string) Format {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	switch {
	case strings.HasSuffix(name, ".csv"):
		return CSV
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".json"):
		return JSONL
	}
	return TSV
}

// LabelledConfig configures [ReadLabelled]. The zero value reads a file
// with a header row whose columns "text" and "label" hold the examples.
type LabelledConfig struct {
	Format Format // zero means Auto
	// Text and Label select the columns (TSV, CSV: a header name, or a
	// 0-based index written in decimal when no header name matches; JSONL:
	// an object key). Empty means "text" and "label".
	Text, Label string
	// NoHeader says TSV/CSV files have no header row; Text and Label must
	// then be indices.
	NoHeader bool
	// LabelSep, when set, makes the label field a set of classes
	// separated by it ("sports|politics"; blanks around each trimmed, an
	// empty field the empty set): Labelled.Sets is filled instead of
	// Labels, for multi-label classification.
	LabelSep string
	// Classes fixes the class list (for example the list saved with a
	// model): a label not in it is an error. Nil means: collect the
	// labels of the file; if every label is an integer they are sorted
	// numerically, otherwise by their bytes.
	Classes []string
	// Limits bound the line length and the bytes read; zero fields mean
	// input.DefaultMaxLineBytes (1 MiB: the longest IMDB review is
	// 14 KB) and input.DefaultMaxFileBytes (2 GiB). A UTF-16 file is
	// refused, naming its encoding.
	Limits input.Limits
}

// Labelled is a set of labelled texts. Labels[i] is the index in Classes
// of the class of Texts[i] or, for multi-label data, Sets[i] the indices
// of its classes, increasing (the other is nil); Lines[i] is the line
// where example i starts.
type Labelled struct {
	Texts   []string
	Labels  []int
	Sets    [][]int
	Classes []string
	Lines   []int
}

// ReadLabelledFile is [ReadLabelled] on the file at path (gzip allowed);
// with Format Auto, the format comes from path.
func ReadLabelledFile(path string, cfg LabelledConfig) (*Labelled, error) {
	return readFile(path, cfg.Limits, func(r io.Reader, name string) (*Labelled, error) { return ReadLabelled(r, name, cfg) })
}

// ReadLabelled reads labelled texts from r; name is used in errors and,
// with Format Auto, to pick the format. Errors are *ParseError values
// naming the line and column of: invalid UTF-8, a missing column, a row
// with too few fields, a label outside cfg.Classes, a JSON syntax error,
// or an input without data rows. Blank lines in TSV and JSONL are skipped,
// and so is a leading UTF-8 byte order mark. JSONL labels may be strings,
// numbers (their literal text is the class name) or booleans.
func ReadLabelled(r io.Reader, name string, cfg LabelledConfig) (*Labelled, error) {
	textCol, labelCol := cmp(cfg.Text, "text"), cmp(cfg.Label, "label")
	format := cfg.Format
	if format == Auto {
		format = FormatOf(name)
	}
	var (
		raw   []string // label strings
		where [][2]int // line, col of each label
		out   = &Labelled{}
		err   error
	)
	add := func(text, label string, line, col, textLine int) {
		out.Texts = append(out.Texts, text)
		out.Lines = append(out.Lines, textLine)
		raw = append(raw, label)
		where = append(where, [2]int{line, col})
	}
	switch format {
	case TSV:
		err = readTSV(newLineReader(r, name, cfg.Limits), textCol, labelCol, cfg.NoHeader, add)
	case CSV:
		err = readCSV(input.NewReader(r, name, cfg.Limits), textCol, labelCol, cfg.NoHeader, add)
	case JSONL:
		err = readJSONL(newLineReader(r, name, cfg.Limits), textCol, labelCol, add)
	default:
		return nil, fmt.Errorf("text: unknown format %d", format)
	}
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, errNoRows(name)
	}
	if cfg.LabelSep != "" {
		return labelSets(out, raw, where, name, cfg)
	}
	out.Classes = cfg.Classes
	if out.Classes == nil {
		out.Classes = classList(raw)
	}
	index := make(map[string]int, len(out.Classes))
	for i, c := range out.Classes {
		index[c] = i
	}
	out.Labels = make([]int, len(raw))
	for i, l := range raw {
		id, ok := index[l]
		if !ok {
			return nil, errAt(name, where[i][0], where[i][1], "unknown label %s (classes %s)", input.Quote(l), input.QuoteList(out.Classes))
		}
		out.Labels[i] = id
	}
	return out, nil
}

// labelSets fills out.Sets from the raw label fields, each split at
// cfg.LabelSep.
func labelSets(out *Labelled, raw []string, where [][2]int, name string, cfg LabelledConfig) (*Labelled, error) {
	parts := make([][]string, len(raw))
	var all []string
	for i, l := range raw {
		for _, p := range strings.Split(l, cfg.LabelSep) {
			if p = strings.TrimSpace(p); p != "" {
				parts[i] = append(parts[i], p)
			}
		}
		all = append(all, parts[i]...)
	}
	out.Classes = cfg.Classes
	if out.Classes == nil {
		if len(all) == 0 {
			return nil, errAt(name, where[0][0], where[0][1], "no example has a label (separator %s)", input.Quote(cfg.LabelSep))
		}
		out.Classes = classList(all)
	}
	index := make(map[string]int, len(out.Classes))
	for i, c := range out.Classes {
		index[c] = i
	}
	out.Sets = make([][]int, len(raw))
	for i, ps := range parts {
		set := []int{}
		for _, p := range ps {
			id, ok := index[p]
			if !ok {
				return nil, errAt(name, where[i][0], where[i][1], "unknown label %s (classes %s)", input.Quote(p), input.QuoteList(out.Classes))
			}
			if !slices.Contains(set, id) {
				set = append(set, id)
			}
		}
		slices.Sort(set)
		out.Sets[i] = set
	}
	return out, nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// classList returns the distinct labels, numerically sorted if all are
// integers, else sorted by bytes.
func classList(raw []string) []string {
	seen := map[string]bool{}
	var cl []string
	numeric := true
	for _, l := range raw {
		if !seen[l] {
			seen[l] = true
			cl = append(cl, l)
			if _, err := strconv.ParseInt(l, 10, 64); err != nil {
				numeric = false
			}
		}
	}
	if numeric {
		slices.SortFunc(cl, func(a, b string) int {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return int(min(max(x-y, -1), 1))
		})
	} else {
		slices.Sort(cl)
	}
	return cl
}

// columns resolves the text and label columns against a header (nil
// when the file has none).
func columns(name string, line int, header []string, text, label string) (ti, li int, err error) {
	find := func(col string) (int, error) {
		if i := slices.Index(header, col); i >= 0 {
			return i, nil
		}
		if i, err := strconv.Atoi(col); err == nil && i >= 0 {
			return i, nil
		}
		if header == nil {
			return 0, errAt(name, 0, 0, "column %s: without a header, columns must be 0-based indices", input.Quote(col))
		}
		return 0, errAt(name, line, 0, "missing column %s (header has %s)", input.Quote(col), input.QuoteList(header))
	}
	if ti, err = find(text); err != nil {
		return 0, 0, err
	}
	li, err = find(label)
	return ti, li, err
}

// clip returns raw JSON for an error message: as it is when short,
// quoted and cut (see input.Quote) when long.
func clip(raw json.RawMessage) string {
	if len(raw) <= input.QuoteBytes {
		return string(raw)
	}
	return input.Quote(string(raw))
}

type addFunc func(text, label string, line, col, textLine int)

func readTSV(lr *lineReader, text, label string, noHeader bool, add addFunc) error {
	name := lr.name
	ti, li := -1, -1
	if noHeader {
		var err error
		if ti, li, err = columns(name, 0, nil, text, label); err != nil {
			return err
		}
	}
	for {
		b, ok := lr.next()
		if !ok {
			return lr.err
		}
		if len(b) == 0 {
			continue
		}
		fields, cols := splitTabs(string(b))
		if ti < 0 {
			var err error
			if ti, li, err = columns(name, lr.line, fields, text, label); err != nil {
				return err
			}
			continue
		}
		if need := max(ti, li) + 1; len(fields) < need {
			return errAt(name, lr.line, len(b)+1, "%d fields, want at least %d", len(fields), need)
		}
		add(fields[ti], fields[li], lr.line, cols[li], lr.line)
	}
}

func readCSV(in *input.Reader, text, label string, noHeader bool, add addFunc) error {
	name := in.Name()
	cr := csv.NewReader(in.Reader)
	cr.FieldsPerRecord = -1
	ti, li := -1, -1
	if noHeader {
		var err error
		if ti, li, err = columns(name, 0, nil, text, label); err != nil {
			return err
		}
	}
	for {
		rec, err := cr.Read()
		if ierr := in.Err(); ierr != nil {
			return parseError(ierr)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return errAt(name, pe.Line, pe.Column, "%v", pe.Err)
			}
			return &ParseError{File: name, Err: err}
		}
		line, _ := cr.FieldPos(0)
		for i, f := range rec {
			fl, fc := cr.FieldPos(i)
			if err := checkUTF8([]byte(f), name, fl, fc); err != nil {
				return err
			}
		}
		if ti < 0 {
			if ti, li, err = columns(name, line, rec, text, label); err != nil {
				return err
			}
			continue
		}
		if need := max(ti, li) + 1; len(rec) < need {
			return errAt(name, line, 0, "%d fields, want at least %d", len(rec), need)
		}
		ll, lc := cr.FieldPos(li)
		add(rec[ti], rec[li], ll, lc, line)
	}
}

func readJSONL(lr *lineReader, text, label string, add addFunc) error {
	name := lr.name
	for {
		b, ok := lr.next()
		if !ok {
			return lr.err
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			col := 1
			var se *json.SyntaxError
			if errors.As(err, &se) {
				col = max(int(se.Offset), 1)
			}
			return errAt(name, lr.line, col, "%v", err)
		}
		rawText, ok := obj[text]
		if !ok {
			return errAt(name, lr.line, 1, "missing key %s", input.Quote(text))
		}
		var t string
		if err := json.Unmarshal(rawText, &t); err != nil {
			return errAt(name, lr.line, 1, "key %s: want a string, got %s", input.Quote(text), clip(rawText))
		}
		rawLabel, ok := obj[label]
		if !ok {
			return errAt(name, lr.line, 1, "missing key %s", input.Quote(label))
		}
		var l string
		if err := json.Unmarshal(rawLabel, &l); err != nil {
			var n json.Number
			var b bool
			switch {
			case json.Unmarshal(rawLabel, &n) == nil:
				l = n.String()
			case json.Unmarshal(rawLabel, &b) == nil:
				l = strconv.FormatBool(b)
			default:
				return errAt(name, lr.line, 1, "key %s: want a string, number or boolean, got %s", input.Quote(label), clip(rawLabel))
			}
		}
		add(t, l, lr.line, 1, lr.line)
	}
}

// Pair is a source sentence and its translation.
type Pair struct {
	Src, Tgt string
}

// PairsConfig configures [ReadPairs]. The zero value takes the source
// from column 0 and the target from column 1 of every line, with no header.
type PairsConfig struct {
	// Src and Tgt are 0-based column indices; both zero means 0 and 1.
	Src, Tgt int
	Header   bool // skip the first line
	Max      int  // stop after this many pairs; zero means all
	// MaxWords, when > 0, keeps only the pairs whose two sentences have at
	// most this many white-space separated words (the usual "sentences of
	// up to 10 words" cut of translation benchmarks).
	MaxWords int
	// Limits bound the line length and the bytes read, as
	// LabelledConfig.Limits.
	Limits input.Limits
}

// ReadPairs reads tab-separated sentence pairs (the Tatoeba/Anki format,
// "English<TAB>French[<TAB>attribution]"). Blank lines are skipped; a line
// with too few fields or invalid UTF-8 is a *ParseError.
func ReadPairs(r io.Reader, name string, cfg PairsConfig) ([]Pair, error) {
	src, tgt := cfg.Src, cfg.Tgt
	if src == 0 && tgt == 0 {
		tgt = 1
	}
	if src < 0 || tgt < 0 {
		return nil, fmt.Errorf("text: pairs columns %d, %d: must be >= 0", src, tgt)
	}
	lr := newLineReader(r, name, cfg.Limits)
	var pairs []Pair
	for cfg.Max == 0 || len(pairs) < cfg.Max {
		b, ok := lr.next()
		if !ok {
			if lr.err != nil {
				return nil, lr.err
			}
			break
		}
		if len(b) == 0 || cfg.Header && lr.line == 1 {
			continue
		}
		fields, _ := splitTabs(string(b))
		if need := max(src, tgt) + 1; len(fields) < need {
			return nil, errAt(name, lr.line, len(b)+1, "%d fields, want at least %d", len(fields), need)
		}
		if m := cfg.MaxWords; m > 0 && (len(strings.Fields(fields[src])) > m || len(strings.Fields(fields[tgt])) > m) {
			continue
		}
		pairs = append(pairs, Pair{Src: fields[src], Tgt: fields[tgt]})
	}
	if len(pairs) == 0 {
		return nil, errNoRows(name)
	}
	return pairs, nil
}

// ReadPairsFile is [ReadPairs] on the file at path (gzip allowed).
func ReadPairsFile(path string, cfg PairsConfig) ([]Pair, error) {
	return readFile(path, cfg.Limits, func(r io.Reader, name string) ([]Pair, error) { return ReadPairs(r, name, cfg) })
}
