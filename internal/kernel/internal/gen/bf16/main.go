// Command bf16 generates bf16_amd64.s and its Go declarations: the
// AVX512_BF16 kernels of the bfloat16 GEMM (float32 to bfloat16
// conversion and the mr×16 and mr×64 micro-kernels over packed pairs) and
// the GEMV of bfloat16 inference weights (gemv.go), with its AVX2 form for
// CPUs without AVX512_BF16.
//
// Go's assembler (as of Go 1.26) and avo v0.5.0 know neither VDPBF16PS nor
// VCVTNE2PS2BF16, so those two are emitted as BYTE directives encoded
// here (evex), on fixed registers; everything around them is ordinary avo.
//
// Run it through go generate in internal/kernel:
//
//	go run ./internal/gen/bf16 -out bf16_amd64.s -stubs bf16_amd64_stub.go -pkg kernel
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!noasm")
	cvt()
	interleave()
	for _, np := range []int{1, 4} {
		for mr := 1; mr <= 6; mr++ {
			dotKernel(mr, np)
		}
	}
	gemvZ()
	gemvY(false)
	gemvY(true)
	gemvY4()
	Generate()
}

// zmm is the number of a zmm register (0..31).
func zmm(r reg.Physical) int { return int(r.PhysicalIndex()) }

// z returns zmm register i.
func z(i int) reg.VecPhysical { return zregs[i] }

var zregs = []reg.VecPhysical{
	reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
	reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
	reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
	reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31,
}

// evex returns the 4-byte EVEX prefix, opcode and register-form ModRM of a
// 512-bit map-0F38, W0 instruction with destination dst (ModRM.reg),
// first source s1 (EVEX.vvvv) and second source s2 (ModRM.rm). pp selects
// the implied prefix: 2 for F3, 3 for F2.
func evex(op byte, pp byte, dst, s1, s2 int) []byte {
	inv := func(r, bit int) byte { return byte(^(r >> bit) & 1) }
	p0 := inv(dst, 3)<<7 | inv(s2, 4)<<6 | inv(s2, 3)<<5 | inv(dst, 4)<<4 | 0b10
	p1 := byte(^s1&0xF)<<3 | 1<<2 | pp
	p2 := byte(0b10)<<5 | inv(s1, 4)<<3
	modrm := byte(0xC0) | byte(dst&7)<<3 | byte(s2&7)
	return []byte{0x62, p0, p1, p2, op, modrm}
}

// raw emits the bytes of an instruction the assembler does not know,
// after a comment naming it.
func raw(text string, code []byte) {
	Comment(text)
	for _, b := range code {
		Instruction(&ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(b)}})
	}
}

// vdpbf16ps emits VDPBF16PS s2, s1, acc: for each lane i,
// acc[i] += s1.bf16[2i+1]*s2.bf16[2i+1], then += s1.bf16[2i]*s2.bf16[2i].
func vdpbf16ps(s2, s1, acc reg.Physical) {
	raw(fmt.Sprintf("VDPBF16PS Z%d, Z%d, Z%d", zmm(s2), zmm(s1), zmm(acc)),
		evex(0x52, 2, zmm(acc), zmm(s1), zmm(s2)))
}

// vcvtne2ps2bf16 emits VCVTNE2PS2BF16 lo, hi, dst: dst's 32 words are
// lo's 16 floats then hi's, each rounded to bfloat16 to nearest even.
func vcvtne2ps2bf16(lo, hi, dst reg.Physical) {
	raw(fmt.Sprintf("VCVTNE2PS2BF16 Z%d, Z%d, Z%d", zmm(lo), zmm(hi), zmm(dst)),
		evex(0x72, 3, zmm(dst), zmm(hi), zmm(lo)))
}

// cvt emits bf16Cvt: dst[i] = bf16(src[i]) for i < n, n a positive
// multiple of 32.
func cvt() {
	TEXT("bf16Cvt", NOSPLIT, "func(dst *uint16, src *float32, n int)")
	Pragma("noescape")
	Doc("bf16Cvt sets dst[i] to src[i] rounded to bfloat16 (VCVTNE2PS2BF16) for i < n, n a positive multiple of 32.")
	d := Load(Param("dst"), reg.RDI)
	s := Load(Param("src"), reg.RSI)
	n := Load(Param("n"), reg.RCX)
	SHRQ(U8(5), n)
	Label("cvt_loop")
	VMOVUPS(Mem{Base: s}, reg.Z0)
	VMOVUPS(Mem{Base: s, Disp: 64}, reg.Z1)
	vcvtne2ps2bf16(reg.Z0, reg.Z1, reg.Z2)
	VMOVDQU32(reg.Z2, Mem{Base: d})
	ADDQ(U8(128), s)
	ADDQ(U8(64), d)
	DECQ(n)
	JNE(LabelRef("cvt_loop"))
	VZEROUPPER()
	RET()
}

// interleave emits bf16Interleave: for g < n/16 and j < 16,
// dst[g*stride+j] = bf16(r0[16g+j]) | bf16(r1[16g+j])<<16, n a positive
// multiple of 16: two rows converted and their words paired, the layout of
// a pair panel's row (VCVTNE2PS2BF16, then VPERMW to interleave).
func interleave() {
	idx := GLOBL("bf16PairIndex", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U16(i))
		DATA(4*i+2, U16(16+i))
	}
	TEXT("bf16InterleaveAsm", NOSPLIT, "func(dst *uint32, stride int, r0, r1 *float32, n int)")
	Pragma("noescape")
	Doc("bf16InterleaveAsm sets dst[g*stride+j] = bf16(r0[16g+j]) | bf16(r1[16g+j])<<16 for g < n/16, j < 16, n a positive multiple of 16.")
	d := Load(Param("dst"), reg.RDI)
	st := Load(Param("stride"), reg.RDX)
	SHLQ(U8(2), st)
	a := Load(Param("r0"), reg.RSI)
	b := Load(Param("r1"), reg.RBX)
	n := Load(Param("n"), reg.RCX)
	SHRQ(U8(4), n)
	VMOVDQU16(idx, reg.Z3)
	Label("interleave_loop")
	VMOVUPS(Mem{Base: a}, reg.Z0)
	VMOVUPS(Mem{Base: b}, reg.Z1)
	vcvtne2ps2bf16(reg.Z0, reg.Z1, reg.Z2)
	VPERMW(reg.Z2, reg.Z3, reg.Z2)
	VMOVDQU32(reg.Z2, Mem{Base: d})
	ADDQ(U8(64), a)
	ADDQ(U8(64), b)
	ADDQ(st, d)
	DECQ(n)
	JNE(LabelRef("interleave_loop"))
	VZEROUPPER()
	RET()
}

// dotKernel emits bf16Kernel<mr>x<16np>: an mr×16np tile
// c[i*ldc+16p+j] = alpha*Σ_l dot(a[i*rsa+l*csa], b[p*pstride+l*16+j]) (+ c
// when accum != 0), where a and b hold bfloat16 pairs (the low word the
// even k) and dot is VDPBF16PS's two products added into the float32 sum.
// Registers are fixed (the BYTE-encoded instruction names them): the
// accumulators from Z8, B's panel rows in Z0-Z3, A's broadcast pairs in
// Z4-Z5.
func dotKernel(mr, np int) {
	name := fmt.Sprintf("bf16Kernel%dx%d", mr, 16*np)
	TEXT(name, NOSPLIT, "func(kc int, a *uint32, rsa, csa int, b *uint32, pstride int, c *float32, ldc int, alpha float32, accum int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile: c[i*ldc+16*p+j] = alpha*Σ_{l<kc} dot(a[i*rsa+l*csa], b[p*pstride+l*16+j]) (+ c[i*ldc+16*p+j] when accum != 0), p < %d, kc >= 1, with VDPBF16PS.", name, mr, 16*np, np))
	kc := Load(Param("kc"), reg.RCX)
	a0 := Load(Param("a"), reg.RSI)
	rs := Load(Param("rsa"), reg.RDX)
	cs := Load(Param("csa"), reg.R13)
	b := Load(Param("b"), reg.RBX)
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	ps, ps3 := reg.R8, reg.R9
	if np > 1 {
		Load(Param("pstride"), ps)
		SHLQ(U8(2), ps)
		LEAQ(Mem{Base: ps, Index: ps, Scale: 2}, ps3)
	}
	a3 := reg.R10
	if mr > 3 {
		LEAQ(Mem{Base: a0, Index: rs, Scale: 2}, a3)
		ADDQ(rs, a3)
	}
	acc := make([][]reg.VecPhysical, mr)
	for i := range acc {
		acc[i] = make([]reg.VecPhysical, np)
		for p := range acc[i] {
			acc[i][p] = z(8 + i*np + p)
			VPXORD(acc[i][p], acc[i][p], acc[i][p])
		}
	}
	rowAddr := func(i int) Mem {
		base := a0
		if i >= 3 {
			base = a3
		}
		return Mem{Base: base, Index: rs, Scale: []uint8{0, 1, 2}[i%3]}
	}
	panels := []Mem{{Base: b}, {Base: b, Index: ps, Scale: 1}, {Base: b, Index: ps, Scale: 2}, {Base: b, Index: ps3, Scale: 1}}
	Label(name + "_loop")
	for p := 0; p < np; p++ {
		VMOVUPS(panels[p], z(p))
	}
	for i := 0; i < mr; i++ {
		t := z(4 + i%2)
		m := rowAddr(i)
		if m.Scale == 0 {
			m.Index = nil
		}
		VPBROADCASTD(m, t)
		for p := 0; p < np; p++ {
			vdpbf16ps(t, z(p), acc[i][p])
		}
	}
	ADDQ(cs, a0)
	if mr > 3 {
		ADDQ(cs, a3)
	}
	ADDQ(U8(64), b)
	DECQ(kc)
	JNE(LabelRef(name + "_loop"))
	store(name, mr, np, acc)
}

// store writes the accumulators acc[i][p] to row i, panel p of the tile at
// c: alpha*acc + c (one FMA) when accum != 0, alpha*acc otherwise.
func store(name string, mr, np int, acc [][]reg.VecPhysical) {
	c := Load(Param("c"), reg.RDI)
	ldc := Load(Param("ldc"), reg.R11)
	SHLQ(U8(2), ldc)
	va := reg.Z4
	alpha, err := Param("alpha").Resolve()
	if err != nil {
		panic(err)
	}
	VBROADCASTSS(alpha.Addr, va)
	flag := Load(Param("accum"), reg.R12)
	over := name + "_over"
	TESTQ(flag, flag)
	JE(LabelRef(over))
	for _, accum := range []bool{true, false} {
		if !accum {
			Label(over)
		}
		for i := 0; i < mr; i++ {
			for p, r := range acc[i] {
				m := Mem{Base: c, Disp: 64 * p}
				if accum {
					VFMADD213PS(m, va, r)
				} else {
					VMULPS(va, r, r)
				}
				VMOVUPS(r, m)
			}
			if i+1 < mr {
				ADDQ(ldc, c)
			}
		}
		VZEROUPPER()
		RET()
	}
}
