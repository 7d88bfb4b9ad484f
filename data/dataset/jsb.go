package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/recur-ml/recur/data/input"
	"github.com/recur-ml/recur/tensor"
)

// Piano-roll range: MIDI notes 21 (A0) to 108 (C8), the 88 piano keys.
const (
	LowestPitch = 21
	Pitches     = 88
)

// Chorales are the JSB chorales in their standard split. Each chorale is
// a list of time steps (quarter notes) and each step the MIDI pitches
// sounding then (possibly none).
type Chorales struct {
	Train [][][]int `json:"train"`
	Valid [][][]int `json:"valid"`
	Test  [][][]int `json:"test"`
}

// PianoRollLimits are the default limits of [ReadJSBLimited]: no line
// limit (JSON written by Python's json.dump is one line) and files of up
// to 256 MiB (the JSB chorales take 0.5 MB, Piano-midi.de about 10 MB; a
// piano roll decodes into about four times its size in memory).
var PianoRollLimits = input.Limits{MaxLineBytes: -1, MaxFileBytes: 256 << 20}

// ReadJSB reads the JSON piano-roll format of the JSB chorales:
// {"train": [...], "valid": [...], "test": [...]}, each a list of
// chorales. Errors name the file with line:column for malformed JSON, or
// the split, chorale and step of a pitch outside 21-108 or an empty
// chorale.
func ReadJSB(r io.Reader, name string) (*Chorales, error) {
	return ReadJSBLimited(r, name, input.Limits{})
}

// ReadJSBLimited is [ReadJSB] with limits; zero fields of lim are those of
// [PianoRollLimits]. Input over a limit, in UTF-16 or binary is an
// *input.Error.
func ReadJSBLimited(r io.Reader, name string, lim input.Limits) (*Chorales, error) {
	in := input.NewReader(r, name, lim.Or(PianoRollLimits))
	b, err := io.ReadAll(in)
	if ierr := in.Err(); ierr != nil {
		return nil, ierr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	var c Chorales
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var off int64 = -1
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
		}
		if off >= 0 {
			line, col := position(b, off)
			return nil, fmt.Errorf("%s:%d:%d: %s", name, line, col, input.Cut(err.Error()))
		}
		return nil, fmt.Errorf("%s: %s", name, input.Cut(err.Error()))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: data after the JSON object", name)
	}
	for _, s := range []struct {
		name string
		set  [][][]int
	}{{"train", c.Train}, {"valid", c.Valid}, {"test", c.Test}} {
		if len(s.set) == 0 {
			return nil, fmt.Errorf("%s: split %q is missing or empty", name, s.name)
		}
		for i, ch := range s.set {
			if len(ch) == 0 {
				return nil, fmt.Errorf("%s: %s chorale %d has no time steps", name, s.name, i)
			}
			for t, step := range ch {
				for _, p := range step {
					if p < LowestPitch || p >= LowestPitch+Pitches {
						return nil, fmt.Errorf("%s: %s chorale %d step %d: pitch %d outside %d-%d", name, s.name, i, t, p, LowestPitch, LowestPitch+Pitches-1)
					}
				}
			}
		}
	}
	return &c, nil
}

// position converts a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// LoadJSB opens and reads a JSB chorales JSON file (see ReadJSB).
func LoadJSB(path string) (*Chorales, error) { return LoadJSBLimited(path, input.Limits{}) }

// LoadJSBLimited is [LoadJSB] with limits (see [ReadJSBLimited]); a file
// larger than the file limit is refused before it is read.
func LoadJSBLimited(path string, lim input.Limits) (*Chorales, error) {
	name := filepath.Base(path)
	fh, err := input.Open(path, name, lim.Or(PianoRollLimits))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return ReadJSBLimited(fh, name, lim)
}

// PianoRoll returns a chorale as (T, 88) binary frames: element (t, p−21)
// is 1 when pitch p sounds at step t. It panics on a pitch outside 21-108
// (ReadJSB has already rejected those).
func PianoRoll(chorale [][]int) *tensor.Tensor {
	x := tensor.New(len(chorale), Pitches)
	for t, step := range chorale {
		for _, p := range step {
			if p < LowestPitch || p >= LowestPitch+Pitches {
				panic(fmt.Sprintf("dataset: PianoRoll: pitch %d outside %d-%d", p, LowestPitch, LowestPitch+Pitches-1))
			}
			x.Data[t*Pitches+p-LowestPitch] = 1
		}
	}
	return x
}
