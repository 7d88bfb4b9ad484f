package tune

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recur-ml/recur/train"
)

// fakeRunner trains nothing: a job's val_loss at epoch e is |a − 0.3| +
// 1/e for the trial's value of a, so every rung ranks trials alike.
type fakeRunner struct {
	mu   sync.Mutex
	jobs []Job
	// hook, if set, may fail or interrupt job n (0-based).
	hook func(n int, j Job) error
}

func (f *fakeRunner) Run(ctx context.Context, j Job) (*Outcome, error) {
	f.mu.Lock()
	n := len(f.jobs)
	f.jobs = append(f.jobs, j)
	f.mu.Unlock()
	if f.hook != nil {
		if err := f.hook(n, j); err != nil {
			return nil, err
		}
	}
	a, err := strconv.ParseFloat(j.Params["a"], 64)
	if err != nil {
		return nil, err
	}
	var hist []train.Row
	for e := 1; e <= j.Epochs; e++ {
		hist = append(hist, train.Row{"epoch": float64(e), "train_loss": 1, "val_loss": math.Abs(a-0.3) + 1/float64(e)})
	}
	return &Outcome{History: hist}, nil
}

func testTuner(t *testing.T, dir string, trials int, r Runner) *Tuner {
	t.Helper()
	space, err := ParseSpace("s.yaml", []byte("a: {uniform: [0, 1]}\nb: {choice: [x, y]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rungs, err := Rungs(1, 9, 3)
	if err != nil {
		t.Fatal(err)
	}
	return &Tuner{Dir: dir, Space: space, Trials: trials, Parallel: 1, Runner: r,
		Settings: Settings{Space: space.Params, Sampler: "halton", Seed: 1, Metric: "val_loss", Rungs: rungs, Eta: 3}}
}

// studyJSON is the study without its timings, for comparing runs.
func studyJSON(t *testing.T, s *Study) string {
	t.Helper()
	c := *s
	c.Trials = nil
	for _, tr := range s.Trials {
		x := *tr
		x.Seconds = 0
		c.Trials = append(c.Trials, &x)
	}
	b, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTunerASHA(t *testing.T) {
	dir := t.TempDir()
	st, err := testTuner(t, dir, 27, &fakeRunner{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Complete || len(st.Trials) != 27 {
		t.Fatalf("study complete %v with %d trials, want complete with 27", st.Complete, len(st.Trials))
	}
	// Once complete, the best 1/eta of every rung went on to the next.
	for k := range 2 {
		var at []*Trial
		for _, tr := range st.Trials {
			if len(tr.Rungs) > k {
				at = append(at, tr)
			}
		}
		slices.SortFunc(at, func(a, b *Trial) int { return int(math.Copysign(1, a.Rungs[k].Score-b.Rungs[k].Score)) })
		for _, tr := range at[:len(at)/3] {
			if len(tr.Rungs) <= k+1 {
				t.Errorf("trial %d is in the best third of rung %d but was not promoted", tr.ID, k+1)
			}
		}
		t.Logf("rung %d: %d trials", k+1, len(at))
	}
	best := st.Ranked()[0]
	for _, tr := range st.Trials {
		a, _ := strconv.ParseFloat(tr.Params["a"], 64)
		b, _ := strconv.ParseFloat(best.Params["a"], 64)
		if math.Abs(a-0.3) < math.Abs(b-0.3) {
			t.Errorf("best trial %d (a=%v), but trial %d has a=%v", best.ID, b, tr.ID, a)
		}
	}
	if best.State != Done || best.Last().Epochs != 9 {
		t.Errorf("best trial %d: %s after %d epochs, want done after 9", best.ID, best.State, best.Last().Epochs)
	}
	loaded, err := LoadStudy(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := studyJSON(t, loaded), studyJSON(t, st); got != want {
		t.Errorf("study file differs from the study:\n%s\nwant\n%s", got, want)
	}
}

// TestTunerResume: a study run in sessions, one stopped at a trial
// limit and one interrupted in a job, ends as one run at once does; the
// interrupted job is run again, not afresh.
func TestTunerResume(t *testing.T) {
	whole, err := testTuner(t, t.TempDir(), 14, &fakeRunner{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := testTuner(t, dir, 5, &fakeRunner{}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var cut Job
	_, err = testTuner(t, dir, 14, &fakeRunner{hook: func(n int, j Job) error {
		if n == 3 {
			cut = j
			cancel()
			return errors.New("interrupted")
		}
		return nil
	}}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run: %v, want context.Canceled", err)
	}
	mid, err := LoadStudy(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr := mid.Trials[cut.Trial-1]; tr.State != Running || mid.Complete {
		t.Fatalf("interrupted trial %d is %s (study complete %v), want running", tr.ID, tr.State, mid.Complete)
	}
	r := &fakeRunner{}
	st, err := testTuner(t, dir, 14, r).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if j := r.jobs[0]; j.Trial != cut.Trial || j.Epochs != cut.Epochs || j.Fresh {
		t.Errorf("first job after the interruption: trial %d, %d epochs, fresh %v; want trial %d, %d epochs, not fresh", j.Trial, j.Epochs, j.Fresh, cut.Trial, cut.Epochs)
	}
	if got, want := studyJSON(t, st), studyJSON(t, whole); got != want {
		t.Errorf("study in sessions:\n%s\nwant\n%s", got, want)
	}
}

func TestTunerFailure(t *testing.T) {
	dir := t.TempDir()
	st, err := testTuner(t, dir, 6, &fakeRunner{hook: func(n int, j Job) error {
		if j.Trial == 2 {
			return errors.New("exit status 1: flag --a: bad")
		}
		return nil
	}}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tr := st.Trials[1]; tr.State != Failed || tr.Error != "exit status 1: flag --a: bad" {
		t.Errorf("trial 2: %s %q, want failed with its error", tr.State, tr.Error)
	}
	if !st.Complete || len(st.Ranked()) != 5 {
		t.Errorf("study complete %v with %d ranked trials, want complete with 5", st.Complete, len(st.Ranked()))
	}
	var b strings.Builder
	if err := st.Leaderboard().WriteTable(&b, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "trial 2 failed: exit status 1: flag --a: bad") || !strings.HasPrefix(b.String(), "rank  trial  state") {
		t.Errorf("leaderboard:\n%s", b.String())
	}
}

func TestTunerNoMetric(t *testing.T) {
	tu := testTuner(t, t.TempDir(), 1, &fakeRunner{})
	tu.Settings.Metric = "val_accuracy"
	st, err := tu.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e := st.Trials[0].Error; !strings.Contains(e, "no finite val_accuracy (its columns: epoch, train_loss, val_loss)") {
		t.Errorf("error %q, want one naming the missing metric", e)
	}
}

func TestTunerRefusesOtherSettings(t *testing.T) {
	dir := t.TempDir()
	if _, err := testTuner(t, dir, 2, &fakeRunner{}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	tu := testTuner(t, dir, 2, &fakeRunner{})
	tu.Settings.Eta = 2
	if _, err := tu.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "other settings (eta 3, now 2)") {
		t.Errorf("Run with another eta: %v", err)
	}
}

func TestLoadStudyRejects(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ file, want string }{
		{`{"version": 2}`, "version 2, want 1"},
		{`{"version": 1, "settings": {"rungs": [1]}, "trials": [{"id": 2, "dir": "t"}]}`, "trial 1 is missing or out of order"},
		{`{"version": 1, "settings": {"rungs": [1]}, "trials": [{"id": 1, "rung": 1, "dir": "t"}]}`, "rung 1 out of range"},
		{`{"version": 1, "settings": {"rungs": [1]}, "trials": [{"id": 1, "dir": "../t"}]}`, "not inside the study"},
		{`{`, "unexpected end"},
	} {
		if err := os.WriteFile(filepath.Join(dir, StudyFile), []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadStudy(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadStudy(%s) = %v, want %q", c.file, err, c.want)
		}
	}
}

func TestRungs(t *testing.T) {
	for _, c := range []struct {
		min, max, eta int
		want          []int
	}{
		{6, 150, 3, []int{6, 18, 54, 150}}, {1, 9, 3, []int{1, 3, 9}}, {5, 5, 3, []int{5}}, {1, 10, 2, []int{1, 2, 4, 8, 10}},
	} {
		got, err := Rungs(c.min, c.max, c.eta)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("Rungs(%d, %d, %d) = %v, %v; want %v", c.min, c.max, c.eta, got, err, c.want)
		}
	}
	for _, c := range [][3]int{{0, 9, 3}, {10, 9, 3}, {1, 9, 1}} {
		if _, err := Rungs(c[0], c[1], c[2]); err == nil {
			t.Errorf("Rungs%v succeeded", c)
		}
	}
}

func TestBestConfig(t *testing.T) {
	base := "# base\nhidden: 4\nval_fraction: 0.2\nlr: 0.1\nresume: x/last.safetensors\ntarget: [a, b]\n"
	got, err := BestConfig([]byte(base), map[string]string{"lr": "0.003", "cell": "gru", "batch-size": "8"}, []string{"lr", "cell", "batch-size"}, 18, "trial 3\nof a study")
	if err != nil {
		t.Fatal(err)
	}
	want := "# trial 3\n# of a study\n# base\nhidden: 4\nval_fraction: 0.2\nlr: 0.003\ntarget: [a, b]\ncell: gru\nbatch-size: 8\nepochs: 18\n"
	if string(got) != want {
		t.Errorf("BestConfig:\n%s\nwant\n%s", got, want)
	}
	if got, err := BestConfig(nil, map[string]string{"cell": "yes: no"}, []string{"cell"}, 2, ""); err != nil || string(got) != "cell: 'yes: no'\nepochs: 2\n" {
		t.Errorf("BestConfig without a base: %q, %v", got, err)
	}
}

// TestTunerParallel runs jobs four at a time (with -race, the tuner's
// bookkeeping stays on one goroutine).
func TestTunerParallel(t *testing.T) {
	tu := testTuner(t, t.TempDir(), 20, &fakeRunner{})
	tu.Parallel = 4
	st, err := tu.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Complete || len(st.Trials) != 20 || st.promotion() != nil {
		t.Fatalf("study complete %v with %d trials", st.Complete, len(st.Trials))
	}
	for _, tr := range st.Trials {
		if tr.State == Running || tr.State == Failed || len(tr.Rungs) != tr.Rung+1 {
			t.Errorf("trial %d: %s at rung %d with %d results", tr.ID, tr.State, tr.Rung, len(tr.Rungs))
		}
	}
}
