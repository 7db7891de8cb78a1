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
	f, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("%s is in use by another process (give each replica its own RINGBACK_SPOOL_DIR): %w", dir, err)
	}
	return f, nil
}

// lockFile opens path and takes an exclusive flock on it without waiting;
// the lock lasts until the file is closed or the process ends.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
