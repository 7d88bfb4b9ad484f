package tune

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"
)

// An Entry is one trial on the leaderboard.
type Entry struct {
	Rank      int                `json:"rank,omitempty"` // 1 best; 0 (absent) without a result
	Trial     int                `json:"trial"`
	State     State              `json:"state"`
	Rung      int                `json:"rung"`             // 1-based rung of Score (0: none)
	Epochs    int                `json:"epochs,omitempty"` // epochs of the run behind Score
	Score     *float64           `json:"score"`            // the study's metric (null: none)
	BestEpoch int                `json:"best_epoch,omitempty"`
	Metrics   map[string]float64 `json:"metrics,omitempty"` // validation metrics at BestEpoch
	Params    map[string]string  `json:"params"`
	Dir       string             `json:"dir"`
	Seconds   float64            `json:"seconds"`
	Error     string             `json:"error,omitempty"`
	Stop      string             `json:"stop_reason,omitempty"`
}

// A Leaderboard ranks a study's trials by their latest rung's score
// (see Study.Ranked); trials without a result follow, by ID.
type Leaderboard struct {
	Metric   string  `json:"metric"`
	Maximize bool    `json:"maximize"`
	Rungs    []int   `json:"rungs"`
	Complete bool    `json:"complete"`
	Entries  []Entry `json:"trials"`
}

// Leaderboard returns the study's leaderboard.
func (s *Study) Leaderboard() *Leaderboard {
	lb := &Leaderboard{Metric: s.Settings.Metric, Maximize: s.Settings.Maximize, Rungs: s.Settings.Rungs, Complete: s.Complete}
	ranked := s.Ranked()
	for i, t := range ranked {
		e := entry(t)
		e.Rank = i + 1
		lb.Entries = append(lb.Entries, e)
	}
	for _, t := range s.Trials {
		if t.Last() == nil {
			lb.Entries = append(lb.Entries, entry(t))
		}
	}
	return lb
}

func entry(t *Trial) Entry {
	e := Entry{Trial: t.ID, State: t.State, Params: t.Params, Dir: t.Dir, Seconds: t.Seconds, Error: t.Error, Stop: t.Stop}
	if r := t.Last(); r != nil {
		score := r.Score
		e.Rung, e.Epochs, e.Score, e.BestEpoch, e.Metrics = len(t.Rungs), r.Epochs, &score, r.BestEpoch, r.Metrics
	}
	return e
}

// Best is the leaderboard's first entry; ErrNoTrials when no trial has a
// result.
func (lb *Leaderboard) Best() (*Entry, error) {
	if len(lb.Entries) == 0 || lb.Entries[0].Score == nil {
		return nil, ErrNoTrials
	}
	return &lb.Entries[0], nil
}

// ErrNoTrials is returned by Best when no trial has a result.
var ErrNoTrials = errors.New("tune: no trial has a result yet")

// WriteTable writes the leaderboard as a table with a column per key
// (the space's, in order), then a line per failed trial with its error.
func (lb *Leaderboard) WriteTable(w io.Writer, keys []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rank\ttrial\tstate\trung\tepochs\t%s\t%s\n", lb.Metric, strings.Join(keys, "\t"))
	for _, e := range lb.Entries {
		rank, rung, epochs, score := "-", "-", "-", "-"
		if e.Score != nil {
			rank, rung, epochs = strconv.Itoa(e.Rank), fmt.Sprintf("%d/%d", e.Rung, len(lb.Rungs)), strconv.Itoa(e.Epochs)
			score = strconv.FormatFloat(*e.Score, 'g', 6, 64)
		}
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = e.Params[k]
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", rank, e.Trial, e.State, rung, epochs, score, strings.Join(vals, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range lb.Entries {
		if e.Error != "" {
			if _, err := fmt.Fprintf(w, "trial %d failed: %s\n", e.Trial, e.Error); err != nil {
				return err
			}
		}
	}
	return nil
}

// BestConfig returns the config file of a trial: base (the bytes of the
// study's base --config file; empty for none) with the trial's params and
// epochs set, keys written '_' or '-' matched as one, and resume removed.
// comment heads the file.
func BestConfig(base []byte, params map[string]string, keys []string, epochs int, comment string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("tune: base config: %w", err)
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("tune: base config: not a mapping")
	}
	set := func(key, value string) {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if strings.ReplaceAll(root.Content[i].Value, "_", "-") == key {
				root.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: value}
				return
			}
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if strings.ReplaceAll(root.Content[i].Value, "_", "-") == "resume" {
			root.Content = append(root.Content[:i], root.Content[i+2:]...)
			break
		}
	}
	for _, k := range keys {
		set(k, params[k])
	}
	set("epochs", strconv.Itoa(epochs))
	root.HeadComment = comment
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	return b.Bytes(), nil
}
