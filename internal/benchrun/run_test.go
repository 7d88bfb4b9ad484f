package benchrun

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunTiny(t *testing.T) {
	for _, name := range []string{"tiny", "tiny-lm", "tiny-classifier", "tiny-seq2seq", "tiny-forecast", "tiny-classify"} {
		t.Run(name, func(t *testing.T) {
			cs, err := Select(name)
			if err != nil {
				t.Fatal(err)
			}
			c := cs[0]
			r, err := Run(c, Options{Steps: 2, Repeat: 3, Peak: 50})
			if err != nil {
				t.Fatal(err)
			}
			if r.Steps != 2 || r.Repeat != 3 {
				t.Errorf("steps, repeat = %d, %d, want 2, 3", r.Steps, r.Repeat)
			}
			if !(r.MsMin > 0 && r.MsMin <= r.MsPerStep && r.MsPerStep <= r.MsMax) {
				t.Errorf("times min %v median %v max %v not ordered and positive", r.MsMin, r.MsPerStep, r.MsMax)
			}
			if got, want := r.SeqPerSec, float64(c.B)/(r.MsPerStep/1e3); math.Abs(got-want) > 1e-9*want {
				t.Errorf("seq/s = %v, want %v", got, want)
			}
			total, lstm := c.Flops()
			if !(total > 0 && lstm > 0 && lstm <= total) {
				t.Errorf("flops total %v lstm %v", total, lstm)
			}
			if got, want := r.PctPeak, 100*r.GFlops/(50*float64(r.Threads)); math.Abs(got-want) > 1e-9 {
				t.Errorf("pct peak = %v, want %v", got, want)
			}
			if r.PeakRSSMB < 1 || r.PeakRSSMB > 1<<16 {
				t.Errorf("peak RSS = %v MB, not plausible", r.PeakRSSMB)
			}
			if r.NumParams != c.Params() {
				t.Errorf("built model has %d parameters, Config.Params says %d", r.NumParams, c.Params())
			}
			if r.Allocs < 0 {
				t.Errorf("allocs/step = %v", r.Allocs)
			}
			if c.Training() && !(r.Loss > 0) {
				t.Errorf("training loss = %v, want > 0", r.Loss)
			}
			if min := float64(c.MinBytes()) / (1 << 20); r.MinMB != min || min <= 0 {
				t.Errorf("min MB = %v, want %v > 0", r.MinMB, min)
			}
		})
	}
}

// TestStandardParams builds every standard configuration (no steps) and
// checks the parameter count that MinBytes relies on.
func TestStandardParams(t *testing.T) {
	for _, c := range Standard() {
		m, err := Build(c, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got, want := m.NumParams(), c.Params(); got != want {
			t.Errorf("%s: built %d parameters, Config.Params = %d", c.Name, got, want)
		}
	}
}

func TestFlops(t *testing.T) {
	tests := []struct {
		c           Config
		total, lstm float64
	}{
		// 3 · 2·50·32·(64+256)·1024
		{Config{Kind: KindLSTM, T: 50, B: 32, I: 64, H: 256, L: 1}, 3 * 2 * 50 * 32 * 320 * 1024, 3 * 2 * 50 * 32 * 320 * 1024},
		// two layers of 2·35·20·400·800, plus the decoder 2·700·200·10000
		{Config{Kind: KindLM, T: 35, B: 20, E: 200, H: 200, L: 2, V: 10000}, 3 * (2*2*35*20*400*800 + 2*700*200*10000), 3 * 2 * 2 * 35 * 20 * 400 * 800},
		// inference is not tripled; bidirectional doubles each layer
		{Config{Kind: KindClassify, T: 10, B: 1, E: 4, H: 8, L: 1, V: 5, C: 3, Bidirectional: true}, 2*2*10*12*32 + 2*16*3, 2 * 2 * 10 * 12 * 32},
	}
	for _, tt := range tests {
		total, lstm := tt.c.Flops()
		if total != tt.total || lstm != tt.lstm {
			t.Errorf("%s: Flops() = %v, %v, want %v, %v", tt.c.Describe(), total, lstm, tt.total, tt.lstm)
		}
	}
	// The PTB decoder is about 76% of the LM's FLOPs (issue 7).
	c, _ := Select("ptb-lm")
	total, lstm := c[0].Flops()
	if share := 1 - lstm/total; share < 0.74 || share > 0.78 {
		t.Errorf("PTB decoder share = %.3f, want about 0.76", share)
	}
}

func TestSelect(t *testing.T) {
	all, err := Select("all")
	if err != nil || len(all) != len(Standard()) {
		t.Fatalf("Select(all) = %d configs, %v; want %d", len(all), err, len(Standard()))
	}
	two, err := Select("tiny, ptb-lm")
	if err != nil || len(two) != 2 || two[0].Name != "tiny" || two[1].Name != "ptb-lm" {
		t.Fatalf("Select(tiny, ptb-lm) = %v, %v", two, err)
	}
	if _, err := Select("nosuch"); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("Select(nosuch) error = %v, want one naming the value", err)
	}
	for _, c := range append(Standard(), tiny...) {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	bad := Config{Name: "x", Kind: KindLSTM, T: 1, B: 0, I: 1, H: 1, L: 1}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "B=0") {
		t.Errorf("Validate(B=0) = %v, want an error naming B=0", err)
	}
	if err := (Config{Name: "x", Kind: "gru"}).Validate(); err == nil {
		t.Error("Validate(kind gru) = nil, want an error")
	}
}

func TestReport(t *testing.T) {
	cs, _ := Select("tiny")
	r, err := Run(cs[0], Options{Steps: 1, Repeat: 1, Warmup: -1, Peak: 50})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, []Result{r, r}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("WriteJSON wrote %d lines, want 2", len(lines))
	}
	var back Result
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil {
		t.Fatal(err)
	}
	if back.Config != r.Config || back.MsPerStep != r.MsPerStep {
		t.Errorf("JSON round trip: got %+v, want %+v", back, r)
	}
	buf.Reset()
	r.setPeers([]*PeerResult{{Peer: "pytorch", Config: "tiny", MsPerStep: 2 * r.MsPerStep, Threads: 1}})
	if err := WriteTable(&buf, []Result{r}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config", "tiny", "2.00x", "core peak 50.0"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestStatusField(t *testing.T) {
	b := []byte("Name:\trecur\nVmPeak:\t  1000 kB\nVmHWM:\t   5120 kB\n")
	if v, ok := statusField(b, "VmHWM:"); !ok || v != 5120 {
		t.Errorf("statusField(VmHWM) = %d, %v, want 5120, true", v, ok)
	}
	if _, ok := statusField(b, "VmRSS:"); ok {
		t.Error("statusField(VmRSS) found a missing field")
	}
	if PeakRSS() <= 0 {
		t.Error("PeakRSS() <= 0")
	}
}

func TestSweep(t *testing.T) {
	cs := SweepCases()
	axes := map[string]int{}
	base := 0
	for _, c := range cs {
		axes[c.Axis]++
		if err := c.Config.Validate(); err != nil {
			t.Errorf("%s: %v", c.Config.Name, err)
		}
		if c.Config == baseOnAxis(c.Config) {
			base++
		}
	}
	for _, a := range []string{"T", "B", "H", "L"} {
		if axes[a] < 4 {
			t.Errorf("axis %s has %d points, want at least 4", a, axes[a])
		}
	}
	if base != 4 {
		t.Errorf("the base configuration lies on %d axes, want 4", base)
	}
	// Plot and write made-up timings proportional to the FLOPs, with a
	// PyTorch time on one point.
	var ps []SweepPoint
	for _, c := range cs {
		f, _ := c.Config.Flops()
		r := Result{Config: c.Config, MsPerStep: f / 1e8}
		ps = append(ps, SweepPoint{SweepCase: c, Result: r})
	}
	ps[0].Result.setPeers([]*PeerResult{{Peer: "pytorch", MsPerStep: 2 * ps[0].Result.MsPerStep}})
	var buf bytes.Buffer
	if err := WriteSweepCSV(&buf, ps); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ps)+1 || recs[1][0] != "T" || recs[1][12] != "2" || recs[2][12] != "" {
		t.Errorf("sweep CSV = %v", recs[:3])
	}
	path := filepath.Join(t.TempDir(), "sweep.png")
	if err := PlotSweep(path, ps); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("%s does not start with the PNG signature", path)
	}
	if err := PlotSweep(path, nil); err == nil {
		t.Error("PlotSweep(nil) = nil, want an error")
	}
}

// TestTrainingStepsAllocateNothing: a training step through the front
// doors and train.Trainer.Step allocates nothing once warm, as the layers'
// own steps do.
func TestTrainingStepsAllocateNothing(t *testing.T) {
	for _, name := range []string{"tiny", "tiny-classifier", "tiny-lm", "tiny-seq2seq"} {
		cs, err := Select(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Build(cs[0], 1)
		if err != nil {
			t.Fatal(err)
		}
		m.Step()
		m.Step()
		if n := testing.AllocsPerRun(5, m.Step); n != 0 && !raceEnabled {
			t.Errorf("%s: %v allocations per training step, want 0", name, n)
		}
	}
}
