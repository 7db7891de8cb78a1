//go:build unix

package handlers

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockSpoolDir takes an exclusive lock on dir for this process's life: two
// processes appending to one spool would overwrite each other's files.
func lockSpoolDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another process (give each replica its own RINGBACK_SPOOL_DIR): %w", dir, err)
	}
	return f, nil
}
