package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The bfloat16 GEMV of inference (kernel.BF16Matrix): one row x of pairs
// against the pair panels of a weight matrix, a k-block at a time. Each
// output element is one chain of dot products over the block's pairs in
// order, as in the GEMM micro-kernels, so the GEMV, the GEMM and the twin
// give the same bits; the GEMV only keeps more chains in flight (eight
// panels) than the GEMM's one-row tile (four).

// gemvArgs are the Go declaration's arguments of both GEMV kernels.
const gemvArgs = "func(kc int, x *uint32, b *uint32, pstride int, np int, y *float32, accum int)"

// gemvRegs are the general registers of a GEMV kernel: the arguments
// and the pointers that walk them.
type gemvRegs struct {
	kc, x, g, ps, ps3, np, y, accum reg.Register
	b0, b4, xl, l                   reg.Register
}

// loadGemv declares the kernel name (of signature sig) with its doc and
// loads the arguments (pstride scaled to bytes, ps3 three times it).
func loadGemv(name, sig, doc string) gemvRegs {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + doc)
	r := gemvRegs{kc: reg.RCX, x: reg.RSI, g: reg.RBX, ps: reg.R8, ps3: reg.R9, np: reg.R10, y: reg.RDI, accum: reg.R12,
		b0: reg.R11, b4: reg.R13, xl: reg.RAX, l: reg.RDX}
	Load(Param("kc"), r.kc)
	Load(Param("x"), r.x)
	Load(Param("b"), r.g)
	Load(Param("pstride"), r.ps)
	SHLQ(U8(2), r.ps)
	LEAQ(Mem{Base: r.ps, Index: r.ps, Scale: 2}, r.ps3)
	Load(Param("np"), r.np)
	Load(Param("y"), r.y)
	Load(Param("accum"), r.accum)
	return r
}

// panelAddr returns the address of panel p (< 8) of a group whose panels
// 0 and 4 start at b0 and b4, panels ps bytes apart.
func (r gemvRegs) panelAddr(p int) Mem {
	base := r.b0
	if p >= 4 {
		base = r.b4
	}
	switch p % 4 {
	case 0:
		return Mem{Base: base}
	case 3:
		return Mem{Base: base, Index: r.ps3, Scale: 1}
	}
	return Mem{Base: base, Index: r.ps, Scale: uint8(p % 4)}
}

// storeY writes the accumulators to y (width bytes each, in order): added
// to y when accum != 0, else as they are.
func (r gemvRegs) storeY(name string, acc []reg.VecPhysical, width int) {
	skip := name + "_set"
	TESTQ(r.accum, r.accum)
	JE(LabelRef(skip))
	for i, a := range acc {
		VADDPS(Mem{Base: r.y, Disp: width * i}, a, a)
	}
	Label(skip)
	for i, a := range acc {
		VMOVUPS(a, Mem{Base: r.y, Disp: width * i})
	}
	ADDQ(U32(width*len(acc)), r.y)
}

// groups emits the panel loop of a GEMV kernel: while np >= w (each w of
// widths, widest first), body computes w panels from g into y (the label
// given names its own labels), then g moves w panels on; then epilogue
// (when not nil) and the kernel returns.
func (r gemvRegs) groups(name string, widths []int, body func(lbl string, w int), epilogue func()) {
	for i, w := range widths {
		lbl := fmt.Sprintf("%s_%d", name, w)
		next := name + "_done"
		if i+1 < len(widths) {
			next = fmt.Sprintf("%s_%d", name, widths[i+1])
		}
		Label(lbl)
		CMPQ(r.np, U8(w))
		JLT(LabelRef(next))
		MOVQ(r.g, r.b0)
		MOVQ(r.x, r.xl)
		MOVQ(r.kc, r.l)
		body(lbl, w)
		if w == 1 {
			ADDQ(r.ps, r.g)
		} else {
			LEAQ(Mem{Base: r.g, Index: r.ps, Scale: uint8(w)}, r.g)
		}
		SUBQ(U8(w), r.np)
		JMP(LabelRef(lbl))
	}
	Label(name + "_done")
	if epilogue != nil {
		epilogue()
	}
	VZEROUPPER()
	RET()
}

// gemvZ emits bf16GemvZ: eight panels at a time (eight VDPBF16PS chains
// in flight, the broadcast pair in Z31, the panels' rows in Z0-Z7, the
// sums in Z8-Z15), then one at a time.
func gemvZ() {
	name := "bf16GemvZ"
	r := loadGemv(name, gemvArgs, " computes, for panels p < np of a k-block, y[16p+j] = Σ_{l<kc} dot(x[l], b[p*pstride+l*16+j]) (+ y[16p+j] when accum != 0, one rounding), kc >= 1, with VDPBF16PS.")
	r.groups(name, []int{8, 1}, func(lbl string, w int) {
		acc := make([]reg.VecPhysical, w)
		for p := range acc {
			acc[p] = z(8 + p)
			VPXORD(acc[p], acc[p], acc[p])
		}
		LEAQ(Mem{Base: r.g, Index: r.ps, Scale: 4}, r.b4)
		Label(lbl + "_loop")
		VPBROADCASTD(Mem{Base: r.xl}, reg.Z31)
		for p := range acc {
			VMOVUPS(r.panelAddr(p), z(p))
			vdpbf16ps(reg.Z31, z(p), acc[p])
		}
		ADDQ(U8(64), r.b0)
		ADDQ(U8(64), r.b4)
		ADDQ(U8(4), r.xl)
		DECQ(r.l)
		JNE(LabelRef(lbl + "_loop"))
		r.storeY(lbl, acc, 64)
	}, nil)
}

// clearFlags saves MXCSR in a local and loads it with the exception flags
// cleared, and returns that local and a scratch one.
func clearFlags() (saved, scratch Mem) {
	saved, scratch = AllocLocal(4), AllocLocal(4)
	STMXCSR(saved)
	MOVL(saved, reg.EDX)
	ANDL(U32(0xffffffc0), reg.EDX)
	MOVL(reg.EDX, scratch)
	LDMXCSR(scratch)
	return saved, scratch
}

// ymmRegs are the fixed vector registers of bf16GemvY: the masks, the
// broadcast pair's halves, and (fast) the tiny-sum flags and a zero.
type ymmRegs struct {
	hi, abs, tiny, xhi, xlo, flag, zero reg.VecPhysical
}

var yr = ymmRegs{reg.Y15, reg.Y14, reg.Y13, reg.Y12, reg.Y11, reg.Y8, reg.Y9}

// consts loads the masks: the high word, all but the sign, 2^-126.
func (y ymmRegs) consts() {
	broadcast(0xffff0000, y.hi)
	broadcast(0x7fffffff, y.abs)
	broadcast(0x00800000, y.tiny)
}

// ftz flushes the lanes of a below 2^-126 to zeros of their sign.
func (y ymmRegs) ftz(a reg.VecPhysical) {
	VANDPS(y.abs, a, reg.Y6)              // |sum|
	VCMPPS(U8(1), y.tiny, reg.Y6, reg.Y7) // |sum| < 2^-126
	VANDPS(y.abs, reg.Y7, reg.Y7)         // the bits to clear there
	VANDNPS(a, reg.Y7, a)                 // sum &^ those bits
}

// flagTiny sets in flag the lanes of acc that are denormal.
func (y ymmRegs) flagTiny(acc []reg.VecPhysical) {
	for _, a := range acc {
		VANDPS(y.abs, a, reg.Y6)                 // |sum|
		VCMPPS(U8(0x11), y.tiny, reg.Y6, reg.Y7) // |sum| < 2^-126
		VCMPPS(U8(0x1e), y.zero, reg.Y6, reg.Y5) // |sum| > 0
		VANDPS(reg.Y5, reg.Y7, reg.Y7)
		VORPS(reg.Y7, y.flag, y.flag)
	}
}

// report returns (as the kernel's result) whether a lane of flag is set
// or MXCSR has DE or UE, and restores MXCSR from saved.
func (y ymmRegs) report(saved, scratch Mem) {
	VMOVMSKPS(y.flag, reg.EAX)
	reportMXCSR(saved, scratch)
}

// reportMXCSR returns (as the kernel's result) EAX or'ed with MXCSR's DE
// and UE flags, and restores MXCSR from saved.
func reportMXCSR(saved, scratch Mem) {
	STMXCSR(scratch)
	MOVL(scratch, reg.EDX)
	ANDL(U32(0x12), reg.EDX) // DE, UE
	ORL(reg.EDX, reg.EAX)
	LDMXCSR(saved)
	Store(reg.RAX, ReturnIndex(0))
}

// gemvY emits bf16GemvY, the same products without AVX512_BF16 (AVX2 and
// FMA): each pair's halves widened to float32 (the high word masked, the
// low one shifted up), the high products added first, each by one FMA
// (exact product, one rounding, as VDPBF16PS), and a sum below the
// smallest normal flushed to a zero of its sign as VDPBF16PS does. Two
// panels (four ymm sums) at a time, then one.
//
// With fast it emits bf16GemvYFast instead: the same FMAs without the
// flushing, which is most of the work and changes nothing unless a sum
// is denormal. It reports whether one may have been: a denormal operand
// (the DE flag of MXCSR, cleared on entry), an inexact denormal result
// (UE), or a denormal final sum (checked before it is stored). The caller
// then runs bf16GemvY. MXCSR is restored on return.
func gemvY(fast bool) {
	name, sig, doc := "bf16GemvY", gemvArgs, " is bf16GemvZ with AVX2 and FMA: the pairs widened to float32, the high products first, each sum by one FMA, denormal sums flushed to zero."
	if fast {
		name, sig = "bf16GemvYFast", strings.TrimSuffix(gemvArgs, ")")+") (tiny int)"
		doc = " is bf16GemvY without flushing denormal sums: tiny != 0 when a sum may have been denormal (MXCSR's DE or UE flag, or a denormal result), y then to be recomputed by bf16GemvY."
	}
	r := loadGemv(name, sig, doc)
	yr.consts()
	var epilogue func()
	if fast {
		saved, scratch := clearFlags()
		VXORPS(yr.flag, yr.flag, yr.flag)
		VXORPS(yr.zero, yr.zero, yr.zero)
		epilogue = func() { yr.report(saved, scratch) }
	}
	r.groups(name, []int{2, 1}, func(lbl string, w int) {
		acc := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3}[:2*w]
		for _, a := range acc {
			VXORPS(a, a, a)
		}
		Label(lbl + "_loop")
		VPBROADCASTD(Mem{Base: r.xl}, reg.Y10)
		VPAND(yr.hi, reg.Y10, yr.xhi)
		VPSLLD(U8(16), reg.Y10, yr.xlo)
		for i, a := range acc {
			m := r.panelAddr(i / 2)
			m.Disp = 32 * (i % 2)
			VMOVDQU(m, reg.Y4)
			VPAND(yr.hi, reg.Y4, reg.Y5)
			VFMADD231PS(yr.xhi, reg.Y5, a)
			if !fast {
				yr.ftz(a)
			}
			VPSLLD(U8(16), reg.Y4, reg.Y4)
			VFMADD231PS(yr.xlo, reg.Y4, a)
			if !fast {
				yr.ftz(a)
			}
		}
		ADDQ(U8(64), r.b0)
		ADDQ(U8(4), r.xl)
		DECQ(r.l)
		JNE(LabelRef(lbl + "_loop"))
		if fast {
			yr.flagTiny(acc)
		}
		r.storeY(lbl, acc, 32)
	}, epilogue)
}
