//go:build !amd64 || noasm

package kernel

// bf16GemvRun runs g on the twin (no assembly in this build).
func bf16GemvRun(g *bf16Gemv) { bf16GemvGo(g) }
