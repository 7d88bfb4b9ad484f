package train

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/optim/sched"
	"github.com/recur-ml/recur/tensor"
)

// State is the training position, saved in checkpoints.
type State struct {
	Epoch     int       `json:"epoch"`      // current epoch, 0-based
	Batch     int       `json:"batch"`      // batches done in the current epoch
	Step      int       `json:"step"`       // optimizer steps done
	Best      float64   `json:"best"`       // best monitored metric so far (0 if none)
	BestEpoch int       `json:"best_epoch"` // epoch of Best, 0-based, -1 if none yet
	BaseLR    []float64 `json:"base_lr"`    // per group, before the schedule
	// LRScale is each group's factor from plateau reductions so far.
	LRScale []float64 `json:"lr_scales"`
	// Plateau is the plateau rule's state (Config.Plateau).
	Plateau *sched.PlateauState `json:"plateau,omitempty"`
	// StopBest and Wait are early stopping's reference value and the
	// evaluations since it last improved.
	StopBest *float64 `json:"stop_best,omitempty"`
	Wait     int      `json:"wait,omitempty"`
	// LossSum and LossItems accumulate the current epoch's training loss.
	LossSum   float64  `json:"loss_sum"`
	LossItems int      `json:"loss_items"`
	Shuffle   []byte   `json:"shuffle"` // shuffle RNG at the epoch start
	RNGs      [][]byte `json:"rngs"`    // Config.RNGs states
	// RankRNGs are the dropout generators' states of ranks 1..RNGRanks-1
	// of data-parallel training (each rank's one after the other; RNGs
	// are rank 0's). A run resumed with another number of ranks draws
	// them afresh.
	RankRNGs [][]byte `json:"rank_rngs,omitempty"`
	RNGRanks int      `json:"rng_ranks,omitempty"`
	// History has one row per completed epoch.
	History []Row `json:"history,omitempty"`
	// Elapsed is the wall-clock seconds spent in Fit so far (training
	// steps, evaluations and the files written), summed over resumed
	// runs; Seconds is its value at the end of each completed epoch,
	// after its validation (written to TimesFile). They are kept apart
	// from History so that a run's metrics stay identical from run to run.
	// Checkpoints written before they existed hold neither, so Seconds may
	// lack the first epochs of History.
	Elapsed    float64   `json:"elapsed,omitempty"`
	Seconds    []float64 `json:"seconds,omitempty"`
	Done       bool      `json:"done"` // training finished
	StopReason string    `json:"stop_reason,omitempty"`
}

// Row is one epoch of the metrics history: "epoch" (1-based), "step",
// "train_loss", "lr" (group 0's, at the epoch's end), "grad_norm" (the last
// step's, before clipping) and "val_<metric>" for each validation metric.
type Row map[string]float64

// row builds the history row of the epoch that just ended.
func (t *Trainer) row(res *Result) Row {
	r := Row{"epoch": float64(t.state.Epoch + 1), "step": float64(t.state.Step), "train_loss": res.TrainLoss,
		"lr": t.opt.LR(0), "grad_norm": t.lastNorm}
	for k, v := range res.Valid {
		r["val_"+k] = v
	}
	return r
}

// MarshalJSON writes NaN and infinite values as null.
func (r Row) MarshalJSON() ([]byte, error) {
	m := make(map[string]*float64, len(r))
	for k, v := range r {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			v := v
			m[k] = &v
		} else {
			m[k] = nil
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads null as NaN.
func (r *Row) UnmarshalJSON(b []byte) error {
	var m map[string]*float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = Row{}
	for k, v := range m {
		(*r)[k] = math.NaN()
		if v != nil {
			(*r)[k] = *v
		}
	}
	return nil
}

// columns returns the union of the rows' keys, "epoch" first, then
// sorted.
func columns(rows []Row) []string {
	seen := map[string]bool{"epoch": true}
	cols := []string{"epoch"}
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols[1:])
	return cols
}

// WriteCSV writes rows as CSV with a header of every key (empty cells
// where a row lacks one, as epochs without validation do).
func WriteCSV(w io.Writer, rows []Row) error {
	cols := columns(rows)
	cw := csv.NewWriter(w)
	cw.Write(cols)
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			rec[i] = ""
			if v, ok := r[c]; ok {
				rec[i] = strconv.FormatFloat(v, 'g', 8, 64)
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// TimesFile is the run directory's file of wall-clock seconds since
// training began at each epoch's end (State.Seconds): CSV with the
// header "epoch,seconds", one row per epoch, so that the time a run took
// to reach a validation figure in metrics.csv can be read from any run.
const TimesFile = "times.csv"

// WriteTimes writes st's Seconds as TimesFile's CSV; the epochs are
// numbered from the end of History, since Seconds may lack its first
// epochs (see State).
func WriteTimes(w io.Writer, st *State) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"epoch", "seconds"})
	first := len(st.History) - len(st.Seconds) + 1
	for i, s := range st.Seconds {
		cw.Write([]string{strconv.Itoa(first + i), strconv.FormatFloat(s, 'f', 3, 64)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSONL writes one JSON object per row.
func WriteJSONL(w io.Writer, rows []Row) error {
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	}
	return nil
}

func (t *Trainer) path(name string) string { return filepath.Join(t.cfg.Dir, name) }

// saveRun writes last.safetensors and the metrics logs into Dir.
func (t *Trainer) saveRun() error {
	if t.cfg.Dir == "" {
		return nil
	}
	if err := t.Save(t.path("last.safetensors")); err != nil {
		return err
	}
	if t.dist != nil && t.dist.rank != 0 {
		return nil
	}
	rows := t.state.History
	if err := checkpoint.WriteAtomic(t.path("metrics.csv"), func(w io.Writer) error { return WriteCSV(w, rows) }); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := checkpoint.WriteAtomic(t.path("metrics.jsonl"), func(w io.Writer) error { return WriteJSONL(w, rows) }); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := checkpoint.WriteAtomic(t.path(TimesFile), func(w io.Writer) error { return WriteTimes(w, &t.state) }); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// MetaTrainState is the metadata key of the training State.
const MetaTrainState = "train_state"

const (
	carryPrefix = checkpoint.TrainPrefix + "carry."
	bestPrefix  = checkpoint.TrainPrefix + "best."
)

// Save writes a checkpoint with the weights, optimizer state, training
// state (history included), the best weights when RestoreBest keeps them,
// and Config.Extra's content to path (atomically). Training data-parallel
// (Config.Comm), every rank calls Save and rank 0 writes the file.
func (t *Trainer) Save(path string) error {
	f, err := t.file(true)
	if err != nil || f == nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	return checkpoint.Write(path, f)
}

// file returns the checkpoint's contents, with Config.Extra's when extra
// is set. Training data-parallel every rank calls it: the carried state
// and the dropout generators are gathered from all ranks, and only rank 0
// gets a file (nil elsewhere).
func (t *Trainer) file(extra bool) (*checkpoint.File, error) {
	f := checkpoint.New()
	st := t.state
	st.RankRNGs, st.RNGRanks = nil, 0
	if !t.began.IsZero() {
		st.Elapsed = t.elapsed()
	}
	carried, err := t.carried()
	if err != nil {
		return nil, err
	}
	if t.dist != nil {
		if st.RankRNGs, err = t.gatherRNGs(); err != nil {
			return nil, err
		}
		if st.RankRNGs != nil {
			st.RNGRanks = t.dist.size
		}
		if t.dist.rank != 0 {
			return nil, nil
		}
	}
	if err := f.AddParams(t.params); err != nil {
		return nil, err
	}
	if err := AddOptimState(f, t.opt.State()); err != nil {
		return nil, err
	}
	for k, v := range carried {
		f.Tensors[carryPrefix+k] = v
	}
	for i, b := range t.best {
		f.Tensors[bestPrefix+t.params[i].Name] = b
	}
	st.RNGs = nil
	for _, g := range t.cfg.RNGs {
		b, err := g.MarshalBinary()
		if err != nil {
			return nil, err
		}
		st.RNGs = append(st.RNGs, b)
	}
	if err := f.SetJSON(MetaTrainState, st); err != nil {
		return nil, err
	}
	if extra && t.cfg.Extra != nil {
		if err := t.cfg.Extra(f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// carried returns the task's carried state (every rank's streams when
// training data-parallel), or nil.
func (t *Trainer) carried() (map[string]*tensor.Tensor, error) {
	c, ok := t.task.(Carrier)
	if !ok {
		return nil, nil
	}
	if sc, ok := c.(ShardedCarrier); ok && t.dist != nil {
		return t.gatherCarried(sc)
	}
	return c.Carried(), nil
}

// Resume restores weights, optimizer state and the training position
// (history, plateau and early-stopping state, best weights) from a
// checkpoint written by Save, so that Fit continues where it stopped and
// ends where an uninterrupted run would have.
func (t *Trainer) Resume(f *checkpoint.File) error {
	var st State
	ok, err := f.GetJSON(MetaTrainState, &st)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("train: checkpoint has no training state (is it a final model rather than a checkpoint?)")
	}
	if err := t.checkResume(&st); err != nil {
		return err
	}
	if _, err := f.LoadParams(t.params, true); err != nil {
		return err
	}
	os, err := OptimState(f, t.opt.Name())
	if err != nil {
		return err
	}
	if err := t.opt.LoadState(os); err != nil {
		return err
	}
	if err := t.restoreTensors(f); err != nil {
		return err
	}
	for i, g := range t.cfg.RNGs {
		if err := g.UnmarshalBinary(st.RNGs[i]); err != nil {
			return fmt.Errorf("train: restoring generator %d: %w", i, err)
		}
	}
	if t.dist != nil {
		if err := t.restoreRankRNGs(&st); err != nil {
			return err
		}
	}
	if len(st.Shuffle) > 0 {
		if err := t.shuffle.UnmarshalBinary(st.Shuffle); err != nil {
			return fmt.Errorf("train: restoring shuffle generator: %w", err)
		}
	}
	if t.plateau != nil && st.Plateau != nil {
		t.plateau.PlateauState = *st.Plateau
	}
	t.state = st
	t.applyLR(st.Step)
	return nil
}

// checkResume validates a checkpoint's state against the trainer.
func (t *Trainer) checkResume(st *State) error {
	if len(st.RNGs) != len(t.cfg.RNGs) {
		return fmt.Errorf("train: checkpoint has %d generator states, trainer has %d", len(st.RNGs), len(t.cfg.RNGs))
	}
	if len(st.BaseLR) != len(t.state.BaseLR) {
		return fmt.Errorf("train: checkpoint has %d parameter groups, optimizer has %d", len(st.BaseLR), len(t.state.BaseLR))
	}
	if st.LRScale == nil {
		st.LRScale = make([]float64, len(st.BaseLR))
		for i := range st.LRScale {
			st.LRScale[i] = 1
		}
	}
	if len(st.LRScale) != len(st.BaseLR) {
		return fmt.Errorf("train: checkpoint has %d learning-rate scales for %d groups", len(st.LRScale), len(st.BaseLR))
	}
	if st.Epoch < 0 || st.Batch < 0 || st.Step < 0 {
		return fmt.Errorf("train: checkpoint position epoch %d batch %d step %d", st.Epoch, st.Batch, st.Step)
	}
	return nil
}

// restoreTensors restores the carried state and the best weights.
func (t *Trainer) restoreTensors(f *checkpoint.File) error {
	carried := map[string]*tensor.Tensor{}
	best := map[string]*tensor.Tensor{}
	for name, v := range f.Tensors {
		if k, ok := strings.CutPrefix(name, carryPrefix); ok {
			carried[k] = v
		}
		if k, ok := strings.CutPrefix(name, bestPrefix); ok {
			best[k] = v
		}
	}
	if c, ok := t.task.(Carrier); ok {
		c.Reset()
		if sc, ok := c.(ShardedCarrier); ok && t.dist != nil {
			for k, v := range carried {
				s, err := shardAxis(t.dist, v, sc.CarryAxis())
				if err != nil {
					return err
				}
				carried[k] = s
			}
		}
		if len(carried) > 0 {
			if err := c.SetCarried(carried); err != nil {
				return fmt.Errorf("train: restoring the carried state: %w", err)
			}
		}
	}
	t.best = nil
	if !t.cfg.RestoreBest || len(best) == 0 {
		return nil
	}
	for _, p := range t.params {
		b, ok := best[p.Name]
		if !ok || !tensor.SameShape(b, p.Value) {
			return fmt.Errorf("train: checkpoint's best weights lack %q or have another shape", p.Name)
		}
		t.best = append(t.best, b.Clone())
	}
	return nil
}

func keys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
