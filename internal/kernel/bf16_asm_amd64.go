//go:build amd64 && !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// bf16Hardware reports whether the CPU runs the AVX512_BF16 kernels.
func bf16Hardware() bool {
	return useAVX2 && useAVX512 && cpu.X86.HasAVX512BF16
}

// bf16CvtPairs sets dst[i] = BF16(src[2i]) | BF16(src[2i+1])<<16 for
// i < len(src)/2, len(src) a multiple of 32: with VCVTNE2PS2BF16 when
// useBF16, else with the twin.
func bf16CvtPairs(dst []uint32, src []float32) {
	n := len(src)
	if n == 0 {
		return
	}
	if n%32 != 0 || len(dst) < n/2 {
		panic("kernel: bf16CvtPairs size")
	}
	words := unsafe.Slice((*uint16)(unsafe.Pointer(&dst[0])), n)
	if !useBF16 {
		bf16CvtGo(words, src)
		return
	}
	bf16Cvt(&words[0], &src[0], n)
}

// bf16Interleave runs bf16Interleave (assembly) when useBF16, else its
// twin; n a multiple of 16 (extent checked by the caller).
func bf16Interleave(dst []uint32, stride int, r0, r1 []float32, n int) {
	if n == 0 {
		return
	}
	if !useBF16 {
		bf16InterleaveGo(dst, stride, r0, r1, n)
		return
	}
	bf16InterleaveAsm(&dst[0], stride, &r0[0], &r1[0], n)
}

// bf16TileAsm runs the micro-kernel bf16Kernel<mr>x<16np> (extent checked
// by bf16Tile).
func bf16TileAsm(t *bf16Tile) {
	kc, a, rsa, csa, b, pstride, c, ldc, alpha, acc := t.kc, t.a, t.rsa, t.csa, t.b, t.pstride, t.c, t.ldc, t.alpha, b2i(t.accum)
	switch t.np*10 + t.mr {
	case 41:
		bf16Kernel1x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 42:
		bf16Kernel2x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 43:
		bf16Kernel3x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 44:
		bf16Kernel4x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 45:
		bf16Kernel5x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 46:
		bf16Kernel6x64(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 11:
		bf16Kernel1x16(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 12:
		bf16Kernel2x16(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 13:
		bf16Kernel3x16(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 14:
		bf16Kernel4x16(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 15:
		bf16Kernel5x16(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	case 16:
		bf16Kernel6x16(kc, &a[0], rsa, csa, &b[0], pstride, &c[0], ldc, alpha, acc)
	default:
		panic("kernel: bf16 micro-kernel size out of range")
	}
}
