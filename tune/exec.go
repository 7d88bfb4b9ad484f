package tune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/train"
)

// LogFile is the name of the file in a trial's run directory that
// collects the output of its runs.
const LogFile = "tune.log"

// Exec runs jobs as child processes of a "recur train" binary: Path
// Args... --KEY=VALUE... --epochs=N --out=DIR --json --quiet --no-report,
// and --resume=DIR/last.safetensors to continue an interrupted run from
// its checkpoint. A child's output goes to LogFile in its run directory.
type Exec struct {
	Path string   // the recur binary
	Args []string // the arguments before the trial's own ("train", "--config", "base.yaml")
	// Threads, when positive, is each child's GOMAXPROCS: its share of
	// the machine's cores (recur's worker team is sized from it).
	Threads int
	// Restart starts interrupted runs over instead of resuming them from
	// their checkpoints.
	Restart bool
	// WaitDelay is how long a cancelled child may take to save its
	// checkpoint after its interrupt before it is killed (0: a minute).
	WaitDelay time.Duration
}

// Run runs one job; see Exec.
func (e *Exec) Run(ctx context.Context, j Job) (*Outcome, error) {
	last := filepath.Join(j.Dir, "last.safetensors")
	out, resume, err := e.prepare(j, last)
	if out != nil || err != nil {
		return out, err
	}
	args := append([]string(nil), e.Args...)
	for _, k := range j.Keys {
		args = append(args, "--"+k+"="+j.Params[k])
	}
	args = append(args, "--epochs="+strconv.Itoa(j.Epochs), "--out="+j.Dir, "--json", "--quiet", "--no-report")
	note := ""
	if resume != nil {
		args = append(args, "--resume="+last)
		note = fmt.Sprintf("resumed at epoch %d", resume.Epoch+1)
	}
	if err := e.run(ctx, j.Dir, args); err != nil {
		return nil, err
	}
	st, err := runState(last)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("the run wrote no %s", last)
	}
	return outcomeOf(st, j.Epochs, note), nil
}

// prepare readies the job's run directory: it clears it for a fresh run,
// and otherwise looks at its checkpoint. It returns the outcome of a run
// that already finished (a session killed before it recorded it), or the
// state to resume from (nil: start from the first epoch).
func (e *Exec) prepare(j Job, last string) (done *Outcome, resume *train.State, err error) {
	lock, err := train.LockDir(j.Dir)
	if err != nil {
		return nil, nil, err
	}
	defer lock.Unlock()
	st, err := runState(last)
	switch {
	case j.Fresh || err != nil || st == nil:
	case st.Done && (len(st.History) >= j.Epochs || st.StopReason != ""):
		return outcomeOf(st, j.Epochs, "recorded its finished run"), nil, nil
	case !st.Done && !e.Restart:
		return nil, st, nil
	}
	// A fresh run, an unreadable checkpoint, an earlier rung's finished
	// run or --restart: start over.
	for _, name := range train.RunFiles {
		if err := os.Remove(filepath.Join(j.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("tune: %w", err)
		}
	}
	return nil, nil, nil
}

// runState is the training state in the checkpoint at path (nil when
// there is no file).
func runState(path string) (*train.State, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	var st train.State
	ok, err := f.GetJSON(train.MetaTrainState, &st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s holds no training state", path)
	}
	return &st, nil
}

func outcomeOf(st *train.State, epochs int, note string) *Outcome {
	out := &Outcome{History: st.History, Note: note}
	if len(st.History) < epochs {
		out.Stop = st.StopReason
	}
	return out
}

// run runs the child with args, its output appended to the log of dir
// (the file itself is the child's stdout and stderr: no pipe that the
// tuner's death would break). A cancelled ctx interrupts it
// (os.Interrupt: recur saves a checkpoint and exits). Its error is the
// child's own error line.
func (e *Exec) run(ctx context.Context, dir string, args []string) error {
	log, err := os.OpenFile(filepath.Join(dir, LogFile), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	defer log.Close()
	fmt.Fprintf(log, "# %s %s %s\n", time.Now().UTC().Format(time.RFC3339), e.Path, strings.Join(args, " "))
	start, err := log.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	cmd := exec.CommandContext(ctx, e.Path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = e.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Minute
	}
	cmd.Env = withoutLauncher(cmd.Environ())
	if e.Threads > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(e.Threads))
	}
	setParentDeath(cmd)
	unlock := lockThread()
	err = cmd.Run()
	unlock()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("tune: interrupted: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("tune: %w", err)
	}
	return fmt.Errorf("%v: %s", err, errorLine(log, start))
}

// withoutLauncher drops from env the variables by which an MPI launcher
// tells a process that it is one rank of a job (Open MPI's OMPI_ and
// PMIX_, MPICH's PMI_ and MPI_LOCAL): a trial started by a rank of
// `mpirun recur tune` is a lone training run, not a member of the job.
func withoutLauncher(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OMPI_") || strings.HasPrefix(k, "PMIX_") || strings.HasPrefix(k, "PMI_") || strings.HasPrefix(k, "MPI_LOCAL") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// errorLine is the child's error message in its log after offset start:
// the first line recur's exit writes ("recur: ..."), or the last line of
// its output (of the last 64 KiB).
func errorLine(log *os.File, start int64) string {
	end, err := log.Seek(0, io.SeekEnd)
	if err != nil {
		return "(unreadable log: " + err.Error() + ")"
	}
	start = max(start, end-64<<10)
	b := make([]byte, end-start)
	n, _ := log.ReadAt(b, start)
	var lastLine string
	for _, line := range strings.Split(string(b[:n]), "\n") {
		line = strings.TrimSpace(line)
		if msg, ok := strings.CutPrefix(line, "recur: "); ok {
			return cut(msg)
		}
		if line != "" {
			lastLine = line
		}
	}
	if lastLine == "" {
		return "(no output)"
	}
	return cut(lastLine)
}
