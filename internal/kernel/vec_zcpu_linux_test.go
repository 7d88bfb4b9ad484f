package kernel

// vecCPU is the calling thread's CPU time in seconds (threadCPU, from the
// GEMM benchmarks): benchImpls divides by it so that time spent
// descheduled on a shared machine is left out.
func vecCPU() float64 { return threadCPU() }
