package kernel

// This file holds the exported entry points. They check arguments and
// dispatch; the arithmetic is in generic.go (and the assembly twins).

func checkLen(what string, s []float32, need int) {
	if len(s) < need {
		panic("kernel: " + what + " too short")
	}
}

// HasAsm reports whether the AVX2/FMA assembly kernels are in use.
func HasAsm() bool { return useAVX2 }
