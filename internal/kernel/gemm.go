package kernel

//go:generate go tool gemm -out gemm_amd64.s -stubs gemm_amd64_stub.go -pkg kernel

// Sgemm computes C = alpha*op(A)*op(B) + beta*C, op(A) m×k, op(B) k×n,
// C m×n, all row-major with leading dimensions lda, ldb, ldc. tA (tB) means
// A (B) is stored transposed: a is k×m (b is n×k). beta == 0 overwrites C
// (NaN in C is ignored); alpha == 0 or k == 0 reads neither A nor B.
//
// Products with one row or one column run the GEMV kernels, and the rest
// the packed, blocked driver of gemm_blocked.go, on the worker team when the
// work is large enough (see SetThreads); the kernels are AVX-512 or
// AVX2/FMA assembly where the CPU has it and their pure-Go twins
// otherwise, with bit-identical results all three ways.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernel: negative Sgemm size")
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n {
		panic("kernel: Sgemm ldc < n")
	}
	checkLen("Sgemm c", c, (m-1)*ldc+n)
	if k > 0 {
		checkMatrix("Sgemm a", tA, m, k, a, lda)
		checkMatrix("Sgemm b", tB, k, n, b, ldb)
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sgemmFast(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmFast is Sgemm's kernel path for checked arguments, m, n, k >= 1.
// Without the assembly it runs the same blocked driver on the pure-Go
// micro-kernels, which give the assembly's bits (sgemmGeneric is the
// plain reference loop the tests check every path against).
func sgemmFast(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch {
	case m == 1:
		// One row of C (contiguous): x = op(A)'s row.
		xs, x := strided(a, k, lda, tA)
		gemvInto(c, n, 1, beta, k, x, b, ldb, tB, alpha)
		putScratchIf(xs)
	case n == 1:
		// One column of C (stride ldc): x = op(B)'s column.
		xs, x := strided(b, k, ldb, !tB)
		gemvInto(c, m, ldc, beta, k, x, a, lda, !tA, alpha)
		putScratchIf(xs)
	default:
		sgemmBlocked(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// strided returns the k-vector v[l*ld] (when col) or v[l] (otherwise) as a
// contiguous slice, copying into cached scratch (returned first) when needed.
func strided(v []float32, k, ld int, col bool) (*[]float32, []float32) {
	if !col || ld == 1 || k == 1 {
		return nil, v[:k]
	}
	s := getScratch(k)
	x := *s
	for l := range x {
		x[l] = v[l*ld]
	}
	return s, x
}

func putScratchIf(s *[]float32) {
	if s != nil {
		putScratch(s)
	}
}

// gemvInto computes the vector y[i*inc], i < n, as beta*y + alpha*v with
// v[i] = Σ_{l<k} x[l]*w(l, i), where w(l, i) = w[i*ldw+l] when rows (the
// GEMV kernel gemvT) and w[l*ldw+i] otherwise (gemvN). The kernels store
// into y itself when inc == 1 and into scratch otherwise.
func gemvInto(y []float32, n, inc int, beta float32, k int, x, w []float32, ldw int, rows bool, alpha float32) {
	if inc == 1 {
		y = y[:n]
		if beta != 0 && beta != 1 {
			for i := range y {
				y[i] *= beta
			}
		}
		gemvSplit(rows, k, x, w, ldw, n, y, alpha, beta != 0)
		return
	}
	s := getScratch(n)
	t := *s
	gemvSplit(rows, k, x, w, ldw, n, t, alpha, false)
	for i, v := range t {
		switch beta {
		case 0:
			y[i*inc] = v
		case 1:
			y[i*inc] += v
		default:
			y[i*inc] = beta*y[i*inc] + v
		}
	}
	putScratch(s)
}

// gemvSplitMin is the operand size (k·n floats, 2 MiB) from which a GEMV is
// split over the team, two parts per thread: a GEMV streams its operand
// once, and from L3 or memory two cores draw more bandwidth. Smaller
// operands stay on one core: an LSTM step's 256 KiB W_hh streams from L2 at
// about 48 GFLOP/s on one core here, and split over the two vCPUs measured
// slower on this shared machine (26 GFLOP/s wall), no faster on a quiet
// Xeon's two cores (33 vs 46).
const gemvSplitMin = 512 << 10

// gemvAwakeMin is gemvSplitMin for a packed operand while the workers are
// awake (see awakeMinFlops): from 256 Ki floats (1 MiB, an H = 256 LSTM's
// W_hh), which no longer fits one core's L2 next to anything else, each
// core streams its half from its own L2. Below that the hand-off across
// the cores (about 1.2 µs on this VM, BenchmarkLockstepExchange) costs
// more than half of a GEMV saves (2.4 µs for H = 128 on one core).
const gemvAwakeMin = 256 << 10

// gemvSplit computes y[i] = alpha*Σ_{l<k} x[l]*w(l, i) (+ y[i] if accum),
// i < n, with w as in gemvInto, on the team when the operand is large.
// Results do not depend on the split: each y[i] is one kernel's sum.
func gemvSplit(rows bool, k int, x, w []float32, ldw, n int, y []float32, alpha float32, accum bool) {
	if k*n < gemvSplitMin || n < 64 || !lockTeam() {
		gemvRange(rows, k, x, w, ldw, y, alpha, accum, 0, n)
		return
	}
	defer unlockTeam()
	t := &team.tasks.gemv
	*t = gemvPar{rows: rows, k: k, x: x, w: w, ldw: ldw, n: n, y: y, alpha: alpha, accum: accum}
	threads := Threads()
	t.per = (n + 32*threads - 1) / (32 * threads) * 16
	runLocked((n+t.per-1)/t.per, t)
	*t = gemvPar{}
}

// gemvRange is gemvSplit for i0 <= i < i1 on the calling thread.
func gemvRange(rows bool, k int, x, w []float32, ldw int, y []float32, alpha float32, accum bool, i0, i1 int) {
	if rows {
		gemvT(k, x, w[i0*ldw:], ldw, i1-i0, y[i0:i1], alpha, accum)
	} else {
		gemvN(k, x, w[i0:], ldw, i1-i0, y[i0:i1], alpha, accum)
	}
}

// gemvPar is a GEMV split into parts for the team: a plain one
// (gemvSplit, per outputs per part) or one over packed panels (gemvPacked,
// per panels per part).
type gemvPar struct {
	rows        bool
	k           int
	x, w        []float32
	ldw, n      int
	y           []float32
	alpha, beta float32
	accum       bool
	per         int
	p           *PackedB // packed: the operand
	np          int      // packed: panels
}

func (t *gemvPar) runPart(part int) {
	if t.p != nil {
		gemvPackedPanels(t.x, t.p, t.alpha, t.beta, t.y, part*t.per, min(t.np, (part+1)*t.per))
		return
	}
	gemvRange(t.rows, t.k, t.x, t.w, t.ldw, t.y, t.alpha, t.accum, part*t.per, min(t.n, (part+1)*t.per))
}

// checkMatrix panics unless s holds op(S), rows×cols (stored cols×rows
// when t), with leading dimension ld; rows, cols >= 1.
func checkMatrix(what string, t bool, rows, cols int, s []float32, ld int) {
	if t {
		rows, cols = cols, rows
	}
	if ld < cols {
		panic("kernel: " + what + " leading dimension too small")
	}
	checkLen(what, s, (rows-1)*ld+cols)
}

// scaleC sets C = beta*C (beta == 0 clears, NaN included).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// PackedB is a k×n right-hand operand stored in the layout the GEMM
// micro-kernel reads (16-column panels per k-block, see pack.go), so that a
// weight used many times (the recurrent matrix, T times forward and T times
// backward) is packed once. The zero value is an empty 0×0 operand.
type PackedB struct {
	K, N int
	data []float32 // panel layout, packedLen(K, N) floats
}

// NewPackedB packs op(B) (k×n; tB means b is stored n×k) for repeated use.
func NewPackedB(tB bool, k, n int, b []float32, ldb int) *PackedB {
	p := &PackedB{}
	p.Pack(tB, k, n, b, ldb)
	return p
}

// Pack (re)packs op(B) into p, reusing p's memory when it is large enough.
func (p *PackedB) Pack(tB bool, k, n int, b []float32, ldb int) {
	if k < 0 || n < 0 {
		panic("kernel: negative PackedB size")
	}
	if k > 0 && n > 0 {
		checkMatrix("PackedB b", tB, k, n, b, ldb)
	}
	p.K, p.N = k, n
	size := packedLen(k, n)
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
	if k > 0 && n > 0 {
		packSplit(packTask{dst: p.data, tB: tB, k: k, n: n, b: b, ldb: ldb})
	}
}

// packSplitMin is the operand size (floats) from which Pack splits its
// panels over the worker team while it is awake. A recurrent layer packs
// W_hh (1 MiB at H = 256) twice per training step, between parallel
// phases, from weights the optimizer has just written and into memory the
// step loops of both cores have just read: one core took 90-130 µs for
// what takes 25 µs on cache-resident operands (BenchmarkPackTeam).
const packSplitMin = 128 << 10

// packTask is Pack's work split over the team: part i packs the panels
// [i*per, (i+1)*per) of op(B) = bᵀ (rows of b, contiguous), or the k-blocks
// [i*per, (i+1)*per) of op(B) = b (contiguous rows of b too): a split by
// panels of an untransposed b made each part read every row of b for a
// strip of it, and two threads took 48-54 µs for what one did in 27. On
// warm operands two threads still pack an untransposed b no faster than
// one (BenchmarkPackTeam: 36-39 µs against 30); in a training step, where
// W_hh comes from the optimizer's two threads, the split backward pack
// took 54-80 µs against 96-147 on one.
type packTask struct {
	dst  []float32
	tB   bool
	k, n int
	b    []float32
	ldb  int
	per  int
}

func (t *packTask) runPart(part int) {
	np := (t.n + 15) / 16
	if t.tB {
		packPanels(t.dst, true, t.k, t.n, t.b, t.ldb, min(np, part*t.per), min(np, (part+1)*t.per))
		return
	}
	kc := kcBlock(t.k)
	packRange(t.dst, false, t.k, t.n, t.b, t.ldb, 0, np, part*t.per*kc, (part+1)*t.per*kc)
}

// packSplit runs t on the caller, or in up to two parts per thread on
// the team when the operand is large and the team is awake.
func packSplit(t packTask) {
	units := (t.n + 15) / 16 // panels, or k-blocks for an untransposed b
	if !t.tB {
		units = (t.k + kcBlock(t.k) - 1) / kcBlock(t.k)
	}
	if t.k*t.n < packSplitMin || units < 2 || !teamAwake() || !lockTeam() {
		t.per = units
		t.runPart(0)
		return
	}
	defer unlockTeam()
	pt := &team.tasks.pack
	*pt = t
	parts := min(units, 2*Threads())
	pt.per = (units + parts - 1) / parts
	runLocked((units+pt.per-1)/pt.per, pt)
	*pt = packTask{}
}

// SgemmPacked computes C = alpha*op(A)*B + beta*C with B pre-packed (k×n):
// op(A) is m×k (tA: a is stored k×m), C is m×n with leading dimension ldc.
// With one row (m == 1) it runs the GEMV kernel over the packed panels.
func SgemmPacked(tA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	sgemmPacked(tA, m, alpha, a, lda, p, beta, c, ldc, false)
}

// sgemmPacked is SgemmPacked, walking the panels last to first when
// reverse is set (see PackedB.Gemm).
func sgemmPacked(tA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int, reverse bool) {
	k, n := p.K, p.N
	if m < 0 {
		panic("kernel: negative SgemmPacked size")
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n {
		panic("kernel: SgemmPacked ldc < n")
	}
	checkLen("SgemmPacked c", c, (m-1)*ldc+n)
	if k > 0 {
		checkMatrix("SgemmPacked a", tA, m, k, a, lda)
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if m == 1 {
		xs, x := strided(a, k, lda, tA)
		gemvPacked(x, p, alpha, beta, c[:n])
		putScratchIf(xs)
		return
	}
	rsa, csa := lda, 1
	if tA {
		rsa, csa = 1, lda
	}
	g := gemmJob{m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, rsa: rsa, csa: csa,
		pb: p.data, c: c, ldc: ldc, packA: packATPays(tA, n), reverse: reverse}
	g.exec()
}

// Gemm computes C = A·B + beta*C against the packed operand, A (m×p.K)
// row-major with leading dimension lda, C (m×p.N) with ldc, walking the
// panels of B last to first when reverse is set. As for [PackedB.Gemv],
// the order changes no result (each element of C is the same FMA chains
// in the same k order), but a loop that calls it step after step with
// alternating directions starts each step on the panels the previous step
// read last, which are still in L2: the few-row products of a recurrent
// layer's time steps against W_hh (1 MiB at H = 256, as large as L2) are
// otherwise streamed from L3 at every step. A product that runs on the
// worker team (not within a kernel.Parallel part) ignores reverse.
func (p *PackedB) Gemm(m int, a []float32, lda int, beta float32, c []float32, ldc int, reverse bool) {
	if m == 1 {
		if p.N > 0 {
			checkLen("Gemm c", c, p.N)
			c = c[:p.N]
		}
		p.Gemv(a[:min(len(a), p.K)], beta, c, reverse)
		return
	}
	sgemmPacked(false, m, 1, a, lda, p, beta, c, ldc, reverse)
}

// gemvSplits reports whether a GEMV against p is large enough to split
// over the team: from gemvSplitMin, or gemvAwakeMin while it is awake.
func (p *PackedB) gemvSplits() bool {
	size := p.K * p.N
	return size >= gemvSplitMin || size >= gemvAwakeMin && teamAwake()
}

// gemvPacked computes y = alpha*x·B + beta*y over the panels of p, split
// over the team (two parts per thread) from gemvSplitMin, as gemvSplit.
func gemvPacked(x []float32, p *PackedB, alpha, beta float32, y []float32) {
	np := (p.N + 15) / 16
	if !p.gemvSplits() || np < 4 || !lockTeam() {
		gemvPackedPanels(x, p, alpha, beta, y, 0, np)
		return
	}
	defer unlockTeam()
	t := &team.tasks.gemv
	threads := Threads()
	*t = gemvPar{x: x, p: p, alpha: alpha, beta: beta, y: y, np: np, per: (np + 2*threads - 1) / (2 * threads)}
	runLocked((np+t.per-1)/t.per, t)
	*t = gemvPar{}
}

// Gemv computes y = x·B + beta*y (x has p.K elements, y p.N) against the
// packed operand, walking its panels last to first when reverse is set.
// The order changes no result (each y[j] is one FMA chain over x in
// order), but a loop that calls Gemv step after step with alternating
// directions starts each step on the panels the previous one read last,
// which are still in L1: a batch-of-one LSTM step against a 256 KiB W_hh
// runs 10-15% faster that way here (2.24 vs 2.5-2.7 µs), because the
// product is bound by the L2 bandwidth. Operands that gemvPacked splits
// over the team ignore reverse.
func (p *PackedB) Gemv(x []float32, beta float32, y []float32, reverse bool) {
	k, n := p.K, p.N
	checkLen("Gemv x", x, k)
	checkLen("Gemv y", y, n)
	if n == 0 {
		return
	}
	if k == 0 {
		scaleC(1, n, beta, y, n)
		return
	}
	np := (n + 15) / 16
	if !reverse || np <= gemvGroup || p.gemvSplits() {
		gemvPacked(x, p, 1, beta, y)
		return
	}
	// Whole groups of panels from the last one down, the partial last
	// panel (if any) first.
	q1 := np
	for q1 > 0 {
		q0 := max(0, q1-gemvGroup)
		if q1 == np && n%16 != 0 {
			q0 = q1 - 1
		}
		gemvPackedPanels(x, p, 1, beta, y, q0, q1)
		q1 = q0
	}
}

// gemvGroup is the number of panels the GEMV kernel runs side by side.
const gemvGroup = 4

// gemvPackedPanels is gemvPacked for the columns of panels q0 <= q < q1.
func gemvPackedPanels(x []float32, p *PackedB, alpha, beta float32, y []float32, q0, q1 int) {
	k, n := p.K, p.N
	yq := y[q0*16 : min(n, q1*16)]
	if beta != 0 && beta != 1 {
		for j := range yq {
			yq[j] *= beta
		}
	}
	kc := kcBlock(k)
	np := (n + 15) / 16
	full := min(q1, n/16) - q0 // whole panels
	var tmp [16]float32
	for l0 := 0; l0 < k; l0 += kc {
		kcp := min(kc, k-l0)
		accum := l0 > 0 || beta != 0
		blk := p.data[(l0*np+q0*kcp)*16 : (l0+kcp)*np*16]
		gemvPanels(kcp, x[l0:], blk, full, yq, alpha, accum)
		if q0+full < q1 {
			gemvPanels(kcp, x[l0:], blk[full*kcp*16:], 1, tmp[:], alpha, false)
			t := yq[full*16:]
			for j := range t {
				if accum {
					t[j] += tmp[j]
				} else {
					t[j] = tmp[j]
				}
			}
		}
	}
}

// Sgemv computes y = alpha*op(A)*x + beta*y with A m×n row-major (lda);
// op(A) = A (y has m elements, x n) or Aᵀ when tA (y has n, x m). It is
// Sgemm with one column, which runs the GEMV kernels.
func Sgemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	if tA {
		Sgemm(true, false, n, 1, m, alpha, a, lda, x, 1, beta, y, 1)
		return
	}
	Sgemm(false, false, m, 1, n, alpha, a, lda, x, 1, beta, y, 1)
}
