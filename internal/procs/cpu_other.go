//go:build !unix

package procs

import "time"

// processCPU cannot be read here: the governor stays off.
func processCPU() (time.Duration, bool) { return 0, false }
