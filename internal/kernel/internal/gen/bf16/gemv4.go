package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// gemv4Regs are the general registers of bf16GemvY4Fast.
type gemv4Regs struct {
	kc, x, ldx, ldx3, g, ps, np, y, accum, b0, xl, l reg.Register
}

// broadcast loads mask v into every lane of y (EDX as scratch).
func broadcast(v uint32, y reg.VecPhysical) {
	MOVL(U32(v), reg.EDX)
	MOVD(reg.EDX, y.AsX())
	VPBROADCASTD(y.AsX(), y)
}

// gemvY4 emits bf16GemvY4Fast: bf16GemvYFast for four rows of pairs
// (x[r*ldx+l], r < 4) into four rows of y (ldy apart), one panel at a
// time: each weight pair is loaded and widened once for the four rows,
// the sums in Y0-Y7 (row r's two halves in Y2r, Y2r+1), the panel row in
// Y8-Y11, the broadcast pair in Y12-Y14, the high-word mask in Y15.
func gemvY4() {
	name := "bf16GemvY4Fast"
	TEXT(name, NOSPLIT, "func(kc int, x *uint32, ldx int, b *uint32, pstride int, np int, y *float32, ldy int, accum int) (tiny int)")
	Pragma("noescape")
	Doc(name + " is bf16GemvYFast for four rows x[r*ldx:] (pairs) into y[r*ldy:], r < 4, each panel's pairs widened once for the four: tiny != 0 when a sum may have been denormal, y then to be recomputed.")
	r := gemv4Regs{kc: reg.RCX, x: reg.RSI, ldx: reg.R9, ldx3: reg.R13, g: reg.RBX, ps: reg.R8, np: reg.R10, y: reg.RDI, accum: reg.R12,
		b0: reg.R11, xl: reg.RAX, l: reg.RDX}
	for _, a := range []struct {
		name string
		r    reg.Register
	}{{"kc", r.kc}, {"x", r.x}, {"ldx", r.ldx}, {"b", r.g}, {"pstride", r.ps}, {"np", r.np}, {"y", r.y}, {"accum", r.accum}} {
		Load(Param(a.name), a.r)
	}
	SHLQ(U8(2), r.ldx)
	LEAQ(Mem{Base: r.ldx, Index: r.ldx, Scale: 2}, r.ldx3)
	SHLQ(U8(2), r.ps)
	saved, scratch := clearFlags()
	flags := AllocLocal(8) // 4 bytes used; 8 keep the frame aligned
	MOVL(U32(0), flags)
	hi := reg.Y15
	broadcast(0xffff0000, hi)
	Label(name + "_panel")
	TESTQ(r.np, r.np)
	JE(LabelRef(name + "_done"))
	acc := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	MOVQ(r.g, r.b0)
	MOVQ(r.x, r.xl)
	MOVQ(r.kc, r.l)
	Label(name + "_loop")
	r.step4(acc, hi)
	ADDQ(U8(64), r.b0)
	ADDQ(U8(4), r.xl)
	DECQ(r.l)
	JNE(LabelRef(name + "_loop"))
	flagTiny4(acc, flags)
	r.store4(name, acc)
	ADDQ(U8(64), r.y)
	ADDQ(r.ps, r.g)
	DECQ(r.np)
	JMP(LabelRef(name + "_panel"))
	Label(name + "_done")
	MOVL(flags, reg.EAX)
	reportMXCSR(saved, scratch)
	VZEROUPPER()
	RET()
}

// step4 adds one pair's products to the four rows' sums: the panel's
// pairs (two halves of eight) widened once, then for each row its
// broadcast pair, the high products first.
func (r gemv4Regs) step4(acc []reg.VecPhysical, hi reg.VecPhysical) {
	VMOVDQU(Mem{Base: r.b0}, reg.Y8)
	VMOVDQU(Mem{Base: r.b0, Disp: 32}, reg.Y9)
	VPSLLD(U8(16), reg.Y8, reg.Y10)
	VPAND(hi, reg.Y8, reg.Y8)
	VPSLLD(U8(16), reg.Y9, reg.Y11)
	VPAND(hi, reg.Y9, reg.Y9)
	rows := []Mem{{Base: r.xl}, {Base: r.xl, Index: r.ldx, Scale: 1}, {Base: r.xl, Index: r.ldx, Scale: 2}, {Base: r.xl, Index: r.ldx3, Scale: 1}}
	for i, m := range rows {
		VPBROADCASTD(m, reg.Y12)
		VPAND(hi, reg.Y12, reg.Y13)
		VPSLLD(U8(16), reg.Y12, reg.Y14)
		VFMADD231PS(reg.Y13, reg.Y8, acc[2*i])
		VFMADD231PS(reg.Y14, reg.Y10, acc[2*i])
		VFMADD231PS(reg.Y13, reg.Y9, acc[2*i+1])
		VFMADD231PS(reg.Y14, reg.Y11, acc[2*i+1])
	}
}

// flagTiny4 ORs into flags a bit for each lane of acc that is denormal.
func flagTiny4(acc []reg.VecPhysical, flags Mem) {
	abs, tiny, zero, flag := reg.Y8, reg.Y9, reg.Y10, reg.Y11
	broadcast(0x7fffffff, abs)
	broadcast(0x00800000, tiny)
	VXORPS(zero, zero, zero)
	VXORPS(flag, flag, flag)
	for _, a := range acc {
		VANDPS(abs, a, reg.Y12)
		VCMPPS(U8(0x11), tiny, reg.Y12, reg.Y13) // |sum| < 2^-126
		VCMPPS(U8(0x1e), zero, reg.Y12, reg.Y14) // |sum| > 0
		VANDPS(reg.Y14, reg.Y13, reg.Y13)
		VORPS(reg.Y13, flag, flag)
	}
	VMOVMSKPS(flag, reg.EAX)
	ORL(reg.EAX, flags)
}

// store4 writes the four rows' sums to y, ldy floats apart (added to y
// when accum != 0).
func (r gemv4Regs) store4(name string, acc []reg.VecPhysical) {
	ldy, row := reg.RDX, reg.RAX
	Load(Param("ldy"), ldy)
	SHLQ(U8(2), ldy)
	set := name + "_set"
	next := name + "_stored"
	for _, add := range []bool{true, false} {
		if add {
			TESTQ(r.accum, r.accum)
			JE(LabelRef(set))
		} else {
			Label(set)
		}
		MOVQ(r.y, row)
		for i := 0; i < 4; i++ {
			for h := 0; h < 2; h++ {
				m, a := Mem{Base: row, Disp: 32 * h}, acc[2*i+h]
				if add {
					VADDPS(m, a, a)
				}
				VMOVUPS(a, m)
			}
			if i < 3 {
				ADDQ(ldy, row)
			}
		}
		if add {
			JMP(LabelRef(next))
		}
	}
	Label(next)
}
