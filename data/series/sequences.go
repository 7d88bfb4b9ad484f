package series

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/recur-ml/recur/data/input"
)

// SequenceConfig configures ReadSequences.
type SequenceConfig struct {
	// Label names the column holding each sequence's class (zero:
	// "label").
	Label string
	// ID, when set, names the column identifying the sequence a row
	// belongs to (long format: one row per step, the rows of a sequence
	// consecutive, the other columns its inputs). Without it, each row is
	// one sequence of one input per step (wide format).
	ID string
	// PerStep reads a label at every step (long format): a tagger's
	// targets, Sequences.StepLabels.
	PerStep bool
	// Limits bound the line length and the bytes read, as
	// CSVOptions.Limits.
	Limits input.Limits
}

// Sequences are labelled numeric sequences read from a file.
type Sequences struct {
	// X[n] holds sequence n's steps, Inputs values each, step-major.
	X       [][]float32
	Inputs  int
	Labels  []int    // index in Classes
	Classes []string // sorted numerically when every class is a number, else by bytes
	// StepLabels[n][t] is step t's class (SequenceConfig.PerStep).
	StepLabels [][]int
	Columns    []string // the input columns (long format)
}

// ReadSequencesFile reads labelled numeric sequences from a CSV file with a
// header row; see ReadSequences.
func ReadSequencesFile(path string, cfg SequenceConfig) (*Sequences, error) {
	f, err := input.Open(path, filepath.Base(path), cfg.Limits)
	if err != nil {
		if ie := inputError(err); ie != err {
			return nil, ie
		}
		return nil, fmt.Errorf("series: %w", err)
	}
	defer f.Close()
	return ReadSequences(f, filepath.Base(path), cfg)
}

// ReadSequences reads labelled numeric sequences from CSV with a header
// row: wide (each row a sequence: its label, then one value per step) or
// long (cfg.ID set: each row a step of the sequence its ID names). Errors
// name the line and column of a value that is not a number, a missing
// column, a class that changes within a sequence, or a sequence whose ID
// comes back after other rows.
func ReadSequences(r io.Reader, name string, cfg SequenceConfig) (*Sequences, error) {
	if cfg.Label == "" {
		cfg.Label = "label"
	}
	in := input.NewReader(r, name, cfg.Limits)
	cr := csv.NewReader(in.Reader)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if ierr := in.Err(); ierr != nil {
		return nil, inputError(ierr)
	}
	if err != nil {
		return nil, &Error{File: name, Line: 1, Msg: "no header row", Err: err}
	}
	lab := slices.Index(header, cfg.Label)
	if lab < 0 {
		return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("no label column %s (columns %s)", input.Quote(cfg.Label), input.QuoteList(header))}
	}
	sr := &seqReader{name: name, header: header, label: lab, id: -1, out: &Sequences{}}
	if cfg.ID != "" {
		if sr.id = slices.Index(header, cfg.ID); sr.id < 0 {
			return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("no id column %s (columns %s)", input.Quote(cfg.ID), input.QuoteList(header))}
		}
	}
	if cfg.PerStep && sr.id < 0 {
		return nil, &Error{File: name, Msg: "a label per step needs the long format (an id column)"}
	}
	sr.perStep = cfg.PerStep
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if ierr := in.Err(); ierr != nil {
			return nil, inputError(ierr)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{File: name, Line: line, Msg: "malformed CSV", Err: err}
		}
		if err := sr.row(rec, line); err != nil {
			return nil, err
		}
	}
	return sr.finish()
}

// seqReader accumulates sequences row by row.
type seqReader struct {
	name      string
	header    []string
	label, id int
	out       *Sequences
	labels    []string
	lastID    string
	seen      map[string]int // id → line it started on
	perStep   bool
	steps     [][]string // per-step labels (perStep)
}

// row adds one CSV record.
func (s *seqReader) row(rec []string, line int) error {
	if len(rec) != len(s.header) {
		return &Error{File: s.name, Line: line, Msg: fmt.Sprintf("%d fields, the header has %d", len(rec), len(s.header))}
	}
	var vals []float32
	for c, v := range rec {
		if c == s.label || c == s.id {
			continue
		}
		x, err := strconv.ParseFloat(v, 32)
		if err != nil {
			return &Error{File: s.name, Line: line, Column: s.header[c], Value: v, Msg: msgNotNumber}
		}
		vals = append(vals, float32(x))
	}
	if s.id < 0 {
		s.out.X, s.labels = append(s.out.X, vals), append(s.labels, rec[s.label])
		return nil
	}
	id, n := rec[s.id], len(s.out.X)
	if n == 0 || id != s.lastID {
		if s.seen == nil {
			s.seen = map[string]int{}
		}
		if first, dup := s.seen[id]; dup {
			return &Error{File: s.name, Line: line, Column: s.header[s.id], Value: id, Msg: fmt.Sprintf("sequence started on line %d and is not contiguous", first)}
		}
		s.seen[id], s.lastID = line, id
		s.out.X, s.labels = append(s.out.X, nil), append(s.labels, rec[s.label])
		s.steps = append(s.steps, nil)
		n++
	}
	s.steps[n-1] = append(s.steps[n-1], rec[s.label])
	if !s.perStep && s.labels[n-1] != rec[s.label] {
		return &Error{File: s.name, Line: line, Column: s.header[s.label], Value: rec[s.label], Msg: fmt.Sprintf("sequence %s changes class (was %s)", input.Quote(id), input.Quote(s.labels[n-1]))}
	}
	s.out.X[n-1] = append(s.out.X[n-1], vals...)
	return nil
}

// finish sets the inputs, the classes and the labels.
func (s *seqReader) finish() (*Sequences, error) {
	if len(s.out.X) == 0 {
		return nil, &Error{File: s.name, Msg: "no sequences", Err: ErrEmpty}
	}
	s.out.Inputs = 1
	if s.id >= 0 {
		for c, h := range s.header {
			if c != s.label && c != s.id {
				s.out.Columns = append(s.out.Columns, h)
			}
		}
		s.out.Inputs = len(s.out.Columns)
	}
	if s.perStep {
		var all []string
		for _, st := range s.steps {
			all = append(all, st...)
		}
		s.out.Classes = classesOf(all)
		for _, st := range s.steps {
			var ls []int
			for _, l := range st {
				ls = append(ls, slices.Index(s.out.Classes, l))
			}
			s.out.StepLabels = append(s.out.StepLabels, ls)
		}
		return s.out, nil
	}
	s.out.Classes = classesOf(s.labels)
	for _, l := range s.labels {
		s.out.Labels = append(s.out.Labels, slices.Index(s.out.Classes, l))
	}
	return s.out, nil
}

// classesOf returns the distinct labels, numerically sorted when all are
// numbers.
func classesOf(labels []string) []string {
	var cs []string
	for _, l := range labels {
		if !slices.Contains(cs, l) {
			cs = append(cs, l)
		}
	}
	numeric := true
	for _, c := range cs {
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			numeric = false
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if numeric {
			a, _ := strconv.ParseFloat(cs[i], 64)
			b, _ := strconv.ParseFloat(cs[j], 64)
			return a < b
		}
		return cs[i] < cs[j]
	})
	return cs
}
