//go:build !linux

package tune

import "os/exec"

// setParentDeath does nothing here: only Linux can signal a child when
// its parent dies.
func setParentDeath(*exec.Cmd) {}

func lockThread() (unlock func()) { return func() {} }
