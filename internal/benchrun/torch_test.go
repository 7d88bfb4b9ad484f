package benchrun

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseTorch(t *testing.T) {
	out := []byte("warning: something\n" +
		`{"config": "a", "ms_per_step": 2.5, "threads": 2, "ms_by_threads": {"1": 3.0, "2": 2.5}, "peak_rss_mb": 200}` + "\n" +
		`{"config": "b", "ms_per_step": 0, "threads": 1}` + "\n")
	r, err := ParseTorch(out, "a")
	if err != nil {
		t.Fatal(err)
	}
	if r.MsPerStep != 2.5 || r.Threads != 2 || r.MsByThreads["1"] != 3 || r.PeakRSSMB != 200 {
		t.Errorf("ParseTorch = %+v", r)
	}
	if _, err := ParseTorch(out, "b"); err == nil {
		t.Error("ParseTorch accepted ms_per_step 0")
	}
	if _, err := ParseTorch(out, "c"); err == nil || !strings.Contains(err.Error(), "no PyTorch result for c") {
		t.Errorf("ParseTorch(c) error = %v", err)
	}
	if _, err := ParseTorch([]byte("{not json\n"), "a"); err == nil {
		t.Error("ParseTorch accepted a broken line")
	}
}

func TestTorchArgs(t *testing.T) {
	cs, _ := Select("tiny-classifier")
	args, err := Torch{Script: "s.py", Threads: []int{2}}.Args(cs[0], 3, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"s.py", "--spec", `{"name":"tiny-classifier","kind":"classifier","T":4,"B":2,"E":5,"H":8,"L":2,"V":11,"C":3,"bidirectional":true}`,
		"--steps", "3", "--repeat", "4", "--warmup", "1", "--threads", "2"}
	if !slices.Equal(args, want) {
		t.Errorf("Args = %q, want %q", args, want)
	}
}

// torchScript returns the PyTorch script's path, skipping the test when
// python3-torch cannot be imported.
func torchScript(t *testing.T) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("python3-torch is not importable")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p, err := FindScript(wd, "bench/torch_models.py")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTorchScript(t *testing.T) {
	script := torchScript(t)
	tr := Torch{Script: script, Threads: []int{1}}
	for _, name := range []string{"tiny-seq2seq"} {
		cs, _ := Select(name)
		r, err := tr.Run(context.Background(), cs[0], 2, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.Config != name || r.Threads != 1 || r.Steps != 2 || r.Repeat != 2 || !(r.PeakRSSMB > 0) || r.Version == "" {
			t.Errorf("%s: PyTorch result %+v", name, r)
		}
		if cs[0].Training() != (r.Loss > 0) {
			t.Errorf("%s: loss %v, training %v", name, r.Loss, cs[0].Training())
		}
	}
	// Bad arguments exit with status 2 and a message naming the value.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", "nosuch"}, "'nosuch'"},
		{[]string{"--spec", `{"name":"x","kind":"gru","T":1,"B":1,"H":1,"L":1}`}, "'gru'"},
		{[]string{"--spec", `{"name":"x","kind":"lstm","T":1,"B":0,"I":1,"H":1,"L":1}`}, "B=0"},
		{[]string{"--config", "tiny", "--threads", "0"}, "--threads"},
		{[]string{"--config", "lstm-t50", "--repeat", "0"}, "--repeat=0"},
		{[]string{}, "exactly one of --config and --spec"},
	} {
		cmd := exec.Command("/usr/bin/python3", append([]string{script}, tt.args...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("torch_models.py %q: %v, want exit status 2", tt.args, err)
		}
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("torch_models.py %q: output lacks %q:\n%s", tt.args, tt.want, out)
		}
	}
}
