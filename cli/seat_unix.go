//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"syscall"
)

// seats keeps the seat locks' files open (and so locked) for the process's
// life: a closed or collected file would release its lock.
var seats []*os.File

// holdSeat takes the lock on dir's seat for the rest of the process's life
// and reports whether it got it. The kernel releases it when the process
// ends, however it ends: holding it proves that no earlier process of the
// seat is still running.
func holdSeat(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, ".seat"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	seats = append(seats, f)
	return true
}
