package kernel

import (
	"math/bits"
	"sync"
)

// The blocked SGEMM driver (Goto's algorithm with the BLIS loop order):
//
//	for each k-block (kcBlock rows of op(B)):
//	  for each block of mcBlock rows of C:
//	    for each 16-column panel of packed B (it stays in L1):
//	      for each 6-row strip: micro-kernel, a 6×16 tile of C
//
// With AVX-512 (useAVX512) the panels go by groups of four, then two
// (blockZ): one zmm register holds a panel row, so the micro-kernel computes
// a 6×64 tile with 24 zmm accumulators, twice the AVX2 kernels' flops per
// cycle on a core that runs a 512-bit FMA at the 256-bit rate (Zen 5). An
// odd last whole panel and the partial last panel take the AVX2 paths, and
// row blocks are mcBlockZ rows.
//
// The micro-kernel reads op(A) through (rsa, csa) strides, broadcasting one
// element of each of its rows per step: a row-major A streams in place (rows
// lda apart, consecutive l adjacent); a transposed A is first copied into
// row strips per block (packA), since in place it would touch a new cache
// line per step. op(B) is packed into 16-column panels (pack.go): per call,
// just in time for few-row products, or once per weight with PackedB.
//
// Every element of C is produced by the same sequence of operations
// whatever the tile, strip, kernel shape, vector width or thread it falls
// in (one FMA chain per k-block, in l order, then one store), so the
// results do not depend on how the work is split, nor on useAVX512. Only
// the last, partial panel takes a different path (through a scratch tile),
// and panel boundaries are fixed by n.

// mcBlock is the row-block height: 144 rows × 256 k × 4 bytes = 144 KiB of
// A, which stays in L2 while the B panels stream past even on the hosts
// with the smallest one (the Zen 3 hosts of this machine kind, 512 KiB per
// core, which run the AVX2 kernels).
const mcBlock = 144

// mcBlockZ is mcBlock for the AVX-512 kernels. The AVX-512 hosts of this
// machine kind are Zen 5, with a 1 MiB L2 per core, where 288 rows (288 KiB
// of A) still stay in L2 and halve the passes over packed B.
const mcBlockZ = 288

// mcRows is the row-block height of the kernels in use.
func mcRows() int {
	if useAVX2 && useAVX512 {
		return mcBlockZ
	}
	return mcBlock
}

// jitMaxRows is the largest m packed just in time (see gemmJob.jit): up to
// there a packed element of op(B) serves too few rows to pay a write and a
// re-read through memory.
const jitMaxRows = 2 * mcBlock

// parallelMinFlops is the work (2·m·n·k) below which a call runs on the
// calling goroutine alone: waking a parked worker goes through the
// scheduler and costs more than the other core's share of a smaller
// product saves.
const parallelMinFlops = 4 << 20

// awakeMinFlops is that threshold while the workers are awake (spinning
// after a recent call, as through the time steps of a recurrent layer):
// handing off is then a few cache-line transfers between the cores, and a
// split of half a megaflop already saves more than that.
const awakeMinFlops = 512 << 10

// worthSplitting reports whether a product of the given work (2·m·n·k)
// should be offered to the worker team.
func worthSplitting(flops int) bool {
	return flops >= parallelMinFlops || flops >= awakeMinFlops && teamAwake()
}

type gemmJob struct {
	m, n, k     int
	alpha, beta float32
	a           []float32
	rsa, csa    int       // A(i,l) = a[i*rsa+l*csa]
	pb          []float32 // op(B) in panel layout
	c           []float32
	ldc         int
	// pack, when set, makes each part pack its panels of op(B) from b
	// (tB, ldb) into pb before using them; jit (with pack) instead packs
	// slabs of slabPanels panels into a small L2-resident buffer right
	// before they are used, so that few-row products do not pay a full
	// round trip of op(B) through memory. pb is unused then.
	pack bool
	jit  bool
	// packA copies each block of a transposed A into row strips (see
	// stripsA) before use: read in place, a transposed A touches a new
	// cache line per k step, and with a power-of-two lda those lines all
	// fall into a few cache sets.
	packA bool
	tB    bool
	b     []float32
	ldb   int
	// reverse walks the panels of a pre-packed op(B) last to first
	// (PackedB.Gemm) when the job runs on one thread (run); the team's
	// splits ignore it.
	reverse bool
}

// exec runs the job, on the worker team when it is large enough.
func (g *gemmJob) exec() {
	np := (g.n + 15) / 16
	if !worthSplitting(2*g.m*g.n*g.k) || !lockTeam() {
		g.run(0, g.m, 0, np)
		return
	}
	defer unlockTeam()
	threads := Threads()
	t := &team.tasks.gemm
	defer func() { *t = gemmPar{} }() // drop the references to the operands
	t.g = *g
	t.g.reverse = false
	t.np = np
	if g.m <= 2*mcBlock && np >= 2*threads {
		// Few rows: split the panels; each part packs its own. Parts are
		// whole zmm panel groups: a part of two panels would run the
		// mr×32 kernels, 15-25% slower than mr×64.
		parts := min(np, 4*threads)
		t.per = (np + parts - 1) / parts
		if useAVX2 && useAVX512 && t.per%zPanels != 0 && np >= 2*zPanels {
			t.per += zPanels - t.per%zPanels
		}
		t.mode = parPanels
		runLocked((np+t.per-1)/t.per, t)
		return
	}
	if g.pack && !g.jit {
		parts := min(np, 4*threads)
		t.per = (np + parts - 1) / parts
		t.mode = parPack
		runLocked((np+t.per-1)/t.per, t)
		t.g.pack = false
	}
	// Row parts of about mcBlock rows: each part streams all of packed B,
	// so fewer, taller parts read it fewer times; at least 2 per thread
	// so that a late worker leaves work to the others.
	strips := (g.m + 5) / 6
	parts := min(strips, max(2*threads, (g.m+mcBlock-1)/mcBlock))
	t.per = (strips + parts - 1) / parts
	t.mode = parRows
	runLocked((strips+t.per-1)/t.per, t)
}

// gemmPar is a gemmJob split into parts for the team (see exec).
type gemmPar struct {
	g       gemmJob
	mode    int
	per, np int // panels (parPanels, parPack) or 6-row strips (parRows) per part
}

const (
	parPanels = iota // run all rows over a range of panels
	parPack          // pack a range of panels of op(B)
	parRows          // run a range of rows over all panels
)

func (t *gemmPar) runPart(p int) {
	g := &t.g
	switch t.mode {
	case parPanels:
		g.run(0, g.m, p*t.per, min(t.np, (p+1)*t.per))
	case parPack:
		packPanels(g.pb, g.tB, g.k, g.n, g.b, g.ldb, p*t.per, min(t.np, (p+1)*t.per))
	default:
		g.run(6*p*t.per, min(g.m, 6*(p+1)*t.per), 0, t.np)
	}
}

// slabPanels is the width, in 16-column panels, of a just-in-time packed
// slab of op(B): 8 panels × 256 rows = 128 KiB, a quarter of a Zen 3 core's
// 512 KiB L2 (an eighth of a Zen 5 core's 1 MiB).
const slabPanels = 8

// run computes rows i0 <= i < i1 of C over panels q0 <= q < q1.
func (g *gemmJob) run(i0, i1, q0, q1 int) {
	if i0 >= i1 || q0 >= q1 {
		return
	}
	if g.jit {
		g.runJIT(i0, i1, q0, q1)
		return
	}
	if g.reverse && !g.pack && !g.packA {
		g.runReverse(i0, i1, q0, q1)
		return
	}
	if g.pack {
		packPanels(g.pb, g.tB, g.k, g.n, g.b, g.ldb, q0, q1)
	}
	g.scaleBeta(i0, i1, q0, q1)
	n := g.n
	kc := kcBlock(g.k)
	np := (n + 15) / 16
	var abuf *[]float32
	mc := mcRows()
	for l0 := 0; l0 < g.k; l0 += kc {
		kcp := min(kc, g.k-l0)
		blk := g.pb[l0*np*16 : (l0+kcp)*np*16]
		for ic := i0; ic < i1; ic += mc {
			ie := min(ic+mc, i1)
			g.block(ic, ie, l0, kcp, q0, q1, blk[q0*kcp*16:], g.stripsA(&abuf, ic, ie, l0, kcp))
		}
	}
	releaseA(abuf)
}

// runReverse is run over a pre-packed op(B) with the panels walked last
// to first, by groups of zPanels (the groups run starts from q0, taken in
// the opposite order), each group through every k-block in order before
// the next: an element of C gets the same FMA chains in the same order as
// in run.
func (g *gemmJob) runReverse(i0, i1, q0, q1 int) {
	g.scaleBeta(i0, i1, q0, q1)
	kc := kcBlock(g.k)
	np := (g.n + 15) / 16
	mc := mcRows()
	last := q0 + (q1-q0-1)/zPanels*zPanels // first panel of the last group
	for c0 := last; c0 >= q0; c0 -= zPanels {
		c1 := min(c0+zPanels, q1)
		for l0 := 0; l0 < g.k; l0 += kc {
			kcp := min(kc, g.k-l0)
			blk := g.pb[l0*np*16 : (l0+kcp)*np*16]
			for ic := i0; ic < i1; ic += mc {
				g.block(ic, min(ic+mc, i1), l0, kcp, c0, c1, blk[c0*kcp*16:], nil)
			}
		}
	}
}

// scaleBeta applies a general beta (not 0 or 1) to rows i0..i1 of C over
// panels q0..q1 before the k-blocks accumulate into it.
func (g *gemmJob) scaleBeta(i0, i1, q0, q1 int) {
	if g.beta == 0 || g.beta == 1 {
		return
	}
	j0, j1 := q0*16, min(q1*16, g.n)
	for i := i0; i < i1; i++ {
		row := g.c[i*g.ldc+j0 : i*g.ldc+j1]
		for j := range row {
			row[j] *= g.beta
		}
	}
}

// runJIT is run for the jit mode: per k-block, pack a slab of panels, then
// sweep all rows over it.
func (g *gemmJob) runJIT(i0, i1, q0, q1 int) {
	g.scaleBeta(i0, i1, q0, q1)
	kc := kcBlock(g.k)
	buf := getScratch(kcMax * slabPanels * 16)
	var abuf *[]float32
	for l0 := 0; l0 < g.k; l0 += kc {
		kcp := min(kc, g.k-l0)
		as := g.stripsA(&abuf, i0, i1, l0, kcp)
		for s0 := q0; s0 < q1; s0 += slabPanels {
			s1 := min(s0+slabPanels, q1)
			packBlock(*buf, g.tB, g.n, g.b, g.ldb, l0, kcp, s0, s1)
			g.block(i0, i1, l0, kcp, s0, s1, *buf, as)
		}
	}
	putScratch(buf)
	releaseA(abuf)
}

// stripHeight is the number of rows of the next strip when left rows
// remain: 6, except that 7, 8 or 9 last rows become two strips of 4/3, 4/4
// or 5/4. An mr-row micro-kernel keeps 2·mr FMA chains in flight and needs
// 8 to hide the FMA latency, so a 1- or 2-row strip would run at a quarter
// or half speed.
func stripHeight(left int) int {
	if left > 6 && left < 10 {
		return (left + 1) / 2
	}
	return min(6, left)
}

// stripsA returns rows i0..i1 of k-block l0..l0+kcp of A packed into strips
// of stripHeight rows (a strip of h rows starting at row i is at
// (i-i0)*kcp, element (r, l) at l*h+r) when g.packA is set, and nil
// otherwise. The buffer lives until releaseA.
func (g *gemmJob) stripsA(buf **[]float32, i0, i1, l0, kcp int) []float32 {
	if !g.packA {
		return nil
	}
	size := (i1 - i0) * kcp
	if *buf != nil && cap(**buf) < size {
		putScratch(*buf)
		*buf = nil
	}
	if *buf == nil {
		*buf = getScratch(size)
	}
	dst := (**buf)[:size]
	packAT(dst, g.a, g.csa, i0, i1, l0, kcp)
	return dst
}

func releaseA(buf *[]float32) {
	if buf != nil {
		putScratch(buf)
	}
}

// block runs the micro-kernels for rows i0..i1, k-block l0..l0+kcp and
// panels q0..q1, panel q at panels[(q-q0)*kcp*16:]. A is read in place, or
// from strips (see stripsA) when that is not nil. A last strip of 2 or 3
// rows runs over pairs of panels (microKernel2).
func (g *gemmJob) block(i0, i1, l0, kcp, q0, q1 int, panels, strips []float32) {
	qs := q0 // first panel left to the AVX2 kernels
	if useAVX2 && useAVX512 {
		qs = g.blockZ(i0, i1, l0, kcp, q0, q1, panels, strips)
		if qs == q1 {
			return
		}
	}
	iLast := i1 // start of a last 2-3 row strip
	for i, h := i0, 0; i < i1; i += h {
		h = stripHeight(i1 - i)
		if i+h == i1 && (h == 2 || h == 3) {
			iLast = i
		}
	}
	for q := qs; q < q1; q++ {
		panel := panels[(q-q0)*kcp*16 : (q-q0+1)*kcp*16]
		for i, mr := i0, 0; i < iLast; i += mr {
			mr = stripHeight(i1 - i)
			g.tile(i, mr, i0, l0, kcp, q, panel, strips)
		}
	}
	if iLast == i1 {
		return
	}
	mr := i1 - iLast
	q := qs
	for ; q+1 < q1 && (q+2)*16 <= g.n; q += 2 {
		as, rsa, csa := g.stripA(iLast, mr, i0, l0, kcp, strips)
		microKernel2(mr, kcp, as, rsa, csa, panels[(q-q0)*kcp*16:(q-q0+2)*kcp*16], kcp*16,
			g.c[iLast*g.ldc+q*16:], g.ldc, g.alpha, l0 > 0 || g.beta != 0)
	}
	for ; q < q1; q++ {
		g.tile(iLast, mr, i0, l0, kcp, q, panels[(q-q0)*kcp*16:(q-q0+1)*kcp*16], strips)
	}
}

// zPanels is the widest group of panels the AVX-512 micro-kernels take at
// once: 4, an mr×64 tile (24 zmm accumulators for 6 rows), which loads and
// broadcasts each element of A once for four panels instead of two: that
// matters most for few-row products, and costs nothing at larger shapes.
const zPanels = 4

// blockZ is block's AVX-512 part: it runs the zmm micro-kernels on groups
// of zPanels (then 2) whole panels from q0, every strip of rows i0..i1
// over one group before the next, and returns the first panel it left
// (an odd last panel, a partial one) to the AVX2 kernels.
func (g *gemmJob) blockZ(i0, i1, l0, kcp, q0, q1 int, panels, strips []float32) int {
	accum := l0 > 0 || g.beta != 0
	full := min(q1, g.n/16) // panels q < full are whole
	q := q0
	for _, w := range [2]int{zPanels, 2} {
		for ; q+w <= full; q += w {
			b := panels[(q-q0)*kcp*16 : (q-q0+w)*kcp*16]
			for i, mr := i0, 0; i < i1; i += mr {
				mr = stripHeight(i1 - i)
				as, rsa, csa := g.stripA(i, mr, i0, l0, kcp, strips)
				microKernelZ(w, mr, kcp, as, rsa, csa, b, kcp*16, g.c[i*g.ldc+q*16:], g.ldc, g.alpha, accum)
			}
		}
	}
	return q
}

// stripA returns the A operand of the strip of mr rows at row i: in place,
// or in the packed strips of the block starting at row i0.
func (g *gemmJob) stripA(i, mr, i0, l0, kcp int, strips []float32) (a []float32, rsa, csa int) {
	if strips != nil {
		return strips[(i-i0)*kcp:], 1, mr
	}
	return g.a[i*g.rsa+l0*g.csa:], g.rsa, g.csa
}

// tile runs one mr×16 micro-kernel call: rows i.., panel q of k-block l0.
// The last, partial panel goes through a scratch tile.
func (g *gemmJob) tile(i, mr, i0, l0, kcp, q int, panel, strips []float32) {
	ldc := g.ldc
	accum := l0 > 0 || g.beta != 0
	as, rsa, csa := g.stripA(i, mr, i0, l0, kcp, strips)
	j := q * 16
	w := min(16, g.n-j)
	if w == 16 {
		microKernel(mr, kcp, as, rsa, csa, panel, g.c[i*ldc+j:], ldc, g.alpha, accum)
		return
	}
	var tmp [6 * 16]float32
	microKernel(mr, kcp, as, rsa, csa, panel, tmp[:], 16, g.alpha, false)
	for r := 0; r < mr; r++ {
		crow := g.c[(i+r)*ldc+j : (i+r)*ldc+j+w]
		t := tmp[r*16 : r*16+w]
		if accum {
			for jj, v := range t {
				crow[jj] += v
			}
		} else {
			copy(crow, t)
		}
	}
}

// sgemmBlocked is Sgemm through the blocked driver: op(B) is packed into
// cached scratch, then the job runs (in parallel when it pays). m, n, k >= 1.
func sgemmBlocked(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	rsa, csa := lda, 1
	if tA {
		rsa, csa = 1, lda
	}
	g := gemmJob{m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, rsa: rsa, csa: csa,
		c: c, ldc: ldc, pack: true, tB: tB, b: b, ldb: ldb, packA: packATPays(tA, n)}
	if m <= jitMaxRows {
		g.jit = true
		g.exec()
		return
	}
	buf := getScratch(packedLen(k, n))
	g.pb = *buf
	g.exec()
	putScratch(buf)
}

// packATPays reports whether copying a transposed A into strips pays: the
// copy is read back once per 16-column panel.
func packATPays(tA bool, n int) bool { return tA && n > 32 }

// The kernels' scratch (packed operands, strips of A, gathered vectors)
// comes from a small persistent cache, one free list per power-of-two size
// class: a buffer is never dropped for being too small and replaced by
// fresh, page-faulting memory, and unlike a sync.Pool the cache survives
// garbage collections, so a steady training loop allocates nothing. Each
// class keeps at most scratchKeep buffers (as many as calls in flight need
// at once: the caller and the workers each hold one or two), and classes
// above scratchMaxClass (64 MiB) keep none.
const (
	scratchKeep     = 4
	scratchMaxClass = 24
)

var scratchCache [48]struct {
	mu   sync.Mutex
	free []*[]float32
}

// getScratch returns a cached slice of length n (contents undefined).
func getScratch(n int) *[]float32 {
	c := bits.Len(uint(max(n, 1024) - 1))
	sc := &scratchCache[c]
	sc.mu.Lock()
	if f := len(sc.free); f > 0 {
		p := sc.free[f-1]
		sc.free[f-1] = nil
		sc.free = sc.free[:f-1]
		sc.mu.Unlock()
		*p = (*p)[:n]
		return p
	}
	sc.mu.Unlock()
	s := make([]float32, n, 1<<c)
	return &s
}

// putScratch returns a buffer from getScratch to the cache.
func putScratch(p *[]float32) {
	c := bits.Len(uint(cap(*p))) - 1
	if c > scratchMaxClass {
		return
	}
	sc := &scratchCache[c]
	sc.mu.Lock()
	if len(sc.free) < scratchKeep {
		if sc.free == nil {
			sc.free = make([]*[]float32, 0, scratchKeep)
		}
		sc.free = append(sc.free, p)
	}
	sc.mu.Unlock()
}
