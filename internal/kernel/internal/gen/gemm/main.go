// Command gemm generates gemm_amd64.s and its Go declarations: the AVX2/FMA
// SGEMM micro-kernels (mr×16, mr = 1..6), their AVX-512 forms over 2 and 4
// panels (mr×32, mr×64), the panel packers, the GEMV kernels and the FMA
// peak probes (ymm and zmm) used by the benchmarks.
//
// Run it through go generate in internal/kernel:
//
//	go run ./internal/gen/gemm -out gemm_amd64.s -stubs gemm_amd64_stub.go -pkg kernel
package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!noasm")
	for mr := 1; mr <= 6; mr++ {
		microKernel(mr, 1, false)
	}
	microKernel(2, 2, false)
	microKernel(3, 2, false)
	for _, np := range []int{2, 4} {
		for mr := 1; mr <= 6; mr++ {
			microKernel(mr, np, true)
		}
	}
	packBT()
	packBTZ()
	packBN()
	packAT()
	gemvPanels()
	gemvPanelsZ()
	gemvN()
	gemvT()
	fmaPeak(false)
	fmaPeak(true)
	Generate()
}

// microKernel emits an mr×16np tile of C = alpha*A·B (+ C when
// accum != 0), where A(i,l) is at a[i*rsa+l*csa] and B is np packed panels
// (kc rows of 16 contiguous floats each, pstride floats apart):
// sgemmKernel<mr>x<16·np> with ymm registers (two per panel row; np = 2
// serves strips of 2-3 rows, which with one panel would keep too few FMA
// chains in flight to hide the FMA latency), or sgemmKernelZ<mr>x<16·np>
// with zmm registers (one per panel row, np = 2 or 4). Each lane runs the
// same operations in either width (an FMA chain from zero in l order, then
// one alpha FMA or multiply and a store), so the results are bit for bit
// the same.
func microKernel(mr, np int, zmm bool) {
	vec, vecBytes, prefix := YMM, 32, "sgemmKernel"
	if zmm {
		vec, vecBytes, prefix = ZMM, 64, "sgemmKernelZ"
	}
	perPanel := 64 / vecBytes // vectors per panel row
	name := fmt.Sprintf("%s%dx%d", prefix, mr, 16*np)
	sig := "func(kc int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha float32, accum int)"
	doc := fmt.Sprintf("%s computes a %d×16 tile: c[i*ldc+j] = alpha*Σ_l a[i*rsa+l*csa]*b[l*16+j] (+ c[i*ldc+j] when accum != 0), for kc >= 1.", name, mr)
	if np > 1 {
		sig = "func(kc int, a *float32, rsa, csa int, b *float32, pstride int, c *float32, ldc int, alpha float32, accum int)"
		with := ""
		if zmm {
			with = " with AVX-512"
		}
		doc = fmt.Sprintf("%s computes a %d×%d tile%s: c[i*ldc+16*p+j] = alpha*Σ_l a[i*rsa+l*csa]*b[p*pstride+l*16+j] (+ c[i*ldc+16*p+j] when accum != 0), p < %d, for kc >= 1.", name, mr, 16*np, with, np)
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	kc := Load(Param("kc"), GP64())
	a0 := Load(Param("a"), GP64())
	rs := Load(Param("rsa"), GP64())
	cs := Load(Param("csa"), GP64())
	b := Load(Param("b"), GP64())
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	var ps reg.GPVirtual
	if np > 1 {
		ps = GP64()
		Load(Param("pstride"), ps)
		SHLQ(U8(2), ps)
	}
	var b3 reg.GPVirtual // panel 3 (x86 scales cannot make 3·pstride)
	if np == 4 {
		b3 = GP64()
		LEAQ(Mem{Base: b, Index: ps, Scale: 2}, b3)
		ADDQ(ps, b3)
	}
	// Fetch the C tile now: it is needed only after the k loop, and a row
	// of 16 floats may straddle two cache lines.
	{
		pc := Load(Param("c"), GP64())
		pl := Load(Param("ldc"), GP64())
		SHLQ(U8(2), pl)
		for i := 0; i < mr; i++ {
			for d := 0; d < 64*np; d += 64 {
				PREFETCHT0(Mem{Base: pc, Disp: d})
			}
			PREFETCHT0(Mem{Base: pc, Disp: 64*np - 1})
			if i+1 < mr {
				ADDQ(pl, pc)
			}
		}
	}
	var a3 reg.GPVirtual
	if mr > 3 {
		a3 = GP64()
		LEAQ(Mem{Base: a0, Index: rs, Scale: 2}, a3)
		ADDQ(rs, a3)
	}
	nv := perPanel * np // accumulators per row
	acc := make([][]reg.VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, nv)
		for h := range acc[i] {
			acc[i][h] = vec()
			VXORPS(acc[i][h], acc[i][h], acc[i][h])
		}
	}
	rowAddr := func(i int) Mem {
		base := a0
		if i >= 3 {
			base = a3
		}
		switch i % 3 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: rs, Scale: 1}
		default:
			return Mem{Base: base, Index: rs, Scale: 2}
		}
	}
	panelAddr := func(p, disp int) Mem {
		switch p {
		case 0:
			return Mem{Base: b, Disp: disp}
		case 1:
			return Mem{Base: b, Index: ps, Scale: 1, Disp: disp}
		case 2:
			return Mem{Base: b, Index: ps, Scale: 2, Disp: disp}
		default:
			return Mem{Base: b3, Disp: disp}
		}
	}
	// B operands in registers while 16 ymm registers last (2·mr·np
	// accumulators + B + one broadcast), else from memory; zmm has 32.
	inRegs := nv
	if !(vecBytes == 64) && !(np == 2 && 4*mr+4+1 <= 16) {
		inRegs = 2
	}
	step := func(disp int) {
		bo := make([]Op, nv)
		for h := range bo {
			m := panelAddr(h/perPanel, disp+vecBytes*(h%perPanel))
			if h < inRegs {
				r := vec()
				VMOVUPS(m, r)
				bo[h] = r
			} else {
				bo[h] = m
			}
		}
		for i := 0; i < mr; i++ {
			t := vec()
			VBROADCASTSS(rowAddr(i), t)
			for h := range bo {
				VFMADD231PS(bo[h], t, acc[i][h])
			}
		}
		ADDQ(cs, a0)
		if mr > 3 {
			ADDQ(cs, a3)
		}
	}
	advance := func(d int) {
		if d > 127 {
			ADDQ(U32(d), b)
		} else {
			ADDQ(U8(d), b)
		}
		if np == 4 {
			ADDQ(U32(d), b3)
		}
	}
	loop, tail, tailLoop, done := name+"_loop4", name+"_tail", name+"_tailloop", name+"_store"
	Label(loop)
	CMPQ(kc, U8(4))
	JL(LabelRef(tail))
	for u := 0; u < 4; u++ {
		step(64 * u)
	}
	advance(256)
	SUBQ(U8(4), kc)
	JMP(LabelRef(loop))
	Label(tail)
	TESTQ(kc, kc)
	JE(LabelRef(done))
	Label(tailLoop)
	step(0)
	advance(64)
	DECQ(kc)
	JNE(LabelRef(tailLoop))
	Label(done)
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	va := vec()
	VBROADCASTSS(paramAddr("alpha"), va) // VEX load: no SSE/AVX transition
	flag := Load(Param("accum"), GP64())
	over := name + "_over"
	TESTQ(flag, flag)
	JE(LabelRef(over))
	for i := 0; i < mr; i++ {
		for h := range acc[i] {
			VFMADD213PS(Mem{Base: c, Disp: vecBytes * h}, va, acc[i][h])
			VMOVUPS(acc[i][h], Mem{Base: c, Disp: vecBytes * h})
		}
		if i+1 < mr {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
	Label(over)
	for i := 0; i < mr; i++ {
		for h := range acc[i] {
			VMULPS(va, acc[i][h], acc[i][h])
			VMOVUPS(acc[i][h], Mem{Base: c, Disp: vecBytes * h})
		}
		if i+1 < mr {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// transpose8 transposes the 8×8 block held in r (r[i] = row i) in place.
func transpose8(r []reg.VecVirtual) {
	t := make([]reg.VecVirtual, 8)
	for i := range t {
		t[i] = YMM()
	}
	for p := 0; p < 4; p++ {
		VUNPCKLPS(r[2*p+1], r[2*p], t[2*p])
		VUNPCKHPS(r[2*p+1], r[2*p], t[2*p+1])
	}
	// s: columns (c, c+4) of rows 0-3 and 4-7.
	for g := 0; g < 2; g++ {
		x0, x1, x2, x3 := t[4*g], t[4*g+1], t[4*g+2], t[4*g+3]
		VSHUFPS(U8(0x44), x2, x0, r[4*g+0])
		VSHUFPS(U8(0xEE), x2, x0, r[4*g+1])
		VSHUFPS(U8(0x44), x3, x1, r[4*g+2])
		VSHUFPS(U8(0xEE), x3, x1, r[4*g+3])
	}
	for cc := 0; cc < 4; cc++ {
		VPERM2F128(U8(0x20), r[4+cc], r[cc], t[cc])
		VPERM2F128(U8(0x31), r[4+cc], r[cc], t[4+cc])
	}
	for i := range r {
		r[i] = t[i]
	}
}

// packBT emits sgemmPackBT, which packs a 16-column panel of a transposed
// B (stored n×k) for rows l < kc, kc a multiple of 8.
func packBT() {
	TEXT("sgemmPackBT", NOSPLIT, "func(kc int, b *float32, ldb int, dst *float32)")
	Pragma("noescape")
	Doc("sgemmPackBT sets dst[l*16+j] = b[j*ldb+l] for j < 16, l < kc; kc must be a multiple of 8 (and may be 0).")
	kc := Load(Param("kc"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), ldb)
	ld8 := GP64() // 8 rows of b
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 1}, ld8)
	SHLQ(U8(2), ld8)
	b6 := GP64()
	Label("packbt_loop")
	CMPQ(kc, U8(8))
	JL(LabelRef("packbt_done"))
	for g := 0; g < 2; g++ {
		// Rows 8g..8g+7 of b: base pointers offset by g*8*ldb.
		r := make([]reg.VecVirtual, 8)
		// Compute explicit row pointers for this group: p = b + 8g*ldb.
		p := GP64()
		MOVQ(b, p)
		if g == 1 {
			ADDQ(ld8, p)
		}
		p3 := GP64()
		LEAQ(Mem{Base: p, Index: ldb, Scale: 2}, p3)
		ADDQ(ldb, p3)
		LEAQ(Mem{Base: p3, Index: ldb, Scale: 2}, b6)
		ADDQ(ldb, b6)
		addrs := []Mem{
			{Base: p}, {Base: p, Index: ldb, Scale: 1}, {Base: p, Index: ldb, Scale: 2},
			{Base: p3}, {Base: p3, Index: ldb, Scale: 1}, {Base: p3, Index: ldb, Scale: 2},
			{Base: b6}, {Base: b6, Index: ldb, Scale: 1},
		}
		for i := 0; i < 8; i++ {
			r[i] = YMM()
			VMOVUPS(addrs[i], r[i])
		}
		transpose8(r)
		for i := 0; i < 8; i++ {
			VMOVUPS(r[i], Mem{Base: dst, Disp: 64*i + 32*g})
		}
	}
	ADDQ(U8(32), b)
	ADDQ(U32(512), dst)
	SUBQ(U8(8), kc)
	JMP(LabelRef("packbt_loop"))
	Label("packbt_done")
	VZEROUPPER()
	RET()
}

// packBTZ emits sgemmPackBTZ, the AVX-512 form of sgemmPackBT: per 16
// rows l, it loads 16 columns of b as 16 zmm registers and transposes them
// (unpack, 4×4 shuffles inside 128-bit blocks, then 4×4 transposes of the
// blocks).
func packBTZ() {
	TEXT("sgemmPackBTZ", NOSPLIT, "func(kc int, b *float32, ldb int, dst *float32)")
	Pragma("noescape")
	Doc("sgemmPackBTZ sets dst[l*16+j] = b[j*ldb+l] for j < 16, l < kc with AVX-512; kc must be a multiple of 16 (and may be 0).")
	kc := Load(Param("kc"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), ldb)
	ld3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ld3)
	ld4 := GP64()
	MOVQ(ldb, ld4)
	SHLQ(U8(2), ld4)
	Label("packbtz_loop")
	CMPQ(kc, U8(16))
	JL(LabelRef("packbtz_done"))
	r := make([]reg.VecVirtual, 16)
	p := GP64()
	MOVQ(b, p)
	for g := 0; g < 4; g++ {
		if g > 0 {
			ADDQ(ld4, p)
		}
		for i, m := range []Mem{{Base: p}, {Base: p, Index: ldb, Scale: 1}, {Base: p, Index: ldb, Scale: 2}, {Base: p, Index: ld3, Scale: 1}} {
			r[4*g+i] = ZMM()
			VMOVUPS(m, r[4*g+i])
		}
	}
	t := make([]reg.VecVirtual, 16)
	for i := 0; i < 8; i++ {
		t[2*i], t[2*i+1] = ZMM(), ZMM()
		VUNPCKLPS(r[2*i+1], r[2*i], t[2*i])
		VUNPCKHPS(r[2*i+1], r[2*i], t[2*i+1])
	}
	// s[4g+c], block q: column 4q+c of rows 4g..4g+3.
	s := make([]reg.VecVirtual, 16)
	for g := 0; g < 4; g++ {
		x0, x1, x2, x3 := t[4*g], t[4*g+1], t[4*g+2], t[4*g+3]
		for i := 0; i < 4; i++ {
			s[4*g+i] = ZMM()
		}
		VSHUFPS(U8(0x44), x2, x0, s[4*g+0])
		VSHUFPS(U8(0xEE), x2, x0, s[4*g+1])
		VSHUFPS(U8(0x44), x3, x1, s[4*g+2])
		VSHUFPS(U8(0xEE), x3, x1, s[4*g+3])
	}
	// Row 4q+c of the result is block q of s[c], s[4+c], s[8+c], s[12+c].
	for c := 0; c < 4; c++ {
		u0, u1, u2, u3 := ZMM(), ZMM(), ZMM(), ZMM()
		VSHUFF32X4(U8(0x44), s[4+c], s[c], u0)
		VSHUFF32X4(U8(0xEE), s[4+c], s[c], u1)
		VSHUFF32X4(U8(0x44), s[12+c], s[8+c], u2)
		VSHUFF32X4(U8(0xEE), s[12+c], s[8+c], u3)
		for q, src := range [][2]reg.VecVirtual{{u0, u2}, {u0, u2}, {u1, u3}, {u1, u3}} {
			o := ZMM()
			imm := U8(0x88)
			if q%2 == 1 {
				imm = U8(0xDD)
			}
			VSHUFF32X4(imm, src[1], src[0], o)
			VMOVUPS(o, Mem{Base: dst, Disp: 64 * (4*q + c)})
		}
	}
	ADDQ(U8(64), b)
	ADDQ(U32(1024), dst)
	SUBQ(U8(16), kc)
	JMP(LabelRef("packbtz_loop"))
	Label("packbtz_done")
	VZEROUPPER()
	RET()
}

// packBN emits sgemmPackBN, which copies np full 16-column panels of a
// row-major B into the panel layout.
func packBN() {
	packGroups("sgemmPackBN", "b", "ldb", "np", 16,
		"sgemmPackBN sets dst[p*kc*16+l*16+j] = b[l*ldb+p*16+j] for l < kc, p < np, j < 16 (kc, np >= 1).")
}

// packAT emits sgemmPackAT, which copies ns 6-row strips of a transposed A
// (6 adjacent floats per k step) into the strip layout.
func packAT() {
	packGroups("sgemmPackAT", "a", "lda", "ns", 6,
		"sgemmPackAT sets dst[s*6*kc+l*6+r] = a[l*lda+s*6+r] for l < kc, s < ns, r < 6 (kc, ns >= 1).")
}

// packGroups emits a packer that cuts each of kc source rows (ld floats
// apart) into ng groups of w floats and sends group g of row l to
// dst[g*kc*w+l*w:]. It reads every source row once, left to right, and
// prefetches 8 rows ahead: each row is usually on its own page, out of the
// hardware prefetcher's reach, and visiting one group's kc rows at a time
// would crowd a few cache sets when ld is a power of two.
func packGroups(name, src, ld, groups string, w int, doc string) {
	TEXT(name, NOSPLIT, fmt.Sprintf("func(kc int, %s *float32, %s int, dst *float32, %s int)", src, ld, groups))
	Pragma("noescape")
	Doc(doc)
	kc := Load(Param("kc"), GP64())
	a := Load(Param(src), GP64())
	lda := Load(Param(ld), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), lda)
	gs := GP64() // group stride in dst, bytes: kc*w*4
	IMUL3Q(U32(4*w), kc, gs)
	ahead := GP64()
	MOVQ(lda, ahead)
	SHLQ(U8(3), ahead)
	Label(name + "_row")
	ng := Load(Param(groups), GP64())
	rp, dp := GP64(), GP64()
	MOVQ(a, rp)
	MOVQ(dst, dp)
	Label(name + "_group")
	PREFETCHT0(Mem{Base: rp, Index: ahead, Scale: 1})
	switch w {
	case 16:
		y0, y1 := YMM(), YMM()
		VMOVUPS(Mem{Base: rp}, y0)
		VMOVUPS(Mem{Base: rp, Disp: 32}, y1)
		VMOVUPS(y0, Mem{Base: dp})
		VMOVUPS(y1, Mem{Base: dp, Disp: 32})
	case 6:
		x0, x1 := XMM(), XMM()
		VMOVUPS(Mem{Base: rp}, x0)
		VMOVSD(Mem{Base: rp, Disp: 16}, x1)
		VMOVUPS(x0, Mem{Base: dp})
		VMOVSD(x1, Mem{Base: dp, Disp: 16})
	default:
		panic("packGroups: unsupported width")
	}
	ADDQ(U8(4*w), rp)
	ADDQ(gs, dp)
	DECQ(ng)
	JNE(LabelRef(name + "_group"))
	ADDQ(lda, a)
	ADDQ(U8(4*w), dst)
	DECQ(kc)
	JNE(LabelRef(name + "_row"))
	VZEROUPPER()
	RET()
}

// rows4 addresses up to 4 rows st bytes apart from base p: rows 0-2 as
// p + {0,1,2}*st and row 3 from a second register p3 = p + 3*st (x86 scales
// stop at 8 and cannot make 3). It returns p3 (nil unless n == 4) and the
// address of byte d of row r.
func rows4(p, st reg.Register, n int) (reg.GPVirtual, func(r, d int) Mem) {
	var p3 reg.GPVirtual
	if n == 4 {
		p3 = GP64()
		LEAQ(Mem{Base: p, Index: st, Scale: 2}, p3)
		ADDQ(st, p3)
	}
	return p3, func(r, d int) Mem {
		switch r {
		case 0:
			return Mem{Base: p, Disp: d}
		case 1:
			return Mem{Base: p, Index: st, Scale: 1, Disp: d}
		case 2:
			return Mem{Base: p, Index: st, Scale: 2, Disp: d}
		default:
			return Mem{Base: p3, Disp: d}
		}
	}
}

// fourThenOne emits the loop that runs body(4, ...) while count >= 4,
// then body(1, ...) for the rest, counting count down to 0.
func fourThenOne(count reg.Register, pre string, body func(n int, lbl string)) {
	Label(pre + "_loop4")
	CMPQ(count, U8(4))
	JL(LabelRef(pre + "_one"))
	body(4, pre+"4")
	SUBQ(U8(4), count)
	JMP(LabelRef(pre + "_loop4"))
	Label(pre + "_one")
	TESTQ(count, count)
	JE(LabelRef(pre + "_done"))
	body(1, pre+"1")
	DECQ(count)
	JMP(LabelRef(pre + "_one"))
	Label(pre + "_done")
}

// storeAcc writes the accumulators (vector registers of w bytes) to y,
// w bytes apart, as alpha*acc, or alpha*acc + y when flag != 0.
func storeAcc(acc []reg.VecVirtual, y reg.Register, ya reg.VecVirtual, flag reg.Register, lbl string, w int) {
	TESTQ(flag, flag)
	JE(LabelRef(lbl + "_over"))
	for i := range acc {
		VFMADD213PS(Mem{Base: y, Disp: w * i}, ya, acc[i])
	}
	JMP(LabelRef(lbl + "_st"))
	Label(lbl + "_over")
	for i := range acc {
		VMULPS(ya, acc[i], acc[i])
	}
	Label(lbl + "_st")
	for i := range acc {
		VMOVUPS(acc[i], Mem{Base: y, Disp: w * i})
	}
}

// panelArgs loads the operands of the panel GEMV kernels (named n the
// panel or group count) and returns them with the panel stride in bytes,
// alpha broadcast into the vector register ya, and the accum flag.
func panelArgs(n string, ya reg.VecVirtual) (kc, b, np, y, ps, flag reg.Register) {
	kc = Load(Param("kc"), GP64())
	b = Load(Param("b"), GP64())
	np = Load(Param(n), GP64())
	y = Load(Param("y"), GP64())
	st := GP64()
	MOVQ(kc, st)
	SHLQ(U8(6), st) // panel stride in bytes
	ps = st
	VBROADCASTSS(paramAddr("alpha"), ya) // VEX load: no SSE/AVX transition
	flag = Load(Param("accum"), GP64())
	return
}

// gemvPanels emits sgemvPanels: y = alpha*x·P (+ y) over np packed panels.
func gemvPanels() {
	TEXT("sgemvPanels", NOSPLIT, "func(kc int, x *float32, b *float32, np int, y *float32, alpha float32, accum int)")
	Pragma("noescape")
	Doc("sgemvPanels computes, for panels p < np of kc×16 floats stored one after another from b,",
		"y[p*16+j] = alpha*Σ_l x[l]*b[p*kc*16+l*16+j] (+ y[p*16+j] when accum != 0), for kc >= 1.")
	ya := YMM()
	kc, b, np, y, ps, flag := panelArgs("np", ya)
	body := func(npan int, lbl string) {
		x := Load(Param("x"), GP64())
		p := GP64()
		MOVQ(b, p)
		p3, addr := rows4(p, ps, npan)
		acc := make([]reg.VecVirtual, 2*npan)
		for i := range acc {
			acc[i] = YMM()
			VXORPS(acc[i], acc[i], acc[i])
		}
		n := GP64()
		MOVQ(kc, n)
		Label(lbl + "_k")
		t := YMM()
		VBROADCASTSS(Mem{Base: x}, t)
		for q := 0; q < npan; q++ {
			VFMADD231PS(addr(q, 0), t, acc[2*q])
			VFMADD231PS(addr(q, 32), t, acc[2*q+1])
		}
		ADDQ(U8(4), x)
		ADDQ(U8(64), p)
		if npan == 4 {
			ADDQ(U8(64), p3)
		}
		DECQ(n)
		JNE(LabelRef(lbl + "_k"))
		storeAcc(acc, y, ya, flag, lbl, 32)
		ADDQ(U32(64*npan), y)
		for q := 0; q < npan; q++ {
			ADDQ(ps, b)
		}
	}
	fourThenOne(np, "gemvp", body)
	VZEROUPPER()
	RET()
}

// gemvPanelsZ emits sgemvPanelsZ8: sgemvPanels for groups of eight panels
// with AVX-512, one zmm accumulator per panel. The ymm kernel keeps eight
// FMA chains of 8 lanes in flight (four panels), which the FMA latency
// caps at half the zmm FMA rate; eight chains of 16 lanes measured
// 1.2-1.3x faster on an operand in L1 and the same from L2, whose read
// rate bounds both here (BenchmarkGemvStep). Each lane computes the same chain (FMA
// over l in order, then alpha*acc or alpha*acc + y fused) as the ymm
// kernel's, so the results are bit for bit the same.
func gemvPanelsZ() {
	TEXT("sgemvPanelsZ8", NOSPLIT, "func(kc int, x *float32, b *float32, ng int, y *float32, alpha float32, accum int)")
	Pragma("noescape")
	Doc("sgemvPanelsZ8 computes, for panels p < 8*ng of kc×16 floats stored one after another from b,",
		"y[p*16+j] = alpha*Σ_l x[l]*b[p*kc*16+l*16+j] (+ y[p*16+j] when accum != 0), for kc >= 1, with AVX-512.")
	ya := ZMM()
	kc, b, ng, y, ps, flag := panelArgs("ng", ya)
	Label("gemvz_group")
	x := Load(Param("x"), GP64())
	// Panels 0-3 from p (p, p+ps, p+2ps, p3 = p+3ps), 4-7 from p4 = p+4ps.
	p, p3, p4, p7 := GP64(), GP64(), GP64(), GP64()
	MOVQ(b, p)
	LEAQ(Mem{Base: p, Index: ps, Scale: 2}, p3)
	ADDQ(ps, p3)
	LEAQ(Mem{Base: p, Index: ps, Scale: 4}, p4)
	LEAQ(Mem{Base: p4, Index: ps, Scale: 2}, p7)
	ADDQ(ps, p7)
	addr := func(q, d int) Mem {
		base := p
		if q >= 4 {
			base = p4
		}
		switch q % 4 {
		case 0:
			return Mem{Base: base, Disp: d}
		case 1:
			return Mem{Base: base, Index: ps, Scale: 1, Disp: d}
		case 2:
			return Mem{Base: base, Index: ps, Scale: 2, Disp: d}
		}
		if q == 3 {
			return Mem{Base: p3, Disp: d}
		}
		return Mem{Base: p7, Disp: d}
	}
	acc := make([]reg.VecVirtual, 8)
	for i := range acc {
		acc[i] = ZMM()
		VPXORD(acc[i], acc[i], acc[i])
	}
	n := GP64()
	MOVQ(kc, n)
	step := func(u int) {
		t := ZMM()
		VBROADCASTSS(Mem{Base: x, Disp: 4 * u}, t)
		for q := range acc {
			VFMADD231PS(addr(q, 64*u), t, acc[q])
		}
	}
	advance := func(k int) {
		ADDQ(U8(4*k), x)
		for _, r := range []reg.GPVirtual{p, p3, p4, p7} {
			if 64*k > 127 {
				ADDQ(U32(64*k), r)
			} else {
				ADDQ(U8(64*k), r)
			}
		}
	}
	Label("gemvz_k4")
	CMPQ(n, U8(4))
	JL(LabelRef("gemvz_tail"))
	for u := 0; u < 4; u++ {
		step(u)
	}
	advance(4)
	SUBQ(U8(4), n)
	JMP(LabelRef("gemvz_k4"))
	Label("gemvz_tail")
	TESTQ(n, n)
	JE(LabelRef("gemvz_store"))
	step(0)
	advance(1)
	DECQ(n)
	JMP(LabelRef("gemvz_tail"))
	Label("gemvz_store")
	storeAcc(acc, y, ya, flag, "gemvz", 64)
	ADDQ(U32(64*8), y)
	for range 8 {
		ADDQ(ps, b)
	}
	DECQ(ng)
	JNE(LabelRef("gemvz_group"))
	VZEROUPPER()
	RET()
}

// gemvN emits sgemvN: y = alpha*x·B (+ y) with B k×n row-major, n8 = n&^7 columns.
func gemvN() {
	TEXT("sgemvN", NOSPLIT, "func(k int, x *float32, b *float32, ldb int, n int, y *float32, alpha float32, accum int)")
	Pragma("noescape")
	Doc("sgemvN computes y[j] = alpha*Σ_l x[l]*b[l*ldb+j] (+ y[j] when accum != 0) for j < n&^7, k >= 1.")
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	n := Load(Param("n"), GP64())
	y := Load(Param("y"), GP64())
	ya := YMM()
	VBROADCASTSS(paramAddr("alpha"), ya) // VEX load: no SSE/AVX transition
	flag := Load(Param("accum"), GP64())
	body := func(w int, lbl string) {
		x := Load(Param("x"), GP64())
		kk := Load(Param("k"), GP64())
		p := GP64()
		MOVQ(b, p)
		acc := make([]reg.VecVirtual, w)
		for i := range acc {
			acc[i] = YMM()
			VXORPS(acc[i], acc[i], acc[i])
		}
		Label(lbl + "_k")
		t := YMM()
		VBROADCASTSS(Mem{Base: x}, t)
		for i := range acc {
			VFMADD231PS(Mem{Base: p, Disp: 32 * i}, t, acc[i])
		}
		ADDQ(U8(4), x)
		ADDQ(ldb, p)
		DECQ(kk)
		JNE(LabelRef(lbl + "_k"))
		storeAcc(acc, y, ya, flag, lbl, 32)
		ADDQ(U32(32*w), y)
		ADDQ(U32(32*w), b)
	}
	Label("gemvn_loop8")
	CMPQ(n, U8(64))
	JL(LabelRef("gemvn_one"))
	body(8, "gemvn8")
	SUBQ(U8(64), n)
	JMP(LabelRef("gemvn_loop8"))
	Label("gemvn_one")
	CMPQ(n, U8(8))
	JL(LabelRef("gemvn_done"))
	body(1, "gemvn1")
	SUBQ(U8(8), n)
	JMP(LabelRef("gemvn_one"))
	Label("gemvn_done")
	VZEROUPPER()
	RET()
}

// hsum reduces the 8 lanes of v to its low lane.
func hsum(v reg.VecVirtual) {
	h := XMM()
	VEXTRACTF128(U8(1), v, h)
	VADDPS(h, v.AsX(), v.AsX())
	VMOVHLPS(v.AsX(), v.AsX(), h)
	VADDPS(h, v.AsX(), v.AsX())
	VMOVSHDUP(v.AsX(), h)
	VADDSS(h, v.AsX(), v.AsX())
}

// gemvT emits sgemvT: y[j] = alpha*dot(x, B[j,:]) (+ y[j]), B n×k row-major.
func gemvT() {
	TEXT("sgemvT", NOSPLIT, "func(k int, x *float32, b *float32, ldb int, n int, y *float32, alpha float32, accum int)")
	Pragma("noescape")
	Doc("sgemvT computes y[j] = alpha*Σ_l x[l]*b[j*ldb+l] (+ y[j] when accum != 0) for j < n, k >= 1.")
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	n := Load(Param("n"), GP64())
	y := Load(Param("y"), GP64())
	body := func(rows int, lbl string) {
		x := Load(Param("x"), GP64())
		kk := Load(Param("k"), GP64())
		p := GP64()
		MOVQ(b, p)
		p3, addr := rows4(p, ldb, rows)
		adv := func(d int) {
			ADDQ(U32(d), x)
			ADDQ(U32(d), p)
			if rows == 4 {
				ADDQ(U32(d), p3)
			}
		}
		acc := make([][2]reg.VecVirtual, rows)
		for r := range acc {
			for h := 0; h < 2; h++ {
				acc[r][h] = YMM()
				VXORPS(acc[r][h], acc[r][h], acc[r][h])
			}
		}
		Label(lbl + "_16")
		CMPQ(kk, U8(16))
		JL(LabelRef(lbl + "_8"))
		x0, x1 := YMM(), YMM()
		VMOVUPS(Mem{Base: x}, x0)
		VMOVUPS(Mem{Base: x, Disp: 32}, x1)
		for r := 0; r < rows; r++ {
			VFMADD231PS(addr(r, 0), x0, acc[r][0])
			VFMADD231PS(addr(r, 32), x1, acc[r][1])
		}
		adv(64)
		SUBQ(U8(16), kk)
		JMP(LabelRef(lbl + "_16"))
		Label(lbl + "_8")
		CMPQ(kk, U8(8))
		JL(LabelRef(lbl + "_red"))
		x2 := YMM()
		VMOVUPS(Mem{Base: x}, x2)
		for r := 0; r < rows; r++ {
			VFMADD231PS(addr(r, 0), x2, acc[r][0])
		}
		adv(32)
		SUBQ(U8(8), kk)
		Label(lbl + "_red")
		for r := 0; r < rows; r++ {
			VADDPS(acc[r][1], acc[r][0], acc[r][0])
			hsum(acc[r][0])
		}
		TESTQ(kk, kk)
		JE(LabelRef(lbl + "_fin"))
		Label(lbl + "_1")
		xs := XMM()
		VMOVSS(Mem{Base: x}, xs)
		for r := 0; r < rows; r++ {
			VFMADD231SS(addr(r, 0), xs, acc[r][0].AsX())
		}
		adv(4)
		DECQ(kk)
		JNE(LabelRef(lbl + "_1"))
		Label(lbl + "_fin")
		xa := XMM()
		VMOVSS(paramAddr("alpha"), xa)
		flag := Load(Param("accum"), GP64())
		TESTQ(flag, flag)
		JE(LabelRef(lbl + "_over"))
		for r := 0; r < rows; r++ {
			VFMADD213SS(Mem{Base: y, Disp: 4 * r}, xa, acc[r][0].AsX())
		}
		JMP(LabelRef(lbl + "_st"))
		Label(lbl + "_over")
		for r := 0; r < rows; r++ {
			VMULSS(xa, acc[r][0].AsX(), acc[r][0].AsX())
		}
		Label(lbl + "_st")
		for r := 0; r < rows; r++ {
			VMOVSS(acc[r][0].AsX(), Mem{Base: y, Disp: 4 * r})
		}
		ADDQ(U8(4*rows), y)
		for r := 0; r < rows; r++ {
			ADDQ(ldb, b)
		}
	}
	fourThenOne(n, "gemvt", body)
	VZEROUPPER()
	RET()
}

// fmaPeak emits a probe loop of n iterations of 12 independent FMAs:
// fmaPeak with ymm registers (8 lanes, 192 flops per iteration) or
// fmaPeakZ with zmm registers (16 lanes, 384 flops).
func fmaPeak(zmm bool) {
	vec, lanes, name := YMM, 8, "fmaPeak"
	if zmm {
		vec, lanes, name = ZMM, 16, "fmaPeakZ"
	}
	lbl := strings.ToLower(name)
	TEXT(name, NOSPLIT, "func(n int) float32")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s runs n iterations of 12 independent %d-lane FMAs (%d flops each) and returns a lane so the work is observable.", name, lanes, 24*lanes))
	n := Load(Param("n"), GP64())
	acc := make([]reg.VecVirtual, 12)
	one, zero := vec(), vec()
	if zmm {
		VPTERNLOGD(U8(0xff), one, one, one) // all ones (no VPCMPEQD into a zmm register)
	} else {
		VPCMPEQD(one, one, one)
	}
	VPSRLD(U8(25), one, one)
	VPSLLD(U8(23), one, one) // 1.0 in every lane
	VXORPS(zero, zero, zero)
	for i := range acc {
		acc[i] = vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	TESTQ(n, n)
	JE(LabelRef(lbl + "_done"))
	Label(lbl + "_loop")
	for i := range acc {
		VFMADD231PS(zero, one, acc[i])
	}
	DECQ(n)
	JNE(LabelRef(lbl + "_loop"))
	Label(lbl + "_done")
	for i := 1; i < len(acc); i++ {
		VADDPS(acc[i], acc[0], acc[0])
	}
	ret, err := ReturnIndex(0).Resolve()
	if err != nil {
		panic(err)
	}
	VMOVSS(acc[0].AsX(), ret.Addr)
	VZEROUPPER()
	RET()
}

// paramAddr is the stack address of a scalar parameter, for loading it
// with a VEX instruction (avo's Load emits legacy-SSE MOVSS, which costs a
// state transition on Intel cores after 256-bit code).
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
