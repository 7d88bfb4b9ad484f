package tune

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/recur-ml/recur/internal/mpi"
	"github.com/recur-ml/recur/train"
)

// onRanks runs a study as the n in-process ranks of a job, each with
// its own runner and context, and returns rank 0's study, every rank's
// error and every rank's runner.
func onRanks(t *testing.T, dir string, n, trials int, hook func(rank, job int, j Job, cancel func()) error) (*Study, []error, []*fakeRunner) {
	t.Helper()
	studies := make([]*Study, n)
	errs := make([]error, n)
	runners := make([]*fakeRunner, n)
	var wg sync.WaitGroup
	for r, c := range mpi.NewLocal(n) {
		ctx, cancel := context.WithCancel(context.Background())
		runners[r] = &fakeRunner{}
		if hook != nil {
			runners[r].hook = func(k int, j Job) error { return hook(r, k, j, cancel) }
		}
		tu := testTuner(t, dir, trials, runners[r])
		tu.Group = c
		wg.Go(func() {
			defer cancel()
			studies[r], errs[r] = tu.Run(ctx)
		})
	}
	wg.Wait()
	for r := 1; r < n; r++ {
		if studies[r] != nil {
			t.Errorf("rank %d returned a study; only rank 0 keeps it", r)
		}
	}
	return studies[0], errs, runners
}

// TestTunerRanks: three ranks share a study, one trial per rank at a
// time; the study ends as complete as one process's, with the same best
// trial, and every rank ran its share.
func TestTunerRanks(t *testing.T) {
	one, err := testTuner(t, t.TempDir(), 27, &fakeRunner{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, errs, runners := onRanks(t, dir, 3, 27, nil)
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	if !st.Complete || len(st.Trials) != 27 {
		t.Fatalf("study complete %v with %d trials, want complete with 27", st.Complete, len(st.Trials))
	}
	jobs := 0
	seen := map[[2]int]bool{}
	for r, ru := range runners {
		if len(ru.jobs) == 0 {
			t.Errorf("rank %d ran no job", r)
		}
		for _, j := range ru.jobs {
			k := [2]int{j.Trial, j.Epochs}
			if seen[k] {
				t.Errorf("trial %d's %d-epoch job ran twice", j.Trial, j.Epochs)
			}
			seen[k] = true
		}
		jobs += len(ru.jobs)
	}
	want := 0
	for _, tr := range st.Trials {
		want += len(tr.Rungs)
		if tr.State == Running || tr.State == Failed {
			t.Errorf("trial %d ended %s", tr.ID, tr.State)
		}
	}
	if jobs != want {
		t.Errorf("%d jobs ran for %d rung results", jobs, want)
	}
	t.Logf("27 trials on 3 ranks: %d, %d and %d jobs", len(runners[0].jobs), len(runners[1].jobs), len(runners[2].jobs))
	if got, want := st.Ranked()[0].ID, one.Ranked()[0].ID; got != want {
		t.Errorf("best trial %d on 3 ranks, %d on one", got, want)
	}
	loaded, err := LoadStudy(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := studyJSON(t, loaded), studyJSON(t, st); got != want {
		t.Errorf("study file differs from rank 0's study:\n%s\nwant\n%s", got, want)
	}
}

// TestTunerRanksInterrupt: an interrupted rank (not rank 0) stops the
// study after the round; its trial stays running and the next session of
// the job resumes it and completes the study.
func TestTunerRanksInterrupt(t *testing.T) {
	dir := t.TempDir()
	var cut Job
	st, errs, _ := onRanks(t, dir, 2, 12, func(rank, k int, j Job, cancel func()) error {
		if rank == 1 && k == 2 {
			cut = j
			cancel()
			return errors.New("interrupted")
		}
		return nil
	})
	if !errors.Is(errs[0], context.Canceled) || !errors.Is(errs[1], context.Canceled) {
		t.Fatalf("after rank 1's interruption: rank 0 %v, rank 1 %v; want both context.Canceled", errs[0], errs[1])
	}
	if tr := st.Trials[cut.Trial-1]; tr.State != Running || st.Complete {
		t.Fatalf("interrupted trial %d is %s (study complete %v), want running", tr.ID, tr.State, st.Complete)
	}
	st, errs, runners := onRanks(t, dir, 2, 12, nil)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("resumed: %v, %v", errs[0], errs[1])
	}
	if j := runners[0].jobs[0]; j.Trial != cut.Trial || j.Fresh {
		t.Errorf("first job of the resumed session: trial %d (fresh %v), want trial %d resumed", j.Trial, j.Fresh, cut.Trial)
	}
	if !st.Complete || len(st.Trials) != 12 {
		t.Errorf("resumed study complete %v with %d trials, want complete with 12", st.Complete, len(st.Trials))
	}
}

// runnerFunc is a Runner made of a function.
type runnerFunc func(ctx context.Context, j Job) (*Outcome, error)

func (f runnerFunc) Run(ctx context.Context, j Job) (*Outcome, error) { return f(ctx, j) }

// TestTunerRanksResult: a result crosses ranks whole, NaN included
// (a metrics history may hold NaN, which JSON cannot carry), and so does
// an error.
func TestTunerRanksResult(t *testing.T) {
	c := mpi.NewLocal(2)
	var wg sync.WaitGroup
	got := make([][]rankResult, 2)
	for r := range 2 {
		tu := &Tuner{Group: c[r], Runner: runnerFunc(func(_ context.Context, j Job) (*Outcome, error) {
			if j.Trial == 2 {
				return nil, errors.New("exit status 2: bad")
			}
			return &Outcome{History: []train.Row{{"epoch": 1, "val_loss": math.NaN()}, {"epoch": 2, "val_loss": 0.7}}, Note: "resumed at epoch 2"}, nil
		})}
		wg.Go(func() {
			var err error
			if got[r], err = tu.roundOf(context.Background(), []Job{{Trial: 1}, {Trial: 2}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for r := range 2 {
		res := got[r]
		if o := res[0].Out; !res[0].Ran || res[0].Err != "" || o == nil || len(o.History) != 2 || !math.IsNaN(o.History[0]["val_loss"]) || o.History[1]["val_loss"] != 0.7 || o.Note != "resumed at epoch 2" {
			t.Errorf("rank %d sees rank 0's result %+v", r, res[0])
		}
		if !res[1].Ran || res[1].Err != "exit status 2: bad" || res[1].Out != nil {
			t.Errorf("rank %d sees rank 1's result %+v", r, res[1])
		}
	}
}
