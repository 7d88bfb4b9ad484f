//go:build noasm

package reliability

const noasmBuild = true
