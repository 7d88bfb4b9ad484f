package reliability

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bin and binNoasm are the recur binaries the tests run; empty when the
// suite is skipped.
var bin, binNoasm string

// long is the long form (RECUR_RELIABILITY=long).
var long = os.Getenv("RECUR_RELIABILITY") == "long"

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || noasmBuild {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "recur-reliability")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, binNoasm = filepath.Join(dir, "recur"), filepath.Join(dir, "recur-noasm")
	for _, b := range [][]string{{"-o", bin}, {"-tags", "noasm", "-o", binNoasm}} {
		cmd := exec.Command("go", append(append([]string{"build"}, b...), "github.com/recur-ml/recur/cmd/recur")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building recur %v: %v\n%s", b, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func need(t *testing.T) {
	t.Helper()
	if bin == "" {
		t.Skip("reliability: skipped under -short and in a noasm build (the suite builds both binaries itself)")
	}
}

// recur runs the binary with args to completion within limit and returns
// its combined output.
func recur(t *testing.T, limit time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("recur %s: still running after %v", strings.Join(args, " "), limit)
	}
	return string(out), err
}

// mustRecur is recur that fails the test on an error.
func mustRecur(t *testing.T, args ...string) string {
	t.Helper()
	out, err := recur(t, 2*time.Minute, args...)
	if err != nil {
		t.Fatalf("recur %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// capped returns the command that runs the binary under an address-space
// cap of asBytes when prlimit is installed (util-linux), else uncapped.
func capped(asBytes int64, name string, args ...string) *exec.Cmd {
	if p, err := exec.LookPath("prlimit"); err == nil {
		return exec.Command(p, append([]string{"--as=" + strconv.FormatInt(asBytes, 10), name}, args...)...)
	}
	return exec.Command(name, args...)
}

// peakRSS is the peak resident memory of a live process in bytes
// (VmHWM), or -1 where /proc does not say.
func peakRSS(pid int) int64 { return procStatus(pid, "VmHWM") }

// procStatus is a memory field of /proc/PID/status (VmRSS, VmHWM) in
// bytes, or -1 where /proc does not say.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// server is a recur serve process on a loopback port.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	done chan error
}

var listening = regexp.MustCompile(`listening" addr=(http://\S+)`)

// startServer serves model under a 2 GB address-space cap and waits until
// it listens.
func startServer(t *testing.T, model string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--model", model, "--addr", "127.0.0.1:0"}, extra...)
	s := &server{cmd: capped(2<<30, bin, args...), logs: &lockedBuffer{}, done: make(chan error, 1)}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	select {
	case s.url = <-urlc:
	case err := <-s.done:
		t.Fatalf("recur serve exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("recur serve did not listen within 30s")
	}
	return s
}

// lockedBuffer is a log the server's reader writes while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// alive fails the test if the server process has ended.
func (s *server) alive(t *testing.T, after string) {
	t.Helper()
	select {
	case err := <-s.done:
		t.Fatalf("the server died after %s: %v\n%s", after, err, tail(s.logs.String(), 2000))
	default:
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// fixtures trains one small model per served task into dir and returns
// their run directories by task.
func fixtures(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the cat sat on a mat and the dog ran to the park while rain fell on every roof of the town")
	var corpus, labelled strings.Builder
	labelled.WriteString("text\tlabel\n")
	for i := range 400 {
		var sent []string
		for range 8 + rng.IntN(8) {
			sent = append(sent, words[rng.IntN(len(words))])
		}
		corpus.WriteString(strings.Join(sent, " ") + "\n")
		fmt.Fprintf(&labelled, "%s\t%s\n", strings.Join(sent, " "), []string{"neg", "pos"}[i%2])
	}
	text, tsv := filepath.Join(dir, "corpus.txt"), filepath.Join(dir, "labelled.tsv")
	if err := os.WriteFile(text, []byte(corpus.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tsv, []byte(labelled.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := map[string]string{}
	for task, args := range map[string][]string{
		"forecast": {"--epochs", "1", "--hidden", "8"},
		"classify": {"--task", "classify", "--data", tsv, "--epochs", "1", "--hidden", "8"},
		"lm":       {"--task", "lm", "--level", "word", "--data", text, "--epochs", "1", "--hidden", "8"},
		"seq2seq":  {"--task", "seq2seq", "--data", "gen:addition:digits=2,n=200", "--epochs", "1", "--hidden", "8"},
	} {
		runs[task] = filepath.Join(dir, task)
		mustRecur(t, append([]string{"train", "--no-report", "--quiet", "--out", runs[task]}, args...)...)
	}
	return runs
}

// discard reads and closes a response body.
func discard(r io.ReadCloser) {
	io.Copy(io.Discard, r)
	r.Close()
}
