package tune

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/recur-ml/recur/checkpoint"
)

// StudyFile is the name of the study file in a study directory.
const StudyFile = "study.json"

// studyVersion is the format version of the study file.
const studyVersion = 1

// State is where a trial stands.
type State string

// The states of a trial.
const (
	// Running: a run toward the trial's Rung was started and has not been
	// recorded; a resumed study runs it again (from its checkpoint).
	Running State = "running"
	// Stopped: the trial completed rung Rung and was not promoted (yet:
	// ASHA may still promote it as more trials reach the rung).
	Stopped State = "stopped"
	// Done: the trial trains no further: it completed the top rung or its
	// run ended early (early stopping).
	Done State = "done"
	// Failed: a run exited with an error, recorded in Error.
	Failed State = "failed"
)

// A Trial is one configuration of a study and its results.
type Trial struct {
	ID     int               `json:"id"`     // 1-based, in sampling order
	Params map[string]string `json:"params"` // the space's keys and values
	State  State             `json:"state"`
	Rung   int               `json:"rung"` // rung index it completed or is running toward
	// Rungs are the results of the rungs completed, in order.
	Rungs   []RungResult `json:"rungs,omitempty"`
	Error   string       `json:"error,omitempty"`
	Stop    string       `json:"stop_reason,omitempty"` // why a run ended before its rung
	Seconds float64      `json:"seconds"`               // wall time of all its runs
	Dir     string       `json:"dir"`                   // run directory, relative to the study's
}

// A RungResult is a trial's result at one rung: the best epoch's
// validation metrics over the run of the rung's epochs.
type RungResult struct {
	Epochs    int                `json:"epochs"`     // epochs the run trained
	Score     float64            `json:"score"`      // the study's metric at BestEpoch
	BestEpoch int                `json:"best_epoch"` // 1-based
	Metrics   map[string]float64 `json:"metrics"`    // that epoch's validation metrics
}

// Last is the trial's latest rung result (nil before its first).
func (t *Trial) Last() *RungResult {
	if len(t.Rungs) == 0 {
		return nil
	}
	return &t.Rungs[len(t.Rungs)-1]
}

// Settings fix what a study searches; a study directory resumes only
// with the settings it was made with.
type Settings struct {
	Space    []Param `json:"space"`
	Sampler  string  `json:"sampler"`
	Seed     uint64  `json:"seed"`
	Metric   string  `json:"metric"`   // a column of metrics.jsonl, such as val_loss
	Maximize bool    `json:"maximize"` // higher Metric is better
	Rungs    []int   `json:"rungs"`    // epochs of each rung, increasing
	Eta      int     `json:"eta"`      // 1/Eta of each rung is promoted
	// Base identifies the base config by a digest of its bytes (empty
	// without one).
	Base string `json:"base"`
}

// A Study is the state of a search, kept in its directory's study file.
type Study struct {
	Version  int      `json:"version"`
	Settings Settings `json:"settings"`
	Trials   []*Trial `json:"trials"`
	// Complete is set when the last session ended with every trial
	// sampled and nothing left to promote.
	Complete bool `json:"complete"`
}

// LoadStudy reads the study file of dir; it returns nil and no error
// when there is none.
func LoadStudy(dir string) (*Study, error) {
	path := filepath.Join(dir, StudyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	var s Study
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("tune: %s: %w", path, err)
	}
	if s.Version != studyVersion {
		return nil, fmt.Errorf("tune: %s: version %d, want %d", path, s.Version, studyVersion)
	}
	for i, t := range s.Trials {
		if t == nil || t.ID != i+1 {
			return nil, fmt.Errorf("tune: %s: trial %d is missing or out of order", path, i+1)
		}
		if t.Rung < 0 || t.Rung >= len(s.Settings.Rungs) || len(t.Rungs) > len(s.Settings.Rungs) {
			return nil, fmt.Errorf("tune: %s: trial %d: rung %d out of range", path, t.ID, t.Rung)
		}
		if !filepath.IsLocal(t.Dir) {
			return nil, fmt.Errorf("tune: %s: trial %d: directory %q is not inside the study", path, t.ID, t.Dir)
		}
	}
	return &s, nil
}

// Save writes the study file of dir atomically.
func (s *Study) Save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	return checkpoint.WriteAtomic(filepath.Join(dir, StudyFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// Differs describes the first setting in which s differs from t, as
// "NAME: S, now T" with the setting's JSON name ("" when none), for
// refusing to resume a study with other settings.
func (s Settings) Differs(t Settings) string {
	a, b := reflect.ValueOf(s), reflect.ValueOf(t)
	for i := range a.NumField() {
		x, y := normal(a.Field(i).Interface()), normal(b.Field(i).Interface())
		if !reflect.DeepEqual(x, y) {
			xj, _ := json.Marshal(x)
			yj, _ := json.Marshal(y)
			return fmt.Sprintf("%s %s, now %s", a.Type().Field(i).Tag.Get("json"), cut(string(xj)), cut(string(yj)))
		}
	}
	return ""
}

// normal is v as its JSON round trip (so that nil and empty lists and
// the Line of params compare as the study file keeps them).
func normal(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// better reports whether score a beats b.
func (s *Settings) better(a, b float64) bool {
	if s.Maximize {
		return a > b
	}
	return a < b
}

// Ranked returns the trials with at least one rung result, best first:
// by their latest rung's score, ties broken by more epochs, then by ID.
func (s *Study) Ranked() []*Trial {
	var ts []*Trial
	for _, t := range s.Trials {
		if t.Last() != nil {
			ts = append(ts, t)
		}
	}
	slices.SortStableFunc(ts, func(a, b *Trial) int {
		ra, rb := a.Last(), b.Last()
		switch {
		case s.Settings.better(ra.Score, rb.Score):
			return -1
		case s.Settings.better(rb.Score, ra.Score):
			return 1
		}
		return rb.Epochs - ra.Epochs
	})
	return ts
}
