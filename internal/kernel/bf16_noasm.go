//go:build !amd64 || noasm

package kernel

// Without the assembly the bfloat16 kernels are their twins.

func bf16Hardware() bool { return false }

// bf16CvtPairs sets dst[i] = BF16(src[2i]) | BF16(src[2i+1])<<16 for
// i < len(src)/2, len(src) even.
func bf16CvtPairs(dst []uint32, src []float32) {
	for i := 0; i+1 < len(src); i += 2 {
		dst[i/2] = uint32(BF16(src[i])) | uint32(BF16(src[i+1]))<<16
	}
}

func bf16TileAsm(t *bf16Tile) {
	bf16KernelGo(t)
}

func bf16Interleave(dst []uint32, stride int, r0, r1 []float32, n int) {
	bf16InterleaveGo(dst, stride, r0, r1, n)
}
