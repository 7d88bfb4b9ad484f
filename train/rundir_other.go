//go:build !unix

package train

import (
	"errors"
	"os"
)

// Without flock, the lock is the exclusive creation of a second file,
// removed by Unlock; a killed run leaves it behind, and the error then
// names it so the user can remove it.
const oNoFollow = 0

var errWouldBlock = errors.New("would block")

func lockFile(f *os.File) error {
	g, err := os.OpenFile(f.Name()+".held", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return errWouldBlock
		}
		return err
	}
	return g.Close()
}

func unlockFile(f *os.File) { os.Remove(f.Name() + ".held") }
