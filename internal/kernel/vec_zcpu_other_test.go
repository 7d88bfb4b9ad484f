//go:build !linux

package kernel

// vecCPU is 0 where no per-thread CPU clock is read: benchImpls then
// reports wall-clock time only.
func vecCPU() float64 { return 0 }
