package benchrun

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// none marks a table cell with no value: a peer that did not run the
// configuration, or a column that does not apply.
const none = "—"

// WriteTable prints results as an aligned table. With fresh-process times
// (Session.Fresh) it adds the "fresh ms" column beside the in-process
// time; with peers it prints a second table, per configuration recur's
// time, each peer's best time and thread count, and the speed-ups against
// each peer and the best one, then what each peer's time covers and why a
// peer did not run.
func WriteTable(w io.Writer, rs []Result) error {
	fresh := false
	for _, r := range rs {
		fresh = fresh || r.FreshMs > 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"config", "shape", "ms/step"}
	if fresh {
		head = append(head, "fresh ms")
	}
	head = append(head, "seq/s", "GFLOP/s", "%peak", "RSS MB", "min MB", "allocs/step")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range rs {
		cells := []string{r.Config.Name, r.Describe, msCell(r.Config, r.MsPerStep)}
		if fresh {
			c := none
			if r.FreshMs > 0 {
				c = msCell(r.Config, r.FreshMs)
			}
			cells = append(cells, c)
		}
		cells = append(cells, fmt.Sprintf("%.0f", r.SeqPerSec), fmt.Sprintf("%.1f", r.GFlops), fmt.Sprintf("%.0f", r.PctPeak),
			fmt.Sprintf("%.0f", r.PeakRSSMB), fmt.Sprintf("%.1f", r.MinMB), fmt.Sprintf("%.1f", r.Allocs))
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "threads %d, measured core peak %.1f GFLOP/s; %%peak is against threads × core peak\n", rs[0].Threads, rs[0].PeakGFlops); err != nil {
		return err
	}
	if fresh {
		fmt.Fprintln(w, "ms/step of an inference configuration is in this process after the training configurations ran; fresh ms in a new process")
	}
	return writePeerTable(w, rs)
}

// msCell formats a time: 3 decimals for training steps, 4 for inference.
func msCell(c Config, ms float64) string {
	if c.Training() {
		return fmt.Sprintf("%.3f", ms)
	}
	return fmt.Sprintf("%.4f", ms)
}

// peerNames lists the peers of rs in the order they first appear.
func peerNames(rs []Result) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range rs {
		for _, p := range r.Peers {
			if !seen[p.Peer] {
				seen[p.Peer] = true
				names = append(names, p.Peer)
			}
		}
	}
	return names
}

// writePeerTable prints the comparison table and its notes; nothing when
// no result has peers.
func writePeerTable(w io.Writer, rs []Result) error {
	names := peerNames(rs)
	if len(names) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"config", "recur ms"}
	for _, n := range names {
		head = append(head, n+" ms (thr)")
	}
	for _, n := range names {
		head = append(head, "vs "+n)
	}
	fmt.Fprintln(tw, strings.Join(append(head, "vs best"), "\t")+"\t")
	for _, r := range rs {
		cells := []string{r.Config.Name, msCell(r.Config, r.MsPerStep)}
		var speed []string
		for _, n := range names {
			if p := r.Peer(n); p != nil {
				cells = append(cells, fmt.Sprintf("%s (%d)", msCell(r.Config, p.MsPerStep), p.Threads))
				speed = append(speed, fmt.Sprintf("%.2fx", p.Speedup))
			} else {
				cells, speed = append(cells, none), append(speed, none)
			}
		}
		best := none
		if r.BestPeer != "" {
			best = fmt.Sprintf("%.2fx %s", r.SpeedupBest, r.BestPeer)
		}
		fmt.Fprintln(tw, strings.Join(append(append(cells, speed...), best), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, peerNotes(rs, names))
	return err
}

// peerNotes explains the comparison table: "vs X" is X's ms over
// recur's, what each peer's time covers, its per-call floor, and why a
// peer has no time, with the configurations it left out.
func peerNotes(rs []Result, names []string) string {
	var b strings.Builder
	b.WriteString("vs X: X's ms over recur's (> 1: recur is faster); each peer's better of its thread counts (thr)\n")
	for _, n := range names {
		var covers, skipped, floors []string
		which := map[string][]string{} // a covers note or a reason → configurations
		for _, r := range rs {
			for _, p := range r.Peers {
				switch {
				case p.Peer != n:
				case p.Skipped != "":
					skipped = appendNew(skipped, p.Skipped)
					which[p.Skipped] = append(which[p.Skipped], r.Config.Name)
				default:
					if p.Covers != "" {
						covers = appendNew(covers, p.Covers)
						which[p.Covers] = append(which[p.Covers], r.Config.Name)
					}
					if p.FloorMs > 0 {
						floors = append(floors, fmt.Sprintf("%s %.4f", r.Config.Name, p.FloorMs))
					}
				}
			}
		}
		for _, c := range covers {
			fmt.Fprintf(&b, "%s: times %s (%s)\n", n, c, strings.Join(which[c], ", "))
		}
		if len(floors) > 0 {
			fmt.Fprintf(&b, "%s: per-call floor (Identity model, same process), ms: %s\n", n, strings.Join(floors, ", "))
		}
		for _, s := range skipped {
			fmt.Fprintf(&b, "%s: %s; %s for %s\n", n, s, none, strings.Join(which[s], ", "))
		}
	}
	return b.String()
}

// WriteJSON writes one JSON object per result, one per line.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// appendNew appends s to list unless list holds it.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
