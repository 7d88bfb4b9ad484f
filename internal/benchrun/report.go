package benchrun

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints results as an aligned table; with PyTorch results
// attached it adds PyTorch's time, its thread count and the speedup.
func WriteTable(w io.Writer, rs []Result) error {
	torch := false
	for _, r := range rs {
		if r.Torch != nil {
			torch = true
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"config", "shape", "ms/step", "seq/s", "GFLOP/s", "%peak", "RSS MB", "min MB", "allocs/step"}
	if torch {
		head = append(head, "torch ms", "torch thr", "torch RSS MB", "speedup")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range rs {
		ms := fmt.Sprintf("%.3f", r.MsPerStep)
		if !r.Config.Training() {
			ms = fmt.Sprintf("%.4f", r.MsPerStep)
		}
		cells := []string{r.Config.Name, r.Describe, ms,
			fmt.Sprintf("%.0f", r.SeqPerSec), fmt.Sprintf("%.1f", r.GFlops), fmt.Sprintf("%.0f", r.PctPeak),
			fmt.Sprintf("%.0f", r.PeakRSSMB), fmt.Sprintf("%.1f", r.MinMB), fmt.Sprintf("%.1f", r.Allocs)}
		if torch {
			if r.Torch != nil {
				cells = append(cells, fmt.Sprintf("%.3f", r.Torch.MsPerStep), fmt.Sprint(r.Torch.Threads),
					fmt.Sprintf("%.0f", r.Torch.PeakRSSMB), fmt.Sprintf("%.2fx", r.Speedup))
			} else {
				cells = append(cells, "-", "-", "-", "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rs) > 0 {
		_, err := fmt.Fprintf(w, "threads %d, measured core peak %.1f GFLOP/s; %%peak is against threads × core peak\n", rs[0].Threads, rs[0].PeakGFlops)
		return err
	}
	return nil
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
