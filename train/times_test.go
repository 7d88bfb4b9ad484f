package train

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/recur-ml/recur/checkpoint"
)

// fakeClock is a clock that moves only when told: one second per
// optimizer step here, so that the seconds recorded are exact.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// tick returns a callback that advances c by one second at every step
// and calls then (if set) after it.
func (c *fakeClock) tick(then func(ev *Event)) Callback {
	return CallbackFunc(func(ev *Event) error {
		if ev.Kind == StepEnd {
			c.t = c.t.Add(time.Second)
			if then != nil {
				then(ev)
			}
		}
		return nil
	})
}

// TestTimes checks the seconds since training began recorded at each
// epoch's end, in State.Seconds and in the run directory's TimesFile,
// and that a run interrupted mid-epoch and resumed records the same
// seconds as the uninterrupted one (the time before the interruption is
// carried in the checkpoint).
func TestTimes(t *testing.T) {
	data, valid := makeData(1, 4), makeData(2, 1)
	want := []float64{4, 8, 12} // 4 steps an epoch, 1 s a step
	wantFile := "epoch,seconds\n1,4.000\n2,8.000\n3,12.000\n"
	check := func(what string, tr *Trainer, dir string) {
		t.Helper()
		if got := tr.State().Seconds; !slices.Equal(got, want) {
			t.Errorf("%s: Seconds %v, want %v", what, got, want)
		}
		if b, err := os.ReadFile(filepath.Join(dir, TimesFile)); err != nil || string(b) != wantFile {
			t.Errorf("%s: %s: %q (%v), want %q", what, TimesFile, b, err, wantFile)
		}
	}

	dir := t.TempDir()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	tr := newTrainer(t, newLinTask(7), Config{Epochs: 3, Dir: dir, Callbacks: []Callback{clock.tick(nil)}})
	tr.now = clock.now
	if _, err := tr.Fit(context.Background(), data, valid); err != nil {
		t.Fatal(err)
	}
	check("uninterrupted run", tr, dir)

	// Interrupted after step 6 (in epoch 2), then resumed by a trainer
	// whose clock reads another time: it counts on from the 6 s saved.
	dir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock = &fakeClock{t: time.Unix(2e9, 0)}
	stopAt6 := clock.tick(func(ev *Event) {
		if ev.Step == 6 {
			cancel()
		}
	})
	tr = newTrainer(t, newLinTask(7), Config{Epochs: 3, Dir: dir, Callbacks: []Callback{stopAt6}})
	tr.now = clock.now
	if _, err := tr.Fit(ctx, data, valid); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	f, err := checkpoint.Read(filepath.Join(dir, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	clock = &fakeClock{t: time.Unix(3e9, 0)}
	tr = newTrainer(t, newLinTask(99), Config{Epochs: 3, Dir: dir, Callbacks: []Callback{clock.tick(nil)}})
	tr.now = clock.now
	if err := tr.Resume(f); err != nil {
		t.Fatal(err)
	}
	if st := tr.State(); st.Elapsed != 6 || !slices.Equal(st.Seconds, want[:1]) {
		t.Errorf("checkpoint at step 6: Elapsed %v, Seconds %v; want 6, %v", st.Elapsed, st.Seconds, want[:1])
	}
	if _, err := tr.Fit(context.Background(), data, valid); err != nil {
		t.Fatal(err)
	}
	check("resumed run", tr, dir)
}

// TestWriteTimesOldCheckpoint: a run resumed from a checkpoint that
// predates the seconds has fewer of them than epochs; they belong to the
// last epochs.
func TestWriteTimesOldCheckpoint(t *testing.T) {
	st := &State{History: []Row{{"epoch": 1}, {"epoch": 2}, {"epoch": 3}}, Seconds: []float64{7.25}}
	var b bytes.Buffer
	if err := WriteTimes(&b, st); err != nil {
		t.Fatal(err)
	}
	if want := "epoch,seconds\n3,7.250\n"; b.String() != want {
		t.Errorf("WriteTimes: %q, want %q", b.String(), want)
	}
}
