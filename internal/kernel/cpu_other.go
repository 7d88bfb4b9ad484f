//go:build !amd64 || noasm

package kernel

// useAVX2 and useAVX512 are always false without amd64 assembly (or with
// -tags noasm): every kernel runs its pure-Go twin.
var (
	useAVX2   = false
	useAVX512 = false
)
