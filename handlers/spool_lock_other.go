//go:build !unix

package handlers

import "os"

// lockSpoolDir cannot lock here; each replica must have its own directory.
func lockSpoolDir(dir string) (*os.File, error) { return nil, nil }

// lockFile cannot lock here: nothing is proven held (nil file).
func lockFile(path string) (*os.File, error) { return nil, nil }
