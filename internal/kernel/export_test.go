package kernel

// UseTwins makes every kernel run its pure-Go twin (on) or, off, the
// assembly where this build and CPU have it, and returns a function that
// restores the previous choice: for the tests of package kernel_test that
// train through the public packages with either. The width of the
// assembly kernels (useAVX512), which the twins' reductions follow, stays
// as it is.
func UseTwins(on bool) (restore func()) {
	saved := useAVX2
	useAVX2 = saved && !on
	return func() { useAVX2 = saved }
}

// UseYMM makes the assembly run its AVX2 kernels, as on a CPU without
// AVX-512 (and the twins follow their summation order), and returns a
// function that restores the previous choice.
func UseYMM() (restore func()) {
	saved := useAVX512
	useAVX512 = false
	return func() { useAVX512 = saved }
}
