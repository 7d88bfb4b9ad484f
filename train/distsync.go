package train

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/tensor"
)

// syncFromRoot makes every rank's training state rank 0's: rank 0's
// checkpoint (weights, optimizer state, position, generators, carried
// state) is broadcast and the other ranks resume from it. Then the
// dropout generators of ranks other than 0 are made to draw their own
// masks, unless they already do.
func (t *Trainer) syncFromRoot() error {
	d := t.dist
	f, err := t.file(false)
	if err != nil {
		return err
	}
	var buf []byte
	if d.rank == 0 {
		var b bytes.Buffer
		if err := checkpoint.Encode(&b, f); err != nil {
			return err
		}
		buf = b.Bytes()
	}
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(buf)))
	if err := d.comm.Bcast(hdr[:], 0); err != nil {
		return fmt.Errorf("train: broadcasting the state: %w", err)
	}
	if d.rank != 0 {
		buf = make([]byte, binary.LittleEndian.Uint64(hdr[:]))
	}
	if err := d.comm.Bcast(buf, 0); err != nil {
		return fmt.Errorf("train: broadcasting the state: %w", err)
	}
	if d.rank != 0 {
		f, err := checkpoint.Decode(bytes.NewReader(buf), int64(len(buf)))
		if err != nil {
			return fmt.Errorf("train: rank %d: reading rank 0's state: %w", d.rank, err)
		}
		if err := t.Resume(f); err != nil {
			return fmt.Errorf("train: rank %d: taking rank 0's state: %w", d.rank, err)
		}
	}
	if !d.split {
		return t.splitRNGs()
	}
	return nil
}

// splitRNGs reseeds the dropout generators of every rank but 0 from their
// state and the rank, so that the ranks draw different masks.
func (t *Trainer) splitRNGs() error {
	d := t.dist
	d.split = true
	if d.rank == 0 {
		return nil
	}
	for _, g := range t.cfg.RNGs[:d.userRNGs] {
		b, err := g.MarshalBinary()
		if err != nil {
			return err
		}
		h := fnv.New64a()
		h.Write(b)
		fmt.Fprintf(h, "rank %d", d.rank)
		nb, err := tensor.NewRNG(h.Sum64()).MarshalBinary()
		if err != nil {
			return err
		}
		if err := g.UnmarshalBinary(nb); err != nil {
			return err
		}
	}
	return nil
}

// gatherRNGs returns, on rank 0, the dropout generators' states of ranks
// 1..size-1, each rank's generators one after the other (nil elsewhere,
// and when the ranks do not draw their own masks yet).
func (t *Trainer) gatherRNGs() ([][]byte, error) {
	d := t.dist
	if !d.split || d.userRNGs == 0 {
		return nil, nil
	}
	var own []byte
	for _, g := range t.cfg.RNGs[:d.userRNGs] {
		b, err := g.MarshalBinary()
		if err != nil {
			return nil, err
		}
		own = append(own, b...)
	}
	all := make([]float64, d.size*len(own))
	for i, b := range own {
		all[d.rank*len(own)+i] = float64(b)
	}
	if err := d.comm.AllreduceF64(all); err != nil {
		return nil, fmt.Errorf("train: gathering the generators: %w", err)
	}
	if d.rank != 0 {
		return nil, nil
	}
	out := make([][]byte, d.size-1)
	for r := range out {
		out[r] = make([]byte, len(own))
		for i := range own {
			out[r][i] = byte(all[(r+1)*len(own)+i])
		}
	}
	return out, nil
}

// restoreRankRNGs gives this rank its dropout generators' states from a
// checkpoint written by as many ranks; with another number of ranks they
// are drawn afresh (splitRNGs).
func (t *Trainer) restoreRankRNGs(st *State) error {
	d := t.dist
	d.split = false
	if d.rank == 0 || st.RNGRanks != d.size || len(st.RankRNGs) != d.size-1 {
		d.split = d.rank == 0 && st.RNGRanks == d.size
		return nil
	}
	b := st.RankRNGs[d.rank-1]
	for i, g := range t.cfg.RNGs[:d.userRNGs] {
		own, err := g.MarshalBinary()
		if err != nil {
			return err
		}
		if len(b) < len(own) {
			return fmt.Errorf("train: checkpoint's generator states of rank %d are short", d.rank)
		}
		if err := g.UnmarshalBinary(b[:len(own)]); err != nil {
			return fmt.Errorf("train: restoring generator %d of rank %d: %w", i, d.rank, err)
		}
		b = b[len(own):]
	}
	d.split = true
	return nil
}

// gatherCarried returns the carried tensors of every rank's streams,
// joined along the task's CarryAxis in rank order (on rank 0; nil
// elsewhere).
func (t *Trainer) gatherCarried(c ShardedCarrier) (map[string]*tensor.Tensor, error) {
	d := t.dist
	own := c.Carried()
	names := make([]string, 0, len(own))
	for k := range own {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]*tensor.Tensor{}
	for _, k := range names {
		g, err := gatherAxis(d, own[k], c.CarryAxis())
		if err != nil {
			return nil, fmt.Errorf("train: gathering the carried state %q: %w", k, err)
		}
		out[k] = g
	}
	if d.rank != 0 {
		return nil, nil
	}
	return out, nil
}

// gatherAxis joins every rank's x along axis in rank order; the other
// axes are the same on every rank.
func gatherAxis(d *dist, x *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	outer, inner := around(x.Shape, axis)
	counts := make([]float64, d.size)
	counts[d.rank] = float64(x.Shape[axis])
	if err := d.comm.AllreduceF64(counts); err != nil {
		return nil, err
	}
	total, off := 0, 0
	for r, c := range counts {
		if r < d.rank {
			off += int(c)
		}
		total += int(c)
	}
	shape := append([]int(nil), x.Shape...)
	shape[axis] = total
	g := tensor.New(shape...)
	rows := x.Shape[axis] * inner
	for o := range outer {
		copy(g.Data[(o*total+off)*inner:], x.Data[o*rows:(o+1)*rows])
	}
	return g, d.comm.AllreduceF32(g.Data)
}

// shardAxis returns this rank's rows of x along axis (ShardRange).
func shardAxis(d *dist, x *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	if axis < 0 || axis >= len(x.Shape) {
		return nil, fmt.Errorf("train: carried state of shape %v has no axis %d", x.Shape, axis)
	}
	outer, inner := around(x.Shape, axis)
	total := x.Shape[axis]
	lo, hi := ShardRange(total, d.rank, d.size)
	shape := append([]int(nil), x.Shape...)
	shape[axis] = hi - lo
	s := tensor.New(shape...)
	rows := (hi - lo) * inner
	for o := range outer {
		copy(s.Data[o*rows:(o+1)*rows], x.Data[(o*total+lo)*inner:])
	}
	return s, nil
}

// around returns the products of shape's sizes before and after axis.
func around(shape []int, axis int) (outer, inner int) {
	outer, inner = 1, 1
	for i, n := range shape {
		if i < axis {
			outer *= n
		} else if i > axis {
			inner *= n
		}
	}
	return outer, inner
}
