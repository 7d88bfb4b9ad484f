//go:build unix

package train

import (
	"os"
	"syscall"
)

const oNoFollow = syscall.O_NOFOLLOW

var errWouldBlock error = syscall.EWOULDBLOCK

func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(*os.File) {}
