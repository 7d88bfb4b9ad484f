// Command qgemm generates qgemm_amd64.s and its Go declarations: the int8
// GEMV kernels of package kernel (qgemm.go), which multiply one row of
// activations quantized to unsigned bytes by a weight matrix quantized to
// signed bytes and packed in panels of 16 rows (QMatrix), accumulate in
// int32 and dequantize to float32. Each is the vector form of qgemvGo in
// qgemm_generic.go; qgemm_asm_amd64.go dispatches.
//
// Run it through go generate in internal/kernel:
//
//	go run ./internal/gen/qgemm -out qgemm_amd64.s -stubs qgemm_amd64_stub.go -pkg kernel
//
// A panel holds, for each group g of four columns, 64 bytes: the four
// weights W[16p+j][4g .. 4g+3] of row j at bytes 4j .. 4j+3. The four
// activation bytes x[4g .. 4g+3] are one dword, broadcast to every lane,
// so one VPDPBUSD (u8 × s8, four products summed into each int32 lane)
// advances the 16 dot products of a panel by four columns. Three kernels:
//
//   - qgemvVNNIZ: AVX-512 VNNI, one zmm accumulator per panel, eight
//     panels at a time (the instruction's latency needs several chains in
//     flight), then one at a time.
//   - qgemvVNNIY: AVX-VNNI (the VEX form, on CPUs with AVX-VNNI but
//     without AVX-512), two ymm accumulators per panel. Go's assembler
//     knows only the EVEX form of VPDPBUSD, so the VEX form is emitted as
//     bytes, on fixed registers Y0-Y7.
//   - qgemvAVX2: AVX2 only (a Zen 3). VPMADDUBSW would saturate: a pair
//     of u8 × s8 products reaches 2·255·127 > 32767. So the four
//     activation bytes are widened to words (VPMOVZXBW), the weights
//     sign-extended to words (VPMOVSXBW), and VPMADDWD sums pairs into
//     int32 exactly; the two partial sums of each row are added at the end
//     (VPHADDD, VPERMQ).
//
// Two more kernels quantize a row of activations (qMinMax, qQuant), in a
// zmm and a ymm version each; see quantizeRow in qgemm.go.
//
// Integer accumulation is exact, so the three agree bit for bit with each
// other and with the twin; the dequantization is the same float32
// operations in every kernel: acc − zp·sum[n] (int32, wrapping) converted
// to float32, times s = ws[n]·sx, stored or added to y by one FMA.
// Every function clears the upper vector state before it returns.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const signature = "func(kg int, x *uint8, w *int8, np int, sum *int32, ws *float32, zp int32, sx float32, y *float32, accum int)"

func main() {
	ConstraintExpr("amd64,!noasm")
	vnniZ()
	vnniZ4()
	vnniY()
	avx2()
	minMax(true)
	minMax(false)
	quantize(true)
	quantize(false)
	Generate()
}

// args are a kernel's arguments in registers: kg groups of four columns,
// the activation row x, the panels w, np panels, the per-row sums, scales
// ws and output y, the panel stride ps = 64·kg bytes, and the broadcast
// zero point and activation scale.
type args struct {
	kg, w, np, sum, ws, y, ps, flag Register
	zp, sx                          Register
}

// addr is the stack address of parameter name.
func addr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

func loadArgs(vec func() VecVirtual) args {
	var a args
	a.kg = Load(Param("kg"), GP64())
	a.w = Load(Param("w"), GP64())
	a.np = Load(Param("np"), GP64())
	a.sum = Load(Param("sum"), GP64())
	a.ws = Load(Param("ws"), GP64())
	a.y = Load(Param("y"), GP64())
	a.flag = Load(Param("accum"), GP64())
	ps := GP64()
	MOVQ(a.kg, ps)
	a.ps = ps
	SHLQ(U8(6), ps)
	a.zp, a.sx = vec(), vec()
	// Through general and xmm registers: vet's asmdecl takes a vector
	// instruction's read of a stack argument for a vector-sized one.
	g, z := GP32(), XMM()
	MOVL(addr("zp"), g)
	VMOVD(g, z)
	VPBROADCASTD(z, a.zp)
	VBROADCASTSS(addr("sx"), a.sx)
	return a
}

// deq is where a dequantizing store reads and writes: the broadcast zero
// point and activation scale of the row, the sum and scale pointers of the
// panel, the output row and the accum flag (a register or the argument).
type deq struct {
	zp, sx, sum, ws, y Register
	flag               Op
}

func (a args) deq() deq { return deq{a.zp, a.sx, a.sum, a.ws, a.y, a.flag} }

// store emits the dequantization of acc (see the package doc) for the
// rows at byte offset off of d's sum, ws and y pointers.
func store(d deq, acc Register, tmp [2]Register, off int, lbl string) {
	t, s := tmp[0], tmp[1]
	VPMULLD(Mem{Base: d.sum, Disp: off}, d.zp, t)
	VPSUBD(t, acc, acc)
	VCVTDQ2PS(acc, acc)
	VMULPS(Mem{Base: d.ws, Disp: off}, d.sx, s)
	CMPQ(d.flag, U8(0))
	JE(LabelRef(lbl + "_set"))
	VFMADD213PS(Mem{Base: d.y, Disp: off}, s, acc)
	JMP(LabelRef(lbl + "_st"))
	Label(lbl + "_set")
	VMULPS(s, acc, acc)
	Label(lbl + "_st")
	VMOVUPS(acc, Mem{Base: d.y, Disp: off})
}

// advance moves the sum, ws and y pointers past n rows and w past np
// panels.
func advance(a args, panels int) {
	ADDQ(U32(64*panels), a.sum)
	ADDQ(U32(64*panels), a.ws)
	ADDQ(U32(64*panels), a.y)
	for i := 0; i < panels; i++ {
		ADDQ(a.ps, a.w)
	}
}

func vnniZ() {
	TEXT("qgemvVNNIZ", NOSPLIT, signature)
	Pragma("noescape")
	Doc("qgemvVNNIZ computes, for rows n < 16*np, with acc = Σ_{l<4kg} x[l]*W[n][l] from the packed panels w,",
		"y[n] = float32(acc − zp*sum[n]) * (ws[n]*sx) (+ y[n] by one FMA when accum != 0), with AVX-512 VNNI.")
	a := loadArgs(func() VecVirtual { return ZMM() })
	block := func(npan int, lbl string) {
		Label(lbl)
		CMPQ(a.np, U8(npan))
		JL(LabelRef(lbl + "_done"))
		x := Load(Param("x"), GP64())
		// Panel q at base[q/3] + (q%3)·ps: three pointers, p0 + 3k·ps.
		base := make([]Register, (npan+2)/3)
		for i := range base {
			base[i] = GP64()
			if i == 0 {
				MOVQ(a.w, base[i])
			} else {
				LEAQ(Mem{Base: base[i-1], Index: a.ps, Scale: 2}, base[i])
				ADDQ(a.ps, base[i])
			}
		}
		at := func(q int) Mem {
			m := Mem{Base: base[q/3]}
			if q%3 > 0 {
				m.Index, m.Scale = a.ps, uint8(q%3)
			}
			return m
		}
		acc := make([]VecVirtual, npan)
		for q := range acc {
			acc[q] = ZMM()
			VPXORD(acc[q], acc[q], acc[q])
		}
		n := GP64()
		MOVQ(a.kg, n)
		Label(lbl + "_k")
		t := ZMM()
		VPBROADCASTD(Mem{Base: x}, t)
		for q := range acc {
			vpdpbusd(at(q), t, acc[q])
		}
		ADDQ(U8(4), x)
		for _, r := range base {
			ADDQ(U8(64), r)
		}
		DECQ(n)
		JNE(LabelRef(lbl + "_k"))
		for q := range acc {
			store(a.deq(), acc[q], [2]Register{ZMM(), ZMM()}, 64*q, lbl+"_s"+string(rune('0'+q)))
		}
		advance(a, npan)
		SUBQ(U8(npan), a.np)
		JMP(LabelRef(lbl))
		Label(lbl + "_done")
	}
	block(8, "z8")
	block(1, "z1")
	VZEROUPPER()
	RET()
}

// vnniZ4 emits qgemv4VNNIZ: qgemvVNNIZ for four rows of activations at
// once (x holds them 4·kg bytes apart, y rows ldy floats apart, each row
// with its own zero point and scale), so that each 64-byte block of
// weights loaded serves four rows: 16 accumulators (4 rows × 4 panels),
// then one panel at a time.
func vnniZ4() {
	TEXT("qgemv4VNNIZ", NOSPLIT, "func(kg int, x *uint8, w *int8, np int, sum *int32, ws *float32, zp *int32, sx *float32, y *float32, ldy int, accum int)")
	Pragma("noescape")
	Doc("qgemv4VNNIZ is qgemvVNNIZ for rows r < 4 of activations x[r*4*kg:] with zero points zp[r] and scales sx[r],",
		"into y[r*ldy:], with AVX-512 VNNI.")
	var a z4
	a.w = Load(Param("w"), GP64())
	a.np = Load(Param("np"), GP64())
	a.sum = Load(Param("sum"), GP64())
	a.ws = Load(Param("ws"), GP64())
	a.y = Load(Param("y"), GP64())
	a.ps = Load(Param("kg"), GP64())
	SHLQ(U8(6), a.ps)
	a.block(4, "r4")
	a.block(1, "r1")
	VZEROUPPER()
	RET()
}

// z4 holds qgemv4VNNIZ's long-lived registers: the panels w, np panels
// left, the sum, scale and output pointers, the panel stride ps.
type z4 struct{ w, np, sum, ws, y, ps Register }

// block emits the loop over groups of npan panels: the products of the
// four rows (rowsDot) and the dequantizing stores (rowsStore).
func (a z4) block(npan int, lbl string) {
	Label(lbl)
	CMPQ(a.np, U8(npan))
	JL(LabelRef(lbl + "_done"))
	acc := make([][]VecVirtual, 4)
	for r := range acc {
		acc[r] = make([]VecVirtual, npan)
		for q := range acc[r] {
			acc[r][q] = ZMM()
			VPXORD(acc[r][q], acc[r][q], acc[r][q])
		}
	}
	a.rowsDot(acc, lbl)
	a.rowsStore(acc, lbl)
	for _, r := range []Register{a.sum, a.ws, a.y} {
		ADDQ(U32(64*npan), r)
	}
	for i := 0; i < npan; i++ {
		ADDQ(a.ps, a.w)
	}
	SUBQ(U8(npan), a.np)
	JMP(LabelRef(lbl))
	Label(lbl + "_done")
}

// at returns the address base + k·index for k < 4 (k = 3 through the
// scratch register t).
func at(base, index Register, k int) Mem {
	switch k {
	case 0:
		return Mem{Base: base}
	case 1, 2:
		return Mem{Base: base, Index: index, Scale: uint8(k)}
	}
	t := GP64()
	LEAQ(Mem{Base: base, Index: index, Scale: 2}, t)
	return Mem{Base: t, Index: index, Scale: 1}
}

// rowsDot emits the k loop: each group of four columns loads the panels'
// 64-byte blocks once and adds them into the accumulators of the four rows.
func (a z4) rowsDot(acc [][]VecVirtual, lbl string) {
	x := Load(Param("x"), GP64())
	xs := Load(Param("kg"), GP64())
	SHLQ(U8(2), xs) // row stride of x: 4·kg bytes
	p := GP64()
	MOVQ(a.w, p)
	n := Load(Param("kg"), GP64())
	Label(lbl + "_k")
	wv := make([]VecVirtual, len(acc[0]))
	for q := range wv {
		wv[q] = ZMM()
		VMOVDQU32(at(p, a.ps, q), wv[q])
	}
	t := ZMM()
	for r := range acc {
		VPBROADCASTD(at(x, xs, r), t)
		for q := range wv {
			vpdpbusd(wv[q], t, acc[r][q])
		}
	}
	ADDQ(U8(4), x)
	ADDQ(U8(64), p)
	DECQ(n)
	JNE(LabelRef(lbl + "_k"))
}

// rowsStore emits the dequantizing stores of the four rows, each with its
// zero point and scale, into y, y + ldy, ...
func (a z4) rowsStore(acc [][]VecVirtual, lbl string) {
	yr := GP64()
	MOVQ(a.y, yr)
	ldy := Load(Param("ldy"), GP64())
	SHLQ(U8(2), ldy)
	zps, sxs := Load(Param("zp"), GP64()), Load(Param("sx"), GP64())
	for r := range acc {
		d := deq{zp: ZMM(), sx: ZMM(), sum: a.sum, ws: a.ws, y: yr, flag: addr("accum")}
		VPBROADCASTD(Mem{Base: zps, Disp: 4 * r}, d.zp)
		VBROADCASTSS(Mem{Base: sxs, Disp: 4 * r}, d.sx)
		for q := range acc[r] {
			store(d, acc[r][q], [2]Register{ZMM(), ZMM()}, 64*q, fmt.Sprintf("%s_s%d_%d", lbl, r, q))
		}
		ADDQ(ldy, yr)
	}
}

// vpdpbusd emits the EVEX VPDPBUSD acc += Σ u8(x)·s8(m) per dword lane,
// which avo v0.5 does not know.
func vpdpbusd(m Op, x, acc Register) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPBUSD",
		Operands: []Op{m, x, acc},
		Inputs:   []Op{m, x, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// vexDPBUSD emits the AVX-VNNI (VEX) VPDPBUSD acc += Σ u8(x)·s8(w) as
// bytes: C4 E2 (W=0 vvvv=~x L=1 pp=66) 50 (mod=11 reg=acc rm=w), for
// registers Y0-Y7.
func vexDPBUSD(acc, x, w VecPhysical) {
	a, u, v := int(acc.PhysicalIndex()), int(x.PhysicalIndex()), int(w.PhysicalIndex())
	for _, b := range []int{0xC4, 0xE2, (^u&15)<<3 | 4 | 1, 0x50, 0xC0 | a<<3 | v} {
		Instruction(&ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(uint8(b))}})
	}
}

func vnniY() {
	TEXT("qgemvVNNIY", NOSPLIT, signature)
	Pragma("noescape")
	Doc("qgemvVNNIY is qgemvVNNIZ with AVX-VNNI (ymm) instead of AVX-512.")
	a := loadArgs(func() VecVirtual { return YMM() })
	// Two panels at a time: four accumulators Y0-Y3, the activations in
	// Y4, weights in Y5-Y6 (the VEX bytes name fixed registers).
	block := func(npan int, lbl string) {
		Label(lbl)
		CMPQ(a.np, U8(npan))
		JL(LabelRef(lbl + "_done"))
		x := Load(Param("x"), GP64())
		p0, p1 := GP64(), GP64()
		MOVQ(a.w, p0)
		LEAQ(Mem{Base: p0, Index: a.ps, Scale: 1}, p1)
		acc := []VecPhysical{Y0, Y1, Y2, Y3}[:2*npan]
		for _, r := range acc {
			VPXOR(r, r, r)
		}
		n := GP64()
		MOVQ(a.kg, n)
		Label(lbl + "_k")
		VPBROADCASTD(Mem{Base: x}, Y4)
		for q, p := range []Register{p0, p1}[:npan] {
			VMOVDQU(Mem{Base: p}, Y5)
			VMOVDQU(Mem{Base: p, Disp: 32}, Y6)
			vexDPBUSD(acc[2*q], Y4, Y5)
			vexDPBUSD(acc[2*q+1], Y4, Y6)
		}
		ADDQ(U8(4), x)
		ADDQ(U8(64), p0)
		ADDQ(U8(64), p1)
		DECQ(n)
		JNE(LabelRef(lbl + "_k"))
		for i, r := range acc {
			store(a.deq(), r, [2]Register{Y5, Y6}, 32*i, lbl+"_s"+string(rune('0'+i)))
		}
		advance(a, npan)
		SUBQ(U8(npan), a.np)
		JMP(LabelRef(lbl))
		Label(lbl + "_done")
	}
	block(2, "y2")
	block(1, "y1")
	VZEROUPPER()
	RET()
}

func avx2() {
	TEXT("qgemvAVX2", NOSPLIT, signature)
	Pragma("noescape")
	Doc("qgemvAVX2 is qgemvVNNIZ with AVX2 only: bytes widened to words and summed by VPMADDWD.")
	a := loadArgs(func() VecVirtual { return YMM() })
	Label("a1")
	CMPQ(a.np, U8(1))
	JL(LabelRef("a1_done"))
	x := Load(Param("x"), GP64())
	p := GP64()
	MOVQ(a.w, p)
	// acc[i] holds rows 4i .. 4i+3 of the panel, two dwords each (the
	// sums of columns 4g, 4g+1 and of 4g+2, 4g+3).
	acc := make([]VecVirtual, 4)
	for i := range acc {
		acc[i] = YMM()
		VPXOR(acc[i], acc[i], acc[i])
	}
	n := GP64()
	MOVQ(a.kg, n)
	Label("a1_k")
	xb, xw := XMM(), YMM()
	VPBROADCASTD(Mem{Base: x}, xb)
	VPMOVZXBW(xb, xw) // x[4g..4g+3] as words, four times
	for i := range acc {
		t := YMM()
		VPMOVSXBW(Mem{Base: p, Disp: 16 * i}, t)
		VPMADDWD(xw, t, t)
		VPADDD(t, acc[i], acc[i])
	}
	ADDQ(U8(4), x)
	ADDQ(U8(64), p)
	DECQ(n)
	JNE(LabelRef("a1_k"))
	// VPHADDD of rows 0-3 and 4-7 gives the qwords (0,1) (4,5) (2,3)
	// (6,7); VPERMQ 0xD8 puts them in order.
	for h := 0; h < 2; h++ {
		r := YMM()
		VPHADDD(acc[2*h+1], acc[2*h], r)
		VPERMQ(U8(0xD8), r, r)
		store(a.deq(), r, [2]Register{YMM(), YMM()}, 32*h, "a1_s"+string(rune('0'+h)))
	}
	advance(a, 1)
	DECQ(a.np)
	JMP(LabelRef("a1"))
	Label("a1_done")
	VZEROUPPER()
	RET()
}

// vecKind is the register width of a kernel: zmm (AVX-512) or ymm (AVX2).
type vecKind struct {
	zmm   bool
	lanes int
	vec   func() VecVirtual
	sfx   string
}

func kind(zmm bool) vecKind {
	if zmm {
		return vecKind{true, 16, func() VecVirtual { return ZMM() }, "Z"}
	}
	return vecKind{false, 8, func() VecVirtual { return YMM() }, "Y"}
}

// minMax emits qMinMaxZ or qMinMaxY: lo = min(0, x...), hi = max(0,
// x...) over n floats, n a positive multiple of the lanes. Each lane keeps
// lo = (v < lo) ? v : lo (VMINPS with lo second), so NaN never enters and
// the result is the exact minimum whatever the order.
func minMax(zmm bool) {
	k := kind(zmm)
	TEXT("qMinMax"+k.sfx, NOSPLIT, "func(x *float32, n int) (lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("qMinMax%s returns min(0, x[0..n-1]) and max(0, x[0..n-1]) for n a positive multiple of %d, ignoring NaNs.", k.sfx, k.lanes))
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	lo, hi := k.vec(), k.vec()
	if zmm {
		VPXORD(lo, lo, lo)
	} else {
		VXORPS(lo, lo, lo)
	}
	VMOVAPS(lo, hi)
	Label("mm" + k.sfx)
	v := k.vec()
	VMOVUPS(Mem{Base: x}, v)
	VMINPS(lo, v, lo)
	VMAXPS(hi, v, hi)
	ADDQ(U8(4*k.lanes), x)
	SUBQ(U8(k.lanes), n)
	JNE(LabelRef("mm" + k.sfx))
	Store(reduce(k, lo, VMINPS, VMINSS), ReturnIndex(0))
	Store(reduce(k, hi, VMAXPS, VMAXSS), ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// reduce folds the lanes of v with op (VMINPS or VMAXPS), ending with the
// scalar opss, and returns the xmm register whose low lane holds the
// result.
func reduce(k vecKind, v VecVirtual, op, opss func(ops ...Op)) Register {
	y := v.AsY().(VecVirtual)
	if k.zmm {
		h := YMM()
		VEXTRACTF32X8(U8(1), v, h)
		op(h, y, y)
	}
	x, h := y.AsX().(VecVirtual), XMM()
	VEXTRACTF128(U8(1), y, h)
	op(h, x, x)
	VMOVHLPS(x, x, h)
	op(h, x, x)
	VSHUFPS(U8(0x55), x, x, h)
	opss(h, x, x)
	return x
}

// quantize emits qQuantZ or qQuantY: dst[i] = clamp(cvt(x[i]·inv) + zp,
// 0, 255) for n floats, n a positive multiple of the lanes, cvt being
// VCVTPS2DQ (to nearest even; 0x80000000 out of range).
func quantize(zmm bool) {
	k := kind(zmm)
	TEXT("qQuant"+k.sfx, NOSPLIT, "func(dst *uint8, x *float32, n int, inv float32, zp int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("qQuant%s sets dst[i] = clamp(int32(round(x[i]*inv)) + zp, 0, 255) for i < n, n a positive multiple of %d.", k.sfx, k.lanes))
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	inv, zp, top, zero := k.vec(), k.vec(), k.vec(), k.vec()
	VBROADCASTSS(addr("inv"), inv)
	g, t := GP32(), XMM()
	MOVL(addr("zp"), g)
	VMOVD(g, t)
	VPBROADCASTD(t, zp)
	MOVL(U32(255), g)
	VMOVD(g, t)
	VPBROADCASTD(t, top)
	if zmm {
		VPXORD(zero, zero, zero)
	} else {
		VPXOR(zero, zero, zero)
	}
	Label("q" + k.sfx)
	v := k.vec()
	VMULPS(Mem{Base: x}, inv, v)
	VCVTPS2DQ(v, v)
	VPADDD(zp, v, v)
	VPMAXSD(zero, v, v)
	VPMINSD(top, v, v)
	if zmm {
		VPMOVDB(v, Mem{Base: dst})
	} else {
		lo, hi := v.AsX(), XMM()
		VEXTRACTI128(U8(1), v, hi)
		VPACKUSDW(hi, lo, lo)
		VPACKUSWB(lo, lo, lo)
		VMOVQ(lo, Mem{Base: dst})
	}
	ADDQ(U8(4*k.lanes), x)
	ADDQ(U8(k.lanes), dst)
	SUBQ(U8(k.lanes), n)
	JNE(LabelRef("q" + k.sfx))
	VZEROUPPER()
	RET()
}
