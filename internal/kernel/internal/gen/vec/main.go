// Command vec generates vec_amd64.s and its Go declarations: the AVX2/FMA
// elementwise kernels of package kernel (exp, sigmoid, tanh, ReLU and their
// backward helpers, the fused LSTM and GRU gate steps, softmax helpers,
// axpy/dot/scal/sumsq/add/mul and the Adam updates). Each assembly function
// is the vector form of a pure-Go twin in vec_generic.go; vec.go dispatches.
//
// Run it through go generate in internal/kernel:
//
//	go run ./internal/gen/vec -out vec_amd64.s -stubs vec_amd64_stub.go -pkg kernel
//
// Every AVX2 kernel walks its vectors 8 lanes at a time and finishes the
// last 1..7 elements with one masked iteration (VMASKMOVPS with a mask read
// from a sliding table), so no kernel reads or writes outside its slices.
// The activation-heavy loops interleave two vectors per iteration. The AVX2
// kernels use only Y0-Y15, so they run on CPUs without AVX-512.
//
// The compute-bound kernels (activations, fused gates, softmax row passes,
// Adam) also exist as AVX-512 versions (names ending in AVX512), generated
// by the same code with ZMM registers: 16 lanes per vector, four vectors
// interleaved in the activation loops, the tail as one iteration under an
// opmask (fault-suppressing masked loads and stores), and constants read
// by embedded broadcast. Per lane they execute exactly the instructions of
// the AVX2 versions, so elementwise results are bit-identical. Every
// function clears the upper vector state (VZEROUPPER) before it returns.
//
// # Transcendentals
//
// exp(x) follows the Cephes expf scheme: n = round(x·log2 e) (by adding
// 1.5·2^23), r = x − n·ln2 in two parts (exact high part, then the low
// correction), exp(r) by the degree-5 minimax polynomial 1 + r + r²·P(r),
// and the result scaled by 2^n as 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that overflow
// gives +Inf and underflow gives subnormals then 0 naturally. The argument
// is clamped to [−105, 89] with NaN-preserving min/max, so ±Inf map to
// +Inf and 0 and NaN propagates. sigmoid(x) = 1/(1+exp(−x)) with a true
// division and a cheaper exp (one scaling, argument in [−88, 88.7]: 0 up
// to +Inf). tanh(x) = sign(x)·(−m)/(2+m) with m = expm1(−2|x|) =
// 2^n·(r + r²·P(r)) + (2^n − 1), which is relatively accurate near 0
// (where n = 0) and saturates to ±1.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Cephes expf coefficients (exp(r) ≈ 1 + r + r²·P(r), |r| ≤ ln2/2) and the
// two-part ln 2 used by the range reduction.
var (
	expPoly = []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}
	ln2Hi   = float32(0.693359375)
	ln2Lo   = float32(-2.12194440e-4)
)

// Constant vectors (8 equal lanes), defined once before any function. The
// ZMM kernels read only their first lane, broadcast: Go aligns data symbols
// to at most 32 bytes, and 64-byte loads straddling cache lines made the
// ZMM exp slower than the YMM one.
var (
	cOne, cTwo, cSign, cAbs, cLog2e, cLn2Hi, cLn2Lo, c127, cNeg2, cNegInf Mem
	cExpP                                                                 []Mem
	// Range of the argument and the rounding shifter of the two exp
	// variants: the full one (exp itself, softmax) and the fast one
	// (inside sigmoid and tanh).
	full, fast expRange
	maskTab    Mem
	kmaskTab   Mem
)

func splat(name string, c Constant) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, c)
	}
	return m
}

// f32 is a float32 constant as its bit pattern: the assembler would read an
// integral value printed by F32 (such as $(89)) as an integer.
func f32(v float32) Constant { return U32(math.Float32bits(v)) }

func constants() {
	cOne = splat("vecOne", f32(1))
	cSign = splat("vecSign", U32(0x80000000))
	cAbs = splat("vecAbs", U32(0x7fffffff))
	cTwo = splat("vecTwo", f32(2))
	full = expRange{splat("vecExpHi", f32(89)), splat("vecExpLo", f32(-105)), splat("vecShift", f32(shifter))}
	fast = expRange{splat("vecFastHi", f32(88.7)), splat("vecFastLo", f32(-88)), splat("vecFastShift", f32(shifter+127))}
	cLog2e = splat("vecLog2e", f32(1.44269504088896341))
	cLn2Hi = splat("vecLn2Hi", f32(ln2Hi))
	cLn2Lo = splat("vecLn2Lo", f32(ln2Lo))
	c127 = splat("vec127", U32(127))
	cNeg2 = splat("vecNeg2", f32(-2))
	cNegInf = splat("vecNegInf", U32(0xff800000))
	for i, c := range expPoly {
		cExpP = append(cExpP, splat(fmt.Sprintf("vecExpP%d", i), f32(c)))
	}
	// maskTab holds eight all-ones words then eight zero words: the 32 bytes
	// at maskTab+32-4r enable exactly the first r lanes.
	maskTab = GLOBL("vecTailMask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := U32(0)
		if i < 8 {
			v = U32(0xffffffff)
		}
		DATA(4*i, v)
	}
	// kmaskTab[r] (16-bit words) is the opmask enabling the first r lanes.
	kmaskTab = GLOBL("vecTailKMask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(2*i, U16(1<<i-1))
	}
}

func main() {
	ConstraintExpr("amd64,!noasm")
	constants()
	kernels()
	wide = true
	kernels()
	Generate()
}

// wide is set while the AVX-512 kernels are generated: registers are ZMM,
// loops step 16 lanes, tails use opmask registers and names end in AVX512.
var wide bool

// vreg allocates a vector register of the current width.
func vreg() VecVirtual {
	if wide {
		return ZMM()
	}
	return YMM()
}

// vlanes is the number of float32 lanes of the current width.
func vlanes() int {
	if wide {
		return 16
	}
	return 8
}

// kname is the name of a kernel at the current width.
func kname(base string) string {
	if wide {
		return base + "AVX512"
	}
	return base + "AVX2"
}

// kernels emits the kernels of the current width. The AVX-512 set holds
// those that measured faster on ZMM (the compute-bound ones, and axpy,
// scal, dot and sumSq at cache-resident sizes; relu, the activation
// backwards, softmaxBackwardRow, addTo and mulTo did not clearly gain and
// stay AVX2 only). Each performs per lane exactly the operations of its
// AVX2 version, so both give bit-identical elementwise results; the
// reductions (max, and the float64 sums of dot, sumSq, expShift and
// sumExpShift) keep 16 partial results instead of 8.
func kernels() {
	unary(kname("exp"), "dst[i] = exp(x[i])", expV)
	unary(kname("sigmoid"), "dst[i] = 1/(1+exp(-x[i]))", sigmoidV)
	unary(kname("tanh"), "dst[i] = tanh(x[i])", tanhV)
	lstmForward()
	lstmBackward(true)
	lstmBackward(false)
	gruForward()
	gruBackward()
	axpy()
	scal()
	dot()
	sumSq()
	sqDiff(true)
	sqDiff(false)
	maxRow()
	expShift(true)
	expShift(false)
	addConst()
	adam()
	if wide {
		adam64(false)
		adam64(true)
		return
	}
	relu()
	backwardAdd(kname("tanhBackward"), "dx[i] += dy[i] * (1 - y[i]*y[i])", func(g, y VecVirtual) {
		t := vreg()
		VMULPS(y, y, t)
		VSUBPS(t, vconst(cOne), y) // 1 - y²
		VMULPS(y, g, g)
	})
	backwardAdd(kname("sigmoidBackward"), "dx[i] += dy[i] * y[i] * (1 - y[i])", func(g, y VecVirtual) {
		VMULPS(y, g, g)
		VSUBPS(y, vconst(cOne), y)
		VMULPS(y, g, g)
	})
	softmaxBackward()
	adam64(false)
	adam64(true)
	binary(kname("addTo"), "dst[i] = a[i] + b[i]", func(x, y VecVirtual) { VADDPS(y, x, x) })
	binary(kname("mulTo"), "dst[i] = a[i] * b[i]", func(x, y VecVirtual) { VMULPS(y, x, x) })
	reluBackward()
}

// ---------------------------------------------------------------------------
// Vector math on registers. Each function takes one register per stream
// (independent 8-lane vectors, interleaved instruction by instruction so
// that their long dependency chains overlap), returns fresh registers and
// leaves its arguments unchanged.

type vecs []VecVirtual

// each calls f for every stream index.
func (v vecs) each(f func(i int)) {
	for i := range v {
		f(i)
	}
}

// fresh returns k new registers.
func fresh(k int) vecs {
	r := make(vecs, k)
	for i := range r {
		r[i] = vreg()
	}
	return r
}

// vconst loads a constant vector into a fresh register.
func vconst(m Mem) VecVirtual {
	r := vreg()
	loadConst(m, r)
	return r
}

// consts loads a constant vector into k fresh registers.
func consts(m Mem, k int) vecs {
	r := fresh(k)
	r.each(func(i int) { loadConst(m, r[i]) })
	return r
}

func loadConst(m Mem, r VecVirtual) {
	if wide {
		VBROADCASTSS(m, r)
	} else {
		VMOVUPS(m, r)
	}
}

// kop emits ins with the constant vector m as its first operand; in wide
// mode it emits bcst, the embedded-broadcast form that reads one lane of m.
func kop(ins, bcst func(...Op), m Mem, rest ...Op) {
	ops := append([]Op{m}, rest...)
	if wide {
		bcst(ops...)
	} else {
		ins(ops...)
	}
}

// shifter is 1.5·2^23: adding it to a float of magnitude below 2^22 rounds
// that float to an integer held in the low mantissa bits of the sum.
const shifter = 12582912

// expRange is a clamp interval and the shifter constant of an exp variant.
type expRange struct{ hi, lo, shift Mem }

// reduce clamps x to rg, splits it as x = n·ln2 + r with n = round(x·log2 e)
// and |r| <= ln2/2, and returns q = exp(r) - 1 = r + r²·P(r) and
// j = x·log2 e + rg.shift, whose low mantissa bits hold n plus the bias
// built into the shifter.
func reduce(x vecs, rg expRange) (q, j vecs) {
	// The Intel MIN/MAX return their second source when either is NaN;
	// avo's first operand is that source, so x (then t) goes first and NaN
	// survives the clamp.
	k := len(x)
	t := consts(rg.hi, k)
	t.each(func(i int) { VMINPS(x[i], t[i], t[i]) })
	lo := consts(rg.lo, k)
	t.each(func(i int) { VMAXPS(t[i], lo[i], t[i]) })
	j = consts(rg.shift, k)
	t.each(func(i int) { kop(VFMADD231PS, VFMADD231PS_BCST, cLog2e, t[i], j[i]) }) // j = t·log2e + shift, rounded
	fx := fresh(k)
	t.each(func(i int) { kop(VSUBPS, VSUBPS_BCST, rg.shift, j[i], fx[i]) }) // n, exactly
	t.each(func(i int) { kop(VFNMADD231PS, VFNMADD231PS_BCST, cLn2Hi, fx[i], t[i]) })
	t.each(func(i int) { kop(VFNMADD231PS, VFNMADD231PS_BCST, cLn2Lo, fx[i], t[i]) }) // t = r = x - n·ln2
	p := consts(cExpP[0], k)
	for _, c := range cExpP[1:] {
		t.each(func(i int) { kop(VFMADD213PS, VFMADD213PS_BCST, c, t[i], p[i]) }) // p = p·r + c
	}
	r2 := fresh(k)
	t.each(func(i int) { VMULPS(t[i], t[i], r2[i]) })
	t.each(func(i int) { VFMADD213PS(t[i], r2[i], p[i]) }) // q = p·r² + r
	return p, j
}

// expV is the full-range exp: x is clamped to [-105, 89] and 2^n applied
// as 2^(n>>1)·2^(n-(n>>1)), so that results overflow to +Inf, underflow
// gradually through the subnormals and reach 0, each with one rounding.
func expV(x vecs) vecs {
	p, j := reduce(x, full)
	n, n1 := fresh(len(x)), fresh(len(x))
	p.each(func(i int) {
		kop(VADDPS, VADDPS_BCST, cOne, p[i], p[i])       // exp(r)
		kop(VPSUBD, VPSUBD_BCST, full.shift, j[i], n[i]) // integer n
		VPSRAD(U8(1), n[i], n1[i])
		VPSUBD(n1[i], n[i], n[i])
		kop(VPADDD, VPADDD_BCST, c127, n1[i], n1[i])
		VPSLLD(U8(23), n1[i], n1[i])
		kop(VPADDD, VPADDD_BCST, c127, n[i], n[i])
		VPSLLD(U8(23), n[i], n[i])
		VMULPS(n1[i], p[i], p[i])
		VMULPS(n[i], p[i], p[i])
	})
	return p
}

// fastScale returns 2^n from reduce(x, fast): with x clamped to
// [-88, 88.7], n+127 lies in [0, 255], so 2^n is 0 (flushing results
// below 2^-126, which sigmoid and tanh never need) up to +Inf.
func fastScale(j vecs) vecs {
	s := fresh(len(j))
	s.each(func(i int) { VPSLLD(U8(23), j[i], s[i]) })
	return s
}

func sigmoidV(x vecs) vecs {
	u := fresh(len(x))
	u.each(func(i int) { kop(VXORPS, VXORPS_BCST, cSign, x[i], u[i]) }) // -x
	q, j := reduce(u, fast)
	s := fastScale(j)
	r := consts(cOne, len(x))
	q.each(func(i int) { VADDPS(r[i], q[i], q[i]) }) // exp(r) > 0
	// 1 + 2^n·exp(r) = 1 + exp(-x), +Inf when x < -88.38.
	q.each(func(i int) { VFMADD213PS(r[i], s[i], q[i]) })
	r.each(func(i int) { VDIVPS(q[i], r[i], r[i]) })
	return r
}

// tanhV computes tanh|x| = -m/(2+m) with m = expm1(-2|x|) = 2^n·q + (2^n-1),
// which keeps full relative accuracy near 0 (there n = 0 and m = q), then
// copies the sign of x.
func tanhV(x vecs) vecs {
	k := len(x)
	ax := fresh(k)
	ax.each(func(i int) { kop(VANDPS, VANDPS_BCST, cAbs, x[i], ax[i]) })
	ax.each(func(i int) { kop(VMULPS, VMULPS_BCST, cNeg2, ax[i], ax[i]) })
	q, j := reduce(ax, fast)
	s := fastScale(j)
	m, d := fresh(k), fresh(k)
	m.each(func(i int) { kop(VSUBPS, VSUBPS_BCST, cOne, s[i], m[i]) }) // 2^n - 1 (exact)
	m.each(func(i int) { VFMADD231PS(s[i], q[i], m[i]) })              // m = 2^n·q + 2^n - 1, in [-1, 0]
	m.each(func(i int) { kop(VADDPS, VADDPS_BCST, cTwo, m[i], d[i]) })
	m.each(func(i int) { VDIVPS(d[i], m[i], m[i]) }) // -tanh|x|
	m.each(func(i int) { kop(VANDPS, VANDPS_BCST, cAbs, m[i], m[i]) })
	sg := fresh(k)
	m.each(func(i int) { kop(VANDPS, VANDPS_BCST, cSign, x[i], sg[i]) })
	m.each(func(i int) { VORPS(sg[i], m[i], m[i]) })
	return m
}

func expY(x VecVirtual) VecVirtual     { return expV(vecs{x})[0] }
func sigmoidY(x VecVirtual) VecVirtual { return sigmoidV(vecs{x})[0] }
func tanhY(x VecVirtual) VecVirtual    { return tanhV(vecs{x})[0] }

// ---------------------------------------------------------------------------
// Loop driver.

// lanes loads and stores the 8-lane vector of one stream: at byte offset
// off from the loop pointers, masked in the tail iteration.
type lanes struct {
	mask VecVirtual    // YMM tail: lane mask for VMASKMOVPS
	k    OpmaskVirtual // ZMM tail: opmask
	off  int
}

func (l lanes) load(m Mem) VecVirtual {
	r := vreg()
	switch {
	case l.k != nil:
		VMOVUPS_Z(m, l.k, r) // disabled lanes read as 0, without faulting
	case l.mask != nil:
		VMASKMOVPS(m, l.mask, r)
	default:
		VMOVUPS(m.Offset(l.off), r)
	}
	return r
}

func (l lanes) store(v VecVirtual, m Mem) {
	switch {
	case l.k != nil:
		VMOVUPS(v, l.k, m)
	case l.mask != nil:
		VMASKMOVPS(v, l.mask, m)
	default:
		VMOVUPS(v, m.Offset(l.off))
	}
}

func (l lanes) tail() bool { return l.k != nil || l.mask != nil }

// keep zeroes the lanes beyond the tail (a no-op in full iterations).
func (l lanes) keep(v VecVirtual) {
	switch {
	case l.k != nil:
		VMOVAPS_Z(v, l.k, v)
	case l.mask != nil:
		VANDPS(l.mask, v, v)
	}
}

// streams is the set of lanes one loop iteration handles.
type streams []lanes

func (ls streams) load(m Mem) vecs {
	r := make(vecs, len(ls))
	for i, l := range ls {
		r[i] = l.load(m)
	}
	return r
}

func (ls streams) store(v vecs, m Mem) {
	for i, l := range ls {
		l.store(v[i], m)
	}
}

var labels int

// loop emits: while n >= L { body(full lanes); ptrs += 4L bytes; n -= L },
// then body once with the first n lanes enabled if n > 0, where L is 8
// (YMM) or 16 (ZMM). n is clobbered.
func loop(n GPVirtual, ptrs []GPVirtual, body func(l lanes)) {
	loopU(n, ptrs, 1, func(ls streams) { body(ls[0]) })
}

// loopU is loop with u streams per iteration while n >= Lu, then one
// stream per iteration, then the masked tail.
func loopU(n GPVirtual, ptrs []GPVirtual, u int, body func(ls streams)) {
	labels++
	wide, top, tail, done := fmt.Sprintf("wide%d", labels), fmt.Sprintf("loop%d", labels), fmt.Sprintf("tail%d", labels), fmt.Sprintf("done%d", labels)
	L := vlanes()
	step := func(k int) {
		ls := make(streams, k)
		for i := range ls {
			ls[i].off = 4 * L * i
		}
		body(ls)
		for _, p := range ptrs {
			ADDQ(U32(4*L*k), p)
		}
		SUBQ(U32(L*k), n)
	}
	if u > 1 {
		Label(wide)
		CMPQ(n, U32(L*u))
		JL(LabelRef(top))
		step(u)
		JMP(LabelRef(wide))
	}
	Label(top)
	CMPQ(n, U8(L))
	JL(LabelRef(tail))
	step(1)
	JMP(LabelRef(top))
	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	body(streams{tailLanes(n)})
	Label(done)
}

// tailLanes returns the lanes enabling the first n (1 <= n < L) elements.
// n is clobbered.
func tailLanes(n GPVirtual) lanes {
	t := GP64()
	if wide {
		LEAQ(kmaskTab, t)
		k := K()
		KMOVW(Mem{Base: t, Index: n, Scale: 2}, k)
		return lanes{k: k}
	}
	LEAQ(maskTab, t)
	NEGQ(n)
	mask := YMM()
	VMOVUPS(Mem{Base: t, Index: n, Scale: 4, Disp: 32}, mask)
	return lanes{mask: mask}
}

func base(name string) GPVirtual { return Load(Param(name).Base(), GP64()).(GPVirtual) }

func length(name string) GPVirtual { return Load(Param(name).Len(), GP64()).(GPVirtual) }

// scalar broadcasts a float32 parameter to all lanes.
func scalar(name string) VecVirtual {
	x := XMM()
	Load(Param(name), x)
	y := vreg()
	VBROADCASTSS(x, y)
	return y
}

func at(p GPVirtual) Mem { return Mem{Base: p} }

// gate addresses element k·H (bytes hs = 4H, h3 = 12H) past p.
func gate(p, hs, h3 GPVirtual, k int) Mem {
	switch k {
	case 0:
		return Mem{Base: p}
	case 1:
		return Mem{Base: p, Index: hs, Scale: 1}
	case 2:
		return Mem{Base: p, Index: hs, Scale: 2}
	default:
		return Mem{Base: p, Index: h3, Scale: 1}
	}
}

func end() {
	VZEROUPPER()
	RET()
}

// ---------------------------------------------------------------------------
// Kernels.

// unroll is the number of independent vectors the activation-heavy loops
// interleave: two keep the live registers within the 16 YMM registers; the
// 32 ZMM registers hold four, which measured faster than two or three.
func unroll() int {
	if wide {
		return 4
	}
	return 2
}

// rowStreams is the number of vectors the row reductions (max, expShift)
// handle per iteration, each with its own accumulators: one for AVX2
// (whose code predates the ZMM kernels and is kept as it was measured),
// and in wide mode as many as the activation loops, which made the ZMM max
// three times and sumExpShift 1.35 times faster. (Unrolling the
// store-bound addConst and scal did not help.)
func rowStreams() int {
	if wide {
		return unroll()
	}
	return 1
}

func unary(name, doc string, f func(vecs) vecs) {
	TEXT(name, NOSPLIT, "func(dst, x []float32)")
	Pragma("noescape")
	Doc(name+" sets "+doc+" for i < len(x); len(dst) >= len(x).", "dst may alias x.")
	dst, x, n := base("dst"), base("x"), length("x")
	loopU(n, []GPVirtual{dst, x}, unroll(), func(ls streams) {
		ls.store(f(ls.load(at(x))), at(dst))
	})
	end()
}

// rowSizes loads H = len(param) and returns H, 4H and 12H (bytes).
func rowSizes(param string) (n, hs, h3 GPVirtual) {
	n = length(param)
	hs = GP64()
	MOVQ(n, hs)
	SHLQ(U8(2), hs)
	h3 = GP64()
	LEAQ(Mem{Base: hs, Index: hs, Scale: 2}, h3)
	return n, hs, h3
}

func lstmForward() {
	TEXT(kname("lstmForwardRow"), NOSPLIT, "func(act, c, h, pre, cPrev []float32)")
	Pragma("noescape")
	Doc(kname("lstmForwardRow")+" is one row (b fixed) of lstmForwardGeneric with H = len(c);",
		"act and pre hold 4H elements, h and cPrev H. act may alias pre.")
	a, c, h, p, cp := base("act"), base("c"), base("h"), base("pre"), base("cPrev")
	n, hs, h3 := rowSizes("c")
	loopU(n, []GPVirtual{a, c, h, p, cp}, unroll(), func(ls streams) {
		// Order chosen to keep few registers live: c = i·g, then += f·cPrev.
		ig := sigmoidV(ls.load(gate(p, hs, h3, 0)))
		ls.store(ig, gate(a, hs, h3, 0))
		gg := tanhV(ls.load(gate(p, hs, h3, 2)))
		ls.store(gg, gate(a, hs, h3, 2))
		cv := fresh(len(ls))
		cv.each(func(i int) { VMULPS(gg[i], ig[i], cv[i]) })
		fg := sigmoidV(ls.load(gate(p, hs, h3, 1)))
		ls.store(fg, gate(a, hs, h3, 1))
		cpv := ls.load(at(cp))
		cv.each(func(i int) { VFMADD231PS(cpv[i], fg[i], cv[i]) }) // c = f·cPrev + i·g
		ls.store(cv, at(c))
		og := sigmoidV(ls.load(gate(p, hs, h3, 3)))
		ls.store(og, gate(a, hs, h3, 3))
		tc := tanhV(cv)
		tc.each(func(i int) { VMULPS(og[i], tc[i], tc[i]) })
		ls.store(tc, at(h))
	})
	end()
}

func lstmBackward(withDC bool) {
	name, sig := kname("lstmBackwardRow"), "func(dpre, dcPrev, act, c, cPrev, dh, dc []float32)"
	doc := "dc is the incoming cell gradient; dcPrev may alias dc."
	if !withDC {
		name, sig = kname("lstmBackwardRowNoDC"), "func(dpre, dcPrev, act, c, cPrev, dh []float32)"
		doc = "The incoming cell gradient is zero."
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name+" is one row (b fixed) of lstmBackwardGeneric with H = len(c);",
		"dpre and act hold 4H elements, the others H. "+doc)
	d, dcp, a, c, cp, dh := base("dpre"), base("dcPrev"), base("act"), base("c"), base("cPrev"), base("dh")
	ptrs := []GPVirtual{d, dcp, a, c, cp, dh}
	var dc GPVirtual
	if withDC {
		dc = base("dc")
		ptrs = append(ptrs, dc)
	}
	n, hs, h3 := rowSizes("c")
	loop(n, ptrs, func(l lanes) {
		one := vconst(cOne)
		tc := tanhY(l.load(at(c)))
		og := l.load(gate(a, hs, h3, 3))
		g := l.load(at(dh))
		// d_o = dh·tc·o(1-o)
		t := vreg()
		VSUBPS(og, one, t)
		VMULPS(og, t, t)
		u := vreg()
		VMULPS(tc, g, u)
		VMULPS(t, u, u)
		l.store(u, gate(d, hs, h3, 3))
		// dct = dh·o·(1-tc²) + dc
		dct := vreg()
		VMULPS(og, g, dct)
		VMOVUPS(one, t)
		VFNMADD231PS(tc, tc, t) // 1 - tc²
		VMULPS(t, dct, dct)
		if withDC {
			VADDPS(l.load(at(dc)), dct, dct)
		}
		ig := l.load(gate(a, hs, h3, 0))
		gg := l.load(gate(a, hs, h3, 2))
		// d_i = dct·g·i(1-i)
		VSUBPS(ig, one, t)
		VMULPS(ig, t, t)
		VMULPS(gg, t, t)
		VMULPS(dct, t, t)
		l.store(t, gate(d, hs, h3, 0))
		// d_g = dct·i·(1-g²)
		VMOVUPS(one, t)
		VFNMADD231PS(gg, gg, t)
		VMULPS(ig, t, t)
		VMULPS(dct, t, t)
		l.store(t, gate(d, hs, h3, 2))
		// d_f = dct·cPrev·f(1-f); dcPrev = dct·f
		fg := l.load(gate(a, hs, h3, 1))
		VSUBPS(fg, one, t)
		VMULPS(fg, t, t)
		VMULPS(l.load(at(cp)), t, t)
		VMULPS(dct, t, t)
		l.store(t, gate(d, hs, h3, 1))
		VMULPS(fg, dct, dct)
		l.store(dct, at(dcp))
	})
	end()
}

func gruForward() {
	TEXT(kname("gruForwardRow"), NOSPLIT, "func(act, h, xg, hg, hPrev []float32)")
	Pragma("noescape")
	Doc(kname("gruForwardRow")+" is one row (b fixed) of gruForwardGeneric with H = len(h);",
		"act, xg and hg hold 3H elements, h and hPrev H.")
	a, h, xg, hg, hp := base("act"), base("h"), base("xg"), base("hg"), base("hPrev")
	n, hs, h3 := rowSizes("h")
	loopU(n, []GPVirtual{a, h, xg, hg, hp}, unroll(), func(ls streams) {
		sum := func(k int) vecs {
			t, u := ls.load(gate(xg, hs, h3, k)), ls.load(gate(hg, hs, h3, k))
			t.each(func(i int) { VADDPS(u[i], t[i], t[i]) })
			return t
		}
		r := sigmoidV(sum(0))
		ls.store(r, gate(a, hs, h3, 0))
		t, u := ls.load(gate(xg, hs, h3, 2)), ls.load(gate(hg, hs, h3, 2))
		t.each(func(i int) { VFMADD231PS(u[i], r[i], t[i]) }) // xn + r·hn
		nn := tanhV(t)
		ls.store(nn, gate(a, hs, h3, 2))
		z := sigmoidV(sum(1))
		ls.store(z, gate(a, hs, h3, 1))
		// h = (1-z)·n + z·hPrev = n + z·(hPrev - n)
		hv := ls.load(at(hp))
		hv.each(func(i int) { VSUBPS(nn[i], hv[i], hv[i]) })
		hv.each(func(i int) { VFMADD213PS(nn[i], z[i], hv[i]) })
		ls.store(hv, at(h))
	})
	end()
}

func gruBackward() {
	TEXT(kname("gruBackwardRow"), NOSPLIT, "func(dxg, dhg, dhPrev, act, hg, hPrev, dh []float32)")
	Pragma("noescape")
	Doc(kname("gruBackwardRow")+" is one row (b fixed) of gruBackwardGeneric with H = len(dh);",
		"dxg, dhg, act and hg hold 3H elements, dhPrev and hPrev H.")
	dx, dhh, dhp, a, hg, hp, dh := base("dxg"), base("dhg"), base("dhPrev"), base("act"), base("hg"), base("hPrev"), base("dh")
	n, hs, h3 := rowSizes("dh")
	loop(n, []GPVirtual{dx, dhh, dhp, a, hg, hp, dh}, func(l lanes) {
		one := vconst(cOne)
		g := l.load(at(dh))
		z := l.load(gate(a, hs, h3, 1))
		nn := l.load(gate(a, hs, h3, 2))
		// dn = dh·(1-z)·(1-n²)
		t := vreg()
		VSUBPS(z, one, t)
		VMULPS(g, t, t)
		u := vreg()
		VMOVUPS(one, u)
		VFNMADD231PS(nn, nn, u)
		dn := vreg()
		VMULPS(u, t, dn)
		l.store(dn, gate(dx, hs, h3, 2))
		// dz = dh·(hPrev-n)·z(1-z)
		hv := l.load(at(hp))
		VSUBPS(nn, hv, hv)
		VMULPS(g, hv, hv)
		VSUBPS(z, one, t)
		VMULPS(z, t, t)
		VMULPS(t, hv, hv)
		l.store(hv, gate(dx, hs, h3, 1))
		l.store(hv, gate(dhh, hs, h3, 1))
		// dr = dn·hn·r(1-r)
		r := l.load(gate(a, hs, h3, 0))
		VSUBPS(r, one, t)
		VMULPS(r, t, t)
		VMULPS(l.load(gate(hg, hs, h3, 2)), dn, u)
		VMULPS(t, u, u)
		l.store(u, gate(dx, hs, h3, 0))
		l.store(u, gate(dhh, hs, h3, 0))
		VMULPS(r, dn, dn)
		l.store(dn, gate(dhh, hs, h3, 2))
		VMULPS(z, g, g)
		l.store(g, at(dhp))
	})
	end()
}

func axpy() {
	TEXT(kname("axpy"), NOSPLIT, "func(alpha float32, x, y []float32)")
	Pragma("noescape")
	Doc(kname("axpy") + " sets y[i] += alpha*x[i] for i < len(x) (product rounded, then sum: no FMA).")
	al := scalar("alpha")
	x, y, n := base("x"), base("y"), length("x")
	loop(n, []GPVirtual{x, y}, func(l lanes) {
		v := l.load(at(x))
		VMULPS(al, v, v)
		VADDPS(l.load(at(y)), v, v)
		l.store(v, at(y))
	})
	end()
}

func scal() {
	TEXT(kname("scal"), NOSPLIT, "func(alpha float32, x []float32)")
	Pragma("noescape")
	Doc(kname("scal") + " sets x[i] *= alpha.")
	al := scalar("alpha")
	x, n := base("x"), length("x")
	loop(n, []GPVirtual{x}, func(l lanes) {
		v := l.load(at(x))
		VMULPS(al, v, v)
		l.store(v, at(x))
	})
	end()
}

// halvesPD returns the low and high halves of the float32 lanes of v
// converted to float64 (two YMM, or two ZMM for a ZMM v).
func halvesPD(v VecVirtual) (lo, hi VecVirtual) {
	lo, hi = vreg(), vreg()
	if wide {
		VCVTPS2PD(v.AsY(), lo)
		VEXTRACTF64X4(U8(1), v, hi.AsY())
		VCVTPS2PD(hi.AsY(), hi)
		return lo, hi
	}
	VCVTPS2PD(v.AsX(), lo)
	VEXTRACTF128(U8(1), v, hi.AsX())
	VCVTPS2PD(hi.AsX(), hi)
	return lo, hi
}

// widen adds the float32 lanes of v, converted to float64, to acc0 (low
// half) and acc1 (high half); with mul it adds v·mul lane-wise in float64.
func widen(v, mul VecVirtual, acc0, acc1 VecVirtual) {
	lo, hi := halvesPD(v)
	if mul == nil {
		VADDPD(lo, acc0, acc0)
		VADDPD(hi, acc1, acc1)
		return
	}
	mlo, mhi := halvesPD(mul)
	VFMADD231PD(lo, mlo, acc0)
	VFMADD231PD(hi, mhi, acc1)
}

// hsumPD returns acc0+acc1 summed across lanes, in the low float64 of an XMM.
func hsumPD(acc0, acc1 VecVirtual) VecVirtual {
	VADDPD(acc1, acc0, acc0)
	if wide {
		y := YMM()
		VEXTRACTF64X4(U8(1), acc0, y)
		VADDPD(y, acc0.AsY(), y)
		acc0 = y
	}
	x := XMM()
	VEXTRACTF128(U8(1), acc0, x)
	VADDPD(x, acc0.AsX(), x)
	VHADDPD(x, x, x)
	return x
}

func zeros() VecVirtual {
	r := vreg()
	VXORPS(r, r, r)
	return r
}

func dot() {
	TEXT(kname("dot"), NOSPLIT, "func(x, y []float32) float32")
	Pragma("noescape")
	Doc(kname("dot") + " returns Σ x[i]*y[i] for i < len(x), accumulated in float64 (one partial sum per lane).")
	x, y, n := base("x"), base("y"), length("x")
	a0, a1 := zeros(), zeros()
	loop(n, []GPVirtual{x, y}, func(l lanes) {
		widen(l.load(at(x)), l.load(at(y)), a0, a1)
	})
	s := hsumPD(a0, a1)
	VCVTSD2SS(s, s, s)
	VZEROUPPER()
	Store(s, ReturnIndex(0))
	RET()
}

func sumSq() {
	TEXT(kname("sumSq"), NOSPLIT, "func(x []float32) float64")
	Pragma("noescape")
	Doc(kname("sumSq") + " returns Σ float64(x[i])², accumulated in float64 (one partial sum per lane).")
	x, n := base("x"), length("x")
	a0, a1 := zeros(), zeros()
	loop(n, []GPVirtual{x}, func(l lanes) {
		v := l.load(at(x))
		widen(v, v, a0, a1)
	})
	s := hsumPD(a0, a1)
	VZEROUPPER()
	Store(s, ReturnIndex(0))
	RET()
}

// sqDiff emits the squared-error kernel: d = p - t rounded to float32,
// Σ d² accumulated in float64 and, withGrad, grad = scale·d.
func sqDiff(withGrad bool) {
	name, sig := kname("sqDiffSum"), "func(p, t []float32) float64"
	doc := name + " returns Σ float64(p[i]-t[i])² for i < len(p), the difference rounded to float32, accumulated in float64 (one partial sum per lane)."
	if withGrad {
		name, sig = kname("sqDiff"), "func(grad, p, t []float32, scale float32) float64"
		doc = name + " is " + kname("sqDiffSum") + " that also sets grad[i] = scale*(p[i]-t[i])."
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	p, t, n := base("p"), base("t"), length("p")
	ptrs := []GPVirtual{p, t}
	var g GPVirtual
	var sc VecVirtual
	if withGrad {
		g = base("grad")
		ptrs = append(ptrs, g)
		sc = scalar("scale")
	}
	a0, a1 := zeros(), zeros()
	loop(n, ptrs, func(l lanes) {
		d := l.load(at(p))
		VSUBPS(l.load(at(t)), d, d) // d = p - t
		widen(d, d, a0, a1)
		if withGrad {
			VMULPS(sc, d, d)
			l.store(d, at(g))
		}
	})
	s := hsumPD(a0, a1)
	VZEROUPPER()
	Store(s, ReturnIndex(0))
	RET()
}

func maxRow() {
	TEXT(kname("max"), NOSPLIT, "func(x []float32) float32")
	Pragma("noescape")
	Doc(kname("max")+" returns the largest x[i] (-Inf for an empty x), skipping NaN like",
		"the loop `if v > m { m = v }`.")
	x, n := base("x"), length("x")
	// In wide mode one running maximum per stream, so that the VMAXPS
	// chains overlap; they are combined at the end (NaN never enters them,
	// so the order does not matter).
	ms := consts(cNegInf, rowStreams())
	loopU(n, []GPVirtual{x}, len(ms), func(ls streams) {
		for i, l := range ls {
			var v VecVirtual
			switch {
			case l.k != nil:
				v = vconst(cNegInf)
				VMOVUPS(at(x), l.k, v) // disabled lanes keep -Inf
			case l.mask != nil:
				v = l.load(at(x))
				ni := vconst(cNegInf)
				VBLENDVPS(l.mask, v, ni, v) // disabled lanes: -Inf
			default:
				v = l.load(at(x))
			}
			VMAXPS(ms[i], v, ms[i]) // m = v > m ? v : m
		}
	})
	m := ms[0]
	for _, mi := range ms[1:] {
		VMAXPS(m, mi, m)
	}
	if wide {
		y := YMM()
		VEXTRACTF64X4(U8(1), m, y)
		VMAXPS(m.AsY(), y, y)
		m = y
	}
	t := XMM()
	VEXTRACTF128(U8(1), m, t)
	VMAXPS(m.AsX(), t, t)
	u := XMM()
	VPERMILPS(U8(0x4e), t, u)
	VMAXPS(u, t, t)
	VPERMILPS(U8(0xb1), t, u)
	VMAXPS(u, t, t)
	VZEROUPPER()
	Store(t, ReturnIndex(0))
	RET()
}

func expShift(write bool) {
	if write {
		TEXT(kname("expShift"), NOSPLIT, "func(dst, x []float32, m float32) float64")
		Doc(kname("expShift")+" sets dst[i] = exp(x[i]-m) for i < len(x) and returns Σ dst[i]",
			"accumulated in float64. dst may alias x.")
	} else {
		TEXT(kname("sumExpShift"), NOSPLIT, "func(x []float32, m float32) float64")
		Doc(kname("sumExpShift") + " returns Σ exp(x[i]-m) accumulated in float64.")
	}
	Pragma("noescape")
	var dst GPVirtual
	ptrs := []GPVirtual{}
	if write {
		dst = base("dst")
		ptrs = append(ptrs, dst)
	}
	x, n := base("x"), length("x")
	ptrs = append(ptrs, x)
	sh := scalar("m")
	// Two float64 accumulators (low and high halves) per stream.
	k := rowStreams()
	acc := make([][2]VecVirtual, k)
	for i := range acc {
		acc[i] = [2]VecVirtual{zeros(), zeros()}
	}
	loopU(n, ptrs, k, func(ls streams) {
		v := ls.load(at(x))
		v.each(func(i int) { VSUBPS(sh, v[i], v[i]) })
		e := expV(v)
		if write {
			ls.store(e, at(dst))
		}
		for i, l := range ls {
			l.keep(e[i])
			widen(e[i], nil, acc[i][0], acc[i][1])
		}
	})
	for _, a := range acc[1:] {
		VADDPD(a[0], acc[0][0], acc[0][0])
		VADDPD(a[1], acc[0][1], acc[0][1])
	}
	s := hsumPD(acc[0][0], acc[0][1])
	VZEROUPPER()
	Store(s, ReturnIndex(0))
	RET()
}

func addConst() {
	TEXT(kname("addConst"), NOSPLIT, "func(dst, x []float32, s float32)")
	Pragma("noescape")
	Doc(kname("addConst") + " sets dst[i] = x[i] + s for i < len(x). dst may alias x.")
	sv := scalar("s")
	dst, x, n := base("dst"), base("x"), length("x")
	loop(n, []GPVirtual{dst, x}, func(l lanes) {
		v := l.load(at(x))
		VADDPS(sv, v, v)
		l.store(v, at(dst))
	})
	end()
}

func adam() {
	TEXT(kname("adam"), NOSPLIT, "func(p, g, m, v []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, keep float32)")
	Pragma("noescape")
	Doc(kname("adam")+" is adamWGeneric over len(p) elements with omb1 = 1-beta1 and",
		"omb2 = 1-beta2 rounded to float32 by the caller; every operation is",
		"rounded as in the Go loop (no FMA), so the results are identical.")
	b1, o1, b2, o2 := scalar("beta1"), scalar("omb1"), scalar("beta2"), scalar("omb2")
	st, bc, ep, kp := scalar("stepSize"), scalar("bc2Sqrt"), scalar("eps"), scalar("keep")
	p, g, m, v, n := base("p"), base("g"), base("m"), base("v"), length("p")
	loop(n, []GPVirtual{p, g, m, v}, func(l lanes) {
		gv := l.load(at(g))
		mv := l.load(at(m))
		VMULPS(b1, mv, mv)
		t := vreg()
		VMULPS(o1, gv, t)
		VADDPS(t, mv, mv)
		l.store(mv, at(m))
		vv := l.load(at(v))
		VMULPS(b2, vv, vv)
		VMULPS(o2, gv, t)
		VMULPS(gv, t, t)
		VADDPS(t, vv, vv)
		l.store(vv, at(v))
		VSQRTPS(vv, vv)
		VDIVPS(bc, vv, vv)
		VADDPS(ep, vv, vv)
		VMULPS(st, mv, mv)
		VDIVPS(vv, mv, mv)
		pv := l.load(at(p))
		VMULPS(kp, pv, pv)
		VSUBPS(mv, pv, pv)
		l.store(pv, at(p))
	})
	end()
}

func relu() {
	TEXT(kname("relu"), NOSPLIT, "func(dst, x []float32)")
	Pragma("noescape")
	Doc(kname("relu") + " sets dst[i] = 0 if x[i] < 0, else x[i] (NaN and -0 pass through), for i < len(x).")
	dst, x, n := base("dst"), base("x"), length("x")
	z := zeros()
	loop(n, []GPVirtual{dst, x}, func(l lanes) {
		v := l.load(at(x))
		VMAXPS(v, z, v) // 0 > v ? 0 : v
		l.store(v, at(dst))
	})
	end()
}

// backwardAdd emits dx[i] += f(dy[i], y[i]); f leaves its result in g and
// may clobber y. No FMA: every product and sum is rounded as in Go.
func backwardAdd(name, doc string, f func(g, y VecVirtual)) {
	TEXT(name, NOSPLIT, "func(dx, dy, y []float32)")
	Pragma("noescape")
	Doc(name + " sets " + doc + " for i < len(y).")
	dx, dy, y, n := base("dx"), base("dy"), base("y"), length("y")
	loop(n, []GPVirtual{dx, dy, y}, func(l lanes) {
		g := l.load(at(dy))
		f(g, l.load(at(y)))
		VADDPS(l.load(at(dx)), g, g)
		l.store(g, at(dx))
	})
	end()
}

func softmaxBackward() {
	TEXT(kname("softmaxBackwardRow"), NOSPLIT, "func(dx, dp, p []float32, s float32)")
	Pragma("noescape")
	Doc(kname("softmaxBackwardRow") + " sets dx[j] += p[j] * (dp[j] - s) for j < len(p).")
	sv := scalar("s")
	dx, dp, p, n := base("dx"), base("dp"), base("p"), length("p")
	loop(n, []GPVirtual{dx, dp, p}, func(l lanes) {
		g := l.load(at(dp))
		VSUBPS(sv, g, g)
		VMULPS(l.load(at(p)), g, g)
		VADDPS(l.load(at(dx)), g, g)
		l.store(g, at(dx))
	})
	end()
}

// adam64 emits the float64 Adam/AdamW step (adam64Generic), four (YMM) or
// eight (ZMM) elements per iteration: float32 state widened to float64,
// every operation in the Go loop's order without FMA, results rounded back
// to float32.
func adam64(amsgrad bool) {
	name := kname("adam64")
	if amsgrad {
		name = kname("adam64AMSGrad")
	}
	TEXT(name, NOSPLIT, "func(p, g, m, v, vmax []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, wd, shrink float64)")
	Pragma("noescape")
	if amsgrad {
		Doc(name+" is adam64Generic over len(p) elements with AMSGrad state vmax,",
			"omb1 = 1-beta1 and omb2 = 1-beta2 (float64).")
	} else {
		Doc(name+" is adam64Generic over len(p) elements without AMSGrad (vmax is",
			"ignored), omb1 = 1-beta1 and omb2 = 1-beta2 (float64).")
	}
	bcast := func(name string) VecVirtual {
		x := XMM()
		Load(Param(name), x)
		y := vreg()
		VBROADCASTSD(x, y)
		return y
	}
	b1, o1, b2, o2 := bcast("beta1"), bcast("omb1"), bcast("beta2"), bcast("omb2")
	st, bc, ep, wd, sh := bcast("stepSize"), bcast("bc2Sqrt"), bcast("eps"), bcast("wd"), bcast("shrink")
	p, g, m, v, n := base("p"), base("g"), base("m"), base("v"), length("p")
	ptrs := []GPVirtual{p, g, m, v}
	var vm GPVirtual
	if amsgrad {
		vm = base("vmax")
		ptrs = append(ptrs, vm)
	}
	// The float32 half-width vector (XMM, or YMM in wide mode) of a float64
	// register, and the conversion back to float32.
	half := func() VecVirtual {
		if wide {
			return YMM()
		}
		return XMM()
	}
	narrow := func(y, x VecVirtual) {
		if wide {
			VCVTPD2PS(y, x)
		} else {
			VCVTPD2PSY(y, x)
		}
	}
	body := func(l lanes) {
		ld := func(ptr GPVirtual) VecVirtual {
			y := vreg()
			switch {
			case l.k != nil:
				VCVTPS2PD_Z(at(ptr), l.k, y)
			case wide:
				VCVTPS2PD(at(ptr), y)
			default:
				x := XMM()
				if l.mask == nil {
					VMOVUPS(at(ptr), x)
				} else {
					VMASKMOVPS(at(ptr), l.mask, x)
				}
				VCVTPS2PD(x, y)
			}
			return y
		}
		st32 := func(y VecVirtual, ptr GPVirtual) {
			x := half()
			narrow(y, x)
			switch {
			case l.k != nil:
				VMOVUPS(x, l.k, at(ptr))
			case l.mask != nil:
				VMASKMOVPS(x, l.mask, at(ptr))
			default:
				VMOVUPS(x, at(ptr))
			}
		}
		pv := ld(p)
		VMULPD(sh, pv, pv) // pi = p·shrink
		d, t := ld(g), vreg()
		VMULPD(pv, wd, t)
		VADDPD(t, d, d) // d = g + wd·pi
		mv := ld(m)
		VMULPD(mv, b1, mv)
		VMULPD(d, o1, t)
		VADDPD(t, mv, mv) // mi = β1·m + (1-β1)·d
		st32(mv, m)
		vv := ld(v)
		VMULPD(vv, b2, vv)
		VMULPD(d, o2, t)
		VMULPD(d, t, t)
		VADDPD(t, vv, vv) // vi = β2·v + (1-β2)·d·d
		st32(vv, v)
		if amsgrad {
			w := ld(vm)
			VMAXPD(vv, w, vv) // w > vi ? w : vi
			st32(vv, vm)
		}
		VSQRTPD(vv, vv)
		VDIVPD(bc, vv, vv)
		VADDPD(ep, vv, vv)
		VMULPD(mv, st, mv)
		VDIVPD(vv, mv, mv)
		VSUBPD(mv, pv, pv) // pi - stepSize·mi/(sqrt(vi)/bc2 + eps)
		st32(pv, p)
	}
	labels++
	top, tail, done := fmt.Sprintf("loop%d", labels), fmt.Sprintf("tail%d", labels), fmt.Sprintf("done%d", labels)
	L := vlanes() / 2
	Label(top)
	CMPQ(n, U8(L))
	JL(LabelRef(tail))
	body(lanes{})
	for _, q := range ptrs {
		ADDQ(U8(4*L), q)
	}
	SUBQ(U8(L), n)
	JMP(LabelRef(top))
	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	if wide {
		body(tailLanes(n))
	} else {
		tb := GP64()
		LEAQ(maskTab, tb)
		NEGQ(n)
		mask := XMM()
		VMOVUPS(Mem{Base: tb, Index: n, Scale: 4, Disp: 32}, mask)
		body(lanes{mask: mask})
	}
	Label(done)
	end()
}

// binary emits dst[i] = f(a[i], b[i]); f leaves its result in its first
// argument.
func binary(name, doc string, f func(x, y VecVirtual)) {
	TEXT(name, NOSPLIT, "func(dst, a, b []float32)")
	Pragma("noescape")
	Doc(name + " sets " + doc + " for i < len(a). dst may alias a or b.")
	dst, a, b, n := base("dst"), base("a"), base("b"), length("a")
	loop(n, []GPVirtual{dst, a, b}, func(l lanes) {
		x := l.load(at(a))
		f(x, l.load(at(b)))
		l.store(x, at(dst))
	})
	end()
}

func reluBackward() {
	TEXT(kname("reluBackward"), NOSPLIT, "func(dx, dy, x []float32)")
	Pragma("noescape")
	Doc(kname("reluBackward") + " sets dx[i] += dy[i] where x[i] > 0, for i < len(x).")
	dx, dy, x, n := base("dx"), base("dy"), base("x"), length("x")
	z := zeros()
	loop(n, []GPVirtual{dx, dy, x}, func(l lanes) {
		m := l.load(at(x))
		VCMPPS(U8(0x1e), z, m, m) // x > 0 (GT_OQ: false for NaN)
		g := l.load(at(dy))
		VANDPS(m, g, g)
		VADDPS(l.load(at(dx)), g, g)
		l.store(g, at(dx))
	})
	end()
}
