package tune

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/recur-ml/recur/train"
)

// A Job is one run of a trial: train its configuration for Epochs epochs
// in Dir.
type Job struct {
	Trial  int               // the trial's ID
	Params map[string]string // its configuration
	Keys   []string          // the order of Params' keys (the space's)
	Epochs int
	Dir    string
	// Fresh asks for a new run from the first epoch (a new trial, or a
	// promotion), discarding what Dir holds. Otherwise the job continues a
	// run that was interrupted, from its checkpoint if it has one.
	Fresh bool
}

// An Outcome is what a job's run left: its metrics history, and why it
// ended before Epochs if it did.
type Outcome struct {
	History []train.Row
	Stop    string // the stop reason of a run that ended early
	Note    string // how the job ran, when not plainly ("resumed at epoch 4")
}

// A Runner runs jobs; Run is called from several goroutines at once.
// When ctx is cancelled, Run stops the job and returns an error.
type Runner interface {
	Run(ctx context.Context, j Job) (*Outcome, error)
}

// A Tuner runs a study: it samples trials from Space, runs them Parallel
// at a time with ASHA's rungs, and keeps the study file of Dir current
// after every change, so that a later Run resumes where this one ended.
type Tuner struct {
	Dir      string // the study directory
	Space    *Space
	Settings Settings
	Trials   int // trials to sample in all
	Parallel int // jobs at once (0: 1)
	Runner   Runner
	Log      io.Writer // a line per finished job (nil: none)
	// Group, when it has more than one process, spreads the trials over
	// the processes of an MPI job, one at a time on each (Parallel is
	// then unused): every process calls Run; rank 0 keeps the study and
	// returns it, the others return a nil study.
	Group Group
}

// finished is a job's end, as a worker hands it back.
type finished struct {
	job  Job
	out  *Outcome
	err  error
	secs float64
}

// Run runs the study until every trial is sampled and nothing is left to
// promote, or ctx ends. It holds the study directory's lock throughout.
// A failed job marks its trial failed and the study goes on; a job that
// ctx interrupted leaves its trial Running, to be run again by the next
// Run. It returns the study and, when ctx ended it, ctx's error.
func (t *Tuner) Run(ctx context.Context) (*Study, error) {
	if t.Group != nil && t.Group.Size() > 1 {
		return t.runRanks(ctx)
	}
	sess, err := t.begin()
	if err != nil {
		return nil, err
	}
	defer sess.lock.Unlock()
	st, again, sampler := sess.st, sess.again, sess.sampler
	results := make(chan finished)
	running := 0
	for {
		for running < max(t.Parallel, 1) && ctx.Err() == nil {
			j, ok := t.next(st, &again, sampler)
			if !ok {
				break
			}
			if err := st.Save(t.Dir); err != nil {
				return st, err
			}
			running++
			go func() {
				start := time.Now()
				out, err := t.Runner.Run(ctx, j)
				results <- finished{job: j, out: out, err: err, secs: time.Since(start).Seconds()}
			}()
		}
		if running == 0 {
			break
		}
		f := <-results
		running--
		t.record(ctx, st, f)
		if err := st.Save(t.Dir); err != nil {
			return st, err // the running jobs end with ctx
		}
	}
	st.Complete = ctx.Err() == nil && len(st.Trials) >= t.Trials && st.promotion() == nil
	if err := st.Save(t.Dir); err != nil {
		return st, err
	}
	return st, ctx.Err()
}

// session is a study being run: its directory's lock, its state, its
// sampler and the trials an earlier session left running.
type session struct {
	lock    *train.DirLock
	st      *Study
	sampler Sampler
	again   []*Trial
}

// begin locks the study directory and opens its study.
func (t *Tuner) begin() (*session, error) {
	lock, err := train.LockDir(t.Dir)
	if err != nil {
		return nil, fmt.Errorf("tune: study %s: %w", t.Dir, err)
	}
	s := &session{lock: lock}
	if s.st, err = t.open(); err == nil {
		s.sampler, err = NewSampler(t.Settings.Sampler, len(t.Space.Params), t.Settings.Seed)
	}
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	for _, tr := range s.st.Trials {
		if tr.State == Running {
			s.again = append(s.again, tr)
		}
	}
	if len(s.again) > 0 {
		t.logf("resuming %d trial(s) that an earlier session left running\n", len(s.again))
	}
	return s, nil
}

// open loads the study of t.Dir, or starts a new one.
func (t *Tuner) open() (*Study, error) {
	st, err := LoadStudy(t.Dir)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return &Study{Version: studyVersion, Settings: t.Settings}, nil
	}
	if f := st.Settings.Differs(t.Settings); f != "" {
		return nil, fmt.Errorf("tune: %s holds a study with other settings (%s); resume it with the settings it was made with, or choose another directory",
			filepath.Join(t.Dir, StudyFile), f)
	}
	st.Complete = false
	return st, nil
}

// next picks the next job: first the trials an earlier session left
// running, then ASHA's promotions, then a new trial; ok is false when
// there is none now.
func (t *Tuner) next(st *Study, again *[]*Trial, sampler Sampler) (j Job, ok bool) {
	rungs := st.Settings.Rungs
	var tr *Trial
	fresh := true
	switch {
	case len(*again) > 0:
		tr, *again, fresh = (*again)[0], (*again)[1:], false
	case st.promotion() != nil:
		tr = st.promotion()
		tr.Rung++
	case len(st.Trials) < t.Trials:
		u := make([]float64, len(t.Space.Params))
		sampler.Point(u, len(st.Trials))
		id := len(st.Trials) + 1
		tr = &Trial{ID: id, Params: t.Space.Config(u), Dir: fmt.Sprintf("trial-%03d", id)}
		st.Trials = append(st.Trials, tr)
	default:
		return Job{}, false
	}
	tr.State, tr.Error, tr.Stop = Running, "", ""
	return Job{Trial: tr.ID, Params: tr.Params, Keys: t.Space.Keys(), Epochs: rungs[tr.Rung],
		Dir: filepath.Join(t.Dir, tr.Dir), Fresh: fresh}, true
}

// record enters a finished job into its trial.
func (t *Tuner) record(ctx context.Context, st *Study, f finished) {
	tr := st.Trials[f.job.Trial-1]
	tr.Seconds += f.secs
	if f.err != nil && ctx.Err() != nil {
		t.logf("trial %d interrupted at rung %d; rerun to resume it\n", tr.ID, tr.Rung+1)
		return
	}
	var res RungResult
	if f.err == nil {
		res, f.err = st.Settings.result(f.out.History, f.job.Epochs)
	}
	if f.err != nil {
		tr.State, tr.Error = Failed, f.err.Error()
		t.logf("trial %d failed at rung %d/%d: %s\n", tr.ID, tr.Rung+1, len(st.Settings.Rungs), tr.Error)
		return
	}
	tr.Rungs = append(tr.Rungs[:tr.Rung], res)
	switch {
	case res.Epochs < f.job.Epochs:
		tr.State, tr.Stop = Done, f.out.Stop
	case tr.Rung == len(st.Settings.Rungs)-1:
		tr.State = Done
	default:
		tr.State = Stopped
	}
	note := ""
	if f.out.Note != "" {
		note = " (" + f.out.Note + ")"
	}
	t.logf("trial %d rung %d/%d: %s %.6g at epoch %d of %d, %.1fs%s  %s\n", tr.ID, tr.Rung+1, len(st.Settings.Rungs),
		st.Settings.Metric, res.Score, res.BestEpoch, res.Epochs, f.secs, note, FormatParams(tr.Params, f.job.Keys))
}

// result is the rung result of a run's history: the best epoch by the
// study's metric among the first epochs ones.
func (s *Settings) result(hist []train.Row, epochs int) (RungResult, error) {
	res := RungResult{Score: math.NaN()}
	for _, row := range hist {
		e := int(row["epoch"])
		if e > epochs {
			break
		}
		res.Epochs = max(res.Epochs, e)
		v, ok := row[s.Metric]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if math.IsNaN(res.Score) || s.better(v, res.Score) {
			res.Score, res.BestEpoch = v, e
			res.Metrics = map[string]float64{}
			for k, x := range row {
				if strings.HasPrefix(k, "val_") {
					res.Metrics[k] = x
				}
			}
		}
	}
	if math.IsNaN(res.Score) {
		var cols []string
		if len(hist) > 0 {
			cols = columnsOf(hist[len(hist)-1])
		}
		return res, fmt.Errorf("the run's metrics have no finite %s (its columns: %s); tuning needs validation data (val-fraction or valid in the base config)",
			s.Metric, strings.Join(cols, ", "))
	}
	return res, nil
}

func columnsOf(row train.Row) []string {
	var cols []string
	for k := range row {
		cols = append(cols, k)
	}
	slices.Sort(cols)
	return cols
}

// FormatParams writes a configuration as "k=v k=v" in the keys' order.
func FormatParams(params map[string]string, keys []string) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+params[k])
	}
	return strings.Join(parts, " ")
}

func (t *Tuner) logf(format string, args ...any) {
	if t.Log != nil {
		fmt.Fprintf(t.Log, format, args...)
	}
}
