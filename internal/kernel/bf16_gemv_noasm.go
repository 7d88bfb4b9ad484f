//go:build !amd64 || noasm

package kernel

// bf16GemvRun runs g on the twin (no assembly in this build).
func bf16GemvRun(g *bf16Gemv) { bf16GemvGo(g) }

func has4RowsBF16() bool { return false }

func (g *bf16Gemv4) run() bool { panic("kernel: bf16 four-row GEMV without assembly") }
