package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/recur-ml/recur/train"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress prints training progress: on a terminal a bar redrawn in
// place (steps/s, loss, ETA), otherwise plain log lines, about ten per run
// plus every improvement of the validation metric in the first epochs.
type progress struct {
	w      io.Writer
	epochs int
	tty    bool
	start  time.Time
	last   time.Time
}

func newProgress(w io.Writer, epochs int, tty bool) *progress {
	return &progress{w: w, epochs: epochs, tty: tty}
}

func (p *progress) On(ev *train.Event) error {
	switch ev.Kind {
	case train.TrainBegin:
		p.start = time.Now()
	case train.StepEnd:
		if !p.tty || time.Since(p.last) < 100*time.Millisecond {
			return nil
		}
		p.last = time.Now()
		el := time.Since(p.start).Seconds()
		rate := float64(ev.Step) / el
		done := float64(ev.Epoch) / float64(p.epochs)
		eta := ""
		if done > 0 {
			eta = fmt.Sprintf(" ETA %s", time.Duration(el*(1-done)/done*float64(time.Second)).Round(time.Second))
		}
		n := int(done * 30)
		fmt.Fprintf(p.w, "\r[%s%s] epoch %d/%d  %.0f steps/s  loss %.4g%s   ", strings.Repeat("=", n), strings.Repeat(" ", 30-n), ev.Epoch+1, p.epochs, rate, ev.Loss, eta)
	case train.EpochEnd:
		every := max(1, p.epochs/10)
		if ev.Epoch%every != 0 && ev.Epoch != p.epochs {
			return nil
		}
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K")
		}
		line := fmt.Sprintf("epoch %d/%d  step %d  train loss %.4g", ev.Epoch, p.epochs, ev.Step, ev.Loss)
		if v, ok := ev.Metrics["loss"]; ok {
			line += fmt.Sprintf("  valid loss %.4g", v)
		}
		for _, k := range []string{"rmse", "accuracy", "ppl"} {
			if v, ok := ev.Metrics[k]; ok {
				line += fmt.Sprintf("  valid %s %.4g", k, v)
			}
		}
		fmt.Fprintf(p.w, "%s  lr %.3g  %.1fs\n", line, ev.LR, time.Since(p.start).Seconds())
	}
	return nil
}
