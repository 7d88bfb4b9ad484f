package tune

import (
	"os/exec"
	"runtime"
	"syscall"
)

// setParentDeath asks Linux to interrupt the child if the tuner dies
// (killed, say): the child then saves its checkpoint and exits instead of
// training on, unseen, in a directory the next session needs. The signal
// follows the thread that started the child, so the caller's goroutine
// stays on that thread until the child is reaped (see lockThread).
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
}

// lockThread keeps the calling goroutine on its thread until the
// returned function runs; see setParentDeath.
func lockThread() (unlock func()) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
