package batch

import "fmt"

// Dataset is a list of examples: token-id sequences with optional labels
// (classification) or target sequences (sequence to sequence, tagging).
// Labels and Targets are either nil or as long as Seqs.
type Dataset struct {
	Seqs    [][]int
	Labels  []int
	Targets [][]int
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return len(d.Seqs) }

func (d *Dataset) validate() error {
	if len(d.Seqs) == 0 {
		return fmt.Errorf("batch: dataset has no examples")
	}
	if d.Labels != nil && len(d.Labels) != len(d.Seqs) {
		return fmt.Errorf("batch: dataset has %d labels for %d sequences", len(d.Labels), len(d.Seqs))
	}
	if d.Targets != nil && len(d.Targets) != len(d.Seqs) {
		return fmt.Errorf("batch: dataset has %d target sequences for %d sequences", len(d.Targets), len(d.Seqs))
	}
	for i, s := range d.Seqs {
		if len(s) == 0 {
			return fmt.Errorf("batch: example %d has an empty sequence", i)
		}
	}
	return nil
}

// Batch is B examples padded to a common length.
//
// IDs is stored batch-first, (B, T): row b holds example Index[b], its
// first Lengths[b] entries are tokens and the rest are Pad. T is the
// longest length in the batch. Use TimeMajor for the (T, B) layout of the
// recurrent layers, and Mask for loss masks.
type Batch struct {
	B, T    int
	IDs     []int // (B, T), right-padded with Pad
	Lengths []int // (B)
	Labels  []int // (B), nil when the dataset has no labels
	// Targets is (B, TT), right-padded with Pad, with TargetLengths (B);
	// nil when the dataset has no targets.
	TT            int
	Targets       []int
	TargetLengths []int
	Index         []int // (B) dataset index of each row
	Pad           int
}

// At returns the id of row b at step t.
func (bt *Batch) At(b, t int) int { return bt.IDs[b*bt.T+t] }

// TimeMajor writes IDs as (T, B) into dst (grown as needed) and returns it.
func (bt *Batch) TimeMajor(dst []int) []int { return transpose(dst, bt.IDs, bt.B, bt.T) }

// TargetsTimeMajor writes Targets as (TT, B) into dst and returns it.
func (bt *Batch) TargetsTimeMajor(dst []int) []int { return transpose(dst, bt.Targets, bt.B, bt.TT) }

func transpose(dst, src []int, rows, cols int) []int {
	dst = resize(dst, rows*cols)
	for r := range rows {
		for c := range cols {
			dst[c*rows+r] = src[r*cols+c]
		}
	}
	return dst
}

func resize[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}

// Mask writes the (B, T) padding mask into dst (grown as needed) and
// returns it: 1 where a token is, 0 on padding.
func (bt *Batch) Mask(dst []float32) []float32 { return mask(dst, bt.Lengths, bt.T, false) }

// MaskTimeMajor writes the (T, B) padding mask into dst and returns it.
func (bt *Batch) MaskTimeMajor(dst []float32) []float32 { return mask(dst, bt.Lengths, bt.T, true) }

// TargetMask writes the (B, TT) mask of Targets into dst and returns it.
func (bt *Batch) TargetMask(dst []float32) []float32 {
	return mask(dst, bt.TargetLengths, bt.TT, false)
}

func mask(dst []float32, lengths []int, t int, timeMajor bool) []float32 {
	b := len(lengths)
	dst = resize(dst, b*t)
	for r, n := range lengths {
		for c := range t {
			v := float32(0)
			if c < n {
				v = 1
			}
			if timeMajor {
				dst[c*b+r] = v
			} else {
				dst[r*t+c] = v
			}
		}
	}
	return dst
}

// Padding returns the number of pad positions in IDs.
func (bt *Batch) Padding() int {
	n := 0
	for _, l := range bt.Lengths {
		n += bt.T - l
	}
	return n
}

// Pad right-pads seqs with pad into a (B, T) batch-first matrix, cutting
// sequences longer than maxLen (zero means no limit) to their first maxLen
// tokens. T is the longest length after cutting. The sequences are not
// modified.
func Pad(seqs [][]int, pad, maxLen int) (ids, lengths []int, t int) {
	lengths = make([]int, len(seqs))
	for i, s := range seqs {
		lengths[i] = len(s)
		if maxLen > 0 {
			lengths[i] = min(lengths[i], maxLen)
		}
		t = max(t, lengths[i])
	}
	ids = make([]int, len(seqs)*t)
	for i, s := range seqs {
		row := ids[i*t : (i+1)*t]
		n := copy(row, s[:lengths[i]])
		for j := n; j < t; j++ {
			row[j] = pad
		}
	}
	return ids, lengths, t
}
