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

// ISA names the instruction set the kernels run on: "AVX-512" (zmm
// kernels where they exist, AVX2/FMA elsewhere), "AVX2/FMA", or "pure Go".
func ISA() string {
	switch {
	case useAVX2 && useAVX512:
		return "AVX-512"
	case useAVX2:
		return "AVX2/FMA"
	}
	return "pure Go"
}
